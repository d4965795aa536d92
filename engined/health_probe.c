/*
 * health_probe: see health_probe.h. A probe is an exec with the sequence of
 * its own (exec, start, a wait with the probe's deadline, kill, delete) over
 * supervisor_api's process calls.
 */
#include "health_probe.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "docker_time.h"
#include "engine.h"
#include "log.h"
#include "supervisor_api.h"

#define LOG_MAX_SIZE  (256 * 1024)
#define LOG_MAX_FILES 2
#define LOG_READ_MAX  (LOG_MAX_SIZE * 2)
#define LOG_PREFIX    "health-"

/* ---- supervisor calls ---- */

/* The container's spec as the supervisor has it (the one its task runs). */
static int container_spec(struct engine *engine, const char *id, yajl_val *spec, struct berr *err)
{
    char *text;
    size_t length;
    int rc;

    if ((rc = sv_container_spec(engine->supervisor, id, &text, &length, err)))
        return rc;
    rc = json_parse(text, spec, err);
    free(text);
    return rc ? berr_prefix(err, "the container's spec") : 0;
}

static void kill_process(struct engine *engine, const char *id, const char *exec_id)
{
    struct berr err;

    if (sv_process_kill(engine->supervisor, id, exec_id, SIGKILL, &err) &&
        err.code != BERR_NOT_FOUND)
        log_debug("container %.12s: kill health probe %.12s: %s", id, exec_id, err.message);
}

static void delete_process(struct engine *engine, const char *id, const char *exec_id)
{
    struct berr err;

    if (sv_process_delete(engine->supervisor, id, exec_id, NULL, &err) &&
        err.code != BERR_NOT_FOUND)
        log_debug("container %.12s: delete health probe %.12s: %s", id, exec_id, err.message);
}

/* ---- the process ---- */

static bool has_key(yajl_val env, const char *key, size_t key_length)
{
    for (size_t i = 0; YAJL_IS_ARRAY(env) && i < env->u.array.len; i++) {
        const char *entry = YAJL_GET_STRING(env->u.array.values[i]);
        if (entry && strncmp(entry, key, key_length) == 0 && entry[key_length] == '=')
            return true;
    }
    return false;
}

/* The container's process with the probe's argv, no terminal, and Env as
 * dockerd makes a probe's (a terminal's TERM=xterm only if Config.Env set it). */
static int probe_process(yajl_val spec, const struct container_settings *settings,
                         const struct health_config *config, char **out, size_t *length,
                         struct berr *err)
{
    yajl_val process = json_get(spec, "process"), env = json_get(process, "env");
    bool drop_term = settings->tty && !has_key(json_get(settings->config, "Env"), "TERM", 4);
    struct json_writer writer;
    const char *text;
    int rc;

    if (!YAJL_IS_OBJECT(process))
        return berr_set(err, BERR_INTERNAL, "the container's spec has no process");
    if ((rc = json_writer_init(&writer, false, err)))
        return rc;
    json_object_begin(&writer);
    for (size_t i = 0; i < process->u.object.len; i++) {
        const char *key = process->u.object.keys[i];
        if (!strcmp(key, "args") || !strcmp(key, "env") || !strcmp(key, "terminal") ||
            !strcmp(key, "consoleSize") || !strcmp(key, "commandLine"))
            continue;
        json_key(&writer, key);
        json_value(&writer, process->u.object.values[i]);
    }
    json_kv_bool(&writer, "terminal", false);
    json_key(&writer, "args");
    json_array_begin(&writer);
    for (char **arg = config->argv; *arg; arg++)
        json_string(&writer, *arg);
    json_array_end(&writer);
    json_key(&writer, "env");
    json_array_begin(&writer);
    for (size_t i = 0; YAJL_IS_ARRAY(env) && i < env->u.array.len; i++) {
        const char *entry = YAJL_GET_STRING(env->u.array.values[i]);
        if (!entry || (drop_term && strncmp(entry, "TERM=", 5) == 0))
            continue;
        json_string(&writer, entry);
    }
    json_array_end(&writer);
    json_object_end(&writer);
    if ((rc = json_writer_result(&writer, &text, length, err)) == 0 &&
        !(*out = malloc(*length + 1)))
        rc = berr_set(err, BERR_NOMEM, "out of memory");
    if (rc == 0) {
        memcpy(*out, text, *length);
        (*out)[*length] = '\0';
    }
    json_writer_free(&writer);
    return rc;
}

/* ---- output ---- */

char *health_utf8_sanitize(const char *data, size_t length)
{
    const unsigned char *text = (const unsigned char *)data;
    char *out = malloc(length * 3 + 1), *end = out;
    size_t i = 0;

    if (!out)
        return NULL;
    while (i < length) {
        unsigned c = text[i], value;
        size_t count, k;
        bool valid = true;

        if (c < 0x80) {
            *end++ = (char)c;
            i++;
            continue;
        }
        count = c >= 0xc2 && c < 0xe0    ? 2
                : c >= 0xe0 && c < 0xf0  ? 3
                : c >= 0xf0 && c <= 0xf4 ? 4
                                         : 0;
        if (!count || i + count > length)
            valid = false;
        value = c & (0x7f >> count);
        for (k = 1; valid && k < count; k++) {
            if ((text[i + k] & 0xc0) != 0x80)
                valid = false;
            value = value << 6 | (text[i + k] & 0x3f);
        }
        if (valid && ((count == 3 && value < 0x800) ||
                      (count == 4 && (value < 0x10000 || value > 0x10ffff)) ||
                      (value >= 0xd800 && value <= 0xdfff)))
            valid = false;
        if (!valid) {
            memcpy(end, "\xef\xbf\xbd", 3);
            end += 3;
            i++;
            continue;
        }
        memcpy(end, text + i, count);
        end += count;
        i += count;
    }
    *end = '\0';
    return out;
}

struct output {
    char data[HEALTH_OUTPUT_MAX];
    size_t length;
    bool truncated;
};

static void add_output(struct output *output, const char *text, size_t length)
{
    size_t room = HEALTH_OUTPUT_MAX - output->length;

    if (length > room) {
        output->truncated = true;
        length = room;
    }
    memcpy(output->data + output->length, text, length);
    output->length += length;
}

/* The "log" texts of a JSON-lines log, in order. */
static void read_log(const char *path, struct output *output)
{
    FILE *file = fopen(path, "re");
    char *line = NULL;
    size_t capacity = 0;
    ssize_t got;

    if (!file)
        return;
    while (!output->truncated && (got = getline(&line, &capacity, file)) > 0) {
        yajl_val entry = NULL, text;
        if (json_parse(line, &entry, NULL) == 0 && (text = json_get(entry, "log")) &&
            YAJL_IS_STRING(text))
            add_output(output, text->u.string, strlen(text->u.string));
        yajl_tree_free(entry);
    }
    free(line);
    fclose(file);
}

/* The probe's output (the rotated file first), then the files removed. */
static char *take_output(const char *log_path)
{
    struct output output = {.length = 0};
    char rotated[4096];
    char *text;

    snprintf(rotated, sizeof(rotated), "%s.1", log_path);
    read_log(rotated, &output);
    read_log(log_path, &output);
    unlink(rotated);
    unlink(log_path);
    text = health_utf8_sanitize(output.data, output.length);
    if (text && output.truncated) {
        char *longer = realloc(text, strlen(text) + 4);
        if (longer)
            strcat(longer, "...");
        text = longer ? longer : text;
    }
    return text;
}

void health_probe_cleanup(const char *container_dir)
{
    DIR *directory = opendir(container_dir);
    struct dirent *entry;

    if (!directory)
        return;
    while ((entry = readdir(directory)))
        if (strncmp(entry->d_name, LOG_PREFIX, strlen(LOG_PREFIX)) == 0)
            unlinkat(dirfd(directory), entry->d_name, 0);
    closedir(directory);
}

/* ---- one run ---- */

static void fail(struct health_probe_result *result, const char *message)
{
    result->exit_code = -1;
    result->output = health_utf8_sanitize(message, strlen(message));
    result->end = docker_time_now();
}

/* "exec_create: /bin/sh -c exit 0": the action dockerd gives its probes,
 * the entrypoint, a space, the arguments joined (so a probe without
 * arguments ends with a space, as dockerd's do). */
static char *action_text(const char *kind, char *const *argv)
{
    size_t length = strlen(kind) + 4;
    char *text;

    for (char *const *arg = argv; *arg; arg++)
        length += strlen(*arg) + 1;
    if (!(text = malloc(length)))
        return NULL;
    strcpy(text, kind);
    strcat(text, ": ");
    strcat(text, argv[0]);
    strcat(text, " ");
    for (char *const *arg = argv + 1; *arg; arg++) {
        if (arg != argv + 1)
            strcat(text, " ");
        strcat(text, *arg);
    }
    return text;
}

static void publish(struct engine *engine, struct container *container, const char *kind,
                    char *const *argv, const char *const *extra)
{
    char *action = argv ? action_text(kind, argv) : NULL;

    container_event(engine->events, container, action ? action : kind, extra);
    free(action);
}

/* Says the process started; true if the probe was cancelled already. */
static bool started(const struct health_probe_control *control, const char *exec_id)
{
    bool value;

    pthread_mutex_lock(control->lock);
    value = *control->cancelled;
    memcpy(control->exec_id, exec_id, HEALTH_EXEC_ID_LENGTH + 1);
    pthread_mutex_unlock(control->lock);
    return value;
}

void health_probe_kill(struct engine *engine, const char *container_id, const char *exec_id)
{
    kill_process(engine, container_id, exec_id);
}

void health_probe_run(struct engine *engine, struct container *container,
                      const struct health_config *config,
                      const struct health_probe_control *control,
                      struct health_probe_result *result)
{
    struct container_settings *settings = container_settings_get(container);
    char exec_id[CONTAINER_ID_LENGTH + 1], code[16], *process = NULL, *log_path = NULL;
    const char *id_attribute[] = {"execID", exec_id, NULL};
    const char *die_attributes[] = {"execID", exec_id, "exitCode", code, NULL};
    int64_t timeout_ms = config->timeout / 1000000;
    yajl_val spec = NULL;
    uint32_t status = 0;
    bool timed_out = false;
    size_t length = 0;
    struct sv_task_io probe_io = {.log_max_size = LOG_MAX_SIZE, .log_max_files = LOG_MAX_FILES};
    struct berr err;
    int rc;

    memset(result, 0, sizeof(*result));
    result->start = docker_time_now();
    container_id_generate(exec_id);
    if (!config->argv[0]) {
        fail(result, "no command in the health check");
        goto out;
    }
    if (asprintf(&log_path, "%s/" LOG_PREFIX "%s.log", container->dir, exec_id) < 0) {
        log_path = NULL;
        fail(result, "out of memory");
        goto out;
    }
    if ((rc = container_spec(engine, container->id, &spec, &err)) ||
        (rc = probe_process(spec, settings, config, &process, &length, &err))) {
        fail(result, err.message);
        goto out;
    }
    publish(engine, container, "exec_create", config->argv, id_attribute);
    probe_io.log_path = log_path;
    if ((rc = sv_exec_add(engine->supervisor, container->id, exec_id, process, length, &probe_io,
                          &err))) {
        fail(result, err.message);
        goto out;
    }
    if ((rc = sv_exec_start(engine->supervisor, container->id, exec_id, NULL, &err))) {
        delete_process(engine, container->id, exec_id);
        unlink(log_path);
        fail(result, err.message);
        goto out;
    }
    publish(engine, container, "exec_start", config->argv, id_attribute);
    if (started(control, exec_id)) {
        kill_process(engine, container->id, exec_id);
        timeout_ms = ENGINE_RPC_TIMEOUT_MS;
    }
    rc = sv_process_wait(engine->supervisor, container->id, exec_id,
                         timeout_ms < 1 ? 1 : (int)timeout_ms, &status, &err);
    if (rc == BERR_TIMEOUT) {
        timed_out = true;
        kill_process(engine, container->id, exec_id);
        rc = sv_process_wait(engine->supervisor, container->id, exec_id, ENGINE_RPC_TIMEOUT_MS,
                             &status, &err);
    }
    delete_process(engine, container->id, exec_id);
    if (rc) {
        /* The container went away under the probe, or the supervisor did. */
        take_output(log_path);
        fail(result, err.message);
        goto out;
    }
    snprintf(code, sizeof(code), "%u", status);
    container_event(engine->events, container, "exec_die", die_attributes);
    result->output = take_output(log_path);
    result->end = docker_time_now();
    result->exit_code = (int)status;
    if (timed_out) {
        char duration[32], *message = NULL;
        health_format_duration(config->timeout, duration, sizeof(duration));
        if (asprintf(&message, "Health check exceeded timeout (%s)%s%s", duration,
                     result->output && *result->output ? ": " : "",
                     result->output ? result->output : "") < 0)
            message = NULL;
        free(result->output);
        result->output = message;
        result->exit_code = -1;
    }
    if (!result->output)
        result->output = strdup("");
out:
    free(log_path);
    free(process);
    yajl_tree_free(spec);
    container_settings_put(settings);
}

void health_probe_result_free(struct health_probe_result *result)
{
    free(result->output);
    result->output = NULL;
}
