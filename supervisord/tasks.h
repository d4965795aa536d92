/*
 * tasks: running containers, each through its shim (berth-shim).
 *
 * A task is a container's running init process (and the processes exec'd
 * next to it). Creating one makes a bundle under STATE/NAMESPACE/ID (the
 * container's spec as config.json, its root filesystem mounted at rootfs),
 * starts a shim on it and asks the shim to create the container. From then
 * on the shim owns the processes: it reaps them, keeps their exit status on
 * disk and reports exits; the supervisor keeps one request connection and
 * one event connection per shim, and turns shim events into task events on
 * the bus. A restarted supervisor finds its shims from the state directory
 * (task_manager_restore) and learns from each what happened meanwhile; a
 * shim that died is noticed on its event connection and its container is
 * cleaned up.
 */
#ifndef BERTH_SUPERVISOR_TASKS_H
#define BERTH_SUPERVISOR_TASKS_H

#include <stdbool.h>
#include <stdint.h>

#include "berr.h"
#include "berth/shim/v1/shim.pb-c.h"
#include "berth/supervisor/v1/tasks.pb-c.h"

struct supervisor;
struct task_manager;
struct task;
struct shim_client;

int task_manager_create(struct supervisor *supervisor, struct task_manager **out, struct berr *err);
/* Reconnects to the shims of STATE (after a restart) and starts watching them. */
int task_manager_restore(struct task_manager *manager, struct berr *err);
/* With no daemon running (berth-supervisord --cleanup): stops every
 * container of STATE for good (runtime delete --force, shim killed),
 * unmounts and removes the bundles and forgets the tasks. */
int task_manager_cleanup(struct task_manager *manager, struct berr *err);
/* Stops watching (containers keep running) and frees everything. */
void task_manager_destroy(struct task_manager *manager);

int task_create(struct task_manager *manager, const char *namespace, const char *container_id,
                Berth__Supervisor__V1__Mount **rootfs, size_t rootfs_count,
                const Berth__Supervisor__V1__IO *io, uint32_t *pid, struct berr *err);

/* A task by id, with a reference (task_release). BERR_NOT_FOUND if none. */
int task_find(struct task_manager *manager, const char *namespace, const char *container_id,
              struct task **out, struct berr *err);
void task_release(struct task_manager *manager, struct task *task);

/* One request to the task's shim (request->id is set by the client). */
int task_call(struct task *task, Berth__Shim__V1__Request *request,
              Berth__Shim__V1__Response **response, struct berr *err);

/* Deletes the task (or, with exec_id, one of its processes): its exit status
 * in *deleted. For the task itself, also stops the shim, unmounts and
 * removes the bundle. */
int task_delete(struct task_manager *manager, const char *namespace, const char *container_id,
                const char *exec_id, Berth__Shim__V1__DeleteResponse **deleted, struct berr *err);

/* Blocks until the process exits; gives up (BERR_CANCELLED) when
 * cancelled() says so (checked every few hundred milliseconds). */
int task_wait(struct task *task, const char *exec_id, bool (*cancelled)(void *), void *context,
              Berth__Shim__V1__WaitResponse **response, struct berr *err);

/* A new connection to the task's shim in attach mode. */
int task_attach(struct task *task, const char *exec_id, bool with_stdin, bool with_stdout,
                bool with_stderr, struct shim_client **out, struct berr *err);

/* Every task of a namespace (with a reference each; task_release them). */
int task_list(struct task_manager *manager, const char *namespace, struct task ***tasks,
              size_t *count, struct berr *err);

const char *task_namespace(const struct task *task);
const char *task_id(const struct task *task);
const char *task_bundle(const struct task *task);

/* Publishes a task event (tasks.proto/events.proto) for the service layer. */
void task_publish_start(struct task_manager *manager, struct task *task, const char *exec_id,
                        uint32_t pid);
void task_publish_simple(struct task_manager *manager, struct task *task, const char *topic);
void task_publish_exec_added(struct task_manager *manager, struct task *task, const char *exec_id);

#endif
