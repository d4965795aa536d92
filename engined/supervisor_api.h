/*
 * supervisor_api: the supervisor calls the engine's container code makes,
 * as plain C functions in the engine's namespace (ENGINE_NAMESPACE).
 *
 * Why: each gRPC call is a dozen lines of protobuf-c ceremony (init the
 * request, fill it, call, check, copy out, free); the lifecycle code reads
 * better as "sv_task_start(client, id, &pid, err)". Every function takes
 * the engine's client, returns 0 or a berr code (NOT_FOUND, CONFLICT, ...
 * as the supervisor's status maps them), and copies out only what callers
 * need, so nothing protobuf-shaped leaks out except where a list is
 * naturally one (mounts, tasks, images).
 */
#ifndef BERTH_ENGINED_SUPERVISOR_API_H
#define BERTH_ENGINED_SUPERVISOR_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berr.h"
#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/images.pb-c.h"
#include "berth/supervisor/v1/snapshots.pb-c.h"
#include "berth/supervisor/v1/tasks.pb-c.h"
#include "grpc_client.h"

/* ---- images ---- */

/* The image named name (as stored). *out: free with
 * berth__supervisor__v1__image__free_unpacked. */
int sv_image_get(struct rpc_client *client, const char *name, Berth__Supervisor__V1__Image **out,
                 struct berr *err);
/* Every image (no filter). */
int sv_image_list(struct rpc_client *client, Berth__Supervisor__V1__ListImagesResponse **out,
                  struct berr *err);
/* The image's config blob and descriptors (the config digest is Docker's
 * image ID). Free with berth__supervisor__v1__image_config_response__free_unpacked. */
int sv_image_config(struct rpc_client *client, const char *name,
                    Berth__Supervisor__V1__ImageConfigResponse **out, struct berr *err);
/* Unpacks the image's layers; *chain_id (malloc'ed) is the top layer's. */
int sv_image_unpack(struct rpc_client *client, const char *name, char **chain_id, struct berr *err);

/* ---- snapshots (overlayfs) ---- */

/* An active snapshot key on parent (may be NULL or ""). mounts may be NULL;
 * else free with berth__supervisor__v1__mounts_response__free_unpacked. */
int sv_snapshot_prepare(struct rpc_client *client, const char *key, const char *parent,
                        Berth__Supervisor__V1__MountsResponse **mounts, struct berr *err);
int sv_snapshot_mounts(struct rpc_client *client, const char *key,
                       Berth__Supervisor__V1__MountsResponse **out, struct berr *err);
/* A missing snapshot is success. */
int sv_snapshot_remove(struct rpc_client *client, const char *key, struct berr *err);
/* Bytes the snapshot itself uses; *parent (malloc'ed, may be NULL) names
 * its parent. */
int sv_snapshot_usage(struct rpc_client *client, const char *key, int64_t *size, char **parent,
                      struct berr *err);

/* ---- containers (metadata) ---- */

/* labels: key, value, ..., NULL (may be NULL). */
int sv_container_create(struct rpc_client *client, const char *id, const char *image,
                        const char *spec, size_t spec_length, const char *snapshot_key,
                        const char *const *labels, struct berr *err);
int sv_container_update_spec(struct rpc_client *client, const char *id, const char *spec,
                             size_t spec_length, struct berr *err);
/* Sets one label of the supervisor's container. */
int sv_container_set_label(struct rpc_client *client, const char *id, const char *key,
                           const char *value, struct berr *err);
/* A missing container is success. */
int sv_container_delete(struct rpc_client *client, const char *id, struct berr *err);

/* ---- tasks ---- */

struct sv_task_io {
    bool terminal;
    bool stdin;
    const char *log_path; /* NULL or "": no log */
    int64_t log_max_size;
    int32_t log_max_files;
    uint32_t console_width, console_height;
};

struct sv_process {
    uint32_t pid;
    Berth__Supervisor__V1__Status status;
    uint32_t exit_status;
    int64_t exited_at; /* ns since the epoch; 0: not exited */
};

int sv_task_create(struct rpc_client *client, const char *id, const struct sv_task_io *io,
                   uint32_t *pid, struct berr *err);
int sv_task_start(struct rpc_client *client, const char *id, uint32_t *pid, struct berr *err);
/* Deletes the (stopped) task; its exit in *process (may be NULL). */
int sv_task_delete(struct rpc_client *client, const char *id, struct sv_process *process,
                   struct berr *err);
int sv_task_get(struct rpc_client *client, const char *id, struct sv_process *out,
                struct berr *err);
/* Every task of the namespace. Free with ..._list_tasks_response__free_unpacked. */
int sv_task_list(struct rpc_client *client, Berth__Supervisor__V1__ListTasksResponse **out,
                 struct berr *err);
int sv_task_kill(struct rpc_client *client, const char *id, int signal, bool all, struct berr *err);
int sv_task_pause(struct rpc_client *client, const char *id, struct berr *err);
int sv_task_resume(struct rpc_client *client, const char *id, struct berr *err);
/* *pids: malloc'ed array of *count pids. */
int sv_task_pids(struct rpc_client *client, const char *id, uint32_t **pids, size_t *count,
                 struct berr *err);
/* resources: an OCI LinuxResources object, JSON. */
int sv_task_update(struct rpc_client *client, const char *id, const char *resources, size_t length,
                   struct berr *err);

/* ---- processes: the init ("" exec id) and execs ---- */

/* The container's OCI spec as stored (*spec malloc'ed, NUL-terminated). */
int sv_container_spec(struct rpc_client *client, const char *id, char **spec, size_t *length,
                      struct berr *err);
/* Adds an exec (created, not started): spec is an OCI "process" object. */
int sv_exec_add(struct rpc_client *client, const char *id, const char *exec_id, const char *spec,
                size_t length, const struct sv_task_io *io, struct berr *err);
int sv_exec_start(struct rpc_client *client, const char *id, const char *exec_id, uint32_t *pid,
                  struct berr *err);
int sv_process_get(struct rpc_client *client, const char *id, const char *exec_id,
                   struct sv_process *out, struct berr *err);
/* Deletes a stopped exec (its exit in *process, may be NULL). */
int sv_process_delete(struct rpc_client *client, const char *id, const char *exec_id,
                      struct sv_process *process, struct berr *err);
/* Signals one process (the init with exec_id "", or an exec). */
int sv_process_kill(struct rpc_client *client, const char *id, const char *exec_id, int signal,
                    struct berr *err);
/* Waits up to timeout_ms for the process to exit (BERR_TIMEOUT after). */
int sv_process_wait(struct rpc_client *client, const char *id, const char *exec_id, int timeout_ms,
                    uint32_t *exit_status, struct berr *err);
int sv_process_resize(struct rpc_client *client, const char *id, const char *exec_id,
                      uint32_t width, uint32_t height, struct berr *err);
int sv_process_close_stdin(struct rpc_client *client, const char *id, const char *exec_id,
                           struct berr *err);
/* The runtime's `events --stats` data object of a running task (*data
 * malloc'ed, NUL-terminated) and when it was read; BERR_NOT_FOUND when the
 * task has none (not running). */
int sv_task_metrics(struct rpc_client *client, const char *id, char **data, int64_t *read_at,
                    struct berr *err);

/* A supervisor Timestamp as ns since the epoch (0 for none). */
int64_t sv_timestamp_ns(const Berth__Supervisor__V1__Timestamp *timestamp);

#endif
