/*
 * monitor: what happens to containers when nobody asked: exits, OOM
 * kills, restart policies, --rm, and the engine's own restart.
 *
 * One thread subscribes to the supervisor's events (namespace berth,
 * topics /tasks/exit and /tasks/oom). monitor_start returns only once the
 * supervisor has answered the subscription with its headers, so no exit
 * after that can be missed; when the stream breaks the thread subscribes
 * again and then checks every running container with Tasks.Get (an exit
 * may have gone by meanwhile).
 *
 * An exit of a container's init: the task is deleted (the supervisor
 * hands back its status), the State records ExitCode/FinishedAt/OOMKilled,
 * "die" is published, then the restart policy (Docker's: no, always,
 * on-failure[:N], unless-stopped; back-off from 100 ms doubling to a
 * minute, back to 100 ms after 10 s of running) or AutoRemove. Exits are
 * idempotent: the supervisor replays them after its own restart, and an
 * exit of a container that is not running (or of an older pid) is
 * ignored.
 *
 * Live restore (monitor_restore, at engine start): every record is
 * compared with the supervisor's tasks. Still running: kept as it is.
 * Exited while the engine was down: the exit is recorded and the policy
 * applied. Gone altogether (the supervisor lost it): exit code 255. A
 * stopped container whose policy restarts it (always, unless-stopped not
 * stopped by hand, on-failure after a failure) is started, as dockerd does
 * when it starts. Engine shutdown stops nothing.
 */
#ifndef BERTH_ENGINED_MONITOR_H
#define BERTH_ENGINED_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#include "berr.h"
#include "container_store.h"

struct engine;
struct monitor;

/* For the exec code (later): exits of a container's exec processes. */
typedef void (*monitor_exec_exit)(struct engine *engine, const char *container_id,
                                  const char *exec_id, uint32_t pid, uint32_t status,
                                  int64_t exited_at);

int monitor_start(struct engine *engine, struct berr *err);
/* Ends the thread and the subscription; containers keep running. */
void monitor_stop(struct engine *engine);
void monitor_set_exec_exit(struct engine *engine, monitor_exec_exit handler);

/* Live restore; after monitor_start. */
void monitor_restore(struct engine *engine);

/* Handles an exit of the container's init (from an event, Tasks.Get or
 * restore). pid 0: whatever pid it had. */
void monitor_handle_exit(struct engine *engine, struct container *container, uint32_t pid,
                         uint32_t status, int64_t exited_at);

/* Waits up to timeout_ms for container->exits to pass `exits` (or the
 * container to stop running). If it has not by then, asks the supervisor
 * (an exit whose event was lost) before giving up. True when it exited. */
bool monitor_wait_exit(struct engine *engine, struct container *container, uint64_t exits,
                       int timeout_ms);

/* Drops a scheduled restart of the container. Hold container->lock. */
void monitor_cancel_restart(struct container *container);

#endif
