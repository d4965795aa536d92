/*
 * containers: the lifecycle of Docker containers over the supervisor.
 *
 * Each operation is what dockerd does, mapped onto supervisor calls:
 *  - create: image lookup, Config/HostConfig (container_config.h), a
 *    record (container_store.h), the image unpacked and an active
 *    snapshot keyed by the container id on its chain, Containers.Create
 *    with the spec. Nothing runs yet.
 *  - start: the sandbox (network namespace, /etc files), the spec again
 *    (the user from the image's passwd), Containers.Update(spec),
 *    Tasks.Create (stdio to the json-file log) and Tasks.Start.
 *  - exits are the monitor's (monitor.h): it records the exit, deletes the
 *    task and applies the restart policy; stop and kill wait for it.
 *  - stop: the stop signal, the timeout, then SIGKILL to every process.
 *  - remove: the task, the supervisor's container, the snapshot, the
 *    network namespace, the record.
 * Results that are not errors but not a change either (start of a
 * running container, stop of a stopped one: HTTP 304) come back as
 * *not_modified. Errors carry Docker's messages and codes (400, 404, 409).
 */
#ifndef BERTH_ENGINED_CONTAINERS_H
#define BERTH_ENGINED_CONTAINERS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "berr.h"
#include "container_store.h"
#include "json.h"

struct engine;

/* body: the create request; name may be NULL. *id (malloc'ed); *warnings
 * NULL-terminated (json_free_string_array). */
int containers_create(struct engine *engine, yajl_val body, const char *name, char **id,
                      char ***warnings, struct berr *err);

int containers_start(struct engine *engine, struct container *container, bool *not_modified,
                     struct berr *err);

/* timeout: seconds, CONTAINERS_DEFAULT_TIMEOUT for the container's
 * StopTimeout, negative to wait for ever; signal 0: its StopSignal. */
#define CONTAINERS_DEFAULT_TIMEOUT INT_MIN
int containers_stop(struct engine *engine, struct container *container, int timeout, int signal,
                    bool *not_modified, struct berr *err);
int containers_restart(struct engine *engine, struct container *container, int timeout, int signal,
                       struct berr *err);
/* SIGKILL waits until the container has exited, as dockerd's kill does. */
int containers_kill(struct engine *engine, struct container *container, int signal,
                    struct berr *err);
int containers_remove(struct engine *engine, struct container *container, bool force,
                      struct berr *err);
int containers_pause(struct engine *engine, struct container *container, struct berr *err);
int containers_unpause(struct engine *engine, struct container *container, struct berr *err);
int containers_rename(struct engine *engine, struct container *container, const char *name,
                      struct berr *err);
int containers_update(struct engine *engine, struct container *container, yajl_val update,
                      struct berr *err);

/* The start the restart policy and live restore use: not a user's start
 * (the restart count and "manually stopped" stay). Takes `operation`. */
int containers_start_by_policy(struct engine *engine, struct container *container,
                               struct berr *err);

/* A restart the policy scheduled (monitor.c): runs only if the container
 * still waits for that restart (ticket) when `operation` is taken. */
int containers_restart_scheduled(struct engine *engine, struct container *container,
                                 uint64_t ticket, struct berr *err);

/* The image's /etc/passwd and /etc/group as the container sees them
 * (malloc'ed; NULL when it has none), for user lookups (start, exec). */
void containers_read_user_files(struct engine *engine, struct container *container, char **passwd,
                                char **group);

/* The snapshot's layer directories (for export, changes, user lookup). */
int containers_layers(struct engine *engine, struct container *container, char ***layers,
                      struct berr *err);

#endif
