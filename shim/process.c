/*
 * process: see process.h.
 */
#include "process.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomic_file.h"
#include "json.h"
#include "log.h"
#include "oom.h"
#include "process_io.h"
#include "runtime.h"
#include "service.h"

/* Exits of pids the shim does not know (yet): see process_set_pid. */
#define EARLY_EXITS_MAX 32
static struct {
    pid_t pid;
    int wait_status;
    struct timespec when;
} early_exits[EARLY_EXITS_MAX];
static size_t early_exit_count, early_exit_next;

int process_check_exec_id(const char *exec_id, struct berr *err)
{
    size_t length = strlen(exec_id), i;

    if (length == 0 || length > EXEC_ID_MAX || exec_id[0] == '.')
        return berr_set(err, BERR_INVALID,
                        "exec id \"%.80s\": want 1 to %d characters, not starting with a dot",
                        exec_id, EXEC_ID_MAX);
    for (i = 0; i < length; i++) {
        unsigned char c = (unsigned char)exec_id[i];
        if (!isalnum(c) && c != '_' && c != '.' && c != '-')
            return berr_set(err, BERR_INVALID,
                            "exec id \"%.80s\": only letters, digits, '_', '.' and '-' allowed",
                            exec_id);
    }
    return 0;
}

void process_file_name(const struct process *process, const char *suffix, char *out, size_t size)
{
    if (process->is_init)
        snprintf(out, size, "%s", suffix);
    else
        snprintf(out, size, "exec-%s.%s", process->exec_id, suffix);
}

struct process *process_new(const char *exec_id, bool is_init, struct berr *err)
{
    struct process *process = calloc(1, sizeof(*process)), **tail;

    if (!process) {
        berr_set(err, BERR_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(process->exec_id, sizeof(process->exec_id), "%s", exec_id);
    process->is_init = is_init;
    process->status = PROCESS_NEW;
    process_io_init(process);
    if (is_init) {
        process->next = shim.processes;
        shim.processes = process;
    } else {
        for (tail = &shim.processes; *tail; tail = &(*tail)->next)
            ;
        *tail = process;
    }
    return process;
}

struct process *process_find(const char *exec_id)
{
    struct process *process;

    for (process = shim.processes; process; process = process->next)
        if (strcmp(process->exec_id, exec_id) == 0)
            return process;
    return NULL;
}

static void process_destroy(void *object)
{
    struct process *process = object;

    free(process->process_json);
    free(process);
}

void process_remove(struct process *process)
{
    struct process **link;

    for (link = &shim.processes; *link; link = &(*link)->next)
        if (*link == process) {
            *link = process->next;
            break;
        }
    process_io_close(process);
    loop_defer_free(process, process_destroy);
}

static int exit_code(int wait_status)
{
    if (WIFEXITED(wait_status))
        return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status))
        return 128 + WTERMSIG(wait_status);
    return 255;
}

/* BUNDLE/exit.json or exec-ID.exit.json, what a supervisor reads when the
 * shim itself is gone. */
static void record_exit(const struct process *process)
{
    char name[EXEC_ID_MAX + 32], timestamp[48];
    struct json_writer writer;
    const char *text;
    size_t length;
    struct berr err;

    berr_clear(&err);
    process_file_name(process, "exit.json", name, sizeof(name));
    json_log_format_time(timestamp, sizeof(timestamp), &process->exited_at);
    if (json_writer_init(&writer, false, &err) == 0) {
        json_object_begin(&writer);
        json_kv_string(&writer, "id", shim.id);
        json_kv_string(&writer, "exec_id", process->exec_id);
        json_kv_int(&writer, "pid", process->pid);
        json_kv_int(&writer, "exit_status", process->exit_status);
        json_kv_string(&writer, "exited_at", timestamp);
        json_object_end(&writer);
        if (json_writer_result(&writer, &text, &length, &err) == 0)
            atomic_write_file_at(shim.bundle_fd, name, text, length, 0644, &err);
        json_writer_free(&writer);
    }
    if (err.code)
        log_error("record the exit of %s: %s", name, err.message);
}

static void finish(struct process *process)
{
    if (process->status == PROCESS_STOPPED)
        return;
    process_io_flush_partial_lines(process);
    if (process->is_init) {
        /* An OOM kill is told before the exit it caused; then the cgroup goes. */
        oom_check();
        oom_watch_stop();
    }
    process->status = PROCESS_STOPPED;
    process->drain_deadline_ms = 0;
    service_process_exited(process);
}

void process_check_finished(struct process *process)
{
    if (process->reaped && process->status != PROCESS_STOPPED && process_io_output_ended(process))
        finish(process);
}

static void note_exit(struct process *process, int wait_status, const struct timespec *when)
{
    process->reaped = true;
    process->exit_status = exit_code(wait_status);
    process->exited_at = *when;
    log_info("%s %d exited with status %d", process->is_init ? "init" : process->exec_id,
             (int)process->pid, process->exit_status);
    record_exit(process);
    process_io_drain(process);
    if (process_io_output_ended(process))
        finish(process);
    else
        process->drain_deadline_ms = loop_now_ms() + PROCESS_DRAIN_TIMEOUT_MS;
}

void process_forget_early_exits(void)
{
    early_exit_count = early_exit_next = 0;
}

void process_set_pid(struct process *process, pid_t pid)
{
    size_t i;

    process->pid = pid;
    for (i = 0; i < early_exit_count; i++)
        if (early_exits[i].pid == pid) {
            early_exits[i].pid = 0;
            note_exit(process, early_exits[i].wait_status, &early_exits[i].when);
            return;
        }
}

int process_read_pid_file(const char *name, pid_t *pid, struct berr *err)
{
    char text[32];
    ssize_t got;
    long value;
    char *end;
    int fd = openat(shim.bundle_fd, name, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return berr_errno(err, errno, "open %s/%s", shim.bundle, name);
    got = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (got < 0)
        return berr_errno(err, errno, "read %s/%s", shim.bundle, name);
    text[got] = '\0';
    errno = 0;
    value = strtol(text, &end, 10);
    if (errno || end == text || value <= 0 || value > 0x7fffffff || (*end && !isspace(*end)))
        return berr_set(err, BERR_INVALID, "%s/%s: not a pid: \"%s\"", shim.bundle, name, text);
    *pid = (pid_t)value;
    return 0;
}

static struct process *process_by_pid(pid_t pid)
{
    struct process *process;

    for (process = shim.processes; process; process = process->next)
        if (process->pid == pid && !process->reaped)
            return process;
    return NULL;
}

void process_reap_children(void)
{
    for (;;) {
        struct timespec when;
        struct process *process;
        int wait_status;
        pid_t pid = waitpid(-1, &wait_status, WNOHANG | __WALL);

        if (pid <= 0) {
            if (pid < 0 && errno == EINTR)
                continue;
            break;
        }
        clock_gettime(CLOCK_REALTIME, &when);
        if (runtime_reaped(pid, wait_status))
            continue;
        process = process_by_pid(pid);
        if (process) {
            note_exit(process, wait_status, &when);
        } else if (runtime_starts_process()) {
            /* Maybe a process whose runtime command has not returned yet. */
            early_exits[early_exit_next].pid = pid;
            early_exits[early_exit_next].wait_status = wait_status;
            early_exits[early_exit_next].when = when;
            early_exit_next = (early_exit_next + 1) % EARLY_EXITS_MAX;
            if (early_exit_count < EARLY_EXITS_MAX)
                early_exit_count++;
        } else {
            log_debug("reaped pid %d (not a process of ours)", (int)pid);
        }
    }
}

int64_t process_next_deadline(void)
{
    struct process *process;
    int64_t deadline = -1;

    for (process = shim.processes; process; process = process->next)
        if (process->drain_deadline_ms && (deadline < 0 || process->drain_deadline_ms < deadline))
            deadline = process->drain_deadline_ms;
    return deadline;
}

void process_check_deadlines(int64_t now_ms)
{
    struct process *process, *next;

    for (process = shim.processes; process; process = next) {
        next = process->next;
        if (process->drain_deadline_ms && process->drain_deadline_ms <= now_ms) {
            log_warn("%s %d: output still open %d ms after the exit; reporting the exit",
                     process->is_init ? "init" : process->exec_id, (int)process->pid,
                     PROCESS_DRAIN_TIMEOUT_MS);
            process_io_drain(process);
            finish(process);
        }
    }
}

int process_protocol_status(const struct process *process)
{
    switch (process->status) {
    case PROCESS_NEW:
        return process->is_init ? BERTH__SHIM__V1__STATUS__STATUS_UNKNOWN
                                : BERTH__SHIM__V1__STATUS__STATUS_CREATED;
    case PROCESS_CREATED:
        return BERTH__SHIM__V1__STATUS__STATUS_CREATED;
    case PROCESS_RUNNING:
        return BERTH__SHIM__V1__STATUS__STATUS_RUNNING;
    case PROCESS_PAUSED:
        return BERTH__SHIM__V1__STATUS__STATUS_PAUSED;
    case PROCESS_STOPPED:
        return BERTH__SHIM__V1__STATUS__STATUS_STOPPED;
    }
    return BERTH__SHIM__V1__STATUS__STATUS_UNKNOWN;
}

void process_fill_timestamp(Timestamp *timestamp, const struct timespec *when)
{
    timestamp->seconds = when->tv_sec;
    timestamp->nanos = (int32_t)when->tv_nsec;
}
