/*
 * supervisor_api: see supervisor_api.h. One helper makes the unary call in
 * the engine's namespace; each function fills its request and copies out
 * what its callers use.
 */
#include "supervisor_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/containers.pb-rpc.h"
#include "berth/supervisor/v1/images.pb-rpc.h"
#include "berth/supervisor/v1/snapshots.pb-rpc.h"
#include "berth/supervisor/v1/tasks.pb-rpc.h"
#include "engine.h"

#define SNAPSHOTTER "overlayfs"

static int call(struct rpc_client *client, const struct rpc_method *method,
                const ProtobufCMessage *request, ProtobufCMessage **response, struct berr *err)
{
    return rpc_client_unary(client, method, ENGINE_NAMESPACE, request, response,
                            ENGINE_RPC_TIMEOUT_MS, err);
}

/* A call whose answer nobody reads (Empty). */
static int call_discard(struct rpc_client *client, const struct rpc_method *method,
                        const ProtobufCMessage *request, struct berr *err)
{
    ProtobufCMessage *response = NULL;
    int rc = call(client, method, request, &response, err);

    if (response)
        protobuf_c_message_free_unpacked(response, NULL);
    return rc;
}

int64_t sv_timestamp_ns(const Berth__Supervisor__V1__Timestamp *timestamp)
{
    if (!timestamp)
        return 0;
    return timestamp->seconds * 1000000000LL + timestamp->nanos;
}

/* ---- images ---- */

int sv_image_get(struct rpc_client *client, const char *name, Berth__Supervisor__V1__Image **out,
                 struct berr *err)
{
    Berth__Supervisor__V1__GetImageRequest request = BERTH__SUPERVISOR__V1__GET_IMAGE_REQUEST__INIT;

    request.name = (char *)name;
    return call(client, &berth_supervisor_v1_images_methods[BERTH_SUPERVISOR_V1_IMAGES_GET],
                &request.base, (ProtobufCMessage **)out, err);
}

int sv_image_list(struct rpc_client *client, Berth__Supervisor__V1__ListImagesResponse **out,
                  struct berr *err)
{
    Berth__Supervisor__V1__ListImagesRequest request =
        BERTH__SUPERVISOR__V1__LIST_IMAGES_REQUEST__INIT;

    return call(client, &berth_supervisor_v1_images_methods[BERTH_SUPERVISOR_V1_IMAGES_LIST],
                &request.base, (ProtobufCMessage **)out, err);
}

int sv_image_config(struct rpc_client *client, const char *name,
                    Berth__Supervisor__V1__ImageConfigResponse **out, struct berr *err)
{
    Berth__Supervisor__V1__ImageConfigRequest request =
        BERTH__SUPERVISOR__V1__IMAGE_CONFIG_REQUEST__INIT;

    request.name = (char *)name;
    return call(client, &berth_supervisor_v1_images_methods[BERTH_SUPERVISOR_V1_IMAGES_CONFIG],
                &request.base, (ProtobufCMessage **)out, err);
}

int sv_image_unpack(struct rpc_client *client, const char *name, char **chain_id, struct berr *err)
{
    Berth__Supervisor__V1__UnpackRequest request = BERTH__SUPERVISOR__V1__UNPACK_REQUEST__INIT;
    Berth__Supervisor__V1__UnpackResponse *response = NULL;
    int rc;

    request.name = (char *)name;
    request.snapshotter = SNAPSHOTTER;
    rc = call(client, &berth_supervisor_v1_images_methods[BERTH_SUPERVISOR_V1_IMAGES_UNPACK],
              &request.base, (ProtobufCMessage **)&response, err);
    if (rc)
        return rc;
    *chain_id = strdup(response->chain_id ? response->chain_id : "");
    berth__supervisor__v1__unpack_response__free_unpacked(response, NULL);
    return *chain_id ? 0 : berr_set(err, BERR_NOMEM, "out of memory");
}

/* ---- snapshots ---- */

int sv_snapshot_prepare(struct rpc_client *client, const char *key, const char *parent,
                        Berth__Supervisor__V1__MountsResponse **mounts, struct berr *err)
{
    Berth__Supervisor__V1__PrepareSnapshotRequest request =
        BERTH__SUPERVISOR__V1__PREPARE_SNAPSHOT_REQUEST__INIT;
    Berth__Supervisor__V1__MountsResponse *response = NULL;
    int rc;

    request.snapshotter = SNAPSHOTTER;
    request.key = (char *)key;
    request.parent = (char *)(parent ? parent : "");
    rc = call(client, &berth_supervisor_v1_snapshots_methods[BERTH_SUPERVISOR_V1_SNAPSHOTS_PREPARE],
              &request.base, (ProtobufCMessage **)&response, err);
    if (rc)
        return rc;
    if (mounts)
        *mounts = response;
    else
        berth__supervisor__v1__mounts_response__free_unpacked(response, NULL);
    return 0;
}

int sv_snapshot_mounts(struct rpc_client *client, const char *key,
                       Berth__Supervisor__V1__MountsResponse **out, struct berr *err)
{
    Berth__Supervisor__V1__MountsRequest request = BERTH__SUPERVISOR__V1__MOUNTS_REQUEST__INIT;

    request.snapshotter = SNAPSHOTTER;
    request.key = (char *)key;
    return call(client,
                &berth_supervisor_v1_snapshots_methods[BERTH_SUPERVISOR_V1_SNAPSHOTS_MOUNTS],
                &request.base, (ProtobufCMessage **)out, err);
}

int sv_snapshot_remove(struct rpc_client *client, const char *key, struct berr *err)
{
    Berth__Supervisor__V1__RemoveSnapshotRequest request =
        BERTH__SUPERVISOR__V1__REMOVE_SNAPSHOT_REQUEST__INIT;
    int rc;

    request.snapshotter = SNAPSHOTTER;
    request.key = (char *)key;
    rc = call_discard(client,
                      &berth_supervisor_v1_snapshots_methods[BERTH_SUPERVISOR_V1_SNAPSHOTS_REMOVE],
                      &request.base, err);
    return rc == BERR_NOT_FOUND ? 0 : rc;
}

int sv_snapshot_usage(struct rpc_client *client, const char *key, int64_t *size, char **parent,
                      struct berr *err)
{
    Berth__Supervisor__V1__UsageRequest usage = BERTH__SUPERVISOR__V1__USAGE_REQUEST__INIT;
    Berth__Supervisor__V1__StatSnapshotRequest stat =
        BERTH__SUPERVISOR__V1__STAT_SNAPSHOT_REQUEST__INIT;
    Berth__Supervisor__V1__UsageResponse *used = NULL;
    Berth__Supervisor__V1__SnapshotInfo *info = NULL;
    int rc;

    usage.snapshotter = SNAPSHOTTER;
    usage.key = (char *)key;
    rc = call(client, &berth_supervisor_v1_snapshots_methods[BERTH_SUPERVISOR_V1_SNAPSHOTS_USAGE],
              &usage.base, (ProtobufCMessage **)&used, err);
    if (rc)
        return rc;
    *size = used->size;
    berth__supervisor__v1__usage_response__free_unpacked(used, NULL);
    if (!parent)
        return 0;
    *parent = NULL;
    stat.snapshotter = SNAPSHOTTER;
    stat.key = (char *)key;
    rc = call(client, &berth_supervisor_v1_snapshots_methods[BERTH_SUPERVISOR_V1_SNAPSHOTS_STAT],
              &stat.base, (ProtobufCMessage **)&info, err);
    if (rc)
        return rc;
    if (info->parent && *info->parent)
        *parent = strdup(info->parent);
    berth__supervisor__v1__snapshot_info__free_unpacked(info, NULL);
    return 0;
}

/* ---- containers ---- */

int sv_container_create(struct rpc_client *client, const char *id, const char *image,
                        const char *spec, size_t spec_length, const char *snapshot_key,
                        const char *const *labels, struct berr *err)
{
    Berth__Supervisor__V1__CreateContainerRequest request =
        BERTH__SUPERVISOR__V1__CREATE_CONTAINER_REQUEST__INIT;
    Berth__Supervisor__V1__Container container = BERTH__SUPERVISOR__V1__CONTAINER__INIT;
    Berth__Supervisor__V1__Container__LabelsEntry entries[8];
    Berth__Supervisor__V1__Container__LabelsEntry *pointers[8];
    size_t count = 0;

    for (; labels && labels[2 * count] && count < 8; count++) {
        berth__supervisor__v1__container__labels_entry__init(&entries[count]);
        entries[count].key = (char *)labels[2 * count];
        entries[count].value = (char *)labels[2 * count + 1];
        pointers[count] = &entries[count];
    }
    container.id = (char *)id;
    container.image = (char *)image;
    container.spec.data = (uint8_t *)spec;
    container.spec.len = spec_length;
    container.snapshotter = SNAPSHOTTER;
    container.snapshot_key = (char *)snapshot_key;
    container.n_labels = count;
    container.labels = pointers;
    request.container = &container;
    return call_discard(
        client, &berth_supervisor_v1_containers_methods[BERTH_SUPERVISOR_V1_CONTAINERS_CREATE],
        &request.base, err);
}

int sv_container_update_spec(struct rpc_client *client, const char *id, const char *spec,
                             size_t spec_length, struct berr *err)
{
    Berth__Supervisor__V1__UpdateContainerRequest request =
        BERTH__SUPERVISOR__V1__UPDATE_CONTAINER_REQUEST__INIT;
    Berth__Supervisor__V1__Container container = BERTH__SUPERVISOR__V1__CONTAINER__INIT;
    char *mask[] = {"spec"};

    container.id = (char *)id;
    container.spec.data = (uint8_t *)spec;
    container.spec.len = spec_length;
    request.container = &container;
    request.update_mask = mask;
    request.n_update_mask = 1;
    return call_discard(
        client, &berth_supervisor_v1_containers_methods[BERTH_SUPERVISOR_V1_CONTAINERS_UPDATE],
        &request.base, err);
}

int sv_container_set_label(struct rpc_client *client, const char *id, const char *key,
                           const char *value, struct berr *err)
{
    Berth__Supervisor__V1__UpdateContainerRequest request =
        BERTH__SUPERVISOR__V1__UPDATE_CONTAINER_REQUEST__INIT;
    Berth__Supervisor__V1__Container container = BERTH__SUPERVISOR__V1__CONTAINER__INIT;
    Berth__Supervisor__V1__Container__LabelsEntry entry =
        BERTH__SUPERVISOR__V1__CONTAINER__LABELS_ENTRY__INIT;
    Berth__Supervisor__V1__Container__LabelsEntry *entries[] = {&entry};
    char mask[256], *masks[] = {mask};

    snprintf(mask, sizeof(mask), "labels.%s", key);
    entry.key = (char *)key;
    entry.value = (char *)value;
    container.id = (char *)id;
    container.labels = entries;
    container.n_labels = 1;
    request.container = &container;
    request.update_mask = masks;
    request.n_update_mask = 1;
    return call_discard(
        client, &berth_supervisor_v1_containers_methods[BERTH_SUPERVISOR_V1_CONTAINERS_UPDATE],
        &request.base, err);
}

int sv_container_delete(struct rpc_client *client, const char *id, struct berr *err)
{
    Berth__Supervisor__V1__DeleteContainerRequest request =
        BERTH__SUPERVISOR__V1__DELETE_CONTAINER_REQUEST__INIT;
    int rc;

    request.id = (char *)id;
    rc = call_discard(
        client, &berth_supervisor_v1_containers_methods[BERTH_SUPERVISOR_V1_CONTAINERS_DELETE],
        &request.base, err);
    return rc == BERR_NOT_FOUND ? 0 : rc;
}

/* ---- tasks ---- */

int sv_task_create(struct rpc_client *client, const char *id, const struct sv_task_io *io,
                   uint32_t *pid, struct berr *err)
{
    Berth__Supervisor__V1__CreateTaskRequest request =
        BERTH__SUPERVISOR__V1__CREATE_TASK_REQUEST__INIT;
    Berth__Supervisor__V1__IO task_io = BERTH__SUPERVISOR__V1__IO__INIT;
    Berth__Supervisor__V1__CreateTaskResponse *response = NULL;
    int rc;

    task_io.terminal = io->terminal;
    task_io.stdin = io->stdin;
    task_io.log_path = (char *)(io->log_path ? io->log_path : "");
    task_io.log_max_size = io->log_max_size;
    task_io.log_max_files = io->log_max_files;
    task_io.console_width = io->console_width;
    task_io.console_height = io->console_height;
    request.container_id = (char *)id;
    request.io = &task_io;
    rc = call(client, &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_CREATE],
              &request.base, (ProtobufCMessage **)&response, err);
    if (rc)
        return rc;
    if (pid)
        *pid = response->pid;
    berth__supervisor__v1__create_task_response__free_unpacked(response, NULL);
    return 0;
}

int sv_task_start(struct rpc_client *client, const char *id, uint32_t *pid, struct berr *err)
{
    return sv_exec_start(client, id, "", pid, err);
}

/* A Delete's answer into *process (may be NULL); frees the response. */
static int take_deleted(Berth__Supervisor__V1__DeleteResponse *response, struct sv_process *process)
{
    if (process) {
        process->pid = response->pid;
        process->status = BERTH__SUPERVISOR__V1__STATUS__STATUS_STOPPED;
        process->exit_status = response->exit_status;
        process->exited_at = sv_timestamp_ns(response->exited_at);
    }
    berth__supervisor__v1__delete_response__free_unpacked(response, NULL);
    return 0;
}

int sv_task_delete(struct rpc_client *client, const char *id, struct sv_process *process,
                   struct berr *err)
{
    Berth__Supervisor__V1__DeleteTaskRequest request =
        BERTH__SUPERVISOR__V1__DELETE_TASK_REQUEST__INIT;
    Berth__Supervisor__V1__DeleteResponse *response = NULL;
    int rc;

    request.container_id = (char *)id;
    rc = call(client, &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_DELETE],
              &request.base, (ProtobufCMessage **)&response, err);
    if (rc)
        return rc;
    return take_deleted(response, process);
}

int sv_task_get(struct rpc_client *client, const char *id, struct sv_process *out, struct berr *err)
{
    return sv_process_get(client, id, "", out, err);
}

int sv_task_list(struct rpc_client *client, Berth__Supervisor__V1__ListTasksResponse **out,
                 struct berr *err)
{
    Berth__Supervisor__V1__ListTasksRequest request =
        BERTH__SUPERVISOR__V1__LIST_TASKS_REQUEST__INIT;

    return call(client, &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_LIST],
                &request.base, (ProtobufCMessage **)out, err);
}

/* Kill of the init (exec_id "") or of an exec; all: every process of the task. */
static int send_kill(struct rpc_client *client, const char *id, const char *exec_id, int signal,
                     bool all, struct berr *err)
{
    Berth__Supervisor__V1__KillRequest request = BERTH__SUPERVISOR__V1__KILL_REQUEST__INIT;

    request.container_id = (char *)id;
    request.exec_id = (char *)exec_id;
    request.signal = (uint32_t)signal;
    request.all = all;
    return call_discard(client, &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_KILL],
                        &request.base, err);
}

int sv_task_kill(struct rpc_client *client, const char *id, int signal, bool all, struct berr *err)
{
    return send_kill(client, id, "", signal, all, err);
}

int sv_task_pause(struct rpc_client *client, const char *id, struct berr *err)
{
    Berth__Supervisor__V1__PauseTaskRequest request =
        BERTH__SUPERVISOR__V1__PAUSE_TASK_REQUEST__INIT;

    request.container_id = (char *)id;
    return call_discard(client, &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_PAUSE],
                        &request.base, err);
}

int sv_task_resume(struct rpc_client *client, const char *id, struct berr *err)
{
    Berth__Supervisor__V1__ResumeTaskRequest request =
        BERTH__SUPERVISOR__V1__RESUME_TASK_REQUEST__INIT;

    request.container_id = (char *)id;
    return call_discard(client,
                        &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_RESUME],
                        &request.base, err);
}

int sv_task_pids(struct rpc_client *client, const char *id, uint32_t **pids, size_t *count,
                 struct berr *err)
{
    Berth__Supervisor__V1__ListPidsRequest request = BERTH__SUPERVISOR__V1__LIST_PIDS_REQUEST__INIT;
    Berth__Supervisor__V1__ListPidsResponse *response = NULL;
    size_t i;
    int rc;

    request.container_id = (char *)id;
    rc = call(client, &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_LIST_PIDS],
              &request.base, (ProtobufCMessage **)&response, err);
    if (rc)
        return rc;
    *pids = calloc(response->n_processes ? response->n_processes : 1, sizeof(**pids));
    if (!*pids) {
        berth__supervisor__v1__list_pids_response__free_unpacked(response, NULL);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    for (i = 0; i < response->n_processes; i++)
        (*pids)[i] = response->processes[i]->pid;
    *count = response->n_processes;
    berth__supervisor__v1__list_pids_response__free_unpacked(response, NULL);
    return 0;
}

int sv_task_update(struct rpc_client *client, const char *id, const char *resources, size_t length,
                   struct berr *err)
{
    Berth__Supervisor__V1__UpdateTaskRequest request =
        BERTH__SUPERVISOR__V1__UPDATE_TASK_REQUEST__INIT;

    request.container_id = (char *)id;
    request.resources.data = (uint8_t *)resources;
    request.resources.len = length;
    return call_discard(client,
                        &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_UPDATE],
                        &request.base, err);
}

/* ---- processes ---- */

static void fill_io(Berth__Supervisor__V1__IO *out, const struct sv_task_io *io)
{
    out->terminal = io->terminal;
    out->stdin = io->stdin;
    out->log_path = (char *)(io->log_path ? io->log_path : "");
    out->log_max_size = io->log_max_size;
    out->log_max_files = io->log_max_files;
    out->console_width = io->console_width;
    out->console_height = io->console_height;
}

int sv_container_spec(struct rpc_client *client, const char *id, char **spec, size_t *length,
                      struct berr *err)
{
    Berth__Supervisor__V1__GetContainerRequest request =
        BERTH__SUPERVISOR__V1__GET_CONTAINER_REQUEST__INIT;
    Berth__Supervisor__V1__Container *response = NULL;
    int rc;

    request.id = (char *)id;
    rc = call(client, &berth_supervisor_v1_containers_methods[BERTH_SUPERVISOR_V1_CONTAINERS_GET],
              &request.base, (ProtobufCMessage **)&response, err);
    if (rc)
        return rc;
    *spec = strndup((const char *)response->spec.data, response->spec.len);
    *length = response->spec.len;
    berth__supervisor__v1__container__free_unpacked(response, NULL);
    return *spec ? 0 : berr_set(err, BERR_NOMEM, "out of memory");
}

int sv_exec_add(struct rpc_client *client, const char *id, const char *exec_id, const char *spec,
                size_t length, const struct sv_task_io *io, struct berr *err)
{
    Berth__Supervisor__V1__ExecProcessRequest request =
        BERTH__SUPERVISOR__V1__EXEC_PROCESS_REQUEST__INIT;
    Berth__Supervisor__V1__IO task_io = BERTH__SUPERVISOR__V1__IO__INIT;

    fill_io(&task_io, io);
    request.container_id = (char *)id;
    request.exec_id = (char *)exec_id;
    request.spec.data = (uint8_t *)spec;
    request.spec.len = length;
    request.io = &task_io;
    return call_discard(client, &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_EXEC],
                        &request.base, err);
}

int sv_exec_start(struct rpc_client *client, const char *id, const char *exec_id, uint32_t *pid,
                  struct berr *err)
{
    Berth__Supervisor__V1__StartRequest request = BERTH__SUPERVISOR__V1__START_REQUEST__INIT;
    Berth__Supervisor__V1__StartResponse *response = NULL;
    int rc;

    request.container_id = (char *)id;
    request.exec_id = (char *)exec_id;
    rc = call(client, &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_START],
              &request.base, (ProtobufCMessage **)&response, err);
    if (rc)
        return rc;
    if (pid)
        *pid = response->pid;
    berth__supervisor__v1__start_response__free_unpacked(response, NULL);
    return 0;
}

int sv_process_get(struct rpc_client *client, const char *id, const char *exec_id,
                   struct sv_process *out, struct berr *err)
{
    Berth__Supervisor__V1__GetTaskRequest request = BERTH__SUPERVISOR__V1__GET_TASK_REQUEST__INIT;
    Berth__Supervisor__V1__GetTaskResponse *response = NULL;
    int rc;

    request.container_id = (char *)id;
    request.exec_id = (char *)exec_id;
    rc = call(client, &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_GET],
              &request.base, (ProtobufCMessage **)&response, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    if (response->process) {
        out->pid = response->process->pid;
        out->status = response->process->status;
        out->exit_status = response->process->exit_status;
        out->exited_at = sv_timestamp_ns(response->process->exited_at);
    }
    berth__supervisor__v1__get_task_response__free_unpacked(response, NULL);
    return 0;
}

int sv_process_delete(struct rpc_client *client, const char *id, const char *exec_id,
                      struct sv_process *process, struct berr *err)
{
    Berth__Supervisor__V1__DeleteProcessRequest request =
        BERTH__SUPERVISOR__V1__DELETE_PROCESS_REQUEST__INIT;
    Berth__Supervisor__V1__DeleteResponse *response = NULL;
    int rc;

    request.container_id = (char *)id;
    request.exec_id = (char *)exec_id;
    rc = call(client, &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_DELETE_PROCESS],
              &request.base, (ProtobufCMessage **)&response, err);
    if (rc)
        return rc;
    return take_deleted(response, process);
}

int sv_process_kill(struct rpc_client *client, const char *id, const char *exec_id, int signal,
                    struct berr *err)
{
    return send_kill(client, id, exec_id, signal, false, err);
}

int sv_process_wait(struct rpc_client *client, const char *id, const char *exec_id, int timeout_ms,
                    uint32_t *exit_status, struct berr *err)
{
    Berth__Supervisor__V1__WaitRequest request = BERTH__SUPERVISOR__V1__WAIT_REQUEST__INIT;
    Berth__Supervisor__V1__WaitResponse *response = NULL;
    int rc;

    request.container_id = (char *)id;
    request.exec_id = (char *)exec_id;
    rc = rpc_client_unary(
        client, &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_WAIT],
        ENGINE_NAMESPACE, &request.base, (ProtobufCMessage **)&response, timeout_ms, err);
    if (rc)
        return rc;
    *exit_status = response->exit_status;
    berth__supervisor__v1__wait_response__free_unpacked(response, NULL);
    return 0;
}

int sv_process_resize(struct rpc_client *client, const char *id, const char *exec_id,
                      uint32_t width, uint32_t height, struct berr *err)
{
    Berth__Supervisor__V1__ResizePtyRequest request =
        BERTH__SUPERVISOR__V1__RESIZE_PTY_REQUEST__INIT;

    request.container_id = (char *)id;
    request.exec_id = (char *)(exec_id ? exec_id : "");
    request.width = width;
    request.height = height;
    return call_discard(client,
                        &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_RESIZE_PTY],
                        &request.base, err);
}

int sv_process_close_stdin(struct rpc_client *client, const char *id, const char *exec_id,
                           struct berr *err)
{
    Berth__Supervisor__V1__CloseIORequest request = BERTH__SUPERVISOR__V1__CLOSE_IOREQUEST__INIT;

    request.container_id = (char *)id;
    request.exec_id = (char *)(exec_id ? exec_id : "");
    request.stdin = true;
    return call_discard(client,
                        &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_CLOSE_IO],
                        &request.base, err);
}

int sv_task_metrics(struct rpc_client *client, const char *id, char **data, int64_t *read_at,
                    struct berr *err)
{
    Berth__Supervisor__V1__MetricsRequest request = BERTH__SUPERVISOR__V1__METRICS_REQUEST__INIT;
    Berth__Supervisor__V1__MetricsResponse *response = NULL;
    char filter[128], *filters[] = {filter};
    int rc;

    snprintf(filter, sizeof(filter), "id==%s", id);
    request.filters = filters;
    request.n_filters = 1;
    rc = call(client, &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_METRICS],
              &request.base, (ProtobufCMessage **)&response, err);
    if (rc)
        return rc;
    if (response->n_metrics < 1) {
        rc = berr_set(err, BERR_NOT_FOUND, "container %s has no statistics (not running)", id);
    } else {
        const Berth__Supervisor__V1__Metric *metric = response->metrics[0];
        *data = strndup((const char *)metric->data.data, metric->data.len);
        *read_at = sv_timestamp_ns(metric->timestamp);
        if (!*data)
            rc = berr_set(err, BERR_NOMEM, "out of memory");
    }
    berth__supervisor__v1__metrics_response__free_unpacked(response, NULL);
    return rc;
}
