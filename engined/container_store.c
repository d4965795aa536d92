/*
 * container_store: see container_store.h. The index is a plain array under
 * one mutex: lookups by prefix and name scan it, which stays cheap for the
 * hundreds of containers a host runs, and keeps the name reservation and
 * the prefix rules in one obvious place.
 */
#include "container_store.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "events.h"
#include "log.h"
#include "names.h"
#include "signals.h"
#include "timefmt.h"

#define RECORD_NAME "config.v2.json"
#define RECORD_MAX  (16u << 20)
#define NAME_TRIES  20

struct container_store {
    char *directory; /* ROOT/containers */
    pthread_mutex_t lock;
    struct container **items;
    size_t count, capacity;
};

/* ---- small helpers ---- */

static char *join(const char *a, const char *b)
{
    char *out;

    if (asprintf(&out, "%s/%s", a, b) < 0)
        return NULL;
    return out;
}

static char **copy_strings(char *const *strings)
{
    size_t count = 0, i;
    char **copy;

    while (strings && strings[count])
        count++;
    copy = calloc(count + 1, sizeof(*copy));
    if (!copy)
        return NULL;
    for (i = 0; i < count; i++) {
        if (!(copy[i] = strdup(strings[i]))) {
            json_free_string_array(copy);
            return NULL;
        }
    }
    return copy;
}

/* A JSON tree as text (malloc'ed), for trees that live inside another. */
static char *tree_text(yajl_val value)
{
    struct json_writer writer;
    const char *text;
    size_t length;
    char *copy = NULL;

    if (json_writer_init(&writer, false, NULL))
        return NULL;
    if (value)
        json_value(&writer, value);
    else
        json_object_begin(&writer), json_object_end(&writer);
    if (json_writer_result(&writer, &text, &length, NULL) == 0)
        copy = strndup(text, length);
    json_writer_free(&writer);
    return copy;
}

/* rm -r of a directory we made (no symlinks are followed). */
static void remove_tree_at(int parent, const char *name)
{
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *directory;
    struct dirent *entry;

    if (fd < 0) {
        unlinkat(parent, name, 0);
        return;
    }
    directory = fdopendir(fd);
    if (!directory) {
        close(fd);
        return;
    }
    while ((entry = readdir(directory))) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        if (entry->d_type == DT_DIR)
            remove_tree_at(dirfd(directory), entry->d_name);
        else
            unlinkat(dirfd(directory), entry->d_name, 0);
    }
    closedir(directory);
    unlinkat(parent, name, AT_REMOVEDIR);
}

static void remove_tree(const char *path)
{
    remove_tree_at(AT_FDCWD, path);
}

/* Docker's RAMInBytes: "10m", "1.5g", "512k", "100" (binary units). */
static int parse_ram_bytes(const char *text, int64_t *out, struct berr *err)
{
    static const char units[] = "kmgtp";
    char *end;
    double value = strtod(text, &end);
    const char *unit;
    double factor = 1;

    if (end == text || value < 0)
        return berr_set(err, BERR_INVALID, "invalid size: '%s'", text);
    while (*end == ' ')
        end++;
    if (*end && (unit = strchr(units, tolower((unsigned char)*end)))) {
        for (long i = 0; i <= unit - units; i++)
            factor *= 1024;
        end++;
        if (*end == 'i' || *end == 'I')
            end++;
    }
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end)
        return berr_set(err, BERR_INVALID, "invalid size: '%s'", text);
    *out = (int64_t)(value * factor);
    return 0;
}

/* ---- ids and names ---- */

void container_id_generate(char out[CONTAINER_ID_LENGTH + 1])
{
    unsigned char bytes[CONTAINER_ID_LENGTH / 2];
    size_t got = 0;

    while (got < sizeof(bytes)) {
        ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof(bytes); i++)
        sprintf(out + 2 * i, "%02x", bytes[i]);
    /* An id that is all digits would read as a number to some tools (and
     * Docker avoids it too): make the first digit a letter. */
    if (strspn(out, "0123456789") == CONTAINER_ID_LENGTH)
        out[0] = 'a';
}

int container_name_check(const char *name, struct berr *err)
{
    const char *cursor = name;

    if (*cursor == '/')
        cursor++;
    if (strlen(cursor) < 2 || !isalnum((unsigned char)cursor[0]))
        goto invalid;
    for (cursor++; *cursor; cursor++)
        if (!isalnum((unsigned char)*cursor) && !strchr("_.-", *cursor))
            goto invalid;
    return 0;
invalid:
    return berr_set(err, BERR_INVALID,
                    "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                    name);
}

/* ---- settings ---- */

static void free_settings(struct container_settings *settings)
{
    if (!settings)
        return;
    yajl_tree_free(settings->config);
    yajl_tree_free(settings->host_config);
    free(settings);
}

void container_settings_put(struct container_settings *settings)
{
    if (settings && __atomic_sub_fetch(&settings->references, 1, __ATOMIC_ACQ_REL) == 0)
        free_settings(settings);
}

void container_settings_hold(struct container_settings *settings)
{
    __atomic_add_fetch(&settings->references, 1, __ATOMIC_ACQ_REL);
}

struct container_settings *container_settings_get(struct container *container)
{
    struct container_settings *settings;

    pthread_mutex_lock(&container->lock);
    settings = container->settings;
    container_settings_hold(settings);
    pthread_mutex_unlock(&container->lock);
    return settings;
}

void container_settings_replace(struct container *container, struct container_settings *settings)
{
    container_settings_hold(settings);
    container_settings_put(container->settings);
    container->settings = settings;
}

static int parse_restart_policy(struct container_settings *settings, struct berr *err)
{
    yajl_val policy = json_get(settings->host_config, "RestartPolicy");
    const char *name = "";
    int64_t retries = 0;
    int rc;

    if ((rc = json_get_string(policy, "Name", &name, err)) ||
        (rc = json_get_int64(policy, "MaximumRetryCount", &retries, err)))
        return berr_prefix(err, "RestartPolicy");
    if (!*name || strcmp(name, "no") == 0)
        settings->restart_policy = RESTART_NO;
    else if (strcmp(name, "always") == 0)
        settings->restart_policy = RESTART_ALWAYS;
    else if (strcmp(name, "on-failure") == 0)
        settings->restart_policy = RESTART_ON_FAILURE;
    else if (strcmp(name, "unless-stopped") == 0)
        settings->restart_policy = RESTART_UNLESS_STOPPED;
    else
        return berr_set(err, BERR_INVALID, "invalid restart policy '%s'", name);
    if (retries < 0)
        return berr_set(err, BERR_INVALID, "invalid value %lld for MaximumRetryCount",
                        (long long)retries);
    if (retries && settings->restart_policy != RESTART_ON_FAILURE)
        return berr_set(err, BERR_INVALID,
                        "invalid restart policy: maximum retry count can only be used with "
                        "'on-failure'");
    settings->restart_max_retries = (int)retries;
    return 0;
}

static int parse_log_config(struct container_settings *settings, struct berr *err)
{
    yajl_val log_config = json_get(settings->host_config, "LogConfig");
    yajl_val options = json_get(log_config, "Config");
    const char *max_size = NULL, *max_file = NULL;
    int rc;

    settings->log_driver = "json-file";
    if ((rc = json_get_string(log_config, "Type", &settings->log_driver, err)))
        return berr_prefix(err, "LogConfig");
    if (!*settings->log_driver)
        settings->log_driver = "json-file";
    if (strcmp(settings->log_driver, "json-file") != 0 && strcmp(settings->log_driver, "none") != 0)
        return berr_set(err, BERR_INVALID,
                        "logging driver \"%s\" is not supported (berth has json-file and none)",
                        settings->log_driver);
    if ((rc = json_get_string(options, "max-size", &max_size, err)) ||
        (rc = json_get_string(options, "max-file", &max_file, err)))
        return berr_prefix(err, "LogConfig.Config");
    settings->log_max_files = 1;
    if (max_size && strcmp(max_size, "-1") != 0 &&
        (rc = parse_ram_bytes(max_size, &settings->log_max_size, err)))
        return berr_prefix(err, "log-opt max-size");
    if (max_file) {
        char *end;
        long files = strtol(max_file, &end, 10);
        if (end == max_file || *end || files < 1)
            return berr_set(err, BERR_INVALID, "invalid value for max-file: %s", max_file);
        if (!settings->log_max_size && files > 1)
            return berr_set(err, BERR_INVALID, "max-file cannot be set without max-size");
        settings->log_max_files = (int)files;
    }
    return 0;
}

static int derive_settings(struct container_settings *settings, struct berr *err)
{
    yajl_val config = settings->config, host = settings->host_config;
    const char *stop_signal = NULL;
    int64_t stop_timeout = 10;
    int rc;

    settings->image = "";
    settings->stop_signal = SIGTERM;
    settings->network_mode = "default";
    if ((rc = json_get_string(config, "Image", &settings->image, err)) ||
        (rc = json_get_bool(config, "Tty", &settings->tty, err)) ||
        (rc = json_get_bool(config, "OpenStdin", &settings->open_stdin, err)) ||
        (rc = json_get_bool(config, "StdinOnce", &settings->stdin_once, err)) ||
        (rc = json_get_string(config, "StopSignal", &stop_signal, err)) ||
        (rc = json_get_int64(config, "StopTimeout", &stop_timeout, err)) ||
        (rc = json_get_bool(host, "AutoRemove", &settings->auto_remove, err)) ||
        (rc = json_get_string(host, "NetworkMode", &settings->network_mode, err)))
        return rc;
    if (stop_signal && *stop_signal &&
        (rc = signal_parse(stop_signal, &settings->stop_signal, err)))
        return rc;
    settings->stop_timeout = stop_timeout < 0 ? -1 : (int)stop_timeout;
    if (!*settings->network_mode)
        settings->network_mode = "default";
    settings->host_network = strcmp(settings->network_mode, "host") == 0;
    settings->labels = json_get(config, "Labels");
    if (settings->labels && !YAJL_IS_OBJECT(settings->labels))
        settings->labels = NULL;
    settings->healthcheck = json_get(config, "Healthcheck");
    if (settings->healthcheck && !YAJL_IS_OBJECT(settings->healthcheck))
        settings->healthcheck = NULL;
    if ((rc = parse_restart_policy(settings, err)) || (rc = parse_log_config(settings, err)))
        return rc;
    if (settings->auto_remove && settings->restart_policy != RESTART_NO)
        return berr_set(err, BERR_INVALID,
                        "can't create 'AutoRemove' container with restart policy");
    return 0;
}

int container_settings_make(const char *config, const char *host_config,
                            struct container_settings **out, struct berr *err)
{
    struct container_settings *settings = calloc(1, sizeof(*settings));
    int rc;

    if (!settings)
        return berr_set(err, BERR_NOMEM, "out of memory");
    settings->references = 1;
    if ((rc = json_parse(config, &settings->config, err)) ||
        (rc = json_parse(host_config, &settings->host_config, err)) ||
        (rc = derive_settings(settings, err))) {
        free_settings(settings);
        return rc;
    }
    *out = settings;
    return 0;
}

/* ---- container objects ---- */

static void free_container(struct container *container)
{
    free(container->dir);
    free(container->image_id);
    free(container->path);
    json_free_string_array(container->args);
    free(container->log_path);
    free(container->hosts_path);
    free(container->hostname_path);
    free(container->resolv_conf_path);
    free(container->snapshot_key);
    free(container->name);
    free(container->state.error);
    free(container->state.health);
    container_settings_put(container->settings);
    pthread_mutex_destroy(&container->operation);
    pthread_mutex_destroy(&container->lock);
    pthread_cond_destroy(&container->changed);
    free(container);
}

void container_hold(struct container *container)
{
    __atomic_add_fetch(&container->references, 1, __ATOMIC_ACQ_REL);
}

void container_put(struct container *container)
{
    if (container && __atomic_sub_fetch(&container->references, 1, __ATOMIC_ACQ_REL) == 0)
        free_container(container);
}

static struct container *new_container(void)
{
    struct container *container = calloc(1, sizeof(*container));
    pthread_condattr_t attributes;

    if (!container)
        return NULL;
    container->references = 1;
    pthread_mutex_init(&container->operation, NULL);
    pthread_mutex_init(&container->lock, NULL);
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&container->changed, &attributes);
    pthread_condattr_destroy(&attributes);
    return container;
}

/* The per-container file paths under dir. */
static int set_paths(struct container *container, bool with_log)
{
    char log_name[CONTAINER_ID_LENGTH + 16];

    snprintf(log_name, sizeof(log_name), "%s-json.log", container->id);
    free(container->log_path);
    container->log_path = with_log ? join(container->dir, log_name) : NULL;
    container->hosts_path = join(container->dir, "hosts");
    container->hostname_path = join(container->dir, "hostname");
    container->resolv_conf_path = join(container->dir, "resolv.conf");
    if ((with_log && !container->log_path) || !container->hosts_path || !container->hostname_path ||
        !container->resolv_conf_path)
        return -1;
    return 0;
}

/* ---- status ---- */

const char *container_status(const struct container *container)
{
    const struct container_state *state = &container->state;

    if (state->running) {
        if (state->paused)
            return "paused";
        if (state->restarting)
            return "restarting";
        return "running";
    }
    if (state->removing)
        return "removing";
    if (state->dead)
        return "dead";
    if (!state->started_at)
        return "created";
    return "exited";
}

/* " (healthy)", " (health: starting)" or "" from State.Health. */
static void health_suffix(const char *health, char *out, size_t size)
{
    yajl_val tree = NULL;
    const char *status = NULL;

    out[0] = '\0';
    if (!health || json_parse(health, &tree, NULL))
        return;
    json_get_string(tree, "Status", &status, NULL);
    if (status && strcmp(status, "starting") == 0)
        snprintf(out, size, " (health: starting)");
    else if (status && *status && strcmp(status, "none") != 0)
        snprintf(out, size, " (%s)", status);
    yajl_tree_free(tree);
}

void container_status_text(const struct container *container, int64_t now, char *out, size_t size)
{
    const struct container_state *state = &container->state;
    char since[64], health[64];

    if (state->running) {
        if (state->restarting) {
            timefmt_human_duration(now - state->finished_at, since, sizeof(since));
            snprintf(out, size, "Restarting (%d) %s ago", state->exit_code, since);
            return;
        }
        timefmt_human_duration(now - state->started_at, since, sizeof(since));
        if (state->paused) {
            snprintf(out, size, "Up %s (Paused)", since);
            return;
        }
        health_suffix(state->health, health, sizeof(health));
        snprintf(out, size, "Up %s%s", since, health);
    } else if (state->removing) {
        snprintf(out, size, "Removal In Progress");
    } else if (state->dead) {
        snprintf(out, size, "Dead");
    } else if (!state->started_at) {
        snprintf(out, size, "Created");
    } else if (!state->finished_at) {
        out[0] = '\0';
    } else {
        timefmt_human_duration(now - state->finished_at, since, sizeof(since));
        snprintf(out, size, "Exited (%d) %s ago", state->exit_code, since);
    }
}

void container_state_json(const struct container *container, struct json_writer *writer)
{
    const struct container_state *state = &container->state;
    char time_text[TIMEFMT_SIZE];
    yajl_val health = NULL;

    json_object_begin(writer);
    json_kv_string(writer, "Status", container_status(container));
    json_kv_bool(writer, "Running", state->running);
    json_kv_bool(writer, "Paused", state->paused);
    json_kv_bool(writer, "Restarting", state->restarting);
    json_kv_bool(writer, "OOMKilled", state->oom_killed);
    json_kv_bool(writer, "Dead", state->dead);
    json_kv_int(writer, "Pid", state->pid);
    json_kv_int(writer, "ExitCode", state->exit_code);
    json_kv_string(writer, "Error", state->error ? state->error : "");
    json_kv_string(writer, "StartedAt", timefmt_rfc3339(state->started_at, time_text));
    json_kv_string(writer, "FinishedAt", timefmt_rfc3339(state->finished_at, time_text));
    if (state->health && json_parse(state->health, &health, NULL) == 0) {
        json_key(writer, "Health");
        json_value(writer, health);
        yajl_tree_free(health);
    }
    json_object_end(writer);
}

/* ---- events ---- */

void container_event(struct engine_events *events, struct container *container, const char *action,
                     const char *const *extra)
{
    struct container_settings *settings;
    size_t labels = 0, extras = 0, n = 0, i;
    const char **attributes;
    char *name;

    pthread_mutex_lock(&container->lock);
    settings = container->settings;
    container_settings_hold(settings);
    name = strdup(container->name[0] == '/' ? container->name + 1 : container->name);
    pthread_mutex_unlock(&container->lock);
    if (settings->labels)
        labels = settings->labels->u.object.len;
    while (extra && extra[2 * extras])
        extras++;
    attributes = calloc(2 * (labels + extras + 2) + 1, sizeof(*attributes));
    if (attributes && name) {
        for (i = 0; i < labels; i++) {
            yajl_val value = settings->labels->u.object.values[i];
            if (!YAJL_IS_STRING(value))
                continue;
            attributes[n++] = settings->labels->u.object.keys[i];
            attributes[n++] = value->u.string;
        }
        attributes[n++] = "image";
        attributes[n++] = settings->image;
        attributes[n++] = "name";
        attributes[n++] = name;
        for (i = 0; i < 2 * extras; i++)
            attributes[n++] = extra[i];
        engine_events_publish(events, "container", action, container->id, attributes);
    }
    free(attributes);
    free(name);
    container_settings_put(settings);
}

/* ---- the record ---- */

static void write_strings(struct json_writer *writer, const char *key, char *const *strings)
{
    json_key(writer, key);
    json_array_begin(writer);
    for (size_t i = 0; strings && strings[i]; i++)
        json_string(writer, strings[i]);
    json_array_end(writer);
}

static void write_record(const struct container *container, struct json_writer *writer)
{
    char time_text[TIMEFMT_SIZE];

    json_object_begin(writer);
    json_kv_string(writer, "ID", container->id);
    json_kv_string(writer, "Created", timefmt_rfc3339(container->created, time_text));
    json_kv_string(writer, "Path", container->path);
    write_strings(writer, "Args", container->args);
    json_key(writer, "Config");
    json_value(writer, container->settings->config);
    json_key(writer, "HostConfig");
    json_value(writer, container->settings->host_config);
    json_key(writer, "State");
    container_state_json(container, writer);
    json_kv_string(writer, "Image", container->image_id);
    json_kv_string(writer, "Name", container->name);
    json_kv_int(writer, "RestartCount", container->restart_count);
    json_kv_bool(writer, "HasBeenStartedBefore", container->has_been_started_before);
    json_kv_bool(writer, "HasBeenManuallyStopped", container->manually_stopped);
    json_kv_string(writer, "Driver", "overlay2");
    json_kv_string(writer, "Platform", "linux");
    json_kv_string(writer, "LogPath", container->log_path ? container->log_path : "");
    json_kv_string(writer, "SnapshotKey", container->snapshot_key);
    json_object_end(writer);
}

int container_save(struct container *container, struct berr *err)
{
    struct json_writer writer;
    const char *text;
    size_t length;
    char *path;
    int rc;

    if (container->hidden || container->removed)
        return 0;
    if ((rc = json_writer_init(&writer, false, err)))
        return rc;
    write_record(container, &writer);
    path = join(container->dir, RECORD_NAME);
    if (!path)
        rc = berr_set(err, BERR_NOMEM, "out of memory");
    else if ((rc = json_writer_result(&writer, &text, &length, err)) == 0)
        rc = atomic_write_file(path, text, length, 0600, err);
    free(path);
    json_writer_free(&writer);
    return rc;
}

void container_save_or_log(struct container *container)
{
    struct berr err;

    if (container_save(container, &err))
        log_error("container %.12s: cannot save its record: %s", container->id, err.message);
}

static int load_state(struct container *container, yajl_val state, struct berr *err)
{
    struct container_state *out = &container->state;
    const char *error = NULL, *started = NULL, *finished = NULL;
    int64_t pid = 0, exit_code = 0;
    yajl_val health;
    int rc;

    if ((rc = json_get_bool(state, "Running", &out->running, err)) ||
        (rc = json_get_bool(state, "Paused", &out->paused, err)) ||
        (rc = json_get_bool(state, "Restarting", &out->restarting, err)) ||
        (rc = json_get_bool(state, "OOMKilled", &out->oom_killed, err)) ||
        (rc = json_get_bool(state, "Dead", &out->dead, err)) ||
        (rc = json_get_int64(state, "Pid", &pid, err)) ||
        (rc = json_get_int64(state, "ExitCode", &exit_code, err)) ||
        (rc = json_get_string(state, "Error", &error, err)) ||
        (rc = json_get_string(state, "StartedAt", &started, err)) ||
        (rc = json_get_string(state, "FinishedAt", &finished, err)) ||
        (rc = timefmt_parse_rfc3339(started, &out->started_at, err)) ||
        (rc = timefmt_parse_rfc3339(finished, &out->finished_at, err)))
        return berr_prefix(err, "State");
    out->pid = (uint32_t)pid;
    out->exit_code = (int)exit_code;
    if (error && *error)
        out->error = strdup(error);
    health = json_get(state, "Health");
    if (health && YAJL_IS_OBJECT(health))
        out->health = tree_text(health);
    return 0;
}

static int load_fields(struct container *container, yajl_val record, struct berr *err)
{
    const char *id = NULL, *created = NULL, *path = "", *image = "", *name = NULL, *log_path = "",
               *snapshot_key = NULL;
    int64_t restart_count = 0;
    char *config, *host_config;
    int rc;

    if ((rc = json_get_string(record, "ID", &id, err)) ||
        (rc = json_get_string(record, "Created", &created, err)) ||
        (rc = json_get_string(record, "Path", &path, err)) ||
        (rc = json_get_string_array(record, "Args", &container->args, NULL, err)) ||
        (rc = json_get_string(record, "Image", &image, err)) ||
        (rc = json_get_string(record, "Name", &name, err)) ||
        (rc = json_get_int64(record, "RestartCount", &restart_count, err)) ||
        (rc = json_get_bool(record, "HasBeenStartedBefore", &container->has_been_started_before,
                            err)) ||
        (rc = json_get_bool(record, "HasBeenManuallyStopped", &container->manually_stopped, err)) ||
        (rc = json_get_string(record, "LogPath", &log_path, err)) ||
        (rc = json_get_string(record, "SnapshotKey", &snapshot_key, err)) ||
        (rc = timefmt_parse_rfc3339(created, &container->created, err)))
        return rc;
    if (!id || strcmp(id, container->id) != 0 || !name)
        return berr_set(err, BERR_INVALID, "the record names another container, or none");
    container->path = strdup(path);
    container->image_id = strdup(image);
    container->name = strdup(name);
    container->snapshot_key = strdup(snapshot_key ? snapshot_key : container->id);
    container->restart_count = (int)restart_count;
    if (!container->args)
        container->args = calloc(1, sizeof(char *));
    config = tree_text(json_get(record, "Config"));
    host_config = tree_text(json_get(record, "HostConfig"));
    rc = config && host_config
             ? container_settings_make(config, host_config, &container->settings, err)
             : berr_set(err, BERR_NOMEM, "out of memory");
    free(config);
    free(host_config);
    if (rc)
        return rc;
    if (!container->path || !container->image_id || !container->name || !container->args ||
        !container->snapshot_key || set_paths(container, *log_path != '\0'))
        return berr_set(err, BERR_NOMEM, "out of memory");
    return load_state(container, json_get(record, "State"), err);
}

static int load_one(struct container_store *store, const char *id, struct container **out,
                    struct berr *err)
{
    struct container *container = new_container();
    yajl_val record = NULL;
    char *path = NULL;
    int rc;

    if (!container)
        return berr_set(err, BERR_NOMEM, "out of memory");
    snprintf(container->id, sizeof(container->id), "%s", id);
    container->dir = join(store->directory, id);
    path = container->dir ? join(container->dir, RECORD_NAME) : NULL;
    if (!path)
        rc = berr_set(err, BERR_NOMEM, "out of memory");
    else if ((rc = json_parse_file(path, RECORD_MAX, &record, err)) == 0)
        rc = load_fields(container, record, err);
    yajl_tree_free(record);
    free(path);
    if (rc) {
        container_put(container);
        return rc;
    }
    *out = container;
    return 0;
}

/* ---- the index ---- */

static int append(struct container_store *store, struct container *container, struct berr *err)
{
    if (store->count == store->capacity) {
        size_t capacity = store->capacity ? 2 * store->capacity : 64;
        struct container **items = realloc(store->items, capacity * sizeof(*items));
        if (!items)
            return berr_set(err, BERR_NOMEM, "out of memory");
        store->items = items;
        store->capacity = capacity;
    }
    store->items[store->count++] = container;
    return 0;
}

static bool is_record_id(const char *name)
{
    return strlen(name) == CONTAINER_ID_LENGTH &&
           strspn(name, "0123456789abcdef") == CONTAINER_ID_LENGTH;
}

static void load_all(struct container_store *store)
{
    DIR *directory = opendir(store->directory);
    struct dirent *entry;

    if (!directory)
        return;
    while ((entry = readdir(directory))) {
        struct container *container = NULL;
        struct berr err;
        char record[PATH_MAX];
        if (!is_record_id(entry->d_name))
            continue;
        snprintf(record, sizeof(record), "%s/%s/%s", store->directory, entry->d_name, RECORD_NAME);
        if (access(record, F_OK) != 0) {
            /* A create the engine died in: nothing refers to it. */
            log_info("container %.12s: removing an unfinished create", entry->d_name);
            snprintf(record, sizeof(record), "%s/%s", store->directory, entry->d_name);
            remove_tree(record);
            continue;
        }
        if (load_one(store, entry->d_name, &container, &err)) {
            log_error("container %.12s: cannot load %s: %s (skipped)", entry->d_name, record,
                      err.message);
            continue;
        }
        if (append(store, container, &err)) {
            container_put(container);
            break;
        }
    }
    closedir(directory);
}

int container_store_open(const char *root, struct container_store **out, struct berr *err)
{
    struct container_store *store = calloc(1, sizeof(*store));

    if (!store)
        return berr_set(err, BERR_NOMEM, "out of memory");
    pthread_mutex_init(&store->lock, NULL);
    store->directory = join(root, "containers");
    if (!store->directory) {
        container_store_close(store);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    if (mkdir(store->directory, 0700) < 0 && errno != EEXIST) {
        int rc = berr_errno(err, errno, "mkdir %s", store->directory);
        container_store_close(store);
        return rc;
    }
    load_all(store);
    log_info("%zu containers loaded from %s", store->count, store->directory);
    *out = store;
    return 0;
}

void container_store_close(struct container_store *store)
{
    if (!store)
        return;
    for (size_t i = 0; i < store->count; i++)
        container_put(store->items[i]);
    free(store->items);
    free(store->directory);
    pthread_mutex_destroy(&store->lock);
    free(store);
}

/* The container named name ("/x" or "x"), hidden ones included. Store lock held. */
static struct container *find_name(struct container_store *store, const char *name)
{
    if (*name == '/')
        name++;
    for (size_t i = 0; i < store->count; i++) {
        const char *other = store->items[i]->name;
        if (strcmp(other[0] == '/' ? other + 1 : other, name) == 0)
            return store->items[i];
    }
    return NULL;
}

static int name_conflict(struct container *holder, const char *name, struct berr *err)
{
    return berr_set(err, BERR_EXISTS,
                    "Conflict. The container name \"/%s\" is already in use by container "
                    "\"%s\". You have to remove (or rename) that container to be able to reuse "
                    "that name.",
                    *name == '/' ? name + 1 : name, holder->id);
}

/* Picks a name: the one asked for (checked), or a generated one. */
static int choose_name(struct container_store *store, const char *wanted, char **out,
                       struct berr *err)
{
    char generated[128];
    struct container *holder;
    int rc;

    if (wanted && *wanted) {
        if ((rc = container_name_check(wanted, err)))
            return rc;
        if ((holder = find_name(store, wanted)))
            return name_conflict(holder, wanted, err);
        if (asprintf(out, "/%s", *wanted == '/' ? wanted + 1 : wanted) < 0)
            return berr_set(err, BERR_NOMEM, "out of memory");
        return 0;
    }
    for (int attempt = 0; attempt < NAME_TRIES; attempt++) {
        names_generate(generated, sizeof(generated), attempt / (NAME_TRIES / 2));
        if (!find_name(store, generated)) {
            if (asprintf(out, "/%s", generated) < 0)
                return berr_set(err, BERR_NOMEM, "out of memory");
            return 0;
        }
    }
    return berr_set(err, BERR_EXISTS, "no free container name found; give one");
}

static int fill_new(struct container_store *store, struct container *container,
                    const struct container_new *spec, struct berr *err)
{
    snprintf(container->id, sizeof(container->id), "%s", spec->id);
    container->created = docker_time_now();
    container->dir = join(store->directory, spec->id);
    container->image_id = strdup(spec->image_id);
    container->path = strdup(spec->path ? spec->path : "");
    container->args = copy_strings(spec->args);
    container->snapshot_key = strdup(spec->id);
    container->settings = spec->settings;
    container_settings_hold(spec->settings);
    container->hidden = true;
    if (!container->dir || !container->image_id || !container->path || !container->args ||
        !container->snapshot_key ||
        set_paths(container, strcmp(spec->settings->log_driver, "none") != 0))
        return berr_set(err, BERR_NOMEM, "out of memory");
    if (mkdir(container->dir, 0700) < 0)
        return berr_errno(err, errno, "mkdir %s", container->dir);
    return 0;
}

int container_store_add(struct container_store *store, const struct container_new *spec,
                        struct container **out, struct berr *err)
{
    struct container *container = new_container();
    int rc;

    if (!container)
        return berr_set(err, BERR_NOMEM, "out of memory");
    pthread_mutex_lock(&store->lock);
    rc = choose_name(store, spec->name, &container->name, err);
    if (rc == 0 && (rc = fill_new(store, container, spec, err)) == 0 &&
        (rc = append(store, container, err)) != 0)
        remove_tree(container->dir);
    pthread_mutex_unlock(&store->lock);
    if (rc) {
        container_put(container);
        return rc;
    }
    container_hold(container); /* the caller's; the store keeps the first */
    *out = container;
    return 0;
}

int container_store_publish(struct container_store *store, struct container *container,
                            struct berr *err)
{
    int rc;

    pthread_mutex_lock(&store->lock);
    pthread_mutex_lock(&container->lock);
    container->hidden = false;
    if ((rc = container_save(container, err)))
        container->hidden = true;
    pthread_mutex_unlock(&container->lock);
    pthread_mutex_unlock(&store->lock);
    return rc;
}

int container_store_get(struct container_store *store, const char *ref, struct container **out,
                        struct berr *err)
{
    struct container *found = NULL;
    size_t length = ref ? strlen(ref) : 0, i;
    bool ambiguous = false;

    if (!length)
        return berr_set(err, BERR_NOT_FOUND, "No such container: %s", ref ? ref : "");
    pthread_mutex_lock(&store->lock);
    for (i = 0; i < store->count && !found; i++)
        if (!store->items[i]->hidden && strcmp(store->items[i]->id, ref) == 0)
            found = store->items[i];
    if (!found && (found = find_name(store, ref)) && found->hidden)
        found = NULL;
    for (i = 0; i < store->count && !found && !ambiguous; i++) {
        struct container *candidate = store->items[i];
        if (candidate->hidden || strncmp(candidate->id, ref, length) != 0)
            continue;
        for (size_t j = i + 1; j < store->count; j++)
            if (!store->items[j]->hidden && strncmp(store->items[j]->id, ref, length) == 0)
                ambiguous = true;
        if (!ambiguous)
            found = candidate;
    }
    if (found)
        container_hold(found);
    pthread_mutex_unlock(&store->lock);
    if (ambiguous)
        return berr_set(err, BERR_INVALID, "multiple IDs found with provided prefix: %s", ref);
    if (!found)
        return berr_set(err, BERR_NOT_FOUND, "No such container: %s", ref);
    *out = found;
    return 0;
}

static int newest_first(const void *a, const void *b)
{
    const struct container *x = *(struct container *const *)a;
    const struct container *y = *(struct container *const *)b;

    if (x->created != y->created)
        return x->created > y->created ? -1 : 1;
    return strcmp(x->id, y->id);
}

int container_store_list(struct container_store *store, struct container ***out, size_t *count,
                         struct berr *err)
{
    struct container **items;
    size_t n = 0;

    pthread_mutex_lock(&store->lock);
    items = calloc(store->count ? store->count : 1, sizeof(*items));
    if (!items) {
        pthread_mutex_unlock(&store->lock);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < store->count; i++) {
        if (store->items[i]->hidden)
            continue;
        container_hold(store->items[i]);
        items[n++] = store->items[i];
    }
    pthread_mutex_unlock(&store->lock);
    qsort(items, n, sizeof(*items), newest_first);
    *out = items;
    *count = n;
    return 0;
}

void container_list_free(struct container **containers, size_t count)
{
    for (size_t i = 0; i < count; i++)
        container_put(containers[i]);
    free(containers);
}

int container_store_rename(struct container_store *store, struct container *container,
                           const char *name, struct berr *err)
{
    struct container *holder;
    char *new_name = NULL, *old_name;
    int rc;

    if ((rc = container_name_check(name, err)))
        return rc;
    if (asprintf(&new_name, "/%s", *name == '/' ? name + 1 : name) < 0)
        return berr_set(err, BERR_NOMEM, "out of memory");
    pthread_mutex_lock(&store->lock);
    holder = find_name(store, new_name);
    if (holder == container) {
        rc = berr_set(err, BERR_INVALID,
                      "Renaming a container with the same name as its current name");
    } else if (holder) {
        rc = name_conflict(holder, new_name, err);
    } else {
        pthread_mutex_lock(&container->lock);
        old_name = container->name;
        container->name = new_name;
        new_name = NULL;
        if ((rc = container_save(container, err))) {
            new_name = container->name;
            container->name = old_name;
        } else {
            free(old_name);
        }
        pthread_mutex_unlock(&container->lock);
    }
    pthread_mutex_unlock(&store->lock);
    free(new_name);
    return rc;
}

int container_store_remove(struct container_store *store, struct container *container,
                           struct berr *err)
{
    bool found = false;

    (void)err;
    pthread_mutex_lock(&store->lock);
    for (size_t i = 0; i < store->count; i++) {
        if (store->items[i] == container) {
            store->items[i] = store->items[--store->count];
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&store->lock);
    pthread_mutex_lock(&container->lock);
    container->removed = true;
    container->state.removing = false;
    pthread_cond_broadcast(&container->changed);
    pthread_mutex_unlock(&container->lock);
    remove_tree(container->dir);
    if (found)
        container_put(container); /* the store's reference */
    return 0;
}
