/*
 * service_tasks: the Tasks service. Most calls are one request to the
 * task's shim (tasks.h does the bookkeeping); this file translates between
 * the public messages (tasks.proto) and the shim's (shim.proto), and
 * publishes the task events whose moment only the call knows (start,
 * exec-added, paused, resumed; exits come from the shim's event stream).
 *
 * Attach is the one call with two directions: the handler thread carries
 * the client's stdin to the shim while a second thread carries the shim's
 * output back, until the process exits or either side goes away.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "berth/supervisor/v1/tasks.pb-c.h"
#include "berth/supervisor/v1/tasks.pb-rpc.h"
#include "filter.h"
#include "log.h"
#include "shim_client.h"
#include "service_util.h"
#include "supervisor.h"
#include "tasks.h"

static const Berth__Supervisor__V1__Empty empty = BERTH__SUPERVISOR__V1__EMPTY__INIT;

/* ---- helpers ---- */

static int find(struct supervisor *supervisor, const char *namespace, const char *container_id,
                struct task **task, struct berr *err)
{
    if (!container_id || !*container_id)
        return berr_set(err, BERR_INVALID, "container_id is required");
    return task_find(supervisor->tasks, namespace, container_id, task, err);
}

/* One shim request for the task of container_id; *response only on success. */
static int shim_request(struct supervisor *supervisor, const char *namespace,
                        const char *container_id, Berth__Shim__V1__Request *request,
                        Berth__Shim__V1__Response **response, struct berr *err)
{
    struct task *task;
    int rc;

    if ((rc = find(supervisor, namespace, container_id, &task, err)))
        return rc;
    rc = task_call(task, request, response, err);
    task_release(supervisor->tasks, task);
    return rc;
}

static void free_response(Berth__Shim__V1__Response *response)
{
    if (response)
        berth__shim__v1__response__free_unpacked(response, NULL);
}

static Berth__Supervisor__V1__Status status_from_shim(Berth__Shim__V1__Status status)
{
    switch (status) {
    case BERTH__SHIM__V1__STATUS__STATUS_CREATED:
        return BERTH__SUPERVISOR__V1__STATUS__STATUS_CREATED;
    case BERTH__SHIM__V1__STATUS__STATUS_RUNNING:
        return BERTH__SUPERVISOR__V1__STATUS__STATUS_RUNNING;
    case BERTH__SHIM__V1__STATUS__STATUS_STOPPED:
        return BERTH__SUPERVISOR__V1__STATUS__STATUS_STOPPED;
    case BERTH__SHIM__V1__STATUS__STATUS_PAUSED:
        return BERTH__SUPERVISOR__V1__STATUS__STATUS_PAUSED;
    default:
        return BERTH__SUPERVISOR__V1__STATUS__STATUS_UNKNOWN;
    }
}

static const char *status_name(Berth__Supervisor__V1__Status status)
{
    switch (status) {
    case BERTH__SUPERVISOR__V1__STATUS__STATUS_CREATED:
        return "created";
    case BERTH__SUPERVISOR__V1__STATUS__STATUS_RUNNING:
        return "running";
    case BERTH__SUPERVISOR__V1__STATUS__STATUS_STOPPED:
        return "stopped";
    case BERTH__SUPERVISOR__V1__STATUS__STATUS_PAUSED:
        return "paused";
    case BERTH__SUPERVISOR__V1__STATUS__STATUS_PAUSING:
        return "pausing";
    default:
        return "unknown";
    }
}

/* A Process (heap, free with ..._process__free_unpacked) from the shim's state. */
static Berth__Supervisor__V1__Process *process_from_state(const char *container_id,
                                                          const Berth__Shim__V1__ProcessState *in)
{
    Berth__Supervisor__V1__Process *out = calloc(1, sizeof(*out));
    Berth__Supervisor__V1__Timestamp *exited = calloc(1, sizeof(*exited));

    if (!out || !exited) {
        free(out);
        free(exited);
        return NULL;
    }
    berth__supervisor__v1__process__init(out);
    berth__supervisor__v1__timestamp__init(exited);
    out->container_id = strdup(container_id);
    out->id = strdup(in->exec_id ? in->exec_id : "");
    out->pid = in->pid;
    out->status = status_from_shim(in->status);
    out->exit_status = in->exit_status;
    if (in->exited_at) {
        exited->seconds = in->exited_at->seconds;
        exited->nanos = in->exited_at->nanos;
    }
    out->exited_at = exited;
    out->terminal = in->terminal;
    out->stdin = in->stdin;
    if (!out->container_id || !out->id) {
        berth__supervisor__v1__process__free_unpacked(out, NULL);
        return NULL;
    }
    return out;
}

/* The shim's view of every process of the task. */
static int task_state(struct task *task, Berth__Shim__V1__Response **response, struct berr *err)
{
    Berth__Shim__V1__Request request = BERTH__SHIM__V1__REQUEST__INIT;
    Berth__Shim__V1__StateRequest state = BERTH__SHIM__V1__STATE_REQUEST__INIT;
    int rc;

    request.kind_case = BERTH__SHIM__V1__REQUEST__KIND_STATE;
    request.state = &state;
    if ((rc = task_call(task, &request, response, err)))
        return rc;
    if (!(*response)->state) {
        free_response(*response);
        return berr_set(err, BERR_IO, "the shim answered State without a state");
    }
    return 0;
}

static void io_to_shim(const Berth__Supervisor__V1__IO *in, Berth__Shim__V1__IO *out)
{
    if (!in)
        return;
    out->terminal = in->terminal;
    out->stdin = in->stdin;
    out->log_path = in->log_path;
    out->log_max_size = in->log_max_size;
    out->log_max_files = in->log_max_files;
    out->console_width = in->console_width;
    out->console_height = in->console_height;
}

/* ---- Create, Start, Delete ---- */

static int create(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__CreateTaskRequest *request;
    Berth__Supervisor__V1__CreateTaskResponse response =
        BERTH__SUPERVISOR__V1__CREATE_TASK_RESPONSE__INIT;
    const char *namespace;
    uint32_t pid = 0;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if (!*request->container_id)
        rc = berr_set(err, BERR_INVALID, "container_id is required");
    else
        rc = task_create(supervisor->tasks, namespace, request->container_id, request->rootfs,
                         request->n_rootfs, request->io, &pid, err);
    if (rc == 0) {
        response.container_id = request->container_id;
        response.pid = pid;
        rc = rpc_call_send(call, &response.base, err);
    }
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int start(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__StartRequest *request;
    Berth__Supervisor__V1__StartResponse response = BERTH__SUPERVISOR__V1__START_RESPONSE__INIT;
    Berth__Shim__V1__Request shim = BERTH__SHIM__V1__REQUEST__INIT;
    Berth__Shim__V1__StartRequest start_request = BERTH__SHIM__V1__START_REQUEST__INIT;
    Berth__Shim__V1__Response *answer = NULL;
    struct task *task = NULL;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = find(supervisor, namespace, request->container_id, &task, err)))
        goto out;
    start_request.exec_id = request->exec_id;
    shim.kind_case = BERTH__SHIM__V1__REQUEST__KIND_START;
    shim.start = &start_request;
    if ((rc = task_call(task, &shim, &answer, err)))
        goto out;
    response.pid = answer->start ? answer->start->pid : 0;
    task_publish_start(supervisor->tasks, task, request->exec_id, response.pid);
    rc = rpc_call_send(call, &response.base, err);
out:
    free_response(answer);
    task_release(supervisor->tasks, task);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int send_deleted(struct rpc_call *call, const char *id,
                        const Berth__Shim__V1__DeleteResponse *deleted, struct berr *err)
{
    Berth__Supervisor__V1__DeleteResponse response = BERTH__SUPERVISOR__V1__DELETE_RESPONSE__INIT;
    Berth__Supervisor__V1__Timestamp exited = BERTH__SUPERVISOR__V1__TIMESTAMP__INIT;

    response.id = (char *)id;
    response.pid = deleted->pid;
    response.exit_status = deleted->exit_status;
    if (deleted->exited_at) {
        exited.seconds = deleted->exited_at->seconds;
        exited.nanos = deleted->exited_at->nanos;
    }
    response.exited_at = &exited;
    return rpc_call_send(call, &response.base, err);
}

static int delete_task(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__DeleteTaskRequest *request;
    Berth__Shim__V1__DeleteResponse *deleted = NULL;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if (!*request->container_id)
        rc = berr_set(err, BERR_INVALID, "container_id is required");
    else
        rc = task_delete(supervisor->tasks, namespace, request->container_id, NULL, &deleted, err);
    if (rc == 0)
        rc = send_deleted(call, request->container_id, deleted, err);
    if (deleted)
        berth__shim__v1__delete_response__free_unpacked(deleted, NULL);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int delete_process(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__DeleteProcessRequest *request;
    Berth__Shim__V1__DeleteResponse *deleted = NULL;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if (!*request->container_id || !*request->exec_id)
        rc = berr_set(err, BERR_INVALID, "container_id and exec_id are required");
    else
        rc = task_delete(supervisor->tasks, namespace, request->container_id, request->exec_id,
                         &deleted, err);
    if (rc == 0)
        rc = send_deleted(call, request->exec_id, deleted, err);
    if (deleted)
        berth__shim__v1__delete_response__free_unpacked(deleted, NULL);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

/* ---- Get, List ---- */

static int get(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__GetTaskRequest *request;
    Berth__Supervisor__V1__GetTaskResponse response =
        BERTH__SUPERVISOR__V1__GET_TASK_RESPONSE__INIT;
    Berth__Shim__V1__Response *state = NULL;
    struct task *task = NULL;
    const char *namespace;
    size_t i;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = find(supervisor, namespace, request->container_id, &task, err)) ||
        (rc = task_state(task, &state, err)))
        goto out;
    for (i = 0; i < state->state->n_processes; i++)
        if (strcmp(state->state->processes[i]->exec_id, request->exec_id) == 0)
            break;
    if (i == state->state->n_processes) {
        rc = berr_set(err, BERR_NOT_FOUND, "container %s has no process %s", request->container_id,
                      request->exec_id);
        goto out;
    }
    response.process = process_from_state(request->container_id, state->state->processes[i]);
    if (!response.process) {
        rc = berr_set(err, BERR_NOMEM, "out of memory");
        goto out;
    }
    rc = rpc_call_send(call, &response.base, err);
    berth__supervisor__v1__process__free_unpacked(response.process, NULL);
out:
    free_response(state);
    task_release(supervisor->tasks, task);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static const char *process_field(const char *field, void *object)
{
    const Berth__Supervisor__V1__Process *process = object;

    if (strcmp(field, "id") == 0 || strcmp(field, "container_id") == 0)
        return process->container_id;
    if (strcmp(field, "status") == 0)
        return status_name(process->status);
    return NULL;
}

static int list(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__ListTasksRequest *request;
    Berth__Supervisor__V1__ListTasksResponse response =
        BERTH__SUPERVISOR__V1__LIST_TASKS_RESPONSE__INIT;
    struct filter *filter = NULL;
    struct task **tasks = NULL;
    const char *namespace;
    size_t count = 0, i;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = filter_parse((const char *const *)request->filters, request->n_filters, &filter,
                           err)) ||
        (rc = task_list(supervisor->tasks, namespace, &tasks, &count, err)))
        goto out;
    response.tasks = calloc(count ? count : 1, sizeof(*response.tasks));
    if (!response.tasks) {
        rc = berr_set(err, BERR_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < count; i++) {
        Berth__Shim__V1__Response *state = NULL;
        Berth__Supervisor__V1__Process *process;
        struct berr ignored;
        /* A shim that just went away is being cleaned up: not listed. */
        if (task_state(tasks[i], &state, &ignored) != 0)
            continue;
        process = state->state->n_processes
                      ? process_from_state(task_id(tasks[i]), state->state->processes[0])
                      : NULL;
        free_response(state);
        if (!process)
            continue;
        if (filter_match(filter, process_field, process))
            response.tasks[response.n_tasks++] = process;
        else
            berth__supervisor__v1__process__free_unpacked(process, NULL);
    }
    rc = rpc_call_send(call, &response.base, err);
out:
    for (i = 0; i < response.n_tasks; i++)
        berth__supervisor__v1__process__free_unpacked(response.tasks[i], NULL);
    free(response.tasks);
    for (i = 0; i < count; i++)
        task_release(supervisor->tasks, tasks[i]);
    free(tasks);
    filter_free(filter);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

/* ---- Kill, Exec, ResizePty, CloseIO, Pause, Resume, Update ---- */

static int kill_task(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__KillRequest *request;
    Berth__Shim__V1__Request shim = BERTH__SHIM__V1__REQUEST__INIT;
    Berth__Shim__V1__KillRequest kill_request = BERTH__SHIM__V1__KILL_REQUEST__INIT;
    Berth__Shim__V1__Response *answer = NULL;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if (request->signal > 64) {
        rc = berr_set(err, BERR_INVALID, "signal %u: not a signal number", request->signal);
        goto out;
    }
    kill_request.exec_id = request->exec_id;
    kill_request.signal = request->signal;
    kill_request.all = request->all;
    shim.kind_case = BERTH__SHIM__V1__REQUEST__KIND_KILL;
    shim.kill = &kill_request;
    if ((rc = shim_request(supervisor, namespace, request->container_id, &shim, &answer, err)) == 0)
        rc = rpc_call_send(call, &empty.base, err);
out:
    free_response(answer);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int exec_process(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__ExecProcessRequest *request;
    Berth__Shim__V1__Request shim = BERTH__SHIM__V1__REQUEST__INIT;
    Berth__Shim__V1__ExecRequest exec_request = BERTH__SHIM__V1__EXEC_REQUEST__INIT;
    Berth__Shim__V1__IO io = BERTH__SHIM__V1__IO__INIT;
    Berth__Shim__V1__Response *answer = NULL;
    struct task *task = NULL;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if (!*request->exec_id || !request->spec.len) {
        rc = berr_set(err, BERR_INVALID, "exec_id and spec are required");
        goto out;
    }
    if ((rc = find(supervisor, namespace, request->container_id, &task, err)))
        goto out;
    io_to_shim(request->io, &io);
    exec_request.exec_id = request->exec_id;
    exec_request.process = request->spec;
    exec_request.io = &io;
    shim.kind_case = BERTH__SHIM__V1__REQUEST__KIND_EXEC;
    shim.exec = &exec_request;
    if ((rc = task_call(task, &shim, &answer, err)))
        goto out;
    task_publish_exec_added(supervisor->tasks, task, request->exec_id);
    rc = rpc_call_send(call, &empty.base, err);
out:
    free_response(answer);
    task_release(supervisor->tasks, task);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int resize_pty(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__ResizePtyRequest *request;
    Berth__Shim__V1__Request shim = BERTH__SHIM__V1__REQUEST__INIT;
    Berth__Shim__V1__ResizeRequest resize = BERTH__SHIM__V1__RESIZE_REQUEST__INIT;
    Berth__Shim__V1__Response *answer = NULL;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    resize.exec_id = request->exec_id;
    resize.width = request->width;
    resize.height = request->height;
    shim.kind_case = BERTH__SHIM__V1__REQUEST__KIND_RESIZE;
    shim.resize = &resize;
    if ((rc = shim_request(supervisor, namespace, request->container_id, &shim, &answer, err)) == 0)
        rc = rpc_call_send(call, &empty.base, err);
    free_response(answer);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int close_io(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__CloseIORequest *request;
    Berth__Shim__V1__Request shim = BERTH__SHIM__V1__REQUEST__INIT;
    Berth__Shim__V1__CloseIORequest close_request = BERTH__SHIM__V1__CLOSE_IOREQUEST__INIT;
    Berth__Shim__V1__Response *answer = NULL;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    /* stdin is the only stream a client can close. */
    if (!request->stdin) {
        rc = rpc_call_send(call, &empty.base, err);
        goto out;
    }
    close_request.exec_id = request->exec_id;
    shim.kind_case = BERTH__SHIM__V1__REQUEST__KIND_CLOSE_IO;
    shim.close_io = &close_request;
    if ((rc = shim_request(supervisor, namespace, request->container_id, &shim, &answer, err)) == 0)
        rc = rpc_call_send(call, &empty.base, err);
out:
    free_response(answer);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

/* Pause and Resume: the same call with another request and event. */
static int pause_or_resume(struct rpc_call *call, struct supervisor *supervisor, bool pause,
                           struct berr *err)
{
    Berth__Supervisor__V1__PauseTaskRequest *request; /* Resume's has the same shape */
    Berth__Shim__V1__Request shim = BERTH__SHIM__V1__REQUEST__INIT;
    Berth__Shim__V1__PauseRequest pause_request = BERTH__SHIM__V1__PAUSE_REQUEST__INIT;
    Berth__Shim__V1__ResumeRequest resume_request = BERTH__SHIM__V1__RESUME_REQUEST__INIT;
    Berth__Shim__V1__Response *answer = NULL;
    struct task *task = NULL;
    const char *namespace, *container_id;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    container_id = pause ? request->container_id
                         : ((Berth__Supervisor__V1__ResumeTaskRequest *)request)->container_id;
    if ((rc = find(supervisor, namespace, container_id, &task, err)))
        goto out;
    if (pause) {
        shim.kind_case = BERTH__SHIM__V1__REQUEST__KIND_PAUSE;
        shim.pause = &pause_request;
    } else {
        shim.kind_case = BERTH__SHIM__V1__REQUEST__KIND_RESUME;
        shim.resume = &resume_request;
    }
    if ((rc = task_call(task, &shim, &answer, err)))
        goto out;
    task_publish_simple(supervisor->tasks, task, pause ? "/tasks/paused" : "/tasks/resumed");
    rc = rpc_call_send(call, &empty.base, err);
out:
    free_response(answer);
    task_release(supervisor->tasks, task);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int pause_task(struct rpc_call *call, void *data, struct berr *err)
{
    return pause_or_resume(call, data, true, err);
}

static int resume_task(struct rpc_call *call, void *data, struct berr *err)
{
    return pause_or_resume(call, data, false, err);
}

static int update(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__UpdateTaskRequest *request;
    Berth__Shim__V1__Request shim = BERTH__SHIM__V1__REQUEST__INIT;
    Berth__Shim__V1__UpdateRequest update_request = BERTH__SHIM__V1__UPDATE_REQUEST__INIT;
    Berth__Shim__V1__Response *answer = NULL;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if (!request->resources.len) {
        rc = berr_set(err, BERR_INVALID, "resources are required (an OCI LinuxResources object)");
        goto out;
    }
    update_request.resources = request->resources;
    shim.kind_case = BERTH__SHIM__V1__REQUEST__KIND_UPDATE;
    shim.update = &update_request;
    if ((rc = shim_request(supervisor, namespace, request->container_id, &shim, &answer, err)) == 0)
        rc = rpc_call_send(call, &empty.base, err);
out:
    free_response(answer);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

/* ---- ListPids, Metrics, Wait ---- */

static int list_pids(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__ListPidsRequest *request;
    Berth__Supervisor__V1__ListPidsResponse response =
        BERTH__SUPERVISOR__V1__LIST_PIDS_RESPONSE__INIT;
    Berth__Shim__V1__Request shim = BERTH__SHIM__V1__REQUEST__INIT;
    Berth__Shim__V1__PidsRequest pids_request = BERTH__SHIM__V1__PIDS_REQUEST__INIT;
    Berth__Shim__V1__Response *answer = NULL, *state = NULL;
    Berth__Supervisor__V1__ProcessInfo *infos = NULL;
    struct task *task = NULL;
    const char *namespace;
    size_t i, j, count;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    shim.kind_case = BERTH__SHIM__V1__REQUEST__KIND_PIDS;
    shim.pids = &pids_request;
    if ((rc = find(supervisor, namespace, request->container_id, &task, err)) ||
        (rc = task_call(task, &shim, &answer, err)) || (rc = task_state(task, &state, err)))
        goto out;
    count = answer->pids ? answer->pids->n_pids : 0;
    infos = calloc(count ? count : 1, sizeof(*infos));
    response.processes = calloc(count ? count : 1, sizeof(*response.processes));
    if (!infos || !response.processes) {
        rc = berr_set(err, BERR_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < count; i++) {
        berth__supervisor__v1__process_info__init(&infos[i]);
        infos[i].pid = answer->pids->pids[i];
        infos[i].exec_id = (char *)"";
        /* Name the pids that are exec'd processes (the init's is ""). */
        for (j = 0; j < state->state->n_processes; j++)
            if (state->state->processes[j]->pid == infos[i].pid)
                infos[i].exec_id = state->state->processes[j]->exec_id;
        response.processes[i] = &infos[i];
    }
    response.n_processes = count;
    rc = rpc_call_send(call, &response.base, err);
out:
    free(infos);
    free(response.processes);
    free_response(answer);
    free_response(state);
    task_release(supervisor->tasks, task);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static const char *metric_field(const char *field, void *object)
{
    struct task *task = object;

    if (strcmp(field, "id") == 0 || strcmp(field, "container_id") == 0)
        return task_id(task);
    return NULL;
}

static int metrics(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__MetricsRequest *request;
    Berth__Supervisor__V1__MetricsResponse response = BERTH__SUPERVISOR__V1__METRICS_RESPONSE__INIT;
    Berth__Shim__V1__Response **answers = NULL;
    Berth__Supervisor__V1__Metric *metrics = NULL;
    Berth__Supervisor__V1__Timestamp *stamps = NULL;
    struct filter *filter = NULL;
    struct task **tasks = NULL;
    const char *namespace;
    size_t count = 0, i;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = filter_parse((const char *const *)request->filters, request->n_filters, &filter,
                           err)) ||
        (rc = task_list(supervisor->tasks, namespace, &tasks, &count, err)))
        goto out;
    answers = calloc(count ? count : 1, sizeof(*answers));
    metrics = calloc(count ? count : 1, sizeof(*metrics));
    stamps = calloc(count ? count : 1, sizeof(*stamps));
    response.metrics = calloc(count ? count : 1, sizeof(*response.metrics));
    if (!answers || !metrics || !stamps || !response.metrics) {
        rc = berr_set(err, BERR_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < count; i++) {
        Berth__Shim__V1__Request shim = BERTH__SHIM__V1__REQUEST__INIT;
        Berth__Shim__V1__StatsRequest stats = BERTH__SHIM__V1__STATS_REQUEST__INIT;
        Berth__Supervisor__V1__Metric *metric = &metrics[response.n_metrics];
        struct timespec now;
        struct berr ignored;
        if (!filter_match(filter, metric_field, tasks[i]))
            continue;
        shim.kind_case = BERTH__SHIM__V1__REQUEST__KIND_STATS;
        shim.stats = &stats;
        /* A stopped task has no statistics; it is left out, not an error. */
        if (task_call(tasks[i], &shim, &answers[i], &ignored) != 0 || !answers[i]->stats)
            continue;
        clock_gettime(CLOCK_REALTIME, &now);
        berth__supervisor__v1__metric__init(metric);
        berth__supervisor__v1__timestamp__init(&stamps[response.n_metrics]);
        stamps[response.n_metrics].seconds = now.tv_sec;
        stamps[response.n_metrics].nanos = (int32_t)now.tv_nsec;
        metric->container_id = (char *)task_id(tasks[i]);
        metric->timestamp = &stamps[response.n_metrics];
        metric->data = answers[i]->stats->data;
        response.metrics[response.n_metrics++] = metric;
    }
    rc = rpc_call_send(call, &response.base, err);
out:
    for (i = 0; answers && i < count; i++)
        free_response(answers[i]);
    free(answers);
    free(metrics);
    free(stamps);
    free(response.metrics);
    for (i = 0; i < count; i++)
        task_release(supervisor->tasks, tasks[i]);
    free(tasks);
    filter_free(filter);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static bool call_cancelled(void *call)
{
    return rpc_call_cancelled(call);
}

static int wait_task(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__WaitRequest *request;
    Berth__Supervisor__V1__WaitResponse response = BERTH__SUPERVISOR__V1__WAIT_RESPONSE__INIT;
    Berth__Supervisor__V1__Timestamp exited = BERTH__SUPERVISOR__V1__TIMESTAMP__INIT;
    Berth__Shim__V1__WaitResponse *waited = NULL;
    struct task *task = NULL;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = find(supervisor, namespace, request->container_id, &task, err)) ||
        (rc = task_wait(task, request->exec_id, call_cancelled, call, &waited, err)))
        goto out;
    response.exit_status = waited->exit_status;
    if (waited->exited_at) {
        exited.seconds = waited->exited_at->seconds;
        exited.nanos = waited->exited_at->nanos;
    }
    response.exited_at = &exited;
    rc = rpc_call_send(call, &response.base, err);
out:
    if (waited)
        berth__shim__v1__wait_response__free_unpacked(waited, NULL);
    task_release(supervisor->tasks, task);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

/* ---- Attach ---- */

struct attach_output {
    struct rpc_call *call;
    struct shim_client *shim;
    int rc;
    struct berr err;
};

/* Shim → client, until the process exits or a side goes away. */
static void *carry_output(void *argument)
{
    struct attach_output *output = argument;

    for (;;) {
        Berth__Supervisor__V1__AttachResponse response =
            BERTH__SUPERVISOR__V1__ATTACH_RESPONSE__INIT;
        Berth__Shim__V1__AttachFrame *frame = NULL;
        bool exited;
        if (shim_client_receive_frame(output->shim, &frame, &output->err) != 0) {
            output->rc = berr_set(&output->err, BERR_UNAVAILABLE,
                                  "attach: the shim closed the stream before the process exited");
            break;
        }
        response.stream = frame->stream == BERTH__SHIM__V1__ATTACH_FRAME__STREAM__STDERR ? 2 : 1;
        response.data = frame->data;
        response.exited = exited = frame->exited;
        response.exit_status = frame->exit_status;
        output->rc = rpc_call_send(output->call, &response.base, &output->err);
        berth__shim__v1__attach_frame__free_unpacked(frame, NULL);
        if (output->rc || exited)
            break;
    }
    /* The shim is gone: end the call rather than wait for the client. */
    if (output->rc == BERR_UNAVAILABLE)
        rpc_call_abort(output->call, output->rc, output->err.message);
    return NULL;
}

static int forward_input(struct shim_client *shim, const Berth__Supervisor__V1__AttachRequest *in,
                         struct berr *err)
{
    Berth__Shim__V1__AttachFrame frame = BERTH__SHIM__V1__ATTACH_FRAME__INIT;

    if (!in->stdin.len && !in->close_stdin && !in->width && !in->height)
        return 0;
    frame.stream = BERTH__SHIM__V1__ATTACH_FRAME__STREAM__STDIN;
    frame.data = in->stdin;
    frame.close_stdin = in->close_stdin;
    frame.width = in->width;
    frame.height = in->height;
    return shim_client_send_frame(shim, &frame, err);
}

static int attach(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__AttachRequest *first = NULL, *next;
    struct attach_output output = {.call = call};
    struct task *task = NULL;
    const char *namespace;
    pthread_t thread;
    int rc;

    if ((rc = supervisor_namespace(supervisor, call, &namespace, err)))
        return rc;
    rc = rpc_call_receive(call, (ProtobufCMessage **)&first, err);
    if (rc == RPC_END_OF_STREAM)
        return berr_set(err, BERR_INVALID, "attach: the first message must name the process");
    if (rc)
        return rc;
    if ((rc = find(supervisor, namespace, first->container_id, &task, err)) ||
        (rc = task_attach(task, first->exec_id, first->attach_stdin, first->stdout, first->stderr,
                          &output.shim, err)))
        goto out;
    /* The headers say the attach is in place: a client that attaches
     * before it starts the process (docker run) waits for them, and then
     * misses none of the output. */
    if ((rc = rpc_call_send_headers(call, err)))
        goto out;
    if ((rc = pthread_create(&thread, NULL, carry_output, &output))) {
        rc = berr_errno(err, rc, "attach: start a thread");
        goto out;
    }
    /* Client → shim on this thread. A shim write that fails means the shim
     * side is over; the output thread sees it and ends too. */
    rc = forward_input(output.shim, first, err);
    while (rc == 0) {
        rc = rpc_call_receive(call, (ProtobufCMessage **)&next, err);
        if (rc)
            break;
        rc = forward_input(output.shim, next, err);
        protobuf_c_message_free_unpacked(&next->base, NULL);
    }
    if (rc != RPC_END_OF_STREAM) {
        /* The client went away (or the shim did): stop reading the shim. */
        shutdown(shim_client_fd(output.shim), SHUT_RDWR);
    }
    pthread_join(thread, NULL);
    if (rc == RPC_END_OF_STREAM || rc == 0 || output.rc == BERR_UNAVAILABLE) {
        rc = output.rc;
        if (rc)
            *err = output.err;
    }
out:
    shim_client_close(output.shim);
    task_release(supervisor->tasks, task);
    protobuf_c_message_free_unpacked(&first->base, NULL);
    return rc;
}

int service_tasks_register(struct rpc_server *server, struct supervisor *supervisor,
                           struct berr *err)
{
    static const struct {
        int method;
        rpc_handler handler;
    } handlers[] = {
        {BERTH_SUPERVISOR_V1_TASKS_CREATE, create},
        {BERTH_SUPERVISOR_V1_TASKS_START, start},
        {BERTH_SUPERVISOR_V1_TASKS_DELETE, delete_task},
        {BERTH_SUPERVISOR_V1_TASKS_DELETE_PROCESS, delete_process},
        {BERTH_SUPERVISOR_V1_TASKS_GET, get},
        {BERTH_SUPERVISOR_V1_TASKS_LIST, list},
        {BERTH_SUPERVISOR_V1_TASKS_KILL, kill_task},
        {BERTH_SUPERVISOR_V1_TASKS_EXEC, exec_process},
        {BERTH_SUPERVISOR_V1_TASKS_RESIZE_PTY, resize_pty},
        {BERTH_SUPERVISOR_V1_TASKS_CLOSE_IO, close_io},
        {BERTH_SUPERVISOR_V1_TASKS_PAUSE, pause_task},
        {BERTH_SUPERVISOR_V1_TASKS_RESUME, resume_task},
        {BERTH_SUPERVISOR_V1_TASKS_LIST_PIDS, list_pids},
        {BERTH_SUPERVISOR_V1_TASKS_WAIT, wait_task},
        {BERTH_SUPERVISOR_V1_TASKS_METRICS, metrics},
        {BERTH_SUPERVISOR_V1_TASKS_UPDATE, update},
        {BERTH_SUPERVISOR_V1_TASKS_ATTACH, attach},
    };
    int rc;

    for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
        if ((rc =
                 rpc_server_register(server, &berth_supervisor_v1_tasks_methods[handlers[i].method],
                                     handlers[i].handler, supervisor, err)))
            return rc;
    return 0;
}
