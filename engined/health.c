/*
 * health: see health.h. The scheduler keeps one checker per running,
 * checked container; probe threads report back to it. State.Health lives
 * in the container's record as JSON text (container_store.h), rewritten
 * whole under the container's lock at each change.
 *
 * Locks: the container's lock may be held when health->lock is taken,
 * never the other way round. No supervisor call is made under either.
 * Only the scheduler thread creates, pauses and drops checkers; a probe
 * thread only reads its checker's config and writes a result.
 */
#include "health.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "container_store.h"
#include "docker_time.h"
#include "engine.h"
#include "health_probe.h"
#include "log.h"
#include "timefmt.h"

#define NS_PER_MS 1000000LL

struct checker {
    struct checker *next;
    struct container *container; /* a reference */
    int64_t run;                 /* state.started_at of the run it checks */
    struct health_config config;
    int64_t due;    /* (lock) CLOCK_MONOTONIC ns of the next probe */
    bool active;    /* (lock) probing (not paused) */
    bool probing;   /* (lock) a probe thread runs */
    bool dropped;   /* (lock) out of the list: results are dropped; the probe frees it */
    bool cancelled; /* (lock) the engine stops: kill the probe */
    uint64_t epoch; /* (lock) bumped at each pause: a probe from before it does not count */
    char exec_id[HEALTH_EXEC_ID_LENGTH + 1]; /* (lock) the probe's process, once started */
};

struct health {
    struct engine *engine;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t probes_done;
    struct engine_event_subscription *subscription; /* (lock) */
    struct checker *checkers;                       /* (lock) */
    int probes;                                     /* (lock) probe threads alive */
    bool stopping;                                  /* (lock) */
};

static int64_t monotonic_ns(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

/* ---- the configuration ---- */

static int check_duration(yajl_val healthcheck, const char *key, struct berr *err)
{
    yajl_val value = json_get(healthcheck, key);

    if (!value || YAJL_IS_NULL(value))
        return 0;
    if (!YAJL_IS_INTEGER(value))
        return berr_set(err, BERR_INVALID, "Healthcheck.%s: expected an integer (nanoseconds)",
                        key);
    if (YAJL_GET_INTEGER(value) != 0 && YAJL_GET_INTEGER(value) < HEALTH_MINIMUM_DURATION)
        return berr_set(err, BERR_INVALID, "%s in Healthcheck cannot be less than 1ms", key);
    return 0;
}

int health_config_check(yajl_val healthcheck, struct berr *err)
{
    static const char *const durations[] = {"Interval", "Timeout", "StartPeriod", "StartInterval"};
    yajl_val test, retries;
    int rc;

    if (!healthcheck || YAJL_IS_NULL(healthcheck))
        return 0;
    if (!YAJL_IS_OBJECT(healthcheck))
        return berr_set(err, BERR_INVALID, "Healthcheck: expected an object");
    test = json_get(healthcheck, "Test");
    if (test && !YAJL_IS_NULL(test)) {
        if (!YAJL_IS_ARRAY(test))
            return berr_set(err, BERR_INVALID, "Healthcheck.Test: expected an array of strings");
        for (size_t i = 0; i < test->u.array.len; i++)
            if (!YAJL_IS_STRING(test->u.array.values[i]))
                return berr_set(err, BERR_INVALID,
                                "Healthcheck.Test: expected an array of strings");
    }
    for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++)
        if ((rc = check_duration(healthcheck, durations[i], err)))
            return rc;
    retries = json_get(healthcheck, "Retries");
    if (retries && !YAJL_IS_NULL(retries)) {
        if (!YAJL_IS_INTEGER(retries))
            return berr_set(err, BERR_INVALID, "Healthcheck.Retries: expected an integer");
        if (YAJL_GET_INTEGER(retries) < 0)
            return berr_set(err, BERR_INVALID, "Retries in Healthcheck cannot be negative");
    }
    return 0;
}

static int64_t duration_or(yajl_val healthcheck, const char *key, int64_t fallback)
{
    yajl_val value = json_get(healthcheck, key);

    return YAJL_IS_INTEGER(value) && YAJL_GET_INTEGER(value) > 0 ? YAJL_GET_INTEGER(value)
                                                                 : fallback;
}

static bool push_strings(char ***argv, size_t *count, yajl_val array, size_t from)
{
    for (size_t i = from; YAJL_IS_ARRAY(array) && i < array->u.array.len; i++) {
        const char *text = YAJL_GET_STRING(array->u.array.values[i]);
        char **grown = realloc(*argv, (*count + 2) * sizeof(char *));
        if (!grown)
            return false;
        *argv = grown;
        if (!(grown[*count] = strdup(text ? text : "")))
            return false;
        grown[++*count] = NULL;
    }
    return true;
}

bool health_config_parse(yajl_val healthcheck, yajl_val shell, struct health_config *out)
{
    yajl_val test = json_get(healthcheck, "Test"), retries = json_get(healthcheck, "Retries");
    const char *kind;
    size_t count = 0;
    bool ok;

    memset(out, 0, sizeof(*out));
    if (!YAJL_IS_ARRAY(test) || test->u.array.len == 0 ||
        !(kind = YAJL_GET_STRING(test->u.array.values[0])))
        return false;
    if (strcmp(kind, "CMD") != 0 && strcmp(kind, "CMD-SHELL") != 0)
        return false; /* "NONE", or a kind dockerd does not know either */
    if (!(out->argv = calloc(1, sizeof(char *))))
        return false;
    ok = true;
    if (strcmp(kind, "CMD-SHELL") == 0) {
        if (YAJL_IS_ARRAY(shell) && shell->u.array.len > 0) {
            ok = push_strings(&out->argv, &count, shell, 0);
        } else {
            static const char *const sh[] = {"/bin/sh", "-c"};
            for (size_t i = 0; ok && i < 2; i++) {
                char **grown = realloc(out->argv, (count + 2) * sizeof(char *));
                if (grown)
                    out->argv = grown;
                ok = grown && (grown[count] = strdup(sh[i]));
                if (ok)
                    out->argv[++count] = NULL;
            }
        }
    }
    ok = ok && push_strings(&out->argv, &count, test, 1);
    if (!ok) {
        health_config_free(out);
        return false;
    }
    out->interval = duration_or(healthcheck, "Interval", HEALTH_DEFAULT_INTERVAL);
    out->timeout = duration_or(healthcheck, "Timeout", HEALTH_DEFAULT_TIMEOUT);
    out->start_period = duration_or(healthcheck, "StartPeriod", 0);
    out->start_interval = duration_or(healthcheck, "StartInterval", HEALTH_DEFAULT_START_INTERVAL);
    out->retries = YAJL_IS_INTEGER(retries) && YAJL_GET_INTEGER(retries) > 0
                       ? (int)YAJL_GET_INTEGER(retries)
                       : HEALTH_DEFAULT_RETRIES;
    return true;
}

void health_config_free(struct health_config *config)
{
    json_free_string_array(config->argv);
    config->argv = NULL;
}

/* Go's time.Duration.String(). */
void health_format_duration(int64_t ns, char *out, size_t size)
{
    char fraction[16];
    int64_t hours, minutes, seconds, rest;
    int end;

    if (ns == 0) {
        snprintf(out, size, "0s");
        return;
    }
    if (ns < 1000000000LL) {
        const char *unit = ns < 1000 ? "ns" : ns < 1000000 ? "\xc2\xb5s" : "ms";
        int64_t scale = ns < 1000 ? 1 : ns < 1000000 ? 1000 : 1000000;
        end = snprintf(fraction, sizeof(fraction), ".%0*lld", scale == 1000 ? 3 : 6,
                       (long long)(ns % scale));
        while (end > 1 && fraction[end - 1] == '0')
            fraction[--end] = '\0';
        if (end == 1)
            fraction[0] = '\0';
        snprintf(out, size, "%lld%s%s", (long long)(ns / scale), scale == 1 ? "" : fraction, unit);
        return;
    }
    hours = ns / (3600 * 1000000000LL);
    minutes = ns / (60 * 1000000000LL) % 60;
    seconds = ns / 1000000000LL % 60;
    rest = ns % 1000000000LL;
    end = snprintf(fraction, sizeof(fraction), ".%09lld", (long long)rest);
    while (end > 1 && fraction[end - 1] == '0')
        fraction[--end] = '\0';
    if (end == 1)
        fraction[0] = '\0';
    if (hours)
        snprintf(out, size, "%lldh%lldm%lld%ss", (long long)hours, (long long)minutes,
                 (long long)seconds, fraction);
    else if (minutes)
        snprintf(out, size, "%lldm%lld%ss", (long long)minutes, (long long)seconds, fraction);
    else
        snprintf(out, size, "%lld%ss", (long long)seconds, fraction);
}

/* ---- State.Health ---- */

struct health_state {
    const char *status; /* static strings */
    int64_t failing_streak;
    yajl_val tree; /* the parsed record, owning log entries below */
    yajl_val log[HEALTH_LOG_ENTRIES];
    size_t log_count;
};

static const char *known_status(const char *status)
{
    static const char *const statuses[] = {"starting", "healthy", "unhealthy", "none"};

    for (size_t i = 0; status && i < sizeof(statuses) / sizeof(statuses[0]); i++)
        if (strcmp(status, statuses[i]) == 0)
            return statuses[i];
    return NULL;
}

/* From the record (hold the container's lock); false when it has none. */
static bool state_read(const struct container *container, struct health_state *state)
{
    yajl_val log;
    const char *status = NULL;
    size_t first = 0;

    memset(state, 0, sizeof(*state));
    state->status = "starting";
    if (!container->state.health || json_parse(container->state.health, &state->tree, NULL))
        return false;
    json_get_string(state->tree, "Status", &status, NULL);
    if (known_status(status))
        state->status = known_status(status);
    json_get_int64(state->tree, "FailingStreak", &state->failing_streak, NULL);
    log = json_get(state->tree, "Log");
    if (YAJL_IS_ARRAY(log)) {
        if (log->u.array.len > HEALTH_LOG_ENTRIES)
            first = log->u.array.len - HEALTH_LOG_ENTRIES;
        for (size_t i = first; i < log->u.array.len; i++)
            if (YAJL_IS_OBJECT(log->u.array.values[i]))
                state->log[state->log_count++] = log->u.array.values[i];
    }
    return true;
}

static void write_result(struct json_writer *writer, const struct health_probe_result *result)
{
    char time_text[TIMEFMT_SIZE];

    json_object_begin(writer);
    json_kv_string(writer, "Start", timefmt_rfc3339(result->start, time_text));
    json_kv_string(writer, "End", timefmt_rfc3339(result->end, time_text));
    json_kv_int(writer, "ExitCode", result->exit_code);
    json_kv_string(writer, "Output", result->output ? result->output : "");
    json_object_end(writer);
}

/* Writes the state (plus one new result) into the record and saves it.
 * Hold the container's lock. Frees the state's tree. */
static void state_write(struct container *container, struct health_state *state,
                        const struct health_probe_result *added)
{
    struct json_writer writer;
    const char *text;
    size_t length, skip = 0;
    char *copy = NULL;
    struct berr err;

    if (added && state->log_count == HEALTH_LOG_ENTRIES)
        skip = 1;
    if (json_writer_init(&writer, false, &err) == 0) {
        json_object_begin(&writer);
        json_kv_string(&writer, "Status", state->status);
        json_kv_int(&writer, "FailingStreak", state->failing_streak);
        json_key(&writer, "Log");
        json_array_begin(&writer);
        for (size_t i = skip; i < state->log_count; i++)
            json_value(&writer, state->log[i]);
        if (added)
            write_result(&writer, added);
        json_array_end(&writer);
        json_object_end(&writer);
        if (json_writer_result(&writer, &text, &length, &err) == 0 && (copy = malloc(length + 1))) {
            memcpy(copy, text, length);
            copy[length] = '\0';
        }
        json_writer_free(&writer);
    }
    yajl_tree_free(state->tree);
    state->tree = NULL;
    if (!copy) {
        log_warn("container %.12s: cannot record its health: %s", container->id,
                 err.message[0] ? err.message : "out of memory");
        return;
    }
    free(container->state.health);
    container->state.health = copy;
    container_save_or_log(container);
}

/* A new run: "starting", streak 0, the log kept (dockerd's
 * initHealthMonitor). Only if the container still runs that run. */
static void state_reset(struct container *container, int64_t run)
{
    struct health_state state;

    pthread_mutex_lock(&container->lock);
    if (container->state.running && container->state.started_at == run) {
        state_read(container, &state);
        state.status = "starting";
        state.failing_streak = 0;
        state_write(container, &state, NULL);
    }
    pthread_mutex_unlock(&container->lock);
}

/* The checks stopped (an exit, a pause): "unhealthy", as dockerd says
 * when its monitor ends. */
static void state_stopped(struct container *container)
{
    struct health_state state;

    pthread_mutex_lock(&container->lock);
    if (state_read(container, &state) && strcmp(state.status, "unhealthy") != 0) {
        state.status = "unhealthy";
        state_write(container, &state, NULL);
    } else {
        yajl_tree_free(state.tree);
    }
    pthread_mutex_unlock(&container->lock);
}

/* ---- the scheduler's bookkeeping ---- */

static void checker_free(struct checker *checker)
{
    container_put(checker->container);
    health_config_free(&checker->config);
    free(checker);
}

/* Hold health->lock. */
static struct checker *checker_find(struct health *health, const char *id)
{
    for (struct checker *checker = health->checkers; checker; checker = checker->next)
        if (strcmp(checker->container->id, id) == 0)
            return checker;
    return NULL;
}

/* Takes the checker out of the list; a probe in flight frees it. Hold health->lock. */
static void checker_drop(struct health *health, struct checker *checker)
{
    for (struct checker **link = &health->checkers; *link; link = &(*link)->next)
        if (*link == checker) {
            *link = checker->next;
            break;
        }
    checker->dropped = true;
    if (!checker->probing)
        checker_free(checker);
}

/* The wait before the next probe (dockerd's getInterval). */
static int64_t next_interval(const struct health_config *config, int64_t run, const char *status)
{
    if (docker_time_now() - run >= config->start_period)
        return config->interval;
    return status && strcmp(status, "starting") == 0 ? config->start_interval : config->interval;
}

static const char *current_status(struct container *container)
{
    struct health_state state;
    const char *status;

    pthread_mutex_lock(&container->lock);
    state_read(container, &state);
    status = state.status;
    yajl_tree_free(state.tree);
    pthread_mutex_unlock(&container->lock);
    return status;
}

/* ---- one container: what should run ---- */

struct snapshot {
    bool running, paused, restarting, removed;
    int64_t started_at;
    struct container_settings *settings;
};

static void take_snapshot(struct container *container, struct snapshot *out)
{
    pthread_mutex_lock(&container->lock);
    out->running = container->state.running;
    out->paused = container->state.paused;
    out->restarting = container->state.restarting;
    out->removed = container->removed || container->state.removing;
    out->started_at = container->state.started_at;
    out->settings = container->settings;
    container_settings_hold(out->settings);
    pthread_mutex_unlock(&container->lock);
}

/*
 * Brings the container's checker in line with its state: none unless it
 * runs with a check; a new one (status reset) for a new run; inactive
 * while paused. Runs on the scheduler thread only.
 */
static void reconcile(struct health *health, struct container *container, bool at_start)
{
    struct snapshot now;
    struct health_config config;
    struct checker *checker, *created = NULL;
    bool checked, live, ended = false, paused_now = false;

    take_snapshot(container, &now);
    checked = health_config_parse(json_get(now.settings->config, "Healthcheck"),
                                  json_get(now.settings->config, "Shell"), &config);
    container_settings_put(now.settings);
    live = checked && now.running && !now.restarting && !now.removed;

    pthread_mutex_lock(&health->lock);
    checker = checker_find(health, container->id);
    if (checker && (!live || checker->run != now.started_at)) {
        checker_drop(health, checker);
        checker = NULL;
        ended = true;
    }
    if (checker && now.paused && checker->active) {
        checker->active = false;
        checker->epoch++;
        paused_now = true;
    } else if (checker && !now.paused && !checker->active) {
        checker->active = true;
        checker->due = monotonic_ns() + next_interval(&checker->config, checker->run, "unhealthy");
    }
    pthread_mutex_unlock(&health->lock);

    if (!checker && live) {
        /* Reset first: no probe of the new run may report before it. */
        if (!now.paused)
            state_reset(container, now.started_at);
        created = calloc(1, sizeof(*created));
        if (created) {
            container_hold(container);
            created->container = container;
            created->run = now.started_at;
            created->config = config;
            memset(&config, 0, sizeof(config));
            created->active = !now.paused;
            created->due =
                monotonic_ns() + next_interval(&created->config, created->run, "starting");
            pthread_mutex_lock(&health->lock);
            created->next = health->checkers;
            health->checkers = created;
            pthread_mutex_unlock(&health->lock);
        } else {
            log_error("container %.12s: out of memory for its health check", container->id);
        }
    }
    health_config_free(&config);
    /* Checks that end (an exit, a pause) leave "unhealthy", as dockerd's
     * monitor does when it stops; so does a stop the engine missed. */
    if ((ended && !live) || paused_now || (live && now.paused && created) || (at_start && !live))
        state_stopped(container);
}

static void reconcile_id(struct health *health, const char *id)
{
    struct container *container;
    struct checker *checker;
    struct berr err;

    if (container_store_get(health->engine->containers, id, &container, &err) == 0) {
        reconcile(health, container, false);
        container_put(container);
        return;
    }
    /* Removed. */
    pthread_mutex_lock(&health->lock);
    if ((checker = checker_find(health, id)))
        checker_drop(health, checker);
    pthread_mutex_unlock(&health->lock);
}

static void reconcile_all(struct health *health, bool at_start)
{
    struct container **containers;
    size_t count;
    struct berr err;

    if (container_store_list(health->engine->containers, &containers, &count, &err)) {
        log_warn("health: list containers: %s", err.message);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        if (at_start)
            health_probe_cleanup(containers[i]->dir);
        reconcile(health, containers[i], at_start);
    }
    container_list_free(containers, count);
}

/* ---- probes ---- */

/* The result, if the run it checked is still the container's and its
 * checker still wants it. dockerd's handleProbeResult. */
static void apply(struct health *health, struct checker *checker, uint64_t epoch,
                  const struct health_probe_result *result)
{
    struct container *container = checker->container;
    struct health_state state;
    const char *before = NULL, *after = NULL;
    bool wanted;

    pthread_mutex_lock(&container->lock);
    pthread_mutex_lock(&health->lock);
    wanted = !checker->dropped && checker->active && checker->epoch == epoch && !health->stopping;
    pthread_mutex_unlock(&health->lock);
    wanted = wanted && container->state.running && !container->state.paused &&
             !container->state.restarting && !container->exiting &&
             container->state.started_at == checker->run;
    if (wanted) {
        state_read(container, &state);
        before = state.status;
        if (result->exit_code == 0) {
            state.failing_streak = 0;
            state.status = "healthy";
        } else if (strcmp(state.status, "starting") != 0 ||
                   result->start - container->state.started_at >= checker->config.start_period) {
            if (++state.failing_streak >= checker->config.retries)
                state.status = "unhealthy";
        }
        after = state.status;
        state_write(container, &state, result);
    }
    pthread_mutex_unlock(&container->lock);
    if (wanted && strcmp(before, after) != 0) {
        char action[64];
        snprintf(action, sizeof(action), "health_status: %s", after);
        container_event(health->engine->events, container, action, NULL);
    }
}

struct probe_job {
    struct health *health;
    struct checker *checker;
    uint64_t epoch; /* the checker's when the probe started */
};

static void *probe_thread(void *argument)
{
    struct probe_job *job = argument;
    struct health *health = job->health;
    struct checker *checker = job->checker;
    struct health_probe_control control = {&health->lock, &checker->cancelled, checker->exec_id};
    struct health_probe_result result;
    uint64_t epoch = job->epoch;
    const char *status;

    free(job);
    health_probe_run(health->engine, checker->container, &checker->config, &control, &result);
    apply(health, checker, epoch, &result);
    health_probe_result_free(&result);
    status = current_status(checker->container);

    pthread_mutex_lock(&health->lock);
    checker->probing = false;
    checker->exec_id[0] = '\0';
    if (checker->dropped)
        checker_free(checker);
    else
        checker->due = monotonic_ns() + next_interval(&checker->config, checker->run, status);
    if (--health->probes == 0)
        pthread_cond_broadcast(&health->probes_done);
    if (health->subscription)
        engine_event_wake(health->subscription);
    pthread_mutex_unlock(&health->lock);
    return NULL;
}

/* Starts the probes that are due; the wait until the next one (ms, -1: none). */
static int launch_due(struct health *health)
{
    int64_t now = monotonic_ns(), next = -1;
    pthread_attr_t attributes;

    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attributes, 256 * 1024);
    pthread_mutex_lock(&health->lock);
    for (struct checker *checker = health->checkers; checker; checker = checker->next) {
        struct probe_job *job;
        pthread_t thread;
        if (!checker->active || checker->probing)
            continue;
        if (checker->due > now) {
            if (next < 0 || checker->due - now < next)
                next = checker->due - now;
            continue;
        }
        if (!(job = malloc(sizeof(*job)))) {
            log_error("health: out of memory for a probe");
            continue;
        }
        job->health = health;
        job->checker = checker;
        job->epoch = checker->epoch;
        checker->probing = true;
        health->probes++;
        if (pthread_create(&thread, &attributes, probe_thread, job) != 0) {
            log_error("container %.12s: cannot start a health probe thread",
                      checker->container->id);
            free(job);
            checker->probing = false;
            health->probes--;
            checker->due = now + checker->config.interval;
        }
    }
    pthread_mutex_unlock(&health->lock);
    pthread_attr_destroy(&attributes);
    if (next < 0)
        return -1;
    return (int)((next + NS_PER_MS - 1) / NS_PER_MS);
}

/* ---- the scheduler ---- */

static bool lifecycle_action(const char *action)
{
    static const char *const actions[] = {"start", "die", "pause", "unpause", "destroy"};

    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(action, actions[i]) == 0)
            return true;
    return false;
}

static bool stopping(struct health *health)
{
    bool value;

    pthread_mutex_lock(&health->lock);
    value = health->stopping;
    pthread_mutex_unlock(&health->lock);
    return value;
}

static void *schedule(void *argument)
{
    struct health *health = argument;
    struct engine_event *event;
    struct berr err;

    while (!stopping(health)) {
        int wait_ms = launch_due(health), rc;
        rc = engine_event_next(health->subscription, wait_ms, &event, &err);
        if (rc == 0) {
            if (strcmp(event->type, "container") == 0 && lifecycle_action(event->action))
                reconcile_id(health, event->actor_id);
            engine_event_release(event);
        } else if (rc == BERR_NOSPACE) {
            /* Fell behind: start over from what the containers are. */
            struct engine_event_subscription *fresh = NULL;
            log_warn("health: the event subscription fell behind; checking every container");
            if (engine_events_subscribe(health->engine->events, 0, &fresh, &err))
                break;
            pthread_mutex_lock(&health->lock);
            engine_events_unsubscribe(health->subscription);
            health->subscription = fresh;
            pthread_mutex_unlock(&health->lock);
            reconcile_all(health, false);
        } else if (rc == BERR_CANCELLED) {
            break;
        }
    }
    return NULL;
}

int health_start(struct engine *engine, struct berr *err)
{
    struct health *health = calloc(1, sizeof(*health));
    int rc;

    if (!health)
        return berr_set(err, BERR_NOMEM, "out of memory");
    health->engine = engine;
    pthread_mutex_init(&health->lock, NULL);
    pthread_cond_init(&health->probes_done, NULL);
    engine->health = health;
    /* Subscribed before looking: whatever changes after the look is an event. */
    if ((rc = engine_events_subscribe(engine->events, 0, &health->subscription, err)))
        return berr_prefix(err, "health checks: subscribe to the engine's events");
    reconcile_all(health, true);
    if ((errno = pthread_create(&health->thread, NULL, schedule, health)) != 0)
        return berr_errno(err, errno, "start the health check thread");
    health->thread_started = true;
    return 0;
}

void health_stop(struct engine *engine)
{
    struct health *health = engine->health;
    char(*running)[2][CONTAINER_ID_LENGTH + 1] = NULL;
    size_t count = 0;

    if (!health)
        return;
    pthread_mutex_lock(&health->lock);
    health->stopping = true;
    if (health->subscription)
        engine_event_wake(health->subscription);
    pthread_mutex_unlock(&health->lock);
    if (health->thread_started)
        pthread_join(health->thread, NULL);
    /* No probe starts any more. Those in flight: a probe whose process
     * started is killed here; one that starts later sees `cancelled` and
     * kills its process itself. */
    pthread_mutex_lock(&health->lock);
    for (struct checker *checker = health->checkers; checker; checker = checker->next)
        count++;
    running = calloc(count ? count : 1, sizeof(*running));
    count = 0;
    for (struct checker *checker = health->checkers; checker; checker = checker->next) {
        checker->cancelled = true;
        if (running && checker->exec_id[0]) {
            memcpy(running[count][0], checker->container->id, CONTAINER_ID_LENGTH + 1);
            memcpy(running[count][1], checker->exec_id, HEALTH_EXEC_ID_LENGTH + 1);
            count++;
        }
    }
    pthread_mutex_unlock(&health->lock);
    for (size_t i = 0; i < count; i++)
        health_probe_kill(engine, running[i][0], running[i][1]);
    free(running);
    pthread_mutex_lock(&health->lock);
    while (health->probes > 0)
        pthread_cond_wait(&health->probes_done, &health->lock);
    while (health->checkers)
        checker_drop(health, health->checkers);
    engine_events_unsubscribe(health->subscription);
    health->subscription = NULL;
    pthread_mutex_unlock(&health->lock);
    pthread_cond_destroy(&health->probes_done);
    pthread_mutex_destroy(&health->lock);
    free(health);
    engine->health = NULL;
}
