/*
 * monitor: see monitor.h. The event thread only records and decides; the
 * work that takes long or takes a container's `operation` lock (a
 * restart after its back-off, an AutoRemove) runs on a short-lived worker
 * thread, so the event stream never waits for a container to start.
 * Workers are counted: monitor_stop wakes the sleeping ones and waits for
 * all of them before the engine frees anything.
 */
#include "monitor.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "berth/supervisor/v1/events.pb-c.h"
#include "berth/supervisor/v1/events.pb-rpc.h"
#include "containers.h"
#include "engine.h"
#include "log.h"
#include "sandbox.h"
#include "supervisor_api.h"
#include "timefmt.h"

#define NS_PER_MS      1000000LL
#define FIRST_DELAY_NS (100 * NS_PER_MS)
#define MAX_DELAY_NS   (60000 * NS_PER_MS)
#define RESET_AFTER_NS (10000 * NS_PER_MS)
#define RESUBSCRIBE_MS 500
#define CHECK_EVERY_MS 10000
/* dockerd's exit code for a container whose process vanished. */
#define EXIT_VANISHED 255

struct monitor {
    struct engine *engine;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t workers_done;
    struct rpc_stream *stream; /* (lock) */
    bool stopping;             /* (lock) */
    int workers;               /* (lock) */
    monitor_exec_exit exec_exit;
};

/* ---- time ---- */

static struct timespec monotonic_after(int64_t ns)
{
    struct timespec when;

    clock_gettime(CLOCK_MONOTONIC, &when);
    ns += when.tv_nsec;
    when.tv_sec += ns / 1000000000LL;
    when.tv_nsec = ns % 1000000000LL;
    return when;
}

static bool stopping(struct monitor *monitor)
{
    bool value;

    pthread_mutex_lock(&monitor->lock);
    value = monitor->stopping;
    pthread_mutex_unlock(&monitor->lock);
    return value;
}

/* ---- workers ---- */

struct job {
    struct engine *engine;
    struct container *container; /* a reference */
    uint64_t ticket;
    int64_t delay_ns;
    bool remove; /* AutoRemove, else a restart */
};

static void worker_done(struct monitor *monitor)
{
    pthread_mutex_lock(&monitor->lock);
    if (--monitor->workers == 0)
        pthread_cond_broadcast(&monitor->workers_done);
    pthread_mutex_unlock(&monitor->lock);
}

/* Sleeps the back-off; false if the restart was dropped meanwhile. */
static bool restart_still_wanted(struct job *job)
{
    struct container *container = job->container;
    struct timespec deadline = monotonic_after(job->delay_ns);
    bool wanted;

    pthread_mutex_lock(&container->lock);
    while (container->restart_ticket == job->ticket && !container->removed &&
           !stopping(job->engine->monitor))
        if (pthread_cond_timedwait(&container->changed, &container->lock, &deadline) == ETIMEDOUT)
            break;
    wanted = container->restart_ticket == job->ticket && !container->removed &&
             container->state.restarting && !stopping(job->engine->monitor);
    pthread_mutex_unlock(&container->lock);
    return wanted;
}

static void *run_job(void *argument)
{
    struct job *job = argument;
    struct monitor *monitor = job->engine->monitor;
    struct berr err;

    if (job->remove) {
        if (containers_remove(job->engine, job->container, false, &err) &&
            err.code != BERR_NOT_FOUND)
            log_warn("container %.12s: AutoRemove: %s", job->container->id, err.message);
    } else if (restart_still_wanted(job)) {
        if (containers_restart_scheduled(job->engine, job->container, job->ticket, &err))
            log_warn("container %.12s: restart by policy failed: %s", job->container->id,
                     err.message);
    }
    container_put(job->container);
    free(job);
    worker_done(monitor);
    return NULL;
}

static void start_job(struct engine *engine, struct container *container, bool remove,
                      uint64_t ticket, int64_t delay_ns)
{
    struct monitor *monitor = engine->monitor;
    struct job *job = calloc(1, sizeof(*job));
    pthread_attr_t attributes;
    pthread_t thread;

    if (!job) {
        log_error("container %.12s: out of memory for a %s", container->id,
                  remove ? "removal" : "restart");
        return;
    }
    job->engine = engine;
    job->container = container;
    job->ticket = ticket;
    job->delay_ns = delay_ns;
    job->remove = remove;
    container_hold(container);
    pthread_mutex_lock(&monitor->lock);
    monitor->workers++;
    pthread_mutex_unlock(&monitor->lock);
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&thread, &attributes, run_job, job) != 0) {
        log_error("container %.12s: cannot start a worker thread", container->id);
        container_put(container);
        free(job);
        worker_done(monitor);
    }
    pthread_attr_destroy(&attributes);
}

void monitor_cancel_restart(struct container *container)
{
    container->restart_ticket++;
    pthread_cond_broadcast(&container->changed);
}

/* ---- exits ---- */

/* dockerd's restart manager. Hold lock. */
static bool should_restart(struct container *container, int exit_code, int64_t ran_ns)
{
    const struct container_settings *settings = container->settings;
    bool restart = false;

    if (settings->restart_policy == RESTART_NO)
        return false;
    if (container->exit_on_next) {
        container->exit_on_next = false;
        return false;
    }
    if (ran_ns >= RESET_AFTER_NS)
        container->restart_delay_ns = 0;
    container->restart_delay_ns =
        container->restart_delay_ns ? container->restart_delay_ns * 2 : FIRST_DELAY_NS;
    if (container->restart_delay_ns > MAX_DELAY_NS)
        container->restart_delay_ns = MAX_DELAY_NS;
    switch (settings->restart_policy) {
    case RESTART_ALWAYS:
        restart = true;
        break;
    case RESTART_UNLESS_STOPPED:
        restart = !container->manually_stopped;
        break;
    case RESTART_ON_FAILURE:
        restart = exit_code != 0 && (settings->restart_max_retries == 0 ||
                                     container->restart_count < settings->restart_max_retries);
        break;
    case RESTART_NO:
        break;
    }
    return restart;
}

void monitor_handle_exit(struct engine *engine, struct container *container, uint32_t pid,
                         uint32_t status, int64_t exited_at)
{
    struct sv_process deleted;
    struct berr err;
    char code[16];
    const char *extra[] = {"exitCode", code, NULL};
    bool restart, auto_remove;
    uint64_t ticket = 0;
    int64_t delay = 0;
    int rc;

    pthread_mutex_lock(&container->lock);
    while (container->starting)
        pthread_cond_wait(&container->changed, &container->lock);
    if (!container->state.running || container->state.restarting || container->removed ||
        container->exiting || (pid && container->state.pid && pid != container->state.pid)) {
        pthread_mutex_unlock(&container->lock);
        return;
    }
    container->exiting = true;
    pthread_mutex_unlock(&container->lock);
    /* The supervisor's word on the exit is the task's; deleting it frees
     * the shim and the mounts, and lets the next start create a task. */
    rc = sv_task_delete(engine->supervisor, container->id, &deleted, &err);
    if (rc == 0) {
        status = deleted.exit_status;
        exited_at = deleted.exited_at ? deleted.exited_at : exited_at;
    } else if (rc != BERR_NOT_FOUND) {
        log_warn("container %.12s: delete its task: %s", container->id, err.message);
    }
    pthread_mutex_lock(&container->lock);
    container->exiting = false;
    container->state.running = container->state.paused = false;
    container->state.pid = 0;
    container->state.exit_code = (int)status;
    container->state.finished_at = exited_at ? exited_at : docker_time_now();
    restart = should_restart(container, (int)status,
                             container->state.finished_at - container->state.started_at);
    if (restart) {
        container->restart_count++;
        container->state.running = container->state.restarting = true;
        ticket = ++container->restart_ticket;
        delay = container->restart_delay_ns;
    }
    auto_remove = !restart && container->settings->auto_remove;
    container->exits++;
    container_save_or_log(container);
    pthread_cond_broadcast(&container->changed);
    pthread_mutex_unlock(&container->lock);

    snprintf(code, sizeof(code), "%u", status);
    container_event(engine->events, container, "die", extra);
    if (restart)
        start_job(engine, container, false, ticket, delay);
    else if (auto_remove)
        start_job(engine, container, true, 0, 0);
}

static void handle_oom(struct engine *engine, struct container *container)
{
    pthread_mutex_lock(&container->lock);
    container->state.oom_killed = true;
    pthread_mutex_unlock(&container->lock);
    container_event(engine->events, container, "oom", NULL);
}

/* What the supervisor says of the container's task, acted on. */
static void check_with_supervisor(struct engine *engine, struct container *container)
{
    struct sv_process process;
    struct berr err;
    int rc = sv_task_get(engine->supervisor, container->id, &process, &err);

    if (rc == 0 && process.status == BERTH__SUPERVISOR__V1__STATUS__STATUS_STOPPED)
        monitor_handle_exit(engine, container, process.pid, process.exit_status, process.exited_at);
    else if (rc == BERR_NOT_FOUND)
        monitor_handle_exit(engine, container, 0, EXIT_VANISHED, 0);
}

static bool exited_since(const struct container *container, uint64_t exits)
{
    return container->exits != exits || !container->state.running || container->removed;
}

bool monitor_wait_exit(struct engine *engine, struct container *container, uint64_t exits,
                       int timeout_ms)
{
    int64_t left = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * NS_PER_MS;
    bool done;

    for (;;) {
        int64_t chunk =
            left < 0 || left > CHECK_EVERY_MS * NS_PER_MS ? CHECK_EVERY_MS * NS_PER_MS : left;
        struct timespec deadline = monotonic_after(chunk);
        pthread_mutex_lock(&container->lock);
        while (!exited_since(container, exits))
            if (pthread_cond_timedwait(&container->changed, &container->lock, &deadline) ==
                ETIMEDOUT)
                break;
        done = exited_since(container, exits);
        pthread_mutex_unlock(&container->lock);
        if (done)
            return true;
        /* An exit event may have been lost: ask. */
        check_with_supervisor(engine, container);
        pthread_mutex_lock(&container->lock);
        done = exited_since(container, exits);
        pthread_mutex_unlock(&container->lock);
        if (done)
            return true;
        if (left >= 0 && (left -= chunk) <= 0)
            return false;
    }
}

/* ---- the event stream ---- */

static void handle_envelope(struct engine *engine, const Berth__Supervisor__V1__Envelope *envelope)
{
    const char *container_id = NULL;
    struct container *container;
    struct berr err;

    if (envelope->event_case == BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_TASK_EXIT)
        container_id = envelope->task_exit->container_id;
    else if (envelope->event_case == BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_TASK_OOM)
        container_id = envelope->task_oom->container_id;
    if (!container_id || strlen(container_id) != CONTAINER_ID_LENGTH)
        return;
    if (envelope->event_case == BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_TASK_EXIT &&
        envelope->task_exit->id && *envelope->task_exit->id &&
        strcmp(envelope->task_exit->id, container_id) != 0) {
        const Berth__Supervisor__V1__TaskExit *exit_event = envelope->task_exit;
        if (engine->monitor->exec_exit)
            engine->monitor->exec_exit(engine, container_id, exit_event->id, exit_event->pid,
                                       exit_event->exit_status,
                                       sv_timestamp_ns(exit_event->exited_at));
        return;
    }
    if (container_store_get(engine->containers, container_id, &container, &err))
        return; /* not one of ours (or removed meanwhile) */
    if (envelope->event_case == BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_TASK_EXIT)
        monitor_handle_exit(engine, container, envelope->task_exit->pid,
                            envelope->task_exit->exit_status,
                            sv_timestamp_ns(envelope->task_exit->exited_at));
    else
        handle_oom(engine, container);
    container_put(container);
}

static int subscribe(struct monitor *monitor, struct berr *err)
{
    static char exit_filter[] = "namespace==" ENGINE_NAMESPACE ",topic==/tasks/exit";
    static char oom_filter[] = "namespace==" ENGINE_NAMESPACE ",topic==/tasks/oom";
    char *filters[] = {exit_filter, oom_filter};
    Berth__Supervisor__V1__SubscribeRequest request =
        BERTH__SUPERVISOR__V1__SUBSCRIBE_REQUEST__INIT;
    struct rpc_stream *stream = NULL;
    int rc;

    request.filters = filters;
    request.n_filters = 2;
    rc = rpc_stream_open(monitor->engine->supervisor,
                         &berth_supervisor_v1_events_methods[BERTH_SUPERVISOR_V1_EVENTS_SUBSCRIBE],
                         ENGINE_NAMESPACE, 0, &stream, err);
    if (rc == 0)
        rc = rpc_stream_send(stream, &request.base, err);
    if (rc == 0)
        rc = rpc_stream_receive_headers(stream, err);
    if (rc) {
        rpc_stream_free(stream);
        return rc == RPC_END_OF_STREAM ? berr_set(err, BERR_UNAVAILABLE, "subscription ended") : rc;
    }
    pthread_mutex_lock(&monitor->lock);
    monitor->stream = stream;
    if (monitor->stopping)
        rpc_stream_cancel(stream);
    pthread_mutex_unlock(&monitor->lock);
    return 0;
}

static void drop_stream(struct monitor *monitor)
{
    struct rpc_stream *stream;

    pthread_mutex_lock(&monitor->lock);
    stream = monitor->stream;
    monitor->stream = NULL;
    pthread_mutex_unlock(&monitor->lock);
    rpc_stream_free(stream);
}

/* After a break in the stream: exits that went by unseen. */
static void check_running(struct engine *engine)
{
    struct container **containers;
    size_t count;
    struct berr err;

    if (container_store_list(engine->containers, &containers, &count, &err))
        return;
    for (size_t i = 0; i < count; i++) {
        bool running;
        pthread_mutex_lock(&containers[i]->lock);
        running = containers[i]->state.running && !containers[i]->state.restarting;
        pthread_mutex_unlock(&containers[i]->lock);
        if (running)
            check_with_supervisor(engine, containers[i]);
    }
    container_list_free(containers, count);
}

static void *watch(void *argument)
{
    struct monitor *monitor = argument;
    struct berr err;

    while (!stopping(monitor)) {
        ProtobufCMessage *message = NULL;
        int rc;
        if (!monitor->stream) {
            if (subscribe(monitor, &err)) {
                log_debug("monitor: subscribe: %s", err.message);
                usleep(RESUBSCRIBE_MS * 1000);
                continue;
            }
            log_info("monitor: subscribed to the supervisor's events again");
            check_running(monitor->engine);
        }
        rc = rpc_stream_receive(monitor->stream, &message, &err);
        if (rc == 0) {
            handle_envelope(monitor->engine, (const Berth__Supervisor__V1__Envelope *)message);
            protobuf_c_message_free_unpacked(message, NULL);
            continue;
        }
        if (!stopping(monitor))
            log_warn("monitor: the event stream ended (%s); subscribing again",
                     rc == RPC_END_OF_STREAM ? "end of stream" : err.message);
        drop_stream(monitor);
    }
    return NULL;
}

int monitor_start(struct engine *engine, struct berr *err)
{
    struct monitor *monitor = calloc(1, sizeof(*monitor));
    int rc;

    if (!monitor)
        return berr_set(err, BERR_NOMEM, "out of memory");
    monitor->engine = engine;
    pthread_mutex_init(&monitor->lock, NULL);
    pthread_cond_init(&monitor->workers_done, NULL);
    engine->monitor = monitor;
    /* Subscribed before anything starts: no exit from now on is missed. */
    if ((rc = subscribe(monitor, err)))
        return berr_prefix(err, "subscribe to the supervisor's events");
    if ((errno = pthread_create(&monitor->thread, NULL, watch, monitor)) != 0)
        return berr_errno(err, errno, "start the monitor thread");
    monitor->thread_started = true;
    return 0;
}

void monitor_set_exec_exit(struct engine *engine, monitor_exec_exit handler)
{
    engine->monitor->exec_exit = handler;
}

static void wake_containers(struct engine *engine)
{
    struct container **containers;
    size_t count;
    struct berr err;

    if (container_store_list(engine->containers, &containers, &count, &err))
        return;
    for (size_t i = 0; i < count; i++) {
        pthread_mutex_lock(&containers[i]->lock);
        pthread_cond_broadcast(&containers[i]->changed);
        pthread_mutex_unlock(&containers[i]->lock);
    }
    container_list_free(containers, count);
}

void monitor_stop(struct engine *engine)
{
    struct monitor *monitor = engine->monitor;

    if (!monitor)
        return;
    pthread_mutex_lock(&monitor->lock);
    monitor->stopping = true;
    if (monitor->stream)
        rpc_stream_cancel(monitor->stream);
    pthread_mutex_unlock(&monitor->lock);
    if (monitor->thread_started)
        pthread_join(monitor->thread, NULL);
    drop_stream(monitor);
    wake_containers(engine);
    pthread_mutex_lock(&monitor->lock);
    while (monitor->workers > 0)
        pthread_cond_wait(&monitor->workers_done, &monitor->lock);
    pthread_mutex_unlock(&monitor->lock);
    pthread_mutex_destroy(&monitor->lock);
    pthread_cond_destroy(&monitor->workers_done);
    free(monitor);
    engine->monitor = NULL;
}

/* ---- live restore ---- */

static const Berth__Supervisor__V1__Process *
find_task(const Berth__Supervisor__V1__ListTasksResponse *tasks, const char *id)
{
    for (size_t i = 0; tasks && i < tasks->n_tasks; i++)
        if (strcmp(tasks->tasks[i]->container_id, id) == 0)
            return tasks->tasks[i];
    return NULL;
}

/* A stopped container dockerd would start when it starts. Hold lock. */
static bool starts_with_engine(const struct container *container)
{
    const struct container_settings *settings = container->settings;

    if (!container->has_been_started_before || container->state.running)
        return false;
    switch (settings->restart_policy) {
    case RESTART_ALWAYS:
        return true;
    case RESTART_UNLESS_STOPPED:
        return !container->manually_stopped;
    case RESTART_ON_FAILURE:
        return container->state.exit_code != 0 &&
               (settings->restart_max_retries == 0 ||
                container->restart_count < settings->restart_max_retries);
    default:
        return false;
    }
}

static bool task_alive(const Berth__Supervisor__V1__Process *task)
{
    return task->status == BERTH__SUPERVISOR__V1__STATUS__STATUS_RUNNING ||
           task->status == BERTH__SUPERVISOR__V1__STATUS__STATUS_PAUSED ||
           task->status == BERTH__SUPERVISOR__V1__STATUS__STATUS_PAUSING;
}

/* A container the record says is running. */
static void restore_running(struct engine *engine, struct container *container,
                            const Berth__Supervisor__V1__Process *task)
{
    if (!task) {
        log_info("container %.12s: its task is gone; recording an exit", container->id);
        monitor_handle_exit(engine, container, 0, EXIT_VANISHED, 0);
    } else if (task->status == BERTH__SUPERVISOR__V1__STATUS__STATUS_STOPPED) {
        log_info("container %.12s: exited (%u) while the engine was away", container->id,
                 task->exit_status);
        monitor_handle_exit(engine, container, task->pid, task->exit_status,
                            sv_timestamp_ns(task->exited_at));
    } else {
        pthread_mutex_lock(&container->lock);
        container->state.pid = task->pid;
        container->state.paused = task->status != BERTH__SUPERVISOR__V1__STATUS__STATUS_RUNNING;
        container_save_or_log(container);
        pthread_mutex_unlock(&container->lock);
    }
}

/* A container the record says is not running. */
static void restore_stopped(struct engine *engine, struct container *container,
                            const Berth__Supervisor__V1__Process *task)
{
    struct berr err;
    bool start, remove;

    if (task && task_alive(task)) {
        /* The engine died between Tasks.Start and its record. */
        pthread_mutex_lock(&container->lock);
        container->state.running = true;
        container->state.paused = task->status != BERTH__SUPERVISOR__V1__STATUS__STATUS_RUNNING;
        container->state.pid = task->pid;
        if (!container->state.started_at)
            container->state.started_at = docker_time_now();
        container->has_been_started_before = true;
        container_save_or_log(container);
        pthread_mutex_unlock(&container->lock);
        return;
    }
    if (task)
        sv_task_delete(engine->supervisor, container->id, NULL, &err);
    pthread_mutex_lock(&container->lock);
    start = starts_with_engine(container);
    remove = !start && container->settings->auto_remove && container->has_been_started_before;
    pthread_mutex_unlock(&container->lock);
    if (start && containers_start_by_policy(engine, container, &err))
        log_warn("container %.12s: start by its restart policy: %s", container->id, err.message);
    if (remove)
        start_job(engine, container, true, 0, 0);
}

static int known_container(const char *id, void *context)
{
    struct engine *engine = context;
    struct container *container;
    struct berr err;

    if (strlen(id) != CONTAINER_ID_LENGTH ||
        container_store_get(engine->containers, id, &container, &err))
        return 0;
    container_put(container);
    return 1;
}

void monitor_restore(struct engine *engine)
{
    Berth__Supervisor__V1__ListTasksResponse *tasks = NULL;
    struct container **containers;
    size_t count;
    struct berr err;

    if (sv_task_list(engine->supervisor, &tasks, &err)) {
        log_error("live restore: cannot list the supervisor's tasks: %s", err.message);
        return;
    }
    if (container_store_list(engine->containers, &containers, &count, &err) == 0) {
        for (size_t i = 0; i < count; i++) {
            struct container *container = containers[i];
            const Berth__Supervisor__V1__Process *task = find_task(tasks, container->id);
            bool running, restarting;
            uint64_t ticket = 0;
            pthread_mutex_lock(&container->lock);
            running = container->state.running;
            restarting = container->state.restarting;
            if (restarting)
                ticket = ++container->restart_ticket;
            pthread_mutex_unlock(&container->lock);
            if (restarting)
                start_job(engine, container, false, ticket, 0);
            else if (running)
                restore_running(engine, container, task);
            else
                restore_stopped(engine, container, task);
        }
        container_list_free(containers, count);
    }
    berth__supervisor__v1__list_tasks_response__free_unpacked(tasks, NULL);
    sandbox_netns_cleanup(engine->state, known_container, engine);
}
