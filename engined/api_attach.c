/*
 * api_attach: POST /containers/{id}/attach (hijacked), its websocket
 * sibling (501), and POST /containers/{id}/resize.
 *
 * Why the waiting: `docker run` attaches before it starts the container,
 * and `docker start -a` too. The 101 goes out at once (the CLI waits for
 * it before it sends the start), then the session waits for the task: it
 * counts itself among the container's attach_waiters, a start lets it in
 * between Tasks.Create and Tasks.Start (container_store.h), and it attaches
 * before the process has run a single instruction. A container that runs
 * already is attached at once, and gets what it writes from then on.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_logs.h"
#include "attach.h"
#include "container_store.h"
#include "docker_stream.h"
#include "engine.h"
#include "log.h"
#include "supervisor_api.h"

#define WAIT_SLICE_MS 250

struct attach_request {
    struct engine *engine;
    struct container *container;
    bool stream, logs;
    struct attach_target target;
    struct attach_options options;
};

static void free_attach_request(void *context)
{
    struct attach_request *attach = context;

    container_put(attach->container);
    free(attach);
}

/* ---- waiting for a process to attach to ---- */

/* True when the client has gone (or the engine stops). */
static bool client_left(const struct attach_client *client)
{
    struct pollfd fds[2] = {{-1, 0, 0}, {-1, POLLIN, 0}};

    if (client->hijack) {
        fds[0].fd = http_hijack_fd(client->hijack); /* hang-ups only: stdin stays queued */
        fds[1].fd = http_hijack_stop_fd(client->hijack);
    } else {
        fds[0].fd = http_stream_poll_fd(client->stream);
        fds[0].events = POLLIN;
    }
    return poll(fds, 2, 0) > 0;
}

static void deadline_in(struct timespec *deadline, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, deadline);
    deadline->tv_nsec += (long)ms * 1000000L;
    while (deadline->tv_nsec >= 1000000000L) {
        deadline->tv_sec++;
        deadline->tv_nsec -= 1000000000L;
    }
}

/*
 * Waits until there is a process to attach to: a running one (then
 * *waiting stays false), or a created task not started yet (then the
 * caller is counted in attach_waiters, *waiting true, and the start waits
 * for it). False when the container went or the client left.
 */
static bool wait_for_process(struct container *container, const struct attach_client *client,
                             bool *waiting)
{
    bool ready = false;

    *waiting = false;
    pthread_mutex_lock(&container->lock);
    for (;;) {
        struct timespec deadline;
        if (container->removed)
            break;
        if (container->attach_window) {
            if (!*waiting)
                container->attach_waiters++;
            *waiting = ready = true;
            break;
        }
        if (container->state.running && !container->state.restarting && !container->starting) {
            ready = true;
            break;
        }
        if (!*waiting) {
            container->attach_waiters++;
            *waiting = true;
        }
        deadline_in(&deadline, WAIT_SLICE_MS);
        pthread_cond_timedwait(&container->changed, &container->lock, &deadline);
        if (!container->attach_window && client_left(client))
            break;
    }
    if (!ready && *waiting) {
        container->attach_waiters--;
        *waiting = false;
        pthread_cond_broadcast(&container->changed);
    }
    if (ready && *waiting && !container->attach_window) {
        container->attach_waiters--; /* attached to a running one after all */
        *waiting = false;
        pthread_cond_broadcast(&container->changed);
    }
    pthread_mutex_unlock(&container->lock);
    return ready;
}

static void stop_waiting(struct container *container, bool waiting)
{
    if (!waiting)
        return;
    pthread_mutex_lock(&container->lock);
    container->attach_waiters--;
    pthread_cond_broadcast(&container->changed);
    pthread_mutex_unlock(&container->lock);
}

/* ---- the session ---- */

static int client_write(void *context, const void *data, size_t length, struct berr *err)
{
    return attach_client_write(context, data, length, err);
}

static void replay_logs(struct attach_request *attach, const struct attach_client *client)
{
    struct logs_query query;

    if (!attach->container->log_path)
        return;
    logs_query_init(&query);
    query.stdout = attach->target.stdout;
    query.stderr = attach->target.stderr;
    logs_send(attach->container, &query, !attach->options.tty, client_write, (void *)client, -1);
}

/* Attaches (retrying without stdin when the process's stdin was closed
 * already: a StdinOnce container attached to before) and copies. */
static void attach_and_copy(struct attach_request *attach, const struct attach_client *client,
                            bool waiting, struct attach_result *result)
{
    struct attach_stream *stream = NULL;
    int rc;

    for (;;) {
        rc = attach_open(attach->engine, &attach->target, &stream, &result->err);
        stop_waiting(attach->container, waiting);
        waiting = false;
        if (rc) {
            result->end = ATTACH_FAILED;
            return;
        }
        attach_run(stream, client, &attach->options, result);
        attach_close(stream);
        if (result->end != ATTACH_FAILED || result->err.code != BERR_CONFLICT ||
            !attach->target.stdin)
            return;
        attach->target.stdin = attach->options.stdin = false;
    }
}

static void run_attach(struct attach_request *attach, const struct attach_client *client)
{
    struct container *container = attach->container;
    struct attach_result result = {0};
    bool waiting;

    container_event(attach->engine->events, container, "attach", NULL);
    if (attach->logs)
        replay_logs(attach, client);
    if (!attach->stream || !wait_for_process(container, client, &waiting))
        return;
    attach_and_copy(attach, client, waiting, &result);
    switch (result.end) {
    case ATTACH_DETACHED:
    case ATTACH_CLIENT_DONE:
        container_event(attach->engine->events, container, "detach", NULL);
        break;
    case ATTACH_FAILED:
        /* A container that stopped meanwhile has nothing more to say. */
        if (result.err.code != BERR_NOT_FOUND)
            log_warn("attach to %.12s: %s", container->id, result.err.message);
        break;
    default:
        break;
    }
}

static void attach_hijacked(struct http_hijack *hijack, void *context)
{
    struct attach_client client = {.hijack = hijack};

    run_attach(context, &client);
}

static void attach_streamed(struct http_stream *stream, void *context)
{
    struct attach_client client = {.stream = stream};

    run_attach(context, &client);
}

/* ---- the endpoints ---- */

static struct container *route_container(struct http_request *request, struct engine *engine)
{
    struct container *container;
    struct berr err;

    if (container_store_get(engine->containers, http_request_param(request, "id"), &container,
                            &err)) {
        http_respond_berr(request, &err);
        return NULL;
    }
    return container;
}

/* dockerd refuses a paused or restarting container before it hijacks. */
static int check_attachable(struct container *container, struct berr *err)
{
    int rc = 0;

    pthread_mutex_lock(&container->lock);
    if (container->state.paused)
        rc = berr_set(err, BERR_CONFLICT,
                      "container %s is paused, unpause the container before attach", container->id);
    else if (container->state.restarting)
        rc = berr_set(err, BERR_CONFLICT,
                      "container %s is restarting, wait until the container is running",
                      container->id);
    pthread_mutex_unlock(&container->lock);
    return rc;
}

static int attach_options_of(struct http_request *request, struct attach_request *attach,
                             struct berr *err)
{
    struct container_settings *settings = container_settings_get(attach->container);
    int rc = detach_keys_parse(http_request_query(request, "detachKeys"),
                               &attach->options.detach_keys, err);

    attach->stream = http_request_query_bool(request, "stream", false);
    attach->logs = http_request_query_bool(request, "logs", false);
    attach->target.container_id = attach->container->id;
    attach->target.exec_id = "";
    /* Without OpenStdin there is no stdin to attach to; dockerd ignores it. */
    attach->target.stdin = http_request_query_bool(request, "stdin", false) && settings->open_stdin;
    attach->target.stdout = http_request_query_bool(request, "stdout", false);
    attach->target.stderr = http_request_query_bool(request, "stderr", false);
    attach->options.stdin = attach->target.stdin;
    attach->options.tty = settings->tty;
    attach->options.close_stdin = settings->stdin_once;
    container_settings_put(settings);
    return rc;
}

static void attach_container(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct attach_request *attach = calloc(1, sizeof(*attach));
    const char *content_type;
    struct berr err;

    if (!attach) {
        http_respond_error(request, 500, "out of memory");
        return;
    }
    attach->engine = engine;
    if (!(attach->container = route_container(request, engine))) {
        free(attach);
        return;
    }
    if (attach_options_of(request, attach, &err) || check_attachable(attach->container, &err)) {
        http_respond_berr(request, &err);
        free_attach_request(attach);
        return;
    }
    content_type =
        docker_stream_content_type(!attach->options.tty, http_request_api_version(request));
    if (http_request_header(request, "Upgrade")) {
        http_respond_upgrade(request, content_type, attach_hijacked, attach, free_attach_request);
        return;
    }
    /* No upgrade asked: a plain response with the output only, as dockerd. */
    attach->target.stdin = attach->options.stdin = false;
    http_respond_stream(request, 200, DOCKER_RAW_STREAM, attach_streamed, attach,
                        free_attach_request);
}

static void attach_websocket(struct http_request *request, void *data)
{
    (void)data;
    http_respond_error(request, 501,
                       "attach over a websocket is not implemented: use POST "
                       "/containers/{id}/attach");
}

/* "h" and "w" as dockerd reads them (strconv.Atoi: a bad one is 400). */
static int query_size(struct http_request *request, const char *name, uint32_t *out,
                      struct berr *err)
{
    const char *text = http_request_query(request, name);
    char *end = NULL;
    long value;

    errno = 0;
    value = text ? strtol(text, &end, 10) : 0;
    if (!text || !*text || *end || errno || value < 0 || value > 65535)
        return berr_set(err, BERR_INVALID, "strconv.Atoi: parsing \"%s\": invalid syntax",
                        text ? text : "");
    *out = (uint32_t)value;
    return 0;
}

static void resize_container(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct container *container;
    uint32_t height, width;
    char height_text[16], width_text[16];
    const char *extra[] = {"height", height_text, "width", width_text, NULL};
    struct berr err;
    bool running;
    int rc;

    if ((rc = query_size(request, "h", &height, &err)) ||
        (rc = query_size(request, "w", &width, &err))) {
        http_respond_berr(request, &err);
        return;
    }
    if (!(container = route_container(request, engine)))
        return;
    pthread_mutex_lock(&container->lock);
    running = container->state.running && !container->state.restarting;
    pthread_mutex_unlock(&container->lock);
    if (!running)
        rc = berr_set(&err, BERR_CONFLICT, "Container %s is not running", container->id);
    else
        rc = sv_process_resize(engine->supervisor, container->id, "", width, height, &err);
    if (rc) {
        http_respond_berr(request, &err);
    } else {
        snprintf(height_text, sizeof(height_text), "%u", height);
        snprintf(width_text, sizeof(width_text), "%u", width);
        container_event(engine->events, container, "resize", extra);
        http_respond_empty(request, 200);
    }
    container_put(container);
}

int api_attach_register(struct engine *engine, struct berr *err)
{
    int rc;

    if ((rc = http_server_route(engine->http, "POST", "/containers/{id}/attach", attach_container,
                                engine, 0, err)) ||
        (rc = http_server_route(engine->http, "GET", "/containers/{id}/attach/ws", attach_websocket,
                                engine, 0, err)))
        return rc;
    return http_server_route(engine->http, "POST", "/containers/{id}/resize", resize_container,
                             engine, 0, err);
}
