/*
 * api_logs: GET /containers/{id}/logs, the json-file log the shim writes,
 * read back (json_log_reader.h) in Docker's stream shapes.
 *
 * Why the output is batched: a log entry is a few dozen bytes, and one
 * write per entry through the response pipe costs more than reading and
 * decoding it; entries gather in a 64 KiB buffer that goes out when full,
 * and whenever the reader has caught up (so `logs -f` shows a line as soon
 * as it is written).
 *
 * Following (follow=1) watches the log's directory with inotify (writes,
 * and the renames of a rotation) and also wakes every second to look at
 * the container: once it has stopped, what is left in the files is read
 * and the stream ends. The shim writes every line of a process before it
 * reports its exit, so nothing written before the exit is missed.
 */
#include "api_logs.h"

#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "container_store.h"
#include "docker_stream.h"
#include "docker_time.h"
#include "engine.h"
#include "json_log_reader.h"
#include "log.h"

#define OUT_BUFFER      65536
#define FOLLOW_CHECK_MS 1000
/* "2006-01-02T15:04:05.000000000Z " */
#define TIMESTAMP_SIZE 32

/* ---- what to send ---- */

void logs_query_init(struct logs_query *query)
{
    memset(query, 0, sizeof(*query));
    query->tail = -1;
}

void logs_format_timestamp(int64_t ns, char out[LOGS_TIMESTAMP_SIZE])
{
    time_t seconds = (time_t)(ns / 1000000000LL);
    struct tm tm;

    gmtime_r(&seconds, &tm);
    snprintf(out, LOGS_TIMESTAMP_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (long long)(ns % 1000000000LL));
}

/* ---- the output buffer ---- */

struct logs_output {
    logs_write_fn write;
    void *context;
    bool multiplexed;
    bool failed;
    size_t used;
    unsigned char buffer[OUT_BUFFER];
};

static void output_flush(struct logs_output *out)
{
    struct berr err;

    if (out->used && !out->failed && out->write(out->context, out->buffer, out->used, &err))
        out->failed = true;
    out->used = 0;
}

static void output_bytes(struct logs_output *out, const void *data, size_t length)
{
    struct berr err;

    if (out->failed)
        return;
    if (out->used + length > sizeof(out->buffer))
        output_flush(out);
    if (length > sizeof(out->buffer)) {
        if (out->write(out->context, data, length, &err))
            out->failed = true;
        return;
    }
    memcpy(out->buffer + out->used, data, length);
    out->used += length;
}

static void output_entry(struct logs_output *out, const struct logs_query *query,
                         const struct json_log_entry *entry)
{
    char stamp[LOGS_TIMESTAMP_SIZE + 1];
    size_t stamp_length = 0;

    if (query->timestamps) {
        logs_format_timestamp(entry->time, stamp);
        stamp_length = strlen(stamp);
        stamp[stamp_length++] = ' ';
    }
    if (out->multiplexed) {
        unsigned char header[DOCKER_STREAM_HEADER];
        docker_stream_header(header, entry->stream, (uint32_t)(stamp_length + entry->length));
        output_bytes(out, header, sizeof(header));
    }
    output_bytes(out, stamp, stamp_length);
    output_bytes(out, entry->text, entry->length);
}

enum drain_result { DRAIN_MORE, DRAIN_UNTIL, DRAIN_ERROR };

/* Sends the entries there are now; DRAIN_UNTIL once past `until`. */
static enum drain_result drain(struct json_log_reader *reader, struct logs_output *out,
                               const struct logs_query *query, bool follow)
{
    struct json_log_entry entry;
    struct berr err;
    int rc;

    for (;;) {
        while ((rc = json_log_reader_next(reader, &entry, &err)) == 0) {
            if (query->until && entry.time > query->until)
                return DRAIN_UNTIL;
            if ((query->since && entry.time < query->since) || !entry.length ||
                !(entry.stream == DOCKER_STREAM_STDERR ? query->stderr : query->stdout))
                continue;
            output_entry(out, query, &entry);
            if (out->failed)
                return DRAIN_ERROR;
        }
        if (rc != JSON_LOG_AGAIN) {
            log_warn("logs: %s", err.message);
            return DRAIN_ERROR;
        }
        if (!follow || !json_log_reader_refresh(reader))
            return DRAIN_MORE;
    }
}

/* ---- following ---- */

/* A watch on the log's directory (writes and rotations); -1 if none. */
static int watch_log(const char *path)
{
    char *copy = strdup(path);
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

    if (fd >= 0 &&
        (!copy || inotify_add_watch(fd, dirname(copy),
                                    IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0)) {
        log_warn("logs: watch %s: %s", path, strerror(errno));
        close(fd);
        fd = -1;
    }
    free(copy);
    return fd;
}

static void drain_events(int fd)
{
    char buffer[4096];

    while (fd >= 0 && read(fd, buffer, sizeof(buffer)) > 0)
        ;
}

/* Whether the container is still in the run we started following. */
static bool still_running(struct container *container, uint64_t exits)
{
    bool running;

    pthread_mutex_lock(&container->lock);
    running = container->state.running && !container->removed && container->exits == exits;
    pthread_mutex_unlock(&container->lock);
    return running;
}

static void follow(struct json_log_reader *reader, struct logs_output *out,
                   const struct logs_query *query, struct container *container, uint64_t exits,
                   int watch_fd, int closed_fd)
{
    for (;;) {
        struct pollfd fds[2] = {{watch_fd, POLLIN, 0}, {closed_fd, POLLIN, 0}};
        bool running;
        if (poll(fds, 2, FOLLOW_CHECK_MS) < 0 && errno != EINTR)
            return;
        if (fds[1].revents)
            return; /* the client left */
        drain_events(watch_fd);
        running = still_running(container, exits);
        /* After the exit: what is in the files now is all there is. */
        if (drain(reader, out, query, true) != DRAIN_MORE || !running)
            return;
        output_flush(out);
        if (out->failed || (query->until && docker_time_now() > query->until))
            return;
    }
}

void logs_send(struct container *container, const struct logs_query *query, bool multiplexed,
               logs_write_fn write, void *context, int closed_fd)
{
    struct container_settings *settings = container_settings_get(container);
    struct logs_output *out = calloc(1, sizeof(*out));
    struct json_log_reader *reader = NULL;
    int watch_fd = -1;
    uint64_t exits;
    bool running;
    struct berr err;

    if (!out)
        goto out;
    out->write = write;
    out->context = context;
    out->multiplexed = multiplexed;
    if (query->follow)
        watch_fd = watch_log(container->log_path);
    pthread_mutex_lock(&container->lock);
    running = container->state.running && !container->removed;
    exits = container->exits;
    pthread_mutex_unlock(&container->lock);
    if (json_log_reader_open(container->log_path, settings->log_max_files, &reader, &err) ||
        json_log_reader_tail(reader, query->tail, &err)) {
        log_warn("logs of %.12s: %s", container->id, err.message);
        goto out;
    }
    if (drain(reader, out, query, query->follow) == DRAIN_MORE && query->follow && running) {
        output_flush(out);
        follow(reader, out, query, container, exits, watch_fd, closed_fd);
    }
    output_flush(out);
out:
    json_log_reader_close(reader);
    if (watch_fd >= 0)
        close(watch_fd);
    free(out);
    container_settings_put(settings);
}

/* ---- the endpoint ---- */

struct logs_request {
    struct container *container;
    struct logs_query query;
    bool multiplexed;
};

static void free_logs_request(void *context)
{
    struct logs_request *logs = context;

    container_put(logs->container);
    free(logs);
}

static int stream_write(void *context, const void *data, size_t length, struct berr *err)
{
    return http_stream_write(context, data, length, err);
}

static void write_logs(struct http_stream *stream, void *context)
{
    struct logs_request *logs = context;

    logs_send(logs->container, &logs->query, logs->multiplexed, stream_write, stream,
              http_stream_poll_fd(stream));
}

/* since/until: Docker's time spellings; absent, "" or "0": none. */
static int query_time(struct http_request *request, const char *name, int64_t *out,
                      struct berr *err)
{
    const char *text = http_request_query(request, name);

    *out = 0;
    if (!text || !*text || strcmp(text, "0") == 0)
        return 0;
    return docker_time_parse(text, docker_time_now(), out, err);
}

int logs_parse_query(struct http_request *request, struct logs_query *query, struct berr *err)
{
    const char *tail = http_request_query(request, "tail");
    char *end = NULL;
    int rc;

    logs_query_init(query);
    query->stdout = http_request_query_bool(request, "stdout", false);
    query->stderr = http_request_query_bool(request, "stderr", false);
    query->follow = http_request_query_bool(request, "follow", false);
    query->timestamps = http_request_query_bool(request, "timestamps", false);
    if ((rc = query_time(request, "since", &query->since, err)) ||
        (rc = query_time(request, "until", &query->until, err)))
        return rc;
    /* dockerd: anything but a number is "all". */
    if (tail && *tail && strcmp(tail, "all") != 0) {
        long long lines = strtoll(tail, &end, 10);
        query->tail = *end || lines < 0 ? -1 : lines;
    }
    return 0;
}

static void get_logs(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct container_settings *settings;
    struct logs_request *logs;
    struct container *container;
    struct berr err;
    bool tty, none;

    if (container_store_get(engine->containers, http_request_param(request, "id"), &container,
                            &err)) {
        http_respond_berr(request, &err);
        return;
    }
    settings = container_settings_get(container);
    tty = settings->tty;
    none = !container->log_path || strcmp(settings->log_driver, "none") == 0;
    container_settings_put(settings);
    if (!(logs = calloc(1, sizeof(*logs)))) {
        container_put(container);
        http_respond_error(request, 500, "out of memory");
        return;
    }
    logs->container = container;
    logs->multiplexed = !tty;
    if (none) {
        http_respond_error(request, 501, "configured logging driver does not support reading");
    } else if (logs_parse_query(request, &logs->query, &err)) {
        http_respond_berr(request, &err);
    } else if (!logs->query.stdout && !logs->query.stderr) {
        http_respond_error(request, 400, "Bad parameters: you must choose at least one stream");
    } else {
        http_respond_stream(request, 200,
                            docker_stream_content_type(!tty, http_request_api_version(request)),
                            write_logs, logs, free_logs_request);
        return;
    }
    free_logs_request(logs);
}

int api_logs_register(struct engine *engine, struct berr *err)
{
    return http_server_route(engine->http, "GET", "/containers/{id}/logs", get_logs, engine, 0,
                             err);
}
