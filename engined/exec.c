/*
 * exec: see exec.h. The process spec is written key by key over the
 * container's own "process" object, so whatever the container's spec
 * carries that an exec should share (rlimits, apparmorProfile,
 * noNewPrivileges, oomScoreAdj...) comes along unchanged.
 */
#include "exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container_config.h"
#include "containers.h"
#include "engine.h"
#include "log.h"
#include "monitor.h"
#include "spec.h"
#include "supervisor_api.h"

#define CAPS_MAX 64

/* ---- create ---- */

static int container_running(struct container *container, struct berr *err)
{
    int rc = 0;

    pthread_mutex_lock(&container->lock);
    if (!container->state.running || container->removed)
        rc = berr_set(err, BERR_CONFLICT, "Container %s is not running", container->id);
    else if (container->state.paused)
        rc = berr_set(err, BERR_CONFLICT,
                      "Container %s is paused, unpause the container before exec", container->id);
    else if (container->state.restarting)
        rc = berr_set(err, BERR_CONFLICT,
                      "Container %s is restarting, wait until the container is running",
                      container->id);
    pthread_mutex_unlock(&container->lock);
    return rc;
}

static int string_field(yajl_val body, const char *key, char **out, struct berr *err)
{
    const char *value = "";
    int rc = json_get_string(body, key, &value, err);

    if (rc)
        return rc;
    return (*out = strdup(value)) ? 0 : berr_set(err, BERR_NOMEM, "out of memory");
}

static int console_size(yajl_val body, uint32_t *height, uint32_t *width, struct berr *err)
{
    yajl_val size = json_get(body, "ConsoleSize");
    int64_t h, w;

    if (!size || YAJL_IS_NULL(size))
        return 0;
    if (!YAJL_IS_ARRAY(size) || size->u.array.len != 2 ||
        json_as_int64(size->u.array.values[0], "ConsoleSize", &h, err) ||
        json_as_int64(size->u.array.values[1], "ConsoleSize", &w, err) || h < 0 || w < 0)
        return berr_set(err, BERR_INVALID, "ConsoleSize: expected [height, width]");
    *height = (uint32_t)h;
    *width = (uint32_t)w;
    return 0;
}

static int parse_exec_config(yajl_val body, struct exec_config *config, struct berr *err)
{
    struct detach_keys keys;
    int rc;

    if (!body || !YAJL_IS_OBJECT(body))
        return berr_set(err, BERR_INVALID, "exec config cannot be empty");
    if ((rc = container_config_str_slice(json_get(body, "Cmd"), "Cmd", &config->cmd, err)) ||
        (rc = json_get_string_array(body, "Env", &config->env, NULL, err)) ||
        (rc = string_field(body, "User", &config->user, err)) ||
        (rc = string_field(body, "WorkingDir", &config->working_dir, err)) ||
        (rc = string_field(body, "DetachKeys", &config->detach_keys, err)) ||
        (rc = json_get_bool(body, "Tty", &config->tty, err)) ||
        (rc = json_get_bool(body, "Privileged", &config->privileged, err)) ||
        (rc = json_get_bool(body, "AttachStdin", &config->attach_stdin, err)) ||
        (rc = json_get_bool(body, "AttachStdout", &config->attach_stdout, err)) ||
        (rc = json_get_bool(body, "AttachStderr", &config->attach_stderr, err)) ||
        (rc = console_size(body, &config->console_height, &config->console_width, err)))
        return rc;
    if (!config->cmd || !config->cmd[0])
        return berr_set(err, BERR_INVALID, "No exec command specified");
    if (*config->working_dir && config->working_dir[0] != '/')
        return berr_set(err, BERR_INVALID,
                        "the working directory '%s' is invalid, it needs to be an absolute path",
                        config->working_dir);
    if (*config->detach_keys && (rc = detach_keys_parse(config->detach_keys, &keys, err)))
        return rc;
    return 0;
}

/* "exec_create: sh -c true" */
static void exec_event(struct engine *engine, struct exec_record *record, const char *what,
                       const char *exit_code)
{
    const char *extra[] = {"execID", record->id, exit_code ? "exitCode" : NULL, exit_code, NULL};
    char action[1024];
    size_t used;

    used = (size_t)snprintf(action, sizeof(action), "%s", what);
    for (size_t i = 0; !exit_code && record->config.cmd[i] && used < sizeof(action); i++)
        used += (size_t)snprintf(action + used, sizeof(action) - used, "%s%s", i ? " " : ": ",
                                 record->config.cmd[i]);
    container_event(engine->events, record->container, action, extra);
}

int exec_create(struct engine *engine, struct container *container, yajl_val body,
                struct exec_record **out, struct berr *err)
{
    struct exec_config config = {0};
    int rc;

    if ((rc = container_running(container, err)) || (rc = parse_exec_config(body, &config, err)) ||
        (rc = exec_store_add(engine->execs, container, &config, out, err))) {
        exec_config_free(&config);
        return rc;
    }
    exec_event(engine, *out, "exec_create", NULL);
    return 0;
}

/* ---- the process spec ---- */

static bool env_same_key(const char *a, const char *b)
{
    size_t length = strcspn(a, "=");

    return strncmp(a, b, length) == 0 && (b[length] == '=' || !b[length]);
}

/* dockerd's ReplaceOrAppendEnvValues: KEY=VALUE replaces or appends; a
 * bare KEY removes. env has room for count + overrides' entries. */
static void env_apply(const char **env, size_t *count, char *const *overrides)
{
    for (size_t i = 0; overrides && overrides[i]; i++) {
        size_t j;
        for (j = 0; j < *count && !env_same_key(env[j], overrides[i]); j++)
            ;
        if (!strchr(overrides[i], '=')) {
            if (j < *count)
                env[j] = env[--*count];
            continue;
        }
        env[j] = overrides[i];
        if (j == *count)
            (*count)++;
    }
}

static size_t vector_length(char *const *vector)
{
    size_t n = 0;

    while (vector && vector[n])
        n++;
    return n;
}

static void write_env(struct json_writer *writer, const struct container_settings *settings,
                      const struct exec_config *config)
{
    char path[] = "PATH=" SPEC_DEFAULT_PATH, hostname[300], term[] = "TERM=xterm";
    char *defaults[] = {path, hostname, config->tty ? term : NULL, NULL};
    const char *name = "";
    char **container_env = NULL;
    const char **env;
    size_t count = 0;

    json_get_string(settings->config, "Hostname", &name, NULL);
    snprintf(hostname, sizeof(hostname), "HOSTNAME=%s", name);
    container_config_str_slice(json_get(settings->config, "Env"), "Env", &container_env, NULL);
    env = calloc(3 + vector_length(container_env) + vector_length(config->env) + 1, sizeof(*env));
    json_key(writer, "env");
    json_array_begin(writer);
    if (env) {
        env_apply(env, &count, defaults);
        env_apply(env, &count, container_env);
        env_apply(env, &count, config->env);
        for (size_t i = 0; i < count; i++)
            json_string(writer, env[i]);
    }
    json_array_end(writer);
    free(env);
    json_free_string_array(container_env);
}

static void write_user(struct json_writer *writer, const struct spec_user *user)
{
    json_key(writer, "user");
    json_object_begin(writer);
    json_kv_uint(writer, "uid", user->uid);
    json_kv_uint(writer, "gid", user->gid);
    if (user->group_count) {
        json_key(writer, "additionalGids");
        json_array_begin(writer);
        for (size_t i = 0; i < user->group_count; i++)
            json_uint(writer, user->groups[i]);
        json_array_end(writer);
    }
    json_object_end(writer);
}

static void write_all_capabilities(struct json_writer *writer)
{
    static const char *const sets[] = {"bounding", "effective", "permitted"};
    const char *caps[CAPS_MAX + 1];

    spec_all_capabilities(caps, CAPS_MAX + 1);
    json_key(writer, "capabilities");
    json_object_begin(writer);
    for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
        json_key(writer, sets[s]);
        json_array_begin(writer);
        for (size_t i = 0; caps[i]; i++)
            json_string(writer, caps[i]);
        json_array_end(writer);
    }
    json_object_end(writer);
}

struct process_input {
    yajl_val base; /* the container's "process" object */
    const struct container_settings *settings;
    const struct exec_config *config;
    const struct spec_user *user; /* NULL: the container's */
    const char *cwd;
    uint32_t height, width;
};

/* Our value for key, if we replace it; false to keep the container's. */
static bool write_override(struct json_writer *writer, const struct process_input *in,
                           const char *key)
{
    if (strcmp(key, "args") == 0) {
        json_key(writer, "args");
        json_array_begin(writer);
        for (size_t i = 0; in->config->cmd[i]; i++)
            json_string(writer, in->config->cmd[i]);
        json_array_end(writer);
    } else if (strcmp(key, "env") == 0) {
        write_env(writer, in->settings, in->config);
    } else if (strcmp(key, "cwd") == 0) {
        json_kv_string(writer, "cwd", in->cwd);
    } else if (strcmp(key, "terminal") == 0) {
        json_kv_bool(writer, "terminal", in->config->tty);
    } else if (strcmp(key, "user") == 0 && in->user) {
        write_user(writer, in->user);
    } else if (strcmp(key, "capabilities") == 0 && in->config->privileged) {
        write_all_capabilities(writer);
    } else if (strcmp(key, "consoleSize") == 0) {
        /* ours below, with the terminal */
    } else {
        return false;
    }
    return true;
}

static void write_process(struct json_writer *writer, const struct process_input *in)
{
    static const char *const ours[] = {"args", "env", "cwd", "terminal"};
    yajl_val base = in->base;

    json_object_begin(writer);
    for (size_t i = 0; YAJL_IS_OBJECT(base) && i < base->u.object.len; i++)
        if (!write_override(writer, in, base->u.object.keys[i])) {
            json_key(writer, base->u.object.keys[i]);
            json_value(writer, base->u.object.values[i]);
        }
    for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
        if (!json_get(base, ours[i]))
            write_override(writer, in, ours[i]);
    if (in->user && !json_get(base, "user"))
        write_user(writer, in->user);
    if (in->config->privileged && !json_get(base, "capabilities"))
        write_all_capabilities(writer);
    if (in->config->tty && in->height && in->width) {
        json_key(writer, "consoleSize");
        json_object_begin(writer);
        json_kv_uint(writer, "height", in->height);
        json_kv_uint(writer, "width", in->width);
        json_object_end(writer);
    }
    json_object_end(writer);
}

static int lookup_user(struct engine *engine, struct exec_record *record,
                       const struct container_settings *settings, struct spec_user *user,
                       struct berr *err)
{
    char *passwd = NULL, *group = NULL;
    int rc;

    containers_read_user_files(engine, record->container, &passwd, &group);
    rc = spec_resolve_user(record->config.user, json_get(settings->host_config, "GroupAdd"), passwd,
                           group, true, user, err);
    free(passwd);
    free(group);
    return rc;
}

static int process_spec(struct engine *engine, struct exec_record *record, uint32_t height,
                        uint32_t width, char **out, size_t *length, struct berr *err)
{
    struct container_settings *settings = container_settings_get(record->container);
    struct process_input in = {.settings = settings, .config = &record->config};
    struct spec_user user;
    struct json_writer writer;
    yajl_val spec = NULL;
    const char *text, *cwd = "";
    char *container_spec = NULL;
    size_t spec_length;
    int rc;

    if ((rc = sv_container_spec(engine->supervisor, record->container->id, &container_spec,
                                &spec_length, err)) ||
        (rc = json_parse(container_spec, &spec, err)))
        goto out;
    if (*record->config.user) {
        if ((rc = lookup_user(engine, record, settings, &user, err)))
            goto out;
        in.user = &user;
    }
    json_get_string(settings->config, "WorkingDir", &cwd, NULL);
    in.cwd = *record->config.working_dir ? record->config.working_dir : *cwd ? cwd : "/";
    in.base = json_get(spec, "process");
    in.height = height ? height : record->config.console_height;
    in.width = width ? width : record->config.console_width;
    if ((rc = json_writer_init(&writer, false, err)))
        goto out;
    write_process(&writer, &in);
    if ((rc = json_writer_result(&writer, &text, length, err)) == 0 &&
        !(*out = strndup(text, *length)))
        rc = berr_set(err, BERR_NOMEM, "out of memory");
    json_writer_free(&writer);
out:
    yajl_tree_free(spec);
    free(container_spec);
    container_settings_put(settings);
    return rc;
}

/* ---- start ---- */

int exec_claim_start(struct engine *engine, struct exec_record *record, struct berr *err)
{
    int rc = container_running(record->container, err);

    return rc ? rc : exec_store_claim_start(engine->execs, record, err);
}

/* The exit, once: exec_die and the supervisor's process deleted. */
static void finish(struct engine *engine, struct exec_record *record, int exit_code)
{
    char code[16];
    struct berr err;

    if (!exec_store_set_exited(engine->execs, record, exit_code))
        return;
    snprintf(code, sizeof(code), "%d", exit_code);
    exec_event(engine, record, "exec_die", code);
    if (sv_process_delete(engine->supervisor, record->container->id, record->id, NULL, &err) &&
        err.code != BERR_NOT_FOUND)
        log_warn("exec %.12s: delete the process: %s", record->id, err.message);
}

/* dockerd's codes for a process that never ran. */
static int start_failure_code(const char *message)
{
    if (strstr(message, "executable file not found") || strstr(message, "no such file"))
        return 127;
    return 126;
}

static int add_process(struct engine *engine, struct exec_record *record, uint32_t height,
                       uint32_t width, struct berr *err)
{
    struct sv_task_io io = {0};
    char *spec = NULL;
    size_t length = 0;
    int rc;

    if ((rc = process_spec(engine, record, height, width, &spec, &length, err)))
        return rc;
    io.terminal = record->config.tty;
    io.stdin = record->config.attach_stdin;
    io.console_height = height ? height : record->config.console_height;
    io.console_width = width ? width : record->config.console_width;
    rc = sv_exec_add(engine->supervisor, record->container->id, record->id, spec, length, &io, err);
    free(spec);
    return rc;
}

static int start_process(struct engine *engine, struct exec_record *record, struct berr *err)
{
    uint32_t pid = 0;
    int rc = sv_exec_start(engine->supervisor, record->container->id, record->id, &pid, err);

    if (rc)
        return rc;
    exec_store_set_running(engine->execs, record, pid);
    exec_event(engine, record, "exec_start", NULL);
    return 0;
}

static void failed_start(struct engine *engine, struct exec_record *record, const struct berr *err)
{
    finish(engine, record, start_failure_code(err->message));
}

int exec_start_detached(struct engine *engine, struct exec_record *record, struct berr *err)
{
    int rc = add_process(engine, record, 0, 0, err);

    if (rc == 0)
        rc = start_process(engine, record, err);
    if (rc)
        failed_start(engine, record, err);
    return rc;
}

void exec_start_attached(struct engine *engine, struct exec_record *record,
                         const struct attach_client *client, bool tty, uint32_t height,
                         uint32_t width)
{
    struct attach_target target = {record->container->id, record->id, record->config.attach_stdin,
                                   record->config.attach_stdout, record->config.attach_stderr};
    struct attach_options options = {.stdin = target.stdin, .tty = tty, .close_stdin = true};
    struct attach_stream *stream = NULL;
    struct attach_result result = {0};
    struct berr err;
    char message[BERR_MESSAGE_MAX + 4];
    int rc;

    detach_keys_parse(record->config.detach_keys, &options.detach_keys, &err);
    if ((rc = add_process(engine, record, height, width, &err)) ||
        (rc = attach_open(engine, &target, &stream, &err)) ||
        (rc = start_process(engine, record, &err))) {
        failed_start(engine, record, &err);
        attach_close(stream);
        snprintf(message, sizeof(message), "%s\r\n", err.message);
        attach_client_write_output(client, tty, DOCKER_STREAM_STDOUT, message, strlen(message),
                                   &err);
        return;
    }
    attach_run(stream, client, &options, &result);
    attach_close(stream);
    if (result.end == ATTACH_EXITED)
        finish(engine, record, (int)result.exit_status);
    else if (result.end == ATTACH_FAILED)
        log_warn("exec %.12s: %s", record->id, result.err.message);
}

/* ---- exits seen by the monitor ---- */

static void exec_exited(struct engine *engine, const char *container_id, const char *exec_id,
                        uint32_t pid, uint32_t status, int64_t exited_at)
{
    struct exec_record *record;
    struct berr err;

    (void)pid;
    (void)exited_at;
    if (exec_store_get(engine->execs, exec_id, &record, &err))
        return; /* not ours, or its container went */
    if (strcmp(record->container->id, container_id) == 0)
        finish(engine, record, (int)status);
    exec_record_put(engine->execs, record);
}

void exec_setup(struct engine *engine)
{
    monitor_set_exec_exit(engine, exec_exited);
}
