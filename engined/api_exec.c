/*
 * api_exec: POST /containers/{id}/exec, POST /exec/{id}/start (hijacked
 * unless Detach), GET /exec/{id}/json, POST /exec/{id}/resize. The work is
 * exec.c's; this file reads requests and writes Docker's shapes.
 *
 * Why errors come before the upgrade: once a connection is hijacked an
 * error can only be text in the stream, which the docker CLI prints but
 * cannot tell from output; an unknown exec (404), one that ran (409) or a
 * stopped container (409) are answered as plain HTTP errors first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "container_store.h"
#include "docker_stream.h"
#include "engine.h"
#include "exec.h"
#include "exec_store.h"
#include "supervisor_api.h"

/* How long a resize waits for the exec to start (dockerd's). */
#define RESIZE_WAIT_MS 10000

static bool json_writer_start(struct http_request *request, struct json_writer *writer)
{
    struct berr err;

    if (json_writer_init(writer, false, &err)) {
        http_respond_berr(request, &err);
        return false;
    }
    return true;
}

static struct exec_record *route_exec(struct http_request *request, struct engine *engine)
{
    struct exec_record *record;
    struct berr err;

    if (exec_store_get(engine->execs, http_request_param(request, "id"), &record, &err)) {
        http_respond_berr(request, &err);
        return NULL;
    }
    return record;
}

/* ---- create ---- */

static void create_exec(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct exec_record *record = NULL;
    struct container *container;
    struct json_writer writer;
    yajl_val body = NULL;
    struct berr err;

    if (container_store_get(engine->containers, http_request_param(request, "id"), &container,
                            &err)) {
        http_respond_berr(request, &err);
        return;
    }
    if (http_request_json(request, &body, &err) ||
        exec_create(engine, container, body, &record, &err)) {
        http_respond_berr(request, &err);
    } else if (json_writer_start(request, &writer)) {
        json_object_begin(&writer);
        json_kv_string(&writer, "Id", record->id);
        json_object_end(&writer);
        http_respond_json_writer(request, 201, &writer);
    }
    exec_record_put(engine->execs, record);
    yajl_tree_free(body);
    container_put(container);
}

/* ---- start ---- */

struct exec_session {
    struct engine *engine;
    struct exec_record *record;
    bool tty;
    uint32_t height, width;
};

static void free_session(void *context)
{
    struct exec_session *session = context;

    exec_record_put(session->engine->execs, session->record);
    free(session);
}

static void start_hijacked(struct http_hijack *hijack, void *context)
{
    struct exec_session *session = context;
    struct attach_client client = {.hijack = hijack};

    exec_start_attached(session->engine, session->record, &client, session->tty, session->height,
                        session->width);
}

static void start_streamed(struct http_stream *stream, void *context)
{
    struct exec_session *session = context;
    struct attach_client client = {.stream = stream};

    exec_start_attached(session->engine, session->record, &client, session->tty, session->height,
                        session->width);
}

/* {"Detach", "Tty", "ConsoleSize": [h, w]}; an empty body is all defaults. */
static int start_options(struct http_request *request, struct exec_session *session, bool *detach,
                         struct berr *err)
{
    yajl_val body = NULL, size;
    int rc;

    *detach = false;
    session->tty = session->record->config.tty;
    if ((rc = http_request_json(request, &body, err)))
        return rc;
    if (body && !YAJL_IS_OBJECT(body))
        rc = berr_set(err, BERR_INVALID, "exec start: expected an object");
    if (rc == 0 && body && !(rc = json_get_bool(body, "Detach", detach, err)))
        rc = json_get_bool(body, "Tty", &session->tty, err);
    size = json_get(body, "ConsoleSize");
    if (rc == 0 && YAJL_IS_ARRAY(size) && size->u.array.len == 2 &&
        YAJL_IS_INTEGER(size->u.array.values[0]) && YAJL_IS_INTEGER(size->u.array.values[1])) {
        session->height = (uint32_t)YAJL_GET_INTEGER(size->u.array.values[0]);
        session->width = (uint32_t)YAJL_GET_INTEGER(size->u.array.values[1]);
    }
    yajl_tree_free(body);
    return rc;
}

static void start_exec(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct exec_session *session = calloc(1, sizeof(*session));
    struct berr err;
    bool detach;

    if (!session) {
        http_respond_error(request, 500, "out of memory");
        return;
    }
    session->engine = engine;
    if (!(session->record = route_exec(request, engine))) {
        free(session);
        return;
    }
    if (start_options(request, session, &detach, &err) ||
        exec_claim_start(engine, session->record, &err)) {
        http_respond_berr(request, &err);
    } else if (detach) {
        if (exec_start_detached(engine, session->record, &err))
            http_respond_berr(request, &err);
        else
            http_respond_empty(request, 200);
    } else if (http_request_header(request, "Upgrade")) {
        http_respond_upgrade(
            request, docker_stream_content_type(!session->tty, http_request_api_version(request)),
            start_hijacked, session, free_session);
        return;
    } else {
        http_respond_stream(request, 200, DOCKER_RAW_STREAM, start_streamed, session, free_session);
        return;
    }
    free_session(session);
}

/* ---- inspect, resize ---- */

static void write_process_config(struct json_writer *writer, const struct exec_config *config)
{
    json_key(writer, "ProcessConfig");
    json_object_begin(writer);
    json_kv_bool(writer, "tty", config->tty);
    json_kv_string(writer, "entrypoint", config->cmd[0]);
    json_key(writer, "arguments");
    json_array_begin(writer);
    for (size_t i = 1; config->cmd[i]; i++)
        json_string(writer, config->cmd[i]);
    json_array_end(writer);
    json_kv_bool(writer, "privileged", config->privileged);
    if (*config->user)
        json_kv_string(writer, "user", config->user);
    json_object_end(writer);
}

static void inspect_exec(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct exec_record *record = route_exec(request, engine);
    const struct exec_config *config;
    struct json_writer writer;
    bool running, exited;
    int exit_code;
    uint32_t pid;

    if (!record)
        return;
    config = &record->config;
    exec_store_state(engine->execs, record, &running, &exited, &exit_code, &pid);
    if (json_writer_start(request, &writer)) {
        json_object_begin(&writer);
        json_kv_string(&writer, "ID", record->id);
        json_kv_bool(&writer, "Running", running);
        json_key(&writer, "ExitCode");
        if (exited)
            json_int(&writer, exit_code);
        else
            json_null(&writer);
        write_process_config(&writer, config);
        json_kv_bool(&writer, "OpenStdin", config->attach_stdin);
        json_kv_bool(&writer, "OpenStderr", config->attach_stderr);
        json_kv_bool(&writer, "OpenStdout", config->attach_stdout);
        json_kv_bool(&writer, "CanRemove", false);
        json_kv_string(&writer, "ContainerID", record->container->id);
        json_kv_string(&writer, "DetachKeys", config->detach_keys);
        json_kv_uint(&writer, "Pid", running ? pid : 0);
        json_object_end(&writer);
        http_respond_json_writer(request, 200, &writer);
    }
    exec_record_put(engine->execs, record);
}

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

static void resize_exec(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct exec_record *record;
    uint32_t height, width;
    struct berr err;
    int rc;

    if (query_size(request, "h", &height, &err) || query_size(request, "w", &width, &err)) {
        http_respond_berr(request, &err);
        return;
    }
    if (!(record = route_exec(request, engine)))
        return;
    if (!exec_store_wait_running(engine->execs, record, RESIZE_WAIT_MS))
        rc = berr_set(&err, BERR_CONFLICT, "exec %s is not running", record->id);
    else
        rc = sv_process_resize(engine->supervisor, record->container->id, record->id, width, height,
                               &err);
    if (rc)
        http_respond_berr(request, &err);
    else
        http_respond_empty(request, 200);
    exec_record_put(engine->execs, record);
}

int api_exec_register(struct engine *engine, struct berr *err)
{
    static const struct {
        const char *method, *pattern;
        http_handler handler;
    } routes[] = {
        {"POST", "/containers/{id}/exec", create_exec},
        {"POST", "/exec/{id}/start", start_exec},
        {"GET", "/exec/{id}/json", inspect_exec},
        {"POST", "/exec/{id}/resize", resize_exec},
    };
    int rc;

    exec_setup(engine);
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if ((rc = http_server_route(engine->http, routes[i].method, routes[i].pattern,
                                    routes[i].handler, engine, 0, err)))
            return rc;
    return 0;
}
