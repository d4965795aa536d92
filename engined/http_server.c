/*
 * http_server: see http_server.h.
 *
 * How a request flows through libmicrohttpd (thread per connection):
 * the access callback runs once when the headers are in (route lookup; a
 * stream-body route starts its handler on a worker thread here), once per
 * chunk of body (kept in memory, or written to the worker's pipe), and once
 * more at the end, where the handler runs (or the worker is joined) and the
 * response it chose is queued.
 *
 * Streams: the writer thread writes into a pipe, libmicrohttpd's content
 * callback reads it. That callback also watches the client's socket (for a
 * hang-up: nobody else would notice while it blocks) and the server's stop
 * descriptor, so no connection thread outlives a stop or a gone client.
 */
#include "http_server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "berth_version.h"
#include "log.h"

#define MAX_SEGMENTS      16
#define MAX_PARAMS        4
#define MAX_EXTRA_HEADERS 4
#define STREAM_BLOCK      (32 * 1024)

struct route {
    const char *method;
    char *pattern;
    char *segments[MAX_SEGMENTS]; /* into pattern */
    size_t segment_count;
    http_handler handler;
    void *data;
    unsigned flags;
};

struct http_server {
    struct MHD_Daemon *daemon;
    int listen_fd;
    char *socket_path;
    struct route *routes;
    size_t route_count;
    int stop_fd; /* eventfd, readable once stopping */
    pthread_mutex_t lock;
    pthread_cond_t writers_done;
    int writers; /* stream writer threads alive */
};

enum response_kind { RESPONSE_NONE, RESPONSE_BUFFER, RESPONSE_STREAM, RESPONSE_UPGRADE };

struct http_request {
    struct http_server *server;
    struct MHD_Connection *connection;
    const char *method;
    char *path;
    int api_version;
    bool version_error;
    const struct route *route;
    const char *param_names[MAX_PARAMS];
    char *param_values[MAX_PARAMS];
    size_t param_count;
    /* The body, for routes that take it whole. */
    char *body;
    size_t body_length, body_capacity;
    bool body_too_large;
    /* Stream-body routes: the access callback writes, the worker reads. */
    int body_pipe[2];
    pthread_t worker;
    bool worker_running;
    /* An upgrade response's session, until it ran (or the request ended). */
    struct http_hijack *hijack;
    /* Headers the handler added (http_request_add_response_header). */
    char *extra_headers[2 * MAX_EXTRA_HEADERS];
    size_t extra_header_count;
    /* The response the handler chose. */
    enum response_kind kind;
    int status;
    struct MHD_Response *response;
};

struct http_stream {
    struct http_server *server;
    int write_fd;
    int abort_fd; /* eventfd: written by http_stream_abort */
    int epoll_fd; /* the pipe's write end (ERR when the reader left) + stop_fd */
    http_stream_writer writer;
    void *context;
    void (*free_context)(void *context);
};

struct stream_reader {
    struct http_server *server;
    int read_fd;
    int abort_fd; /* readable once the writer aborted: end without the last chunk */
    int client_fd;
};

struct http_hijack {
    struct http_server *server;
    int fd;
    const char *extra;
    size_t extra_length;
    http_hijack_session session;
    void *context;
    void (*free_context)(void *context);
};

/* ---- routes ---- */

static size_t split_path(char *path, char **segments, size_t max)
{
    size_t count = 0;
    char *save = NULL, *segment;

    for (segment = strtok_r(path, "/", &save); segment && count < max;
         segment = strtok_r(NULL, "/", &save))
        segments[count++] = segment;
    return segment ? max + 1 : count;
}

int http_server_route(struct http_server *server, const char *method, const char *pattern,
                      http_handler handler, void *data, unsigned flags, struct berr *err)
{
    struct route *grown = realloc(server->routes, (server->route_count + 1) * sizeof(*grown));
    struct route *route;

    if (!grown)
        return berr_set(err, BERR_NOMEM, "out of memory");
    server->routes = grown;
    route = &server->routes[server->route_count];
    memset(route, 0, sizeof(*route));
    route->method = method;
    route->pattern = strdup(pattern);
    if (!route->pattern)
        return berr_set(err, BERR_NOMEM, "out of memory");
    route->segment_count = split_path(route->pattern, route->segments, MAX_SEGMENTS);
    if (route->segment_count > MAX_SEGMENTS) {
        free(route->pattern);
        return berr_set(err, BERR_INVALID, "route %s: too many segments", pattern);
    }
    route->handler = handler;
    route->data = data;
    route->flags = flags;
    server->route_count++;
    return 0;
}

static bool is_parameter(const char *segment)
{
    return segment[0] == '{' && segment[strlen(segment) - 1] == '}';
}

static bool is_greedy(const char *segment)
{
    size_t length = strlen(segment);

    return is_parameter(segment) && length > 3 && segment[length - 2] == '*';
}

static void add_param(struct http_request *request, const char *segment, char *value)
{
    if (request->param_count >= MAX_PARAMS) {
        free(value);
        return;
    }
    request->param_names[request->param_count] = segment;
    request->param_values[request->param_count++] = value;
}

static char *join_segments(char **segments, size_t from, size_t to)
{
    size_t length = 0, i;
    char *joined;

    for (i = from; i < to; i++)
        length += strlen(segments[i]) + 1;
    joined = malloc(length + 1);
    if (!joined)
        return NULL;
    joined[0] = '\0';
    for (i = from; i < to; i++) {
        if (i > from)
            strcat(joined, "/");
        strcat(joined, segments[i]);
    }
    return joined;
}

static void clear_params(struct http_request *request)
{
    for (size_t i = 0; i < request->param_count; i++)
        free(request->param_values[i]);
    request->param_count = 0;
}

/* Matches path segments against a route; fills the request's parameters. */
static bool route_matches(struct http_request *request, const struct route *route, char **segments,
                          size_t count)
{
    size_t pattern_index, path_index = 0, greedy_at = route->segment_count;

    for (pattern_index = 0; pattern_index < route->segment_count; pattern_index++)
        if (is_greedy(route->segments[pattern_index]))
            greedy_at = pattern_index;
    if (greedy_at == route->segment_count ? count != route->segment_count
                                          : count < route->segment_count)
        return false;
    clear_params(request);
    for (pattern_index = 0; pattern_index < route->segment_count; pattern_index++) {
        const char *segment = route->segments[pattern_index];
        if (pattern_index == greedy_at) {
            size_t take = count - route->segment_count + 1;
            add_param(request, segment, join_segments(segments, path_index, path_index + take));
            path_index += take;
        } else if (is_parameter(segment)) {
            add_param(request, segment, strdup(segments[path_index++]));
        } else if (strcmp(segment, segments[path_index++]) != 0) {
            clear_params(request);
            return false;
        }
    }
    return true;
}

/* 405 vs 404: whether some route has the path under another method. */
static const struct route *find_route(struct http_request *request, bool *other_method)
{
    char *copy = strdup(request->path), *segments[MAX_SEGMENTS + 1];
    const struct route *found = NULL;
    size_t count, i;

    *other_method = false;
    if (!copy)
        return NULL;
    count = split_path(copy, segments, MAX_SEGMENTS);
    for (i = 0; count <= MAX_SEGMENTS && i < request->server->route_count; i++) {
        const struct route *route = &request->server->routes[i];
        bool method_ok =
            strcmp(route->method, request->method) == 0 ||
            (strcmp(request->method, "HEAD") == 0 && strcmp(route->method, "GET") == 0);
        if (!route_matches(request, route, segments, count))
            continue;
        if (method_ok) {
            found = route;
            break;
        }
        *other_method = true;
        clear_params(request);
    }
    free(copy);
    return found;
}

/* ---- request accessors ---- */

const char *http_request_method(const struct http_request *request)
{
    return request->method;
}

const char *http_request_path(const struct http_request *request)
{
    return request->path;
}

int http_request_api_version(const struct http_request *request)
{
    return request->api_version;
}

const char *http_request_param(const struct http_request *request, const char *name)
{
    size_t length = strlen(name);

    for (size_t i = 0; i < request->param_count; i++) {
        const char *segment = request->param_names[i] + 1;
        if (strncmp(segment, name, length) == 0 &&
            (segment[length] == '}' || segment[length] == '*'))
            return request->param_values[i] ? request->param_values[i] : "";
    }
    return NULL;
}

const char *http_request_query(const struct http_request *request, const char *name)
{
    return MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, name);
}

struct query_values {
    const char *name;
    const char **values;
    size_t count, capacity;
    bool failed;
};

static enum MHD_Result collect_query_value(void *cls, enum MHD_ValueKind kind, const char *key,
                                           const char *value)
{
    struct query_values *query = cls;

    (void)kind;
    if (strcmp(key, query->name) != 0)
        return MHD_YES;
    if (query->count + 2 > query->capacity) {
        size_t capacity = query->capacity ? query->capacity * 2 : 8;
        const char **grown = realloc(query->values, capacity * sizeof(char *));
        if (!grown) {
            query->failed = true;
            return MHD_NO;
        }
        query->values = grown;
        query->capacity = capacity;
    }
    query->values[query->count++] = value ? value : "";
    query->values[query->count] = NULL;
    return MHD_YES;
}

const char **http_request_query_all(const struct http_request *request, const char *name,
                                    size_t *count)
{
    struct query_values query = {.name = name};

    MHD_get_connection_values(request->connection, MHD_GET_ARGUMENT_KIND, collect_query_value,
                              &query);
    if (query.failed || !query.values) {
        free(query.values);
        query.values = calloc(1, sizeof(char *));
        query.count = 0;
    }
    *count = query.count;
    return query.values;
}

bool http_request_query_bool(const struct http_request *request, const char *name, bool fallback)
{
    const char *value = http_request_query(request, name);

    if (!value)
        return fallback;
    return strcmp(value, "1") == 0 || strcasecmp(value, "true") == 0 ||
           strcasecmp(value, "yes") == 0;
}

int http_request_query_int(const struct http_request *request, const char *name, long long fallback,
                           long long *value, struct berr *err)
{
    const char *text = http_request_query(request, name);
    char *end;

    if (!text || !*text) {
        *value = fallback;
        return 0;
    }
    errno = 0;
    *value = strtoll(text, &end, 10);
    if (errno || *end)
        return berr_set(err, BERR_INVALID, "invalid value for %s: %s", name, text);
    return 0;
}

const char *http_request_header(const struct http_request *request, const char *name)
{
    return MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND, name);
}

const char *http_request_body(const struct http_request *request, size_t *length)
{
    if (length)
        *length = request->body_length;
    return request->body ? request->body : "";
}

int http_request_json(const struct http_request *request, yajl_val *out, struct berr *err)
{
    *out = NULL;
    if (!request->body_length)
        return 0;
    if (json_parse(request->body, out, err))
        return berr_prefix(err, "malformed JSON body");
    return 0;
}

ssize_t http_request_read_body(struct http_request *request, void *buffer, size_t size,
                               struct berr *err)
{
    for (;;) {
        ssize_t got = read(request->body_pipe[0], buffer, size);
        if (got >= 0)
            return got;
        if (errno != EINTR)
            return berr_errno(err, errno, "read the request body");
    }
}

/* ---- whole responses ---- */

static void add_common_headers(struct MHD_Response *response)
{
    MHD_add_response_header(response, "Api-Version", HTTP_API_MAX_STRING);
    MHD_add_response_header(response, "Ostype", "linux");
    MHD_add_response_header(response, "Docker-Experimental", "false");
    MHD_add_response_header(response, "Server", "berth-engined/" BERTH_VERSION " (linux)");
}

int http_request_add_response_header(struct http_request *request, const char *name,
                                     const char *value, struct berr *err)
{
    char *copies[2];

    if (request->extra_header_count == MAX_EXTRA_HEADERS)
        return berr_set(err, BERR_INTERNAL, "http: too many response headers");
    copies[0] = strdup(name);
    copies[1] = strdup(value);
    if (!copies[0] || !copies[1]) {
        free(copies[0]);
        free(copies[1]);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    request->extra_headers[2 * request->extra_header_count] = copies[0];
    request->extra_headers[2 * request->extra_header_count + 1] = copies[1];
    request->extra_header_count++;
    return 0;
}

static void set_response(struct http_request *request, enum response_kind kind, int status,
                         struct MHD_Response *response)
{
    if (request->kind != RESPONSE_NONE) {
        log_error("http: %s %s: the handler responded twice", request->method, request->path);
        if (response)
            MHD_destroy_response(response);
        return;
    }
    if (!response) {
        /* Out of memory: the connection will be closed. */
        return;
    }
    add_common_headers(response);
    for (size_t i = 0; i < request->extra_header_count; i++)
        MHD_add_response_header(response, request->extra_headers[2 * i],
                                request->extra_headers[2 * i + 1]);
    request->kind = kind;
    request->status = status;
    request->response = response;
}

void http_respond(struct http_request *request, int status, const char *content_type,
                  const void *body, size_t length)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(length, (void *)body, MHD_RESPMEM_MUST_COPY);

    if (response && content_type)
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    set_response(request, RESPONSE_BUFFER, status, response);
}

void http_respond_json(struct http_request *request, int status, const char *json, size_t length)
{
    http_respond(request, status, "application/json", json, length);
}

void http_respond_json_writer(struct http_request *request, int status, struct json_writer *writer)
{
    const char *text;
    size_t length;
    struct berr err;

    if (json_writer_result(writer, &text, &length, &err) == 0)
        http_respond_json(request, status, text, length);
    else
        http_respond_error(request, 500, "encode the response: %s", err.message);
    json_writer_free(writer);
}

void http_respond_empty(struct http_request *request, int status)
{
    http_respond(request, status, NULL, "", 0);
}

void http_respond_error(struct http_request *request, int status, const char *format, ...)
{
    struct json_writer writer;
    char message[BERR_MESSAGE_MAX];
    va_list arguments;
    struct berr err;

    va_start(arguments, format);
    vsnprintf(message, sizeof(message), format, arguments);
    va_end(arguments);
    if (json_writer_init(&writer, false, &err)) {
        http_respond(request, status, "text/plain", message, strlen(message));
        return;
    }
    json_object_begin(&writer);
    json_kv_string(&writer, "message", message);
    json_object_end(&writer);
    http_respond_json_writer(request, status, &writer);
}

int http_status_from_berr(int code)
{
    switch (code) {
    case BERR_INVALID:
        return 400;
    case BERR_NOT_FOUND:
        return 404;
    case BERR_EXISTS:
    case BERR_CONFLICT:
        return 409;
    case BERR_PERMISSION:
        return 403;
    case BERR_UNSUPPORTED:
        return 501;
    case BERR_UNAVAILABLE:
        return 503;
    default:
        return 500;
    }
}

void http_respond_berr(struct http_request *request, const struct berr *err)
{
    http_respond_error(request, http_status_from_berr(err->code), "%s", err->message);
}

/* ---- streamed responses ---- */

static ssize_t read_stream(void *cls, uint64_t position, char *buffer, size_t max)
{
    struct stream_reader *reader = cls;
    struct pollfd fds[3] = {
        {reader->read_fd, POLLIN, 0},
        {reader->client_fd, POLLRDHUP, 0},
        {reader->server->stop_fd, POLLIN, 0},
    };

    (void)position;
    for (;;) {
        ssize_t got;
        if (poll(fds, reader->client_fd >= 0 ? 3 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (fds[0].revents) {
            got = read(reader->read_fd, buffer, max);
            if (got > 0)
                return got;
            if (got == 0) {
                struct pollfd aborted = {reader->abort_fd, POLLIN, 0};
                return poll(&aborted, 1, 0) > 0 ? MHD_CONTENT_READER_END_WITH_ERROR
                                                : MHD_CONTENT_READER_END_OF_STREAM;
            }
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        /* The client hung up, or the server stops: end the connection. */
        if (fds[1].revents || fds[2].revents)
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
}

static void free_stream_reader(void *cls)
{
    struct stream_reader *reader = cls;

    close(reader->read_fd); /* the writer's next write fails: it ends */
    close(reader->abort_fd);
    free(reader);
}

static void *run_stream_writer(void *argument)
{
    struct http_stream *stream = argument;
    struct http_server *server = stream->server;

    stream->writer(stream, stream->context);
    if (stream->free_context)
        stream->free_context(stream->context);
    close(stream->write_fd); /* end of the body */
    close(stream->epoll_fd);
    close(stream->abort_fd);
    free(stream);
    pthread_mutex_lock(&server->lock);
    if (--server->writers == 0)
        pthread_cond_broadcast(&server->writers_done);
    pthread_mutex_unlock(&server->lock);
    return NULL;
}

void http_respond_stream(struct http_request *request, int status, const char *content_type,
                         http_stream_writer writer, void *context,
                         void (*free_context)(void *context))
{
    struct http_stream *stream = calloc(1, sizeof(*stream));
    struct stream_reader *reader = calloc(1, sizeof(*reader));
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(request->connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct epoll_event error_event = {0, {.fd = 0}}, stop_event = {EPOLLIN, {.fd = 1}};
    struct MHD_Response *response = NULL;
    int fds[2] = {-1, -1};
    pthread_attr_t attributes;
    pthread_t thread;

    if (!stream || !reader || pipe2(fds, O_CLOEXEC) < 0)
        goto fail;
    stream->abort_fd = reader->abort_fd = -1;
    if ((stream->abort_fd = eventfd(0, EFD_CLOEXEC)) < 0 ||
        (reader->abort_fd = fcntl(stream->abort_fd, F_DUPFD_CLOEXEC, 0)) < 0)
        goto fail;
    stream->server = request->server;
    stream->write_fd = fds[1];
    stream->writer = writer;
    stream->context = context;
    stream->free_context = free_context;
    stream->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (stream->epoll_fd < 0 ||
        epoll_ctl(stream->epoll_fd, EPOLL_CTL_ADD, fds[1], &error_event) < 0 ||
        epoll_ctl(stream->epoll_fd, EPOLL_CTL_ADD, request->server->stop_fd, &stop_event) < 0)
        goto fail;
    reader->server = request->server;
    reader->read_fd = fds[0];
    reader->client_fd = info ? info->connect_fd : -1;
    response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, read_stream,
                                                 reader, free_stream_reader);
    if (!response)
        goto fail;
    if (content_type)
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    pthread_mutex_lock(&request->server->lock);
    request->server->writers++;
    pthread_mutex_unlock(&request->server->lock);
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&thread, &attributes, run_stream_writer, stream) != 0) {
        pthread_attr_destroy(&attributes);
        pthread_mutex_lock(&request->server->lock);
        request->server->writers--;
        pthread_mutex_unlock(&request->server->lock);
        MHD_destroy_response(response); /* closes fds[0] through the reader */
        reader = NULL;
        fds[0] = -1;
        response = NULL;
        goto fail;
    }
    pthread_attr_destroy(&attributes);
    set_response(request, RESPONSE_STREAM, status, response);
    return;
fail:
    if (stream && stream->epoll_fd > 0)
        close(stream->epoll_fd);
    if (stream && stream->abort_fd > 0)
        close(stream->abort_fd);
    if (reader && reader->abort_fd > 0)
        close(reader->abort_fd);
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    free(stream);
    free(reader);
    if (free_context)
        free_context(context);
    http_respond_error(request, 500, "cannot start a stream: %s", strerror(errno));
}

int http_stream_write(struct http_stream *stream, const void *data, size_t length, struct berr *err)
{
    const char *cursor = data;

    while (length) {
        ssize_t written = write(stream->write_fd, cursor, length);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return berr_set(err, BERR_CANCELLED, "the client went away");
        }
        cursor += written;
        length -= (size_t)written;
    }
    return 0;
}

void http_stream_abort(struct http_stream *stream)
{
    uint64_t one = 1;

    if (write(stream->abort_fd, &one, sizeof(one)) < 0)
        log_warn("http: cannot mark a stream aborted: %s", strerror(errno));
}

bool http_stream_closed(struct http_stream *stream)
{
    struct epoll_event event;

    return epoll_wait(stream->epoll_fd, &event, 1, 0) > 0;
}

int http_stream_poll_fd(struct http_stream *stream)
{
    return stream->epoll_fd;
}

/* ---- hijacked connections ---- */

static void free_hijack(struct http_hijack *hijack)
{
    if (hijack->free_context)
        hijack->free_context(hijack->context);
    free(hijack);
}

static void run_upgrade(void *cls, struct MHD_Connection *connection, void *request_cls,
                        const char *extra_in, size_t extra_in_size, MHD_socket sock,
                        struct MHD_UpgradeResponseHandle *handle)
{
    struct http_hijack *hijack = cls;
    struct http_request *request = request_cls;

    (void)connection;
    if (request)
        request->hijack = NULL; /* ours from now on */
    hijack->fd = sock;
    hijack->extra = extra_in;
    hijack->extra_length = extra_in_size;
    hijack->session(hijack, hijack->context);
    MHD_upgrade_action(handle, MHD_UPGRADE_ACTION_CLOSE);
    free_hijack(hijack);
}

void http_respond_upgrade(struct http_request *request, const char *content_type,
                          http_hijack_session session, void *context,
                          void (*free_context)(void *context))
{
    struct http_hijack *hijack = calloc(1, sizeof(*hijack));
    struct MHD_Response *response = NULL;
    const char *upgrade = http_request_header(request, "Upgrade");

    if (!hijack) {
        if (free_context)
            free_context(context);
        http_respond_error(request, 500, "out of memory");
        return;
    }
    hijack->server = request->server;
    hijack->fd = -1;
    hijack->session = session;
    hijack->context = context;
    hijack->free_context = free_context;
    response = MHD_create_response_for_upgrade(run_upgrade, hijack);
    if (!response) {
        free_hijack(hijack);
        http_respond_error(request, 500, "cannot upgrade the connection");
        return;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_UPGRADE, upgrade ? upgrade : "tcp");
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "Upgrade");
    if (content_type)
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    /* Until the session runs, the request owns it (a client that leaves
     * before the 101 never gets one: request_completed frees it). */
    request->hijack = hijack;
    set_response(request, RESPONSE_UPGRADE, MHD_HTTP_SWITCHING_PROTOCOLS, response);
}

int http_hijack_fd(const struct http_hijack *hijack)
{
    return hijack->fd;
}

int http_hijack_stop_fd(const struct http_hijack *hijack)
{
    return hijack->server->stop_fd;
}

size_t http_hijack_pending(const struct http_hijack *hijack)
{
    return hijack->extra_length;
}

ssize_t http_hijack_read(struct http_hijack *hijack, void *buffer, size_t size)
{
    if (hijack->extra_length) {
        size_t take = size < hijack->extra_length ? size : hijack->extra_length;
        memcpy(buffer, hijack->extra, take);
        hijack->extra += take;
        hijack->extra_length -= take;
        return (ssize_t)take;
    }
    for (;;) {
        ssize_t got = recv(hijack->fd, buffer, size, 0);
        if (got >= 0 || errno != EINTR)
            return got;
    }
}

int http_hijack_write(struct http_hijack *hijack, const void *data, size_t length, struct berr *err)
{
    const char *cursor = data;

    while (length) {
        ssize_t written = send(hijack->fd, cursor, length, MSG_NOSIGNAL);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd ready = {hijack->fd, POLLOUT, 0};
                poll(&ready, 1, 1000);
                continue;
            }
            return berr_set(err, BERR_CANCELLED, "the client went away");
        }
        cursor += written;
        length -= (size_t)written;
    }
    return 0;
}

/* ---- the request's life ---- */

/* "/v1.47/containers/json" → 147 and "/containers/json". */
static void parse_version(struct http_request *request, const char *url)
{
    unsigned major, minor;
    int consumed = 0;

    request->api_version = HTTP_API_MAX;
    if (sscanf(url, "/v%u.%u%n", &major, &minor, &consumed) == 2 &&
        (url[consumed] == '/' || url[consumed] == '\0')) {
        request->api_version = (int)(major * 100 + minor);
        url += consumed;
        if (major != 1 || request->api_version > HTTP_API_MAX ||
            request->api_version < HTTP_API_MIN)
            request->version_error = true;
    }
    request->path = strdup(*url ? url : "/");
}

static void *run_body_worker(void *argument)
{
    struct http_request *request = argument;
    char discard[4096];

    request->route->handler(request, request->route->data);
    /* Whatever the handler did not read is drained, so the writer never
     * blocks on a pipe nobody reads. */
    while (read(request->body_pipe[0], discard, sizeof(discard)) > 0)
        ;
    close(request->body_pipe[0]);
    request->body_pipe[0] = -1;
    return NULL;
}

static struct http_request *new_request(struct http_server *server,
                                        struct MHD_Connection *connection, const char *url,
                                        const char *method)
{
    struct http_request *request = calloc(1, sizeof(*request));

    if (!request)
        return NULL;
    request->server = server;
    request->connection = connection;
    request->method = method;
    request->body_pipe[0] = request->body_pipe[1] = -1;
    parse_version(request, url);
    if (!request->path) {
        free(request);
        return NULL;
    }
    return request;
}

static void free_request(struct http_request *request)
{
    clear_params(request);
    if (request->body_pipe[1] >= 0)
        close(request->body_pipe[1]);
    if (request->worker_running)
        pthread_join(request->worker, NULL);
    if (request->body_pipe[0] >= 0)
        close(request->body_pipe[0]);
    if (request->response)
        MHD_destroy_response(request->response);
    if (request->hijack)
        free_hijack(request->hijack);
    for (size_t i = 0; i < 2 * request->extra_header_count; i++)
        free(request->extra_headers[i]);
    free(request->body);
    free(request->path);
    free(request);
}

static void request_completed(void *cls, struct MHD_Connection *connection, void **request_cls,
                              enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)connection;
    (void)code;
    if (*request_cls)
        free_request(*request_cls);
    *request_cls = NULL;
}

/* The first call, with the headers: route, and start a body worker. */
static void begin_request(struct http_request *request)
{
    bool other_method;

    if (request->version_error)
        return;
    request->route = find_route(request, &other_method);
    if (!request->route || !(request->route->flags & HTTP_ROUTE_STREAM_BODY))
        return;
    if (pipe2(request->body_pipe, O_CLOEXEC) < 0) {
        request->route = NULL;
        return;
    }
    if (pthread_create(&request->worker, NULL, run_body_worker, request) == 0)
        request->worker_running = true;
}

static void take_body(struct http_request *request, const char *data, size_t size)
{
    if (request->worker_running) {
        while (size && request->body_pipe[1] >= 0) {
            ssize_t written = write(request->body_pipe[1], data, size);
            if (written < 0 && errno == EINTR)
                continue;
            if (written < 0) { /* the handler stopped reading: drop the rest */
                close(request->body_pipe[1]);
                request->body_pipe[1] = -1;
                break;
            }
            data += written;
            size -= (size_t)written;
        }
        return;
    }
    if (request->body_too_large || request->body_length + size > HTTP_BODY_MAX) {
        request->body_too_large = true;
        return;
    }
    if (request->body_length + size + 1 > request->body_capacity) {
        size_t capacity = (request->body_length + size + 1) * 2;
        char *grown = realloc(request->body, capacity);
        if (!grown) {
            request->body_too_large = true;
            return;
        }
        request->body = grown;
        request->body_capacity = capacity;
    }
    memcpy(request->body + request->body_length, data, size);
    request->body_length += size;
    request->body[request->body_length] = '\0';
}

/* The last call: run the handler (or wait for the worker), pick the answer. */
static void finish_request(struct http_request *request)
{
    bool other_method = false;

    if (request->version_error) {
        if (request->api_version > HTTP_API_MAX)
            http_respond_error(request, 400,
                               "client version %d.%d is too new. Maximum supported API version "
                               "is " HTTP_API_MAX_STRING,
                               request->api_version / 100, request->api_version % 100);
        else
            http_respond_error(request, 400,
                               "client version %d.%d is too old. Minimum supported API version "
                               "is " HTTP_API_MIN_STRING ", please upgrade your client to a "
                               "newer version",
                               request->api_version / 100, request->api_version % 100);
        return;
    }
    if (!request->route) {
        find_route(request, &other_method);
        clear_params(request);
        if (other_method)
            http_respond_error(request, 405, "method %s not allowed for %s", request->method,
                               request->path);
        else
            http_respond_error(request, 404, "page not found");
        return;
    }
    if (request->worker_running) {
        close(request->body_pipe[1]);
        request->body_pipe[1] = -1;
        pthread_join(request->worker, NULL);
        request->worker_running = false;
    } else if (request->body_too_large) {
        http_respond_error(request, 413, "request body larger than %u bytes", HTTP_BODY_MAX);
        return;
    } else {
        request->route->handler(request, request->route->data);
    }
    if (request->kind == RESPONSE_NONE)
        http_respond_error(request, 500, "%s %s: the handler gave no answer", request->method,
                           request->path);
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *connection, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **request_cls)
{
    struct http_server *server = cls;
    struct http_request *request = *request_cls;
    struct MHD_Response *response;
    enum MHD_Result result;

    (void)version;
    if (!request) {
        request = new_request(server, connection, url, method);
        if (!request)
            return MHD_NO;
        *request_cls = request;
        begin_request(request);
        return MHD_YES;
    }
    if (*upload_data_size) {
        take_body(request, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    finish_request(request);
    if (request->kind == RESPONSE_NONE)
        return MHD_NO; /* no memory even for an error: close */
    response = request->response;
    request->response = NULL;
    log_debug("http: %s %s -> %d", request->method, request->path, request->status);
    result = MHD_queue_response(connection, (unsigned)request->status, response);
    MHD_destroy_response(response);
    return result;
}

/* ---- the server ---- */

static int listen_unix(const char *path, int *out, struct berr *err)
{
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    int fd, rc;

    if (strlen(path) >= sizeof(address.sun_path))
        return berr_set(err, BERR_INVALID, "socket path too long: %s", path);
    strcpy(address.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return berr_errno(err, errno, "socket");
    /* A stale socket from a crash: the caller holds the daemon's lock, so
     * nobody else listens on it. */
    unlink(path);
    if (bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0 || chmod(path, 0660) < 0 ||
        listen(fd, 128) < 0) {
        rc = berr_errno(err, errno, "listen on %s", path);
        close(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

int http_server_create(const char *address, struct http_server **out, struct berr *err)
{
    struct http_server *server;
    const char *path = address;
    int rc;

    if (strncmp(path, "unix://", 7) == 0)
        path += 7;
    else if (strncmp(path, "unix:", 5) == 0)
        path += 5;
    if (path[0] != '/')
        return berr_set(err, BERR_UNSUPPORTED,
                        "address %s: only unix sockets are supported (unix:///path)", address);
    server = calloc(1, sizeof(*server));
    if (!server)
        return berr_set(err, BERR_NOMEM, "out of memory");
    server->listen_fd = -1;
    server->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    server->socket_path = strdup(path);
    pthread_mutex_init(&server->lock, NULL);
    pthread_cond_init(&server->writers_done, NULL);
    if (server->stop_fd < 0 || !server->socket_path) {
        rc = berr_errno(err, errno ? errno : ENOMEM, "http server");
        goto fail;
    }
    if ((rc = listen_unix(path, &server->listen_fd, err)))
        goto fail;
    *out = server;
    return 0;
fail:
    http_server_stop(server);
    return rc;
}

int http_server_start(struct http_server *server, struct berr *err)
{
    server->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
            MHD_ALLOW_UPGRADE | MHD_USE_ITC,
        0, NULL, NULL, access_handler, server, MHD_OPTION_LISTEN_SOCKET, server->listen_fd,
        MHD_OPTION_NOTIFY_COMPLETED, request_completed, server, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)0, MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024), MHD_OPTION_END);
    if (!server->daemon)
        return berr_set(err, BERR_IO, "libmicrohttpd did not start on %s", server->socket_path);
    server->listen_fd = -1; /* the daemon's now */
    return 0;
}

void http_server_stop(struct http_server *server)
{
    uint64_t one = 1;

    if (!server)
        return;
    if (server->stop_fd >= 0 && write(server->stop_fd, &one, sizeof(one)) < 0)
        log_warn("http: signal the stop: %s", strerror(errno));
    if (server->daemon)
        MHD_stop_daemon(server->daemon);
    pthread_mutex_lock(&server->lock);
    while (server->writers > 0)
        pthread_cond_wait(&server->writers_done, &server->lock);
    pthread_mutex_unlock(&server->lock);
    if (server->listen_fd >= 0)
        close(server->listen_fd);
    if (server->socket_path)
        unlink(server->socket_path);
    for (size_t i = 0; i < server->route_count; i++)
        free(server->routes[i].pattern);
    free(server->routes);
    if (server->stop_fd >= 0)
        close(server->stop_fd);
    pthread_mutex_destroy(&server->lock);
    pthread_cond_destroy(&server->writers_done);
    free(server->socket_path);
    free(server);
}
