/*
 * service: see service.h. One function per request, named after it; the
 * runtime's completions are the *_done functions next to the request that
 * queued them.
 */
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "connection.h"
#include "json.h"
#include "log.h"
#include "oom.h"
#include "process.h"
#include "process_io.h"
#include "runtime.h"
#include "shim.h"

#define PATH_SIZE 4096

static const char *process_name(const struct process *process)
{
    return process->is_init ? "the container's init" : process->exec_id;
}

static void respond_ok(struct connection *connection, uint64_t id)
{
    Response response = RESPONSE_INIT;

    connection_respond(connection, id, &response);
}

static void respond_error(struct connection *connection, uint64_t id, enum berr_code code,
                          const char *format, ...) __attribute__((format(printf, 4, 5)));

static void respond_error(struct connection *connection, uint64_t id, enum berr_code code,
                          const char *format, ...)
{
    struct berr err;
    va_list args;

    berr_clear(&err);
    err.code = code;
    va_start(args, format);
    vsnprintf(err.message, sizeof(err.message), format, args);
    va_end(args);
    connection_respond_error(connection, id, &err);
}

static void bundle_path(const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", shim.bundle, name);
}

static void broadcast_event(Event *event)
{
    Response response = RESPONSE_INIT;
    struct connection *connection, *next;

    response.kind_case = BERTH__SHIM__V1__RESPONSE__KIND_EVENT;
    response.event = event;
    for (connection = shim.connections; connection; connection = next) {
        next = connection->next;
        if (connection->mode == CONNECTION_EVENTS)
            connection_send(connection, &response.base);
    }
}

/* --- runtime jobs on behalf of a request ------------------------------- */

static struct runtime_job *new_job(struct connection *connection, uint64_t id,
                                   struct process *process, const char *command, runtime_done done)
{
    struct runtime_job *job = runtime_job_new(command);

    if (!job)
        return NULL;
    job->connection = connection;
    job->request_id = id;
    job->process = process;
    job->done = done;
    return job;
}

static void submit(struct runtime_job *job)
{
    if (job->connection) {
        job->connection->job = job;
        connection_set_busy(job->connection, job->request_id, WAIT_RUNTIME);
    }
    if (job->process)
        job->process->busy = true;
    runtime_submit(job);
}

static void job_respond(struct runtime_job *job, Response *response)
{
    if (job->connection)
        connection_respond(job->connection, job->request_id, response);
}

static void job_respond_error(struct runtime_job *job, const struct berr *err)
{
    if (job->connection)
        connection_respond_error(job->connection, job->request_id, err);
}

static void job_respond_ok(struct runtime_job *job)
{
    Response response = RESPONSE_INIT;

    job_respond(job, &response);
}

static int devnull_copy(void)
{
    return fcntl(shim.devnull_fd, F_DUPFD_CLOEXEC, 3);
}

static void cleanup_done(struct runtime_job *job, int rc, struct berr *err)
{
    (void)job;
    if (rc)
        log_warn("clean up after a failed start: %s", err->message);
}

/* After a create or exec that half worked: the runtime's container must go. */
static void submit_cleanup_delete(void)
{
    struct runtime_job *job = new_job(NULL, 0, NULL, "delete", cleanup_done);

    if (!job)
        return;
    runtime_job_arg(job, "--force");
    runtime_job_arg(job, shim.id);
    runtime_submit(job);
}

/* --- Create ------------------------------------------------------------ */

static void create_done(struct runtime_job *job, int rc, struct berr *err)
{
    Berth__Shim__V1__CreateResponse created = BERTH__SHIM__V1__CREATE_RESPONSE__INIT;
    Response response = RESPONSE_INIT;
    struct process *process = job->process;
    pid_t pid = 0;
    int master;

    process->busy = false;
    if (!rc)
        rc = process_read_pid_file("init.pid", &pid, err);
    if (!rc && process->terminal) {
        rc = runtime_job_take_master(job, &master, err);
        if (!rc)
            rc = process_io_set_master(process, master, err);
        if (rc)
            submit_cleanup_delete();
    }
    if (rc) {
        berr_prefix(err, "create");
        log_error("%s", err->message);
        process_remove(process);
        job_respond_error(job, err);
        return;
    }
    process->status = PROCESS_CREATED;
    log_info("created: init pid %d", (int)pid);
    if (oom_watch_start(pid, err))
        log_warn("not watching for OOM: %s", err->message);
    process_set_pid(process, pid);
    created.pid = (uint32_t)pid;
    response.kind_case = BERTH__SHIM__V1__RESPONSE__KIND_CREATE;
    response.create = &created;
    job_respond(job, &response);
}

static void handle_create(struct connection *connection, uint64_t id,
                          const Berth__Shim__V1__CreateRequest *request)
{
    char path[PATH_SIZE];
    int child[3] = {-1, -1, -1}, rc = 0, i;
    struct runtime_job *job;
    struct process *process;
    struct berr err;

    berr_clear(&err);
    if (process_find("")) {
        respond_error(connection, id, BERR_EXISTS, "container %s is already created", shim.id);
        return;
    }
    process = process_new("", true, &err);
    if (!process) {
        connection_respond_error(connection, id, &err);
        return;
    }
    rc = process_io_configure(process, request->io, &err);
    if (!rc && !process->terminal)
        rc = process_io_open_pipes(process, child, &err);
    if (!rc && process->terminal) {
        child[1] = devnull_copy();
        child[2] = devnull_copy();
    }
    job = rc ? NULL : new_job(connection, id, process, "create", create_done);
    if (!job) {
        for (i = 0; i < 3; i++)
            if (child[i] >= 0)
                close(child[i]);
        if (!rc)
            berr_set(&err, BERR_NOMEM, "out of memory");
        goto fail;
    }
    for (i = 0; i < 3; i++)
        job->stdio[i] = child[i];
    job->starts_process = true;
    runtime_job_arg(job, "--bundle");
    runtime_job_arg(job, shim.bundle);
    runtime_job_arg(job, "--pid-file");
    bundle_path("init.pid", path, sizeof(path));
    runtime_job_arg(job, path);
    if (process->terminal && runtime_job_console_socket(job, &err)) {
        runtime_job_free(job);
        goto fail;
    }
    runtime_job_arg(job, shim.id);
    unlinkat(shim.bundle_fd, "exit.json", 0);
    submit(job);
    return;

fail:
    berr_prefix(&err, "create");
    process_remove(process);
    connection_respond_error(connection, id, &err);
}

/* --- Start ------------------------------------------------------------- */

static void respond_started(struct runtime_job *job, pid_t pid)
{
    Berth__Shim__V1__StartResponse started = BERTH__SHIM__V1__START_RESPONSE__INIT;
    Response response = RESPONSE_INIT;

    started.pid = (uint32_t)pid;
    response.kind_case = BERTH__SHIM__V1__RESPONSE__KIND_START;
    response.start = &started;
    job_respond(job, &response);
}

static void start_done(struct runtime_job *job, int rc, struct berr *err)
{
    struct process *process = job->process;

    process->busy = false;
    if (rc) {
        job_respond_error(job, err);
        return;
    }
    if (process->status == PROCESS_CREATED)
        process->status = PROCESS_RUNNING;
    log_info("started");
    respond_started(job, process->pid);
}

static void exec_start_done(struct runtime_job *job, int rc, struct berr *err)
{
    Event event = EVENT_INIT;
    struct process *process = job->process;
    char name[EXEC_ID_MAX + 32];
    pid_t pid = 0;
    int master;

    process->busy = false;
    process_file_name(process, "pid", name, sizeof(name));
    if (!rc)
        rc = process_read_pid_file(name, &pid, err);
    if (!rc && process->terminal) {
        rc = runtime_job_take_master(job, &master, err);
        if (!rc)
            rc = process_io_set_master(process, master, err);
        if (rc)
            kill(pid, SIGKILL);
    }
    if (rc) {
        berr_prefix(err, "start exec %s", process->exec_id);
        log_error("%s", err->message);
        process_io_close_stdio(process);
        job_respond_error(job, err);
        return;
    }
    process->status = PROCESS_RUNNING;
    log_info("exec %s started: pid %d", process->exec_id, (int)pid);
    process_set_pid(process, pid);
    event.kind = BERTH__SHIM__V1__EVENT__KIND__EXEC_STARTED;
    event.exec_id = process->exec_id;
    event.pid = (uint32_t)pid;
    broadcast_event(&event);
    respond_started(job, pid);
}

static void start_exec(struct connection *connection, uint64_t id, struct process *process)
{
    struct process *init = process_find("");
    char name[EXEC_ID_MAX + 32], path[PATH_SIZE];
    int child[3] = {-1, -1, -1}, i;
    struct runtime_job *job;
    struct berr err;

    berr_clear(&err);
    if (!init || init->status != PROCESS_RUNNING) {
        respond_error(connection, id, BERR_CONFLICT, "start exec %s: the container is not running",
                      process->exec_id);
        return;
    }
    if (process->status != PROCESS_NEW) {
        respond_error(connection, id, BERR_CONFLICT, "exec %s was already started",
                      process->exec_id);
        return;
    }
    job = new_job(connection, id, process, "exec", exec_start_done);
    if (!job) {
        respond_error(connection, id, BERR_NOMEM, "out of memory");
        return;
    }
    process_file_name(process, "process.json", name, sizeof(name));
    if (atomic_write_file_at_no_sync(shim.bundle_fd, name, process->process_json,
                                     process->process_json_length, 0600, &err))
        goto fail;
    job->temporary_file = strdup(name);
    if (!process->terminal && process_io_open_pipes(process, child, &err))
        goto fail;
    if (process->terminal) {
        child[1] = devnull_copy();
        child[2] = devnull_copy();
    }
    for (i = 0; i < 3; i++)
        job->stdio[i] = child[i];
    job->starts_process = true;
    runtime_job_arg(job, "--process");
    bundle_path(name, path, sizeof(path));
    runtime_job_arg(job, path);
    runtime_job_arg(job, "--detach");
    runtime_job_arg(job, "--pid-file");
    process_file_name(process, "pid", name, sizeof(name));
    unlinkat(shim.bundle_fd, name, 0);
    bundle_path(name, path, sizeof(path));
    runtime_job_arg(job, path);
    if (process->terminal && runtime_job_console_socket(job, &err))
        goto fail;
    runtime_job_arg(job, shim.id);
    submit(job);
    return;

fail:
    if (!job->temporary_file) /* the name was not recorded: remove it here */
        unlinkat(shim.bundle_fd, name, 0);
    runtime_job_free(job);
    process_io_close_stdio(process);
    berr_prefix(&err, "start exec %s", process->exec_id);
    connection_respond_error(connection, id, &err);
}

static struct process *find_process(struct connection *connection, uint64_t id, const char *exec_id)
{
    struct process *process = process_find(exec_id ? exec_id : "");

    if (!process) {
        if (!exec_id || !*exec_id)
            respond_error(connection, id, BERR_NOT_FOUND, "container %s is not created", shim.id);
        else
            respond_error(connection, id, BERR_NOT_FOUND, "no exec %.80s in container %s", exec_id,
                          shim.id);
        return NULL;
    }
    if (process->busy) {
        respond_error(connection, id, BERR_CONFLICT, "%s: another request on it is in progress",
                      process_name(process));
        return NULL;
    }
    return process;
}

static void handle_start(struct connection *connection, uint64_t id,
                         const Berth__Shim__V1__StartRequest *request)
{
    struct process *process = find_process(connection, id, request->exec_id);
    struct runtime_job *job;

    if (!process)
        return;
    if (!process->is_init) {
        start_exec(connection, id, process);
        return;
    }
    if (process->status != PROCESS_CREATED || process->reaped) {
        respond_error(connection, id, BERR_CONFLICT,
                      "container %s cannot start: it is not in the created state", shim.id);
        return;
    }
    job = new_job(connection, id, process, "start", start_done);
    if (!job) {
        respond_error(connection, id, BERR_NOMEM, "out of memory");
        return;
    }
    runtime_job_arg(job, shim.id);
    submit(job);
}

/* --- Kill -------------------------------------------------------------- */

static void simple_done(struct runtime_job *job, int rc, struct berr *err)
{
    if (job->process)
        job->process->busy = false;
    if (rc)
        job_respond_error(job, err);
    else
        job_respond_ok(job);
}

static void handle_kill(struct connection *connection, uint64_t id,
                        const Berth__Shim__V1__KillRequest *request)
{
    struct process *process = find_process(connection, id, request->exec_id);
    unsigned signal_number = request->signal ? request->signal : SIGTERM;
    struct runtime_job *job;
    char number[16];

    if (!process)
        return;
    if (signal_number >= 65) {
        respond_error(connection, id, BERR_INVALID, "kill: no signal %u", signal_number);
        return;
    }
    if (process->status == PROCESS_NEW) {
        respond_error(connection, id, BERR_CONFLICT, "kill: %s is not started",
                      process_name(process));
        return;
    }
    if (process->reaped || (process->is_init && process->deleted)) {
        respond_error(connection, id, BERR_NOT_FOUND, "kill: %s has already exited",
                      process_name(process));
        return;
    }
    if (!process->is_init) {
        /* The shim reaps it, so until then the pid cannot be reused. */
        if (kill(process->pid, (int)signal_number) < 0) {
            respond_error(connection, id, berr_code_from_errno(errno), "kill exec %s: %s",
                          process->exec_id, strerror(errno));
            return;
        }
        respond_ok(connection, id);
        return;
    }
    job = new_job(connection, id, process, "kill", simple_done);
    if (!job) {
        respond_error(connection, id, BERR_NOMEM, "out of memory");
        return;
    }
    if (request->all)
        runtime_job_arg(job, "--all");
    runtime_job_arg(job, shim.id);
    snprintf(number, sizeof(number), "%u", signal_number);
    runtime_job_arg(job, number);
    submit(job);
}

/* --- Delete ------------------------------------------------------------ */

/* Answers those still waiting on a process that goes away, then removes it. */
static void drop_process(struct process *process)
{
    struct connection *connection, *next;

    for (connection = shim.connections; connection; connection = next) {
        next = connection->next;
        if (connection->waiting_on == process && connection->busy)
            respond_error(connection, connection->request_id, BERR_NOT_FOUND, "%s was deleted",
                          process_name(process));
        if (connection->attached == process) {
            connection->attached = NULL;
            connection_set_mode(connection, CONNECTION_CLOSING);
        }
    }
    process_remove(process);
}

static void remove_exec_files(const struct process *process)
{
    static const char *const suffixes[] = {"exit.json", "pid", "process.json"};
    char name[EXEC_ID_MAX + 32];
    size_t i;

    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        process_file_name(process, suffixes[i], name, sizeof(name));
        unlinkat(shim.bundle_fd, name, 0);
    }
}

/* The init is deleted: its execs went with the container. */
static void drop_execs(void)
{
    struct process *process, *next;

    for (process = shim.processes; process; process = next) {
        next = process->next;
        if (!process->is_init) {
            remove_exec_files(process);
            drop_process(process);
        }
    }
}

static void respond_deleted(struct connection *connection, uint64_t id,
                            const struct process *process)
{
    Berth__Shim__V1__DeleteResponse deleted = BERTH__SHIM__V1__DELETE_RESPONSE__INIT;
    Response response = RESPONSE_INIT;
    Timestamp exited_at = TIMESTAMP_INIT;

    deleted.pid = (uint32_t)process->pid;
    deleted.exit_status = (uint32_t)process->exit_status;
    if (process->reaped) {
        process_fill_timestamp(&exited_at, &process->exited_at);
        deleted.exited_at = &exited_at;
    }
    response.kind_case = BERTH__SHIM__V1__RESPONSE__KIND_DELETE;
    response.delete_ = &deleted;
    connection_respond(connection, id, &response);
}

/* The process is stopped and (for the init) the runtime deleted it. */
static void finish_delete(struct connection *connection, uint64_t id, struct process *process)
{
    if (connection)
        respond_deleted(connection, id, process);
    if (process->is_init) {
        log_info("deleted");
        drop_execs();
    } else {
        remove_exec_files(process);
        drop_process(process);
    }
}

static void delete_done(struct runtime_job *job, int rc, struct berr *err)
{
    struct process *process = job->process;
    struct connection *connection = job->connection;

    process->busy = false;
    if (rc) {
        job_respond_error(job, err);
        return;
    }
    process->deleted = true;
    if (process->status == PROCESS_STOPPED) {
        finish_delete(connection, job->request_id, process);
    } else if (connection) {
        /* Killed by the delete: answer once its exit is in (and drop_execs then). */
        connection->job = NULL;
        connection->waiting_on = process;
        connection->wait = WAIT_DELETE_EXIT;
    }
}

static void handle_delete(struct connection *connection, uint64_t id,
                          const Berth__Shim__V1__DeleteRequest *request)
{
    struct process *process = find_process(connection, id, request->exec_id);
    struct runtime_job *job;

    if (!process)
        return;
    if (!process->is_init) {
        if (process->status == PROCESS_NEW || process->status == PROCESS_STOPPED) {
            finish_delete(connection, id, process);
            return;
        }
        if (!process->reaped) {
            if (!request->force) {
                respond_error(connection, id, BERR_CONFLICT,
                              "exec %s is running: kill it first, or force", process->exec_id);
                return;
            }
            kill(process->pid, SIGKILL);
        }
        connection->waiting_on = process;
        connection_set_busy(connection, id, WAIT_DELETE_EXIT);
        return;
    }
    if (process->deleted) {
        respond_error(connection, id, BERR_NOT_FOUND, "container %s is already deleted", shim.id);
        return;
    }
    if (process->status == PROCESS_NEW) {
        respond_error(connection, id, BERR_CONFLICT, "container %s is being created", shim.id);
        return;
    }
    if ((process->status == PROCESS_RUNNING || process->status == PROCESS_PAUSED) &&
        !process->reaped && !request->force) {
        respond_error(connection, id, BERR_CONFLICT,
                      "container %s is running: kill it first, or force", shim.id);
        return;
    }
    job = new_job(connection, id, process, "delete", delete_done);
    if (!job) {
        respond_error(connection, id, BERR_NOMEM, "out of memory");
        return;
    }
    if (request->force)
        runtime_job_arg(job, "--force");
    runtime_job_arg(job, shim.id);
    submit(job);
}

/* --- Exec -------------------------------------------------------------- */

/* The OCI process object with "terminal" (and "consoleSize") as the IO says,
 * so the runtime and the shim agree on how the stdio is wired. */
static int normalize_process_json(struct process *process, const ProtobufCBinaryData *source,
                                  struct berr *err)
{
    struct json_writer writer;
    const char *text;
    char *copy;
    size_t length, i;
    yajl_val tree;
    bool sized = process->console_width || process->console_height;
    int rc;

    if (source->len == 0)
        return berr_set(err, BERR_INVALID, "exec: the process object is empty");
    copy = malloc(source->len + 1);
    if (!copy)
        return berr_set(err, BERR_NOMEM, "out of memory");
    memcpy(copy, source->data, source->len);
    copy[source->len] = '\0';
    rc = json_parse(copy, &tree, err);
    free(copy);
    if (rc)
        return berr_prefix(err, "exec: process");
    if (!YAJL_IS_OBJECT(tree)) {
        yajl_tree_free(tree);
        return berr_set(err, BERR_INVALID, "exec: process is not a JSON object");
    }
    if ((rc = json_writer_init(&writer, false, err))) {
        yajl_tree_free(tree);
        return rc;
    }
    json_object_begin(&writer);
    for (i = 0; i < tree->u.object.len; i++) {
        const char *key = tree->u.object.keys[i];
        if (!strcmp(key, "terminal") || (sized && !strcmp(key, "consoleSize")))
            continue;
        json_key(&writer, key);
        json_value(&writer, tree->u.object.values[i]);
    }
    json_kv_bool(&writer, "terminal", process->terminal);
    if (sized) {
        json_key(&writer, "consoleSize");
        json_object_begin(&writer);
        json_kv_uint(&writer, "height", process->console_height);
        json_kv_uint(&writer, "width", process->console_width);
        json_object_end(&writer);
    }
    json_object_end(&writer);
    yajl_tree_free(tree);
    rc = json_writer_result(&writer, &text, &length, err);
    if (!rc) {
        process->process_json = malloc(length);
        if (process->process_json) {
            memcpy(process->process_json, text, length);
            process->process_json_length = length;
        } else {
            rc = berr_set(err, BERR_NOMEM, "out of memory");
        }
    }
    json_writer_free(&writer);
    return rc;
}

static void handle_exec(struct connection *connection, uint64_t id,
                        const Berth__Shim__V1__ExecRequest *request)
{
    struct process *init = process_find(""), *process;
    struct berr err;

    berr_clear(&err);
    if (process_check_exec_id(request->exec_id, &err)) {
        connection_respond_error(connection, id, &err);
        return;
    }
    if (!init || init->deleted) {
        respond_error(connection, id, BERR_NOT_FOUND, "container %s is not created", shim.id);
        return;
    }
    if (init->status != PROCESS_RUNNING || init->reaped) {
        respond_error(connection, id, BERR_CONFLICT, "container %s is not running", shim.id);
        return;
    }
    if (process_find(request->exec_id)) {
        respond_error(connection, id, BERR_EXISTS, "exec %s already exists", request->exec_id);
        return;
    }
    process = process_new(request->exec_id, false, &err);
    if (!process) {
        connection_respond_error(connection, id, &err);
        return;
    }
    if (process_io_configure(process, request->io, &err) ||
        normalize_process_json(process, &request->process, &err)) {
        process_remove(process);
        connection_respond_error(connection, id, &err);
        return;
    }
    respond_ok(connection, id);
}

/* --- Resize, CloseIO --------------------------------------------------- */

static void handle_resize(struct connection *connection, uint64_t id,
                          const Berth__Shim__V1__ResizeRequest *request)
{
    struct process *process = process_find(request->exec_id);
    struct berr err;

    if (!process) {
        find_process(connection, id, request->exec_id);
        return;
    }
    berr_clear(&err);
    if (process_io_resize(process, request->width, request->height, &err)) {
        connection_respond_error(connection, id, &err);
        return;
    }
    respond_ok(connection, id);
}

static void handle_close_io(struct connection *connection, uint64_t id,
                            const Berth__Shim__V1__CloseIORequest *request)
{
    struct process *process = process_find(request->exec_id);

    if (!process) {
        find_process(connection, id, request->exec_id);
        return;
    }
    process_io_close_stdin(process);
    respond_ok(connection, id);
}

/* --- Pause, Resume, Pids, Stats, Update: the init's container --------- */

/* The init, if the container is there and not stopped; else answers. */
static struct process *live_container(struct connection *connection, uint64_t id, const char *what)
{
    struct process *init = find_process(connection, id, "");

    if (!init)
        return NULL;
    if (init->deleted || init->reaped || init->status == PROCESS_NEW ||
        init->status == PROCESS_STOPPED) {
        respond_error(connection, id, BERR_CONFLICT, "%s: container %s is not running", what,
                      shim.id);
        return NULL;
    }
    return init;
}

static void pause_done(struct runtime_job *job, int rc, struct berr *err)
{
    struct process *process = job->process;

    process->busy = false;
    if (rc) {
        job_respond_error(job, err);
        return;
    }
    if (!process->reaped)
        process->status = PROCESS_PAUSED;
    job_respond_ok(job);
}

static void resume_done(struct runtime_job *job, int rc, struct berr *err)
{
    struct process *process = job->process;

    process->busy = false;
    if (rc) {
        job_respond_error(job, err);
        return;
    }
    if (!process->reaped && process->status == PROCESS_PAUSED)
        process->status = PROCESS_RUNNING;
    job_respond_ok(job);
}

static void handle_pause_resume(struct connection *connection, uint64_t id, bool pause)
{
    struct process *init = live_container(connection, id, pause ? "pause" : "resume");
    struct runtime_job *job;

    if (!init)
        return;
    if (pause && init->status != PROCESS_RUNNING) {
        respond_error(connection, id, BERR_CONFLICT, "pause: container %s is %s", shim.id,
                      init->status == PROCESS_PAUSED ? "already paused" : "not running");
        return;
    }
    if (!pause && init->status != PROCESS_PAUSED) {
        respond_error(connection, id, BERR_CONFLICT, "resume: container %s is not paused", shim.id);
        return;
    }
    job =
        new_job(connection, id, init, pause ? "pause" : "resume", pause ? pause_done : resume_done);
    if (!job) {
        respond_error(connection, id, BERR_NOMEM, "out of memory");
        return;
    }
    runtime_job_arg(job, shim.id);
    submit(job);
}

/* The runtime's stdout as a NUL-terminated string (first line only when
 * first_line), parsed. */
static int parse_output(struct runtime_job *job, bool first_line, yajl_val *tree, struct berr *err)
{
    size_t length = job->out.data.length;
    const char *data = (const char *)buffer_head(&job->out.data);
    char *text;
    const char *newline;
    int rc;

    if (first_line && length && (newline = memchr(data, '\n', length)))
        length = (size_t)(newline - data);
    text = malloc(length + 1);
    if (!text)
        return berr_set(err, BERR_NOMEM, "out of memory");
    if (length)
        memcpy(text, data, length);
    text[length] = '\0';
    rc = json_parse(text, tree, err);
    free(text);
    if (rc)
        berr_prefix(err, "%s %s printed", shim.runtime, job->command);
    return rc;
}

static void pids_done(struct runtime_job *job, int rc, struct berr *err)
{
    Berth__Shim__V1__PidsResponse pids = BERTH__SHIM__V1__PIDS_RESPONSE__INIT;
    Response response = RESPONSE_INIT;
    yajl_val tree = NULL;
    size_t i;

    job->process->busy = false;
    if (!rc)
        rc = parse_output(job, false, &tree, err);
    if (!rc && !YAJL_IS_ARRAY(tree))
        rc = berr_set(err, BERR_IO, "%s ps: not a JSON array", shim.runtime);
    if (!rc) {
        pids.n_pids = tree->u.array.len;
        pids.pids = calloc(pids.n_pids ? pids.n_pids : 1, sizeof(*pids.pids));
        if (!pids.pids)
            rc = berr_set(err, BERR_NOMEM, "out of memory");
        for (i = 0; !rc && i < pids.n_pids; i++) {
            int64_t pid;
            if (!(rc = json_as_int64(tree->u.array.values[i], "pid", &pid, err)))
                pids.pids[i] = (uint32_t)pid;
        }
    }
    if (tree)
        yajl_tree_free(tree);
    if (rc) {
        free(pids.pids);
        job_respond_error(job, err);
        return;
    }
    response.kind_case = BERTH__SHIM__V1__RESPONSE__KIND_PIDS;
    response.pids = &pids;
    job_respond(job, &response);
    free(pids.pids);
}

static void stats_done(struct runtime_job *job, int rc, struct berr *err)
{
    Berth__Shim__V1__StatsResponse stats = BERTH__SHIM__V1__STATS_RESPONSE__INIT;
    Response response = RESPONSE_INIT;
    struct json_writer writer;
    yajl_val tree = NULL, data = NULL;
    const char *text;
    size_t length;

    job->process->busy = false;
    if (!rc)
        rc = parse_output(job, true, &tree, err);
    if (!rc && (!(data = json_get(tree, "data")) || !YAJL_IS_OBJECT(data)))
        rc = berr_set(err, BERR_IO, "%s events --stats: no \"data\" object", shim.runtime);
    if (!rc && !(rc = json_writer_init(&writer, false, err))) {
        json_value(&writer, data);
        rc = json_writer_result(&writer, &text, &length, err);
        if (!rc) {
            stats.data.data = (uint8_t *)text;
            stats.data.len = length;
            response.kind_case = BERTH__SHIM__V1__RESPONSE__KIND_STATS;
            response.stats = &stats;
            job_respond(job, &response);
        }
        json_writer_free(&writer);
    }
    if (tree)
        yajl_tree_free(tree);
    if (rc)
        job_respond_error(job, err);
}

static void handle_query(struct connection *connection, uint64_t id, bool stats)
{
    struct process *init = live_container(connection, id, stats ? "stats" : "pids");
    struct runtime_job *job;

    if (!init)
        return;
    job = new_job(connection, id, init, stats ? "events" : "ps", stats ? stats_done : pids_done);
    if (!job) {
        respond_error(connection, id, BERR_NOMEM, "out of memory");
        return;
    }
    if (stats) {
        runtime_job_arg(job, "--stats");
    } else {
        runtime_job_arg(job, "--format");
        runtime_job_arg(job, "json");
    }
    runtime_job_arg(job, shim.id);
    submit(job);
}

static void handle_update(struct connection *connection, uint64_t id,
                          const Berth__Shim__V1__UpdateRequest *request)
{
    static const char name[] = "update-resources.json";
    struct process *init = live_container(connection, id, "update");
    struct runtime_job *job;
    char path[PATH_SIZE], *text;
    yajl_val tree;
    struct berr err;
    int rc;

    if (!init)
        return;
    berr_clear(&err);
    text = malloc(request->resources.len + 1);
    if (!text) {
        respond_error(connection, id, BERR_NOMEM, "out of memory");
        return;
    }
    if (request->resources.len)
        memcpy(text, request->resources.data, request->resources.len);
    text[request->resources.len] = '\0';
    rc = json_parse(text, &tree, &err);
    free(text);
    if (rc) {
        berr_prefix(&err, "update: resources");
        connection_respond_error(connection, id, &err);
        return;
    }
    rc = YAJL_IS_OBJECT(tree);
    yajl_tree_free(tree);
    if (!rc) {
        respond_error(connection, id, BERR_INVALID, "update: resources is not a JSON object");
        return;
    }
    if (atomic_write_file_at_no_sync(shim.bundle_fd, name, request->resources.data,
                                     request->resources.len, 0600, &err)) {
        connection_respond_error(connection, id, &err);
        return;
    }
    job = new_job(connection, id, init, "update", simple_done);
    if (!job || !(job->temporary_file = strdup(name))) {
        runtime_job_free(job);
        unlinkat(shim.bundle_fd, name, 0);
        respond_error(connection, id, BERR_NOMEM, "out of memory");
        return;
    }
    runtime_job_arg(job, "-r");
    bundle_path(name, path, sizeof(path));
    runtime_job_arg(job, path);
    runtime_job_arg(job, shim.id);
    submit(job);
}

/* --- State, Wait, Subscribe -------------------------------------------- */

static void handle_state(struct connection *connection, uint64_t id)
{
    Berth__Shim__V1__StateResponse state = BERTH__SHIM__V1__STATE_RESPONSE__INIT;
    Response response = RESPONSE_INIT;
    ProcessState *states = NULL, **pointers = NULL;
    Timestamp *times = NULL;
    struct process *process;
    size_t count = 0, i = 0;

    for (process = shim.processes; process; process = process->next)
        count++;
    if (count) {
        states = calloc(count, sizeof(*states));
        pointers = calloc(count, sizeof(*pointers));
        times = calloc(count, sizeof(*times));
        if (!states || !pointers || !times) {
            free(states);
            free(pointers);
            free(times);
            respond_error(connection, id, BERR_NOMEM, "out of memory");
            return;
        }
    }
    for (process = shim.processes; process; process = process->next, i++) {
        ProcessState initial = BERTH__SHIM__V1__PROCESS_STATE__INIT;
        Timestamp zero = TIMESTAMP_INIT;
        states[i] = initial;
        times[i] = zero;
        states[i].exec_id = process->exec_id;
        states[i].pid = (uint32_t)process->pid;
        states[i].status = process_protocol_status(process);
        states[i].terminal = process->terminal;
        states[i].stdin = process->keep_stdin;
        if (process->status == PROCESS_STOPPED) {
            states[i].exit_status = (uint32_t)process->exit_status;
            process_fill_timestamp(&times[i], &process->exited_at);
            states[i].exited_at = &times[i];
        }
        pointers[i] = &states[i];
    }
    state.id = (char *)shim.id;
    state.namespace_ = (char *)shim.namespace_name;
    state.bundle = (char *)shim.bundle;
    state.shim_pid = (uint32_t)shim.pid;
    state.n_processes = count;
    state.processes = pointers;
    response.kind_case = BERTH__SHIM__V1__RESPONSE__KIND_STATE;
    response.state = &state;
    connection_respond(connection, id, &response);
    free(states);
    free(pointers);
    free(times);
}

static void respond_waited(struct connection *connection, uint64_t id,
                           const struct process *process)
{
    Berth__Shim__V1__WaitResponse waited = BERTH__SHIM__V1__WAIT_RESPONSE__INIT;
    Response response = RESPONSE_INIT;
    Timestamp exited_at = TIMESTAMP_INIT;

    waited.exit_status = (uint32_t)process->exit_status;
    process_fill_timestamp(&exited_at, &process->exited_at);
    waited.exited_at = &exited_at;
    response.kind_case = BERTH__SHIM__V1__RESPONSE__KIND_WAIT;
    response.wait = &waited;
    connection_respond(connection, id, &response);
}

static void handle_wait(struct connection *connection, uint64_t id,
                        const Berth__Shim__V1__WaitRequest *request)
{
    struct process *process = process_find(request->exec_id);

    if (!process) {
        find_process(connection, id, request->exec_id);
        return;
    }
    if (process->status == PROCESS_STOPPED) {
        respond_waited(connection, id, process);
        return;
    }
    connection->waiting_on = process;
    connection_set_busy(connection, id, WAIT_EXIT);
}

static void handle_subscribe(struct connection *connection, uint64_t id)
{
    respond_ok(connection, id);
    connection_set_mode(connection, CONNECTION_EVENTS);
}

/* --- Shutdown ---------------------------------------------------------- */

static void shutdown_now(struct connection *connection, uint64_t id)
{
    log_info("shutting down");
    if (connection) {
        respond_ok(connection, id);
        connection_flush(connection);
    }
    shim_exit_soon();
}

static void shutdown_done(struct runtime_job *job, int rc, struct berr *err)
{
    if (job->process)
        job->process->busy = false;
    if (rc)
        log_warn("shutdown: %s", err->message);
    shutdown_now(job->connection, job->request_id);
}

static void handle_shutdown(struct connection *connection, uint64_t id,
                            const Berth__Shim__V1__ShutdownRequest *request)
{
    struct process *init = process_find("");
    struct runtime_job *job;

    if (!init || init->deleted) {
        shutdown_now(connection, id);
        return;
    }
    if (!request->force) {
        respond_error(connection, id, BERR_CONFLICT,
                      "container %s is not deleted: delete it first, or force", shim.id);
        return;
    }
    /* Force: take the container down with the shim. */
    job = new_job(connection, id, NULL, "delete", shutdown_done);
    if (!job) {
        shutdown_now(connection, id);
        return;
    }
    runtime_job_arg(job, "--force");
    runtime_job_arg(job, shim.id);
    submit(job);
}

/* --- Attach ------------------------------------------------------------ */

static void send_exited(struct connection *connection, const struct process *process)
{
    AttachFrame frame = ATTACH_FRAME_INIT;

    frame.stream = STREAM_STDOUT;
    frame.exited = true;
    frame.exit_status = (uint32_t)process->exit_status;
    connection->attached = NULL;
    connection_send(connection, &frame.base);
    connection_set_mode(connection, CONNECTION_CLOSING);
}

static void handle_attach(struct connection *connection, uint64_t id,
                          const Berth__Shim__V1__AttachRequest *request)
{
    struct process *process = process_find(request->exec_id);
    bool stdin_possible;

    if (!process) {
        find_process(connection, id, request->exec_id);
        return;
    }
    stdin_possible = process->keep_stdin && !process->stdin_close_requested &&
                     (process_io_has_stdin(process) || process->status == PROCESS_NEW);
    if (request->stdin && !stdin_possible) {
        respond_error(connection, id, BERR_CONFLICT,
                      "attach: %s has no stdin open (its IO did not keep stdin, or it "
                      "was closed)",
                      process_name(process));
        return;
    }
    respond_ok(connection, id);
    connection->attach_stdin = request->stdin;
    connection->attach_stdout = request->stdout;
    connection->attach_stderr = request->stderr;
    connection->attached = process;
    connection_set_mode(connection, CONNECTION_ATTACH);
    if (process->status == PROCESS_STOPPED)
        send_exited(connection, process);
}

void service_handle_attach_frame(struct connection *connection, const AttachFrame *frame)
{
    struct process *process = connection->attached;

    if (!process)
        return;
    if (connection->attach_stdin && frame->data.len) {
        process_io_write_stdin(process, frame->data.data, frame->data.len);
        if (process_io_stdin_backlogged(process)) {
            connection->stdin_blocked = true;
            connection_update(connection);
        }
    }
    if (connection->attach_stdin && frame->close_stdin)
        process_io_close_stdin(process);
    if (frame->width || frame->height)
        process_io_resize(process, frame->width, frame->height, NULL);
}

void service_output(struct process *process, int stream, const uint8_t *data, size_t length)
{
    AttachFrame frame = ATTACH_FRAME_INIT;
    struct connection *connection, *next;

    frame.stream = stream;
    frame.data.data = (uint8_t *)data;
    frame.data.len = length;
    for (connection = shim.connections; connection; connection = next) {
        next = connection->next;
        if (connection->attached == process && connection->mode == CONNECTION_ATTACH &&
            (stream == STREAM_STDERR ? connection->attach_stderr : connection->attach_stdout))
            connection_send(connection, &frame.base);
    }
}

void service_oom(void)
{
    struct process *init = process_find("");
    Event event = EVENT_INIT;

    event.kind = BERTH__SHIM__V1__EVENT__KIND__OOM;
    event.exec_id = (char *)"";
    event.pid = init ? (uint32_t)init->pid : 0;
    broadcast_event(&event);
}

void service_stdin_drained(struct process *process)
{
    struct connection *connection;

    for (connection = shim.connections; connection; connection = connection->next)
        if (connection->attached == process && connection->stdin_blocked) {
            connection->stdin_blocked = false;
            connection_update(connection);
        }
}

void service_process_exited(struct process *process)
{
    Event event = EVENT_INIT;
    Timestamp exited_at = TIMESTAMP_INIT;
    struct connection *connection, *next;
    bool deleting = false;

    event.kind = BERTH__SHIM__V1__EVENT__KIND__EXIT;
    event.exec_id = process->exec_id;
    event.pid = (uint32_t)process->pid;
    event.exit_status = (uint32_t)process->exit_status;
    process_fill_timestamp(&exited_at, &process->exited_at);
    event.exited_at = &exited_at;
    broadcast_event(&event);

    /* Waiters and attached clients first, deletes after: a delete may
     * remove the process. */
    for (connection = shim.connections; connection; connection = next) {
        next = connection->next;
        if (!watch_open(&connection->watch))
            continue;
        if (connection->waiting_on == process && connection->busy) {
            if (connection->wait == WAIT_EXIT)
                respond_waited(connection, connection->request_id, process);
            else if (connection->wait == WAIT_DELETE_EXIT)
                deleting = true;
        }
        if (connection->attached == process)
            send_exited(connection, process);
    }
    if (deleting) {
        for (connection = shim.connections; connection; connection = next) {
            next = connection->next;
            if (watch_open(&connection->watch) && connection->waiting_on == process &&
                connection->busy && connection->wait == WAIT_DELETE_EXIT)
                respond_deleted(connection, connection->request_id, process);
        }
        if (!process->is_init) {
            remove_exec_files(process);
            drop_process(process);
            return;
        }
    }
    if (process->is_init && process->deleted)
        drop_execs();
}

/* --- dispatch ---------------------------------------------------------- */

void service_handle_request(struct connection *connection, const Request *request)
{
    uint64_t id = request->id;

    switch (request->kind_case) {
    case BERTH__SHIM__V1__REQUEST__KIND_CREATE:
        handle_create(connection, id, request->create);
        break;
    case BERTH__SHIM__V1__REQUEST__KIND_START:
        handle_start(connection, id, request->start);
        break;
    case BERTH__SHIM__V1__REQUEST__KIND_KILL:
        handle_kill(connection, id, request->kill);
        break;
    case BERTH__SHIM__V1__REQUEST__KIND_DELETE:
        handle_delete(connection, id, request->delete_);
        break;
    case BERTH__SHIM__V1__REQUEST__KIND_EXEC:
        handle_exec(connection, id, request->exec);
        break;
    case BERTH__SHIM__V1__REQUEST__KIND_RESIZE:
        handle_resize(connection, id, request->resize);
        break;
    case BERTH__SHIM__V1__REQUEST__KIND_CLOSE_IO:
        handle_close_io(connection, id, request->close_io);
        break;
    case BERTH__SHIM__V1__REQUEST__KIND_PAUSE:
        handle_pause_resume(connection, id, true);
        break;
    case BERTH__SHIM__V1__REQUEST__KIND_RESUME:
        handle_pause_resume(connection, id, false);
        break;
    case BERTH__SHIM__V1__REQUEST__KIND_PIDS:
        handle_query(connection, id, false);
        break;
    case BERTH__SHIM__V1__REQUEST__KIND_STATS:
        handle_query(connection, id, true);
        break;
    case BERTH__SHIM__V1__REQUEST__KIND_UPDATE:
        handle_update(connection, id, request->update);
        break;
    case BERTH__SHIM__V1__REQUEST__KIND_STATE:
        handle_state(connection, id);
        break;
    case BERTH__SHIM__V1__REQUEST__KIND_WAIT:
        handle_wait(connection, id, request->wait);
        break;
    case BERTH__SHIM__V1__REQUEST__KIND_SUBSCRIBE:
        handle_subscribe(connection, id);
        break;
    case BERTH__SHIM__V1__REQUEST__KIND_SHUTDOWN:
        handle_shutdown(connection, id, request->shutdown);
        break;
    case BERTH__SHIM__V1__REQUEST__KIND_ATTACH:
        handle_attach(connection, id, request->attach);
        break;
    default:
        respond_error(connection, id, BERR_INVALID,
                      "request %llu: no request kind this shim knows (%d)", (unsigned long long)id,
                      (int)request->kind_case);
    }
}
