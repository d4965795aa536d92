/*
 * health_probe: one run of a health check's command in a running
 * container, over the supervisor (health.h has the rules around it).
 *
 * The probe is an exec process: the container's own "process" from its
 * spec (Containers.Get: user, capabilities, rlimits, cwd, Env) with the
 * probe's argv, no terminal and Env without the TERM a terminal added;
 * Tasks.Exec with its stdout and stderr written by the shim to a JSON-lines
 * log in the container's directory (health-<exec id>.log, rotated at 256
 * KiB), Tasks.Start, Tasks.Wait with the probe's Timeout as the deadline
 * (then Tasks.Kill SIGKILL and Wait again), Tasks.DeleteProcess; the log
 * is read (the first 4096 bytes, "..." if there was more, invalid UTF-8
 * replaced as Go's JSON encoder does) and removed. Events exec_create,
 * exec_start and exec_die as dockerd publishes them for its probes.
 */
#ifndef BERTH_ENGINED_HEALTH_PROBE_H
#define BERTH_ENGINED_HEALTH_PROBE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "container_store.h"
#include "health.h"

struct engine;

#define HEALTH_EXEC_ID_LENGTH 64

struct health_probe_result {
    int64_t start, end; /* ns since the epoch */
    int exit_code;      /* the process's; -1: timed out or could not run */
    char *output;       /* malloc'ed, valid UTF-8 */
};

/* Cancellation: the scheduler sets *cancelled (under *lock) when the
 * engine stops. The probe writes its exec id into exec_id (under *lock)
 * once the process started, so the scheduler can kill it; a probe that
 * starts after the cancellation kills its process itself. */
struct health_probe_control {
    pthread_mutex_t *lock;
    bool *cancelled;
    char *exec_id; /* HEALTH_EXEC_ID_LENGTH + 1 bytes */
};

/* Runs one probe to its end. Never fails: a probe that could not run
 * comes back with exit code -1 and the reason as its output. */
void health_probe_run(struct engine *engine, struct container *container,
                      const struct health_config *config,
                      const struct health_probe_control *control,
                      struct health_probe_result *result);
void health_probe_result_free(struct health_probe_result *result);

/* SIGKILL to a probe's process (a probe that must end now). */
void health_probe_kill(struct engine *engine, const char *container_id, const char *exec_id);

/* The text with every invalid UTF-8 sequence replaced by U+FFFD,
 * malloc'ed (NULL: out of memory). */
char *health_utf8_sanitize(const char *data, size_t length);

/* Removes probe logs a crashed engine left in a container's directory. */
void health_probe_cleanup(const char *container_dir);

#endif
