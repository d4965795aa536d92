/*
 * containers: see containers.h. Every operation takes the container's
 * `operation` lock for its whole length and its state `lock` only to read
 * or change fields; supervisor calls happen outside the state lock (start
 * marks `starting` so that the monitor waits for the outcome before it
 * handles an exit).
 */
#include "containers.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container_config.h"
#include "engine.h"
#include "exec_store.h"
#include "image_store.h"
#include "log.h"
#include "monitor.h"
#include "rootfs.h"
#include "sandbox.h"
#include "spec.h"
#include "supervisor_api.h"
#include "timefmt.h"

/* How long kill, stop's SIGKILL and rm -f wait for the exit. */
#define KILL_WAIT_MS 10000
/* How long a start waits for the clients attaching before it. */
#define ATTACH_WINDOW_MS 5000
/* The image's user database is small; refuse to read more. */
#define USER_FILE_MAX (1u << 20)
/* The supervisor container's label with the Docker name (/system/df shows it). */
#define CONTAINER_NAME_LABEL "berth.engine/name"

/* ---- small helpers ---- */

static const char *short_id(const struct container *container)
{
    static __thread char buffer[CONTAINER_SHORT_ID + 1];

    snprintf(buffer, sizeof(buffer), "%s", container->id);
    return buffer;
}

/* Docker's exit codes for a process that never ran. */
static int start_failure_code(const char *message)
{
    if (strstr(message, "executable file not found") || strstr(message, "no such file"))
        return 127;
    if (strstr(message, "permission denied") || strstr(message, "Permission denied"))
        return 126;
    return 128;
}

static void event_signal(struct engine *engine, struct container *container, int signal)
{
    char number[16];
    const char *extra[] = {"signal", number, NULL};

    snprintf(number, sizeof(number), "%d", signal);
    container_event(engine->events, container, "kill", extra);
}

/* Signals the init (or every process); the process may have gone already. */
static int send_signal(struct engine *engine, struct container *container, int signal, bool all,
                       bool resume, struct berr *err)
{
    int rc;

    event_signal(engine, container, signal);
    rc = sv_task_kill(engine->supervisor, container->id, signal, all, err);
    if (rc == BERR_NOT_FOUND || rc == BERR_CONFLICT)
        rc = 0; /* it exited meanwhile: the monitor has or will have the exit */
    /* A frozen process takes its signal once thawed. */
    if (rc == 0 && resume) {
        struct berr ignored;
        sv_task_resume(engine->supervisor, container->id, &ignored);
    }
    return rc;
}

int containers_layers(struct engine *engine, struct container *container, char ***layers,
                      struct berr *err)
{
    Berth__Supervisor__V1__MountsResponse *mounts = NULL;
    int rc;

    if ((rc = sv_snapshot_mounts(engine->supervisor, container->snapshot_key, &mounts, err)))
        return rc;
    rc = rootfs_layers(mounts, layers, err);
    berth__supervisor__v1__mounts_response__free_unpacked(mounts, NULL);
    return rc;
}

void containers_read_user_files(struct engine *engine, struct container *container, char **passwd,
                                char **group)
{
    char **layers = NULL;
    struct berr err;

    *passwd = *group = NULL;
    if (containers_layers(engine, container, &layers, &err)) {
        log_warn("container %s: cannot read its user database: %s", short_id(container),
                 err.message);
        return;
    }
    rootfs_read_file(layers, "/etc/passwd", USER_FILE_MAX, passwd, &err);
    rootfs_read_file(layers, "/etc/group", USER_FILE_MAX, group, &err);
    json_free_string_array(layers);
}

/* The spec; with_users: look the user up in the image (at start; at
 * create the snapshot does not exist yet and names fall back to root). */
static int make_spec(struct engine *engine, struct container *container,
                     const struct container_settings *settings, bool with_users, char **spec,
                     size_t *length, struct berr *err)
{
    struct spec_input input = {0};
    char *passwd = NULL, *group = NULL, *netns = NULL;
    int rc;

    if (with_users)
        containers_read_user_files(engine, container, &passwd, &group);
    if (!settings->host_network && !(netns = sandbox_netns_path(engine->state, container->id))) {
        free(passwd);
        free(group);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    input.id = container->id;
    input.settings = settings;
    input.passwd = passwd;
    input.group = group;
    input.strict_user = with_users;
    input.hosts_path = container->hosts_path;
    input.hostname_path = container->hostname_path;
    input.resolv_conf_path = container->resolv_conf_path;
    input.netns_path = netns;
    input.init_path = engine->init_path;
    rc = spec_build(&input, spec, length, err);
    free(passwd);
    free(group);
    free(netns);
    return rc;
}

static void task_io(const struct container *container, const struct container_settings *settings,
                    struct sv_task_io *io)
{
    yajl_val size = json_get(settings->host_config, "ConsoleSize");

    memset(io, 0, sizeof(*io));
    io->terminal = settings->tty;
    io->stdin = settings->open_stdin;
    io->log_path = container->log_path;
    io->log_max_size = settings->log_max_size;
    io->log_max_files = settings->log_max_files;
    if (YAJL_IS_ARRAY(size) && size->u.array.len == 2 && YAJL_IS_INTEGER(size->u.array.values[0]) &&
        YAJL_IS_INTEGER(size->u.array.values[1])) {
        io->console_height = (uint32_t)YAJL_GET_INTEGER(size->u.array.values[0]);
        io->console_width = (uint32_t)YAJL_GET_INTEGER(size->u.array.values[1]);
    }
}

/* ---- start ---- */

/* Between Tasks.Create and Tasks.Start: clients waiting to attach
 * (container_store.h, attach_window) attach now, before anything runs. */
static void let_attachers_in(struct container *container)
{
    struct timespec deadline;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ATTACH_WINDOW_MS / 1000;
    pthread_mutex_lock(&container->lock);
    container->attach_window = true;
    pthread_cond_broadcast(&container->changed);
    while (container->attach_waiters > 0)
        if (pthread_cond_timedwait(&container->changed, &container->lock, &deadline) == ETIMEDOUT) {
            log_warn("container %s: clients attaching before its start took over %d ms",
                     short_id(container), ATTACH_WINDOW_MS);
            break;
        }
    container->attach_window = false;
    pthread_mutex_unlock(&container->lock);
}

/* Everything a start does outside the state lock. */
static int run_task(struct engine *engine, struct container *container,
                    const struct container_settings *settings, uint32_t *pid, struct berr *err)
{
    struct sv_task_io io;
    struct berr ignored;
    char *spec = NULL;
    size_t length = 0;
    int rc;

    if ((!settings->host_network &&
         (rc = sandbox_netns_create(engine->state, container->id, err))) ||
        (rc = sandbox_write_files(container, settings, err)) ||
        (rc = spec_prepare_binds(settings->host_config, err)) ||
        (rc = make_spec(engine, container, settings, true, &spec, &length, err)))
        return rc;
    rc = sv_container_update_spec(engine->supervisor, container->id, spec, length, err);
    free(spec);
    if (rc)
        return berr_prefix(err, "update the supervisor's container");
    task_io(container, settings, &io);
    rc = sv_task_create(engine->supervisor, container->id, &io, pid, err);
    if (rc == BERR_EXISTS || rc == BERR_CONFLICT) {
        /* A task left by a start or an exit the engine did not finish. */
        sv_task_kill(engine->supervisor, container->id, SIGKILL, true, &ignored);
        sv_task_delete(engine->supervisor, container->id, NULL, &ignored);
        rc = sv_task_create(engine->supervisor, container->id, &io, pid, err);
    }
    if (rc)
        return berr_prefix(err, "failed to create task for container");
    let_attachers_in(container);
    if ((rc = sv_task_start(engine->supervisor, container->id, pid, err))) {
        sv_task_kill(engine->supervisor, container->id, SIGKILL, true, &ignored);
        sv_task_delete(engine->supervisor, container->id, NULL, &ignored);
        return berr_prefix(err, "failed to start container");
    }
    return 0;
}

/* The start itself; `operation` held. by_user: `docker start` (resets the
 * restart count and the manual stop), not the restart policy. */
static int start_locked(struct engine *engine, struct container *container, bool by_user,
                        bool *not_modified, struct berr *err)
{
    struct container_settings *settings;
    uint32_t pid = 0;
    int rc;

    if (not_modified)
        *not_modified = false;
    pthread_mutex_lock(&container->lock);
    if (container->removed || container->state.removing || container->state.dead) {
        pthread_mutex_unlock(&container->lock);
        return berr_set(err, BERR_CONFLICT,
                        "container is marked for removal and cannot be started");
    }
    if (container->state.running && !container->state.restarting) {
        pthread_mutex_unlock(&container->lock);
        if (not_modified)
            *not_modified = true;
        return 0;
    }
    if (by_user) {
        monitor_cancel_restart(container);
        container->restart_count = 0;
        container->manually_stopped = false;
        container->restart_delay_ns = 0;
    }
    container->exit_on_next = false;
    container->starting = true;
    settings = container->settings;
    container_settings_hold(settings);
    pthread_mutex_unlock(&container->lock);

    rc = run_task(engine, container, settings, &pid, err);
    container_settings_put(settings);

    pthread_mutex_lock(&container->lock);
    container->starting = false;
    if (rc) {
        free(container->state.error);
        container->state.error = strdup(err->message);
        container->state.exit_code = start_failure_code(err->message);
        container->state.running = container->state.restarting = false;
        container->state.paused = false;
        container->state.pid = 0;
        container->exits++; /* a next-exit waiter (docker run's) ends with the failure */
    } else {
        container->state.running = true;
        container->state.paused = container->state.restarting = false;
        container->state.pid = pid;
        container->state.started_at = docker_time_now();
        container->state.exit_code = 0;
        container->state.oom_killed = false;
        free(container->state.error);
        container->state.error = NULL;
        container->has_been_started_before = true;
    }
    container_save_or_log(container);
    pthread_cond_broadcast(&container->changed);
    pthread_mutex_unlock(&container->lock);
    if (rc == 0)
        container_event(engine->events, container, "start", NULL);
    return rc;
}

static int remove_locked(struct engine *engine, struct container *container, bool force,
                         struct berr *err);

int containers_start(struct engine *engine, struct container *container, bool *not_modified,
                     struct berr *err)
{
    struct berr ignored;
    bool auto_remove;
    int rc;

    pthread_mutex_lock(&container->operation);
    rc = start_locked(engine, container, true, not_modified, err);
    pthread_mutex_lock(&container->lock);
    auto_remove = container->settings->auto_remove && !container->removed;
    pthread_mutex_unlock(&container->lock);
    /* dockerd removes an AutoRemove container whose start failed (docker
     * run --rm waits for that removal). */
    if (rc && auto_remove && remove_locked(engine, container, true, &ignored))
        log_warn("container %s: AutoRemove after a failed start: %s", short_id(container),
                 ignored.message);
    pthread_mutex_unlock(&container->operation);
    return rc;
}

int containers_start_by_policy(struct engine *engine, struct container *container, struct berr *err)
{
    int rc;

    pthread_mutex_lock(&container->operation);
    rc = start_locked(engine, container, false, NULL, err);
    pthread_mutex_unlock(&container->operation);
    return rc;
}

int containers_restart_scheduled(struct engine *engine, struct container *container,
                                 uint64_t ticket, struct berr *err)
{
    bool current;
    int rc = 0;

    pthread_mutex_lock(&container->operation);
    pthread_mutex_lock(&container->lock);
    current =
        container->restart_ticket == ticket && container->state.restarting && !container->removed;
    pthread_mutex_unlock(&container->lock);
    if (current)
        rc = start_locked(engine, container, false, NULL, err);
    pthread_mutex_unlock(&container->operation);
    return rc;
}

/* ---- stop, kill, restart ---- */

static int stop_locked(struct engine *engine, struct container *container, int timeout, int signal,
                       bool *not_modified, struct berr *err)
{
    struct container_settings *settings;
    uint64_t exits;
    bool paused;
    int rc;

    *not_modified = false;
    pthread_mutex_lock(&container->lock);
    if (!container->state.running) {
        pthread_mutex_unlock(&container->lock);
        *not_modified = true;
        return 0;
    }
    container->manually_stopped = true;
    if (container->state.restarting) {
        /* Between two runs: nothing to signal, only the restart to drop. */
        monitor_cancel_restart(container);
        container->state.running = container->state.restarting = false;
        container_save_or_log(container);
        pthread_cond_broadcast(&container->changed);
        pthread_mutex_unlock(&container->lock);
        container_event(engine->events, container, "stop", NULL);
        return 0;
    }
    container->exit_on_next = true;
    container_save_or_log(container);
    exits = container->exits;
    paused = container->state.paused;
    settings = container->settings;
    container_settings_hold(settings);
    pthread_mutex_unlock(&container->lock);

    if (!signal)
        signal = settings->stop_signal;
    if (timeout == CONTAINERS_DEFAULT_TIMEOUT)
        timeout = settings->stop_timeout;
    container_settings_put(settings);
    if ((rc = send_signal(engine, container, signal, false, paused, err)))
        return berr_prefix(err, "cannot stop container: %s", container->id);
    if (!monitor_wait_exit(engine, container, exits, timeout < 0 ? -1 : timeout * 1000)) {
        log_info("container %s: no exit %d s after signal %d, killing it", short_id(container),
                 timeout, signal);
        if ((rc = send_signal(engine, container, SIGKILL, true, false, err)))
            return berr_prefix(err, "cannot kill container: %s", container->id);
        if (!monitor_wait_exit(engine, container, exits, KILL_WAIT_MS))
            return berr_set(err, BERR_TIMEOUT, "container %s did not exit after SIGKILL",
                            container->id);
    }
    container_event(engine->events, container, "stop", NULL);
    return 0;
}

int containers_stop(struct engine *engine, struct container *container, int timeout, int signal,
                    bool *not_modified, struct berr *err)
{
    int rc;

    pthread_mutex_lock(&container->operation);
    rc = stop_locked(engine, container, timeout, signal, not_modified, err);
    pthread_mutex_unlock(&container->operation);
    return rc;
}

int containers_restart(struct engine *engine, struct container *container, int timeout, int signal,
                       struct berr *err)
{
    bool not_modified;
    int rc;

    pthread_mutex_lock(&container->operation);
    rc = stop_locked(engine, container, timeout, signal, &not_modified, err);
    if (rc == 0)
        rc = start_locked(engine, container, true, NULL, err);
    pthread_mutex_unlock(&container->operation);
    if (rc == 0)
        container_event(engine->events, container, "restart", NULL);
    return rc;
}

int containers_kill(struct engine *engine, struct container *container, int signal,
                    struct berr *err)
{
    uint64_t exits;
    bool paused;
    int rc;

    pthread_mutex_lock(&container->lock);
    if (!container->state.running) {
        pthread_mutex_unlock(&container->lock);
        return berr_set(err, BERR_CONFLICT, "Container %s is not running", container->id);
    }
    container->manually_stopped = true;
    if (container->state.restarting) {
        monitor_cancel_restart(container);
        container->state.running = container->state.restarting = false;
        container_save_or_log(container);
        pthread_cond_broadcast(&container->changed);
        pthread_mutex_unlock(&container->lock);
        event_signal(engine, container, signal);
        return 0;
    }
    /* dockerd: the stop signal (or any, without a StopSignal) and SIGKILL
     * end the container for good: no restart after this exit. */
    if (signal == SIGKILL || signal == container->settings->stop_signal ||
        !json_get(container->settings->config, "StopSignal"))
        container->exit_on_next = true;
    container_save_or_log(container);
    exits = container->exits;
    paused = container->state.paused;
    pthread_mutex_unlock(&container->lock);
    if ((rc = send_signal(engine, container, signal, false, paused && signal == SIGKILL, err)))
        return berr_prefix(err, "Cannot kill container: %s", container->id);
    if (signal == SIGKILL && !monitor_wait_exit(engine, container, exits, KILL_WAIT_MS))
        return berr_set(err, BERR_TIMEOUT, "container %s did not exit after SIGKILL",
                        container->id);
    return 0;
}

/* ---- remove ---- */

/* Everything the container holds in the supervisor and on disk. */
static int teardown(struct engine *engine, struct container *container, struct berr *err)
{
    int rc = sv_task_delete(engine->supervisor, container->id, NULL, err);

    if (rc && rc != BERR_NOT_FOUND)
        return berr_prefix(err, "delete the task");
    if ((rc = sv_container_delete(engine->supervisor, container->id, err)))
        return berr_prefix(err, "delete the supervisor's container");
    if ((rc = sv_snapshot_remove(engine->supervisor, container->snapshot_key, err)))
        return berr_prefix(err, "remove the snapshot");
    sandbox_netns_remove(engine->state, container->id);
    return container_store_remove(engine->containers, container, err);
}

static int remove_locked(struct engine *engine, struct container *container, bool force,
                         struct berr *err)
{
    bool kill_it, paused;
    uint64_t exits;
    int rc;

    pthread_mutex_lock(&container->lock);
    if (container->removed) {
        pthread_mutex_unlock(&container->lock);
        return berr_set(err, BERR_NOT_FOUND, "No such container: %s", container->id);
    }
    if (container->state.running && !force) {
        rc = berr_set(err, BERR_CONFLICT,
                      "cannot remove container \"%s\": container is %s: stop the container "
                      "before removing or force remove",
                      container->name, container_status(container));
        pthread_mutex_unlock(&container->lock);
        return rc;
    }
    monitor_cancel_restart(container);
    kill_it = container->state.running && !container->state.restarting;
    if (container->state.restarting)
        container->state.running = container->state.restarting = false;
    container->exit_on_next = true;
    container->state.removing = true;
    container_save_or_log(container);
    exits = container->exits;
    paused = container->state.paused;
    pthread_mutex_unlock(&container->lock);

    if (kill_it) {
        if ((rc = send_signal(engine, container, SIGKILL, true, paused, err)))
            goto failed;
        monitor_wait_exit(engine, container, exits, KILL_WAIT_MS);
    }
    if ((rc = teardown(engine, container, err)) == 0) {
        exec_store_drop_container(engine->execs, container);
        container_event(engine->events, container, "destroy", NULL);
        return 0;
    }
failed:
    pthread_mutex_lock(&container->lock);
    container->state.removing = false;
    container_save_or_log(container);
    pthread_cond_broadcast(&container->changed);
    pthread_mutex_unlock(&container->lock);
    return berr_prefix(err, "cannot remove container %s", container->id);
}

int containers_remove(struct engine *engine, struct container *container, bool force,
                      struct berr *err)
{
    int rc;

    pthread_mutex_lock(&container->operation);
    rc = remove_locked(engine, container, force, err);
    pthread_mutex_unlock(&container->operation);
    return rc;
}

/* ---- pause, unpause, rename, update ---- */

static int pause_or_unpause(struct engine *engine, struct container *container, bool pause,
                            struct berr *err)
{
    int rc = 0;

    pthread_mutex_lock(&container->operation);
    pthread_mutex_lock(&container->lock);
    if (!container->state.running || container->state.restarting)
        rc = berr_set(err, BERR_CONFLICT, "Container %s is not running", container->id);
    else if (pause && container->state.paused)
        rc = berr_set(err, BERR_CONFLICT, "Container %s is already paused", container->id);
    else if (!pause && !container->state.paused)
        rc = berr_set(err, BERR_CONFLICT, "Container %s is not paused", container->id);
    pthread_mutex_unlock(&container->lock);
    if (rc == 0)
        rc = pause ? sv_task_pause(engine->supervisor, container->id, err)
                   : sv_task_resume(engine->supervisor, container->id, err);
    if (rc == 0) {
        pthread_mutex_lock(&container->lock);
        container->state.paused = pause;
        container_save_or_log(container);
        pthread_cond_broadcast(&container->changed);
        pthread_mutex_unlock(&container->lock);
        container_event(engine->events, container, pause ? "pause" : "unpause", NULL);
    }
    pthread_mutex_unlock(&container->operation);
    return rc;
}

int containers_pause(struct engine *engine, struct container *container, struct berr *err)
{
    return pause_or_unpause(engine, container, true, err);
}

int containers_unpause(struct engine *engine, struct container *container, struct berr *err)
{
    return pause_or_unpause(engine, container, false, err);
}

int containers_rename(struct engine *engine, struct container *container, const char *name,
                      struct berr *err)
{
    const char *extra[] = {"oldName", NULL, NULL};
    char *old_name;
    int rc;

    pthread_mutex_lock(&container->operation);
    pthread_mutex_lock(&container->lock);
    old_name = strdup(container->name);
    pthread_mutex_unlock(&container->lock);
    if (!old_name)
        rc = berr_set(err, BERR_NOMEM, "out of memory");
    else
        rc = container_store_rename(engine->containers, container, name, err);
    if (rc == 0) {
        struct berr ignored;
        char *new_name;
        pthread_mutex_lock(&container->lock);
        new_name = strdup(container->name);
        pthread_mutex_unlock(&container->lock);
        /* The supervisor's label names it for /system/df. */
        if (new_name && sv_container_set_label(engine->supervisor, container->id,
                                               CONTAINER_NAME_LABEL, new_name, &ignored))
            log_warn("container %s: label its new name: %s", short_id(container), ignored.message);
        free(new_name);
    }
    pthread_mutex_unlock(&container->operation);
    if (rc == 0) {
        extra[1] = old_name;
        container_event(engine->events, container, "rename", extra);
    }
    free(old_name);
    return rc;
}

static char *tree_json(yajl_val value)
{
    struct json_writer writer;
    const char *text;
    size_t length;
    char *copy = NULL;

    if (json_writer_init(&writer, false, NULL))
        return NULL;
    json_value(&writer, value);
    if (json_writer_result(&writer, &text, &length, NULL) == 0)
        copy = strndup(text, length);
    json_writer_free(&writer);
    return copy;
}

/* New settings from the old Config and an updated HostConfig. */
static int updated_settings(const struct container_settings *old, yajl_val update,
                            struct container_settings **out, bool *changed, struct berr *err)
{
    char *config = NULL, *host_config = NULL;
    int rc;

    if ((rc = container_config_update(old->host_config, update, old->auto_remove, &host_config,
                                      changed, err)))
        return rc;
    config = tree_json(old->config);
    rc = config ? container_settings_make(config, host_config, out, err)
                : berr_set(err, BERR_NOMEM, "out of memory");
    free(config);
    free(host_config);
    return rc;
}

static int apply_resources(struct engine *engine, struct container *container,
                           const struct container_settings *settings, struct berr *err)
{
    char *resources = NULL;
    size_t length = 0;
    int rc;

    if ((rc = spec_resources(settings->host_config, &resources, &length, err)))
        return rc;
    rc = sv_task_update(engine->supervisor, container->id, resources, length, err);
    free(resources);
    return rc;
}

int containers_update(struct engine *engine, struct container *container, yajl_val update,
                      struct berr *err)
{
    struct container_settings *old, *new_settings = NULL;
    bool changed = false, running;
    int rc;

    pthread_mutex_lock(&container->operation);
    old = container_settings_get(container);
    rc = updated_settings(old, update, &new_settings, &changed, err);
    container_settings_put(old);
    if (rc)
        goto out;
    pthread_mutex_lock(&container->lock);
    running = container->state.running && !container->state.restarting;
    pthread_mutex_unlock(&container->lock);
    if (running && changed && (rc = apply_resources(engine, container, new_settings, err))) {
        berr_prefix(err, "Cannot update container %s", container->id);
        goto out;
    }
    pthread_mutex_lock(&container->lock);
    container_settings_replace(container, new_settings);
    container_save_or_log(container);
    pthread_mutex_unlock(&container->lock);
    container_event(engine->events, container, "update", NULL);
out:
    container_settings_put(new_settings);
    pthread_mutex_unlock(&container->operation);
    return rc;
}

/* ---- create ---- */

struct creation {
    struct image_resolved image; /* image_store_resolve's (unpacked already) */
    yajl_val image_config;       /* image.config_json parsed */
    struct container_config_output config;
    struct container_settings *settings;
    struct container *container;
    bool snapshot, supervisor_container;
};

static void creation_undo(struct engine *engine, struct creation *creation)
{
    struct berr ignored;

    if (creation->supervisor_container)
        sv_container_delete(engine->supervisor, creation->container->id, &ignored);
    if (creation->snapshot)
        sv_snapshot_remove(engine->supervisor, creation->container->id, &ignored);
    if (creation->container)
        container_store_remove(engine->containers, creation->container, &ignored);
}

static void creation_free(struct creation *creation)
{
    image_resolved_free(&creation->image);
    yajl_tree_free(creation->image_config);
    container_config_output_free(&creation->config);
    container_settings_put(creation->settings);
    container_put(creation->container);
}

/* The supervisor's side: the container, then its snapshot on the image's
 * top layer (image_store_resolve unpacked the image). The container
 * first: a snapshot a container names is safe from the supervisor's
 * garbage collection, one prepared before is not. */
static int create_in_supervisor(struct engine *engine, struct creation *creation, struct berr *err)
{
    struct container *container = creation->container;
    /* berth.engine/name names it in /system/df; berth.image.id is what the
     * images API's in-use check reads (image_store.h). */
    const char *labels[] = {CONTAINER_NAME_LABEL, container->name, IMAGE_CONTAINER_LABEL_ID,
                            creation->image.id, NULL};
    char *spec = NULL;
    size_t length = 0;
    int rc;

    if ((rc = make_spec(engine, container, creation->settings, false, &spec, &length, err)))
        return rc;
    rc = sv_container_create(engine->supervisor, container->id, creation->image.name, spec, length,
                             container->snapshot_key, labels, err);
    free(spec);
    if (rc)
        return berr_prefix(err, "create the supervisor's container");
    creation->supervisor_container = true;
    if ((rc = sv_snapshot_prepare(engine->supervisor, container->snapshot_key,
                                  creation->image.chain_id, NULL, err)))
        return berr_prefix(err, "prepare the container's snapshot");
    creation->snapshot = true;
    return 0;
}

static int check_body(yajl_val body, const char **image, struct berr *err)
{
    int rc;

    if (!body || !YAJL_IS_OBJECT(body))
        return berr_set(err, BERR_INVALID, "config cannot be empty in order to create a container");
    *image = NULL;
    if ((rc = json_get_string(body, "Image", image, err)))
        return rc;
    if (!*image || !**image)
        return berr_set(err, BERR_INVALID, "Config.Image is required: no image was given");
    return 0;
}

int containers_create(struct engine *engine, yajl_val body, const char *name, char **id,
                      char ***warnings, struct berr *err)
{
    struct container_config_input input = {0};
    struct creation creation = {0};
    struct container_new spec = {0};
    char new_id[CONTAINER_ID_LENGTH + 1];
    const char *image_ref;
    int rc;

    if ((rc = check_body(body, &image_ref, err)) ||
        (name && *name && (rc = container_name_check(name, err))) ||
        (rc = image_store_resolve(engine->images, image_ref, &creation.image, err)))
        goto out;
    if ((rc = json_parse(creation.image.config_json, &creation.image_config, err))) {
        berr_prefix(err, "image %s: config", creation.image.name);
        goto out;
    }
    container_id_generate(new_id);
    input.request = body;
    input.image_config = json_get(creation.image_config, "config");
    if (input.image_config && !YAJL_IS_OBJECT(input.image_config))
        input.image_config = NULL;
    input.id = new_id;
    if ((rc = container_config_build(&input, &creation.config, err)) ||
        (rc = container_settings_make(creation.config.config, creation.config.host_config,
                                      &creation.settings, err)))
        goto out;
    spec.id = new_id;
    spec.name = name;
    spec.image_id = creation.image.id;
    spec.path = creation.config.path;
    spec.args = creation.config.args;
    spec.settings = creation.settings;
    if ((rc = container_store_add(engine->containers, &spec, &creation.container, err)))
        goto out;
    if ((rc = create_in_supervisor(engine, &creation, err)) ||
        (rc = container_store_publish(engine->containers, creation.container, err))) {
        creation_undo(engine, &creation);
        goto out;
    }
    container_event(engine->events, creation.container, "create", NULL);
    *id = strdup(new_id);
    *warnings = creation.config.warnings;
    creation.config.warnings = NULL;
    if (!*id)
        rc = berr_set(err, BERR_NOMEM, "out of memory");
out:
    creation_free(&creation);
    return rc;
}
