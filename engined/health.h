/*
 * health: Docker's health checks. Config.Healthcheck says what to run
 * (["CMD", argv...] or ["CMD-SHELL", "command"]; ["NONE"] or nothing: no
 * check) and how often; State.Health is what came of it: Status
 * (starting, healthy, unhealthy), FailingStreak and the last five probes
 * (Start, End, ExitCode, Output), persisted in the container's record and
 * shown by inspect and `docker ps` ("Up 5 seconds (healthy)").
 *
 * The rules are dockerd's:
 *  - while the container runs (not paused) a probe runs every Interval
 *    (30 s by default; StartInterval, 5 s by default, while still
 *    "starting" inside StartPeriod), counted from the end of the last one,
 *    the first one Interval after the start;
 *  - a probe is an extra process in the container (the container's own
 *    process settings: user, capabilities, working directory, Env), its
 *    stdout and stderr kept (4096 bytes, then "..."); one that runs longer
 *    than Timeout (30 s) is killed and fails with exit code -1 and
 *    "Health check exceeded timeout (30s)";
 *  - exit 0 is healthy (and resets the streak); anything else fails, and
 *    Retries (3) failures in a row make it unhealthy; failures that start
 *    within StartPeriod while the status is still "starting" do not count;
 *  - each start (by a user, a restart policy, or after the engine's own
 *    restart) makes the status "starting" with a streak of 0, keeping the
 *    log; a stop or a pause makes it "unhealthy", as dockerd does when its
 *    monitor ends; an unpause resumes probing from there;
 *  - events: exec_create / exec_start ("exec_start: /bin/sh -c cmd", with
 *    execID) and exec_die (execID, exitCode) for each probe, and
 *    "health_status: healthy|unhealthy" when the status changes.
 *
 * Threads: one scheduler thread and one short-lived thread per probe in
 * flight. The scheduler learns about starts, exits, pauses and removals
 * from the engine's own event log (events.h: the lifecycle code publishes
 * them after the state changed), so the lifecycle code needs no hook;
 * at health_start it looks at every container once (live restore has run
 * by then). It keeps each checked container's next probe time and starts
 * a probe thread when one is due. Why not a thread per container: a
 * container between probes then costs no thread at all, and the one place
 * that decides start/stop is the scheduler; why a thread per probe: a
 * probe blocks in supervisor calls for up to its Timeout, and one slow
 * probe must not hold the others back.
 */
#ifndef BERTH_ENGINED_HEALTH_H
#define BERTH_ENGINED_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "berr.h"
#include "json.h"

struct engine;

/* Docker's defaults (ns) and limits. */
#define HEALTH_DEFAULT_INTERVAL       (30 * 1000000000LL)
#define HEALTH_DEFAULT_TIMEOUT        (30 * 1000000000LL)
#define HEALTH_DEFAULT_START_INTERVAL (5 * 1000000000LL)
#define HEALTH_DEFAULT_RETRIES        3
#define HEALTH_MINIMUM_DURATION       1000000LL /* 1 ms */
#define HEALTH_OUTPUT_MAX             4096
#define HEALTH_LOG_ENTRIES            5

/* A create request's Healthcheck checked as dockerd does (durations 0 or
 * at least 1 ms, Retries not negative): BERR_INVALID with its message. */
int health_config_check(yajl_val healthcheck, struct berr *err);

/* Config.Healthcheck as the checker uses it. */
struct health_config {
    char **argv; /* what runs: Test[1:], after the shell for CMD-SHELL */
    int64_t interval, timeout, start_period, start_interval; /* ns, defaults applied */
    int retries;
};

/* false when there is nothing to check (no Healthcheck, Test empty,
 * "NONE" or an unknown kind). shell: Config.Shell (NULL: /bin/sh -c). */
bool health_config_parse(yajl_val healthcheck, yajl_val shell, struct health_config *out);
void health_config_free(struct health_config *config);

/* Go's spelling of a duration, as Docker's messages show it: "1s",
 * "1.5s", "500ms", "1m30s". */
void health_format_duration(int64_t ns, char *out, size_t size);

/* Starts the scheduler: after live restore (monitor_restore). */
int health_start(struct engine *engine, struct berr *err);
/* Ends it: probes in flight are killed and waited for. Before the
 * supervisor client and the event log go. */
void health_stop(struct engine *engine);

#endif
