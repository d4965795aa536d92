/*
 * runtime: see runtime.h.
 */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "process.h"
#include "shim.h"
#include "unix_socket.h"

#define RUNTIME_LOG_NAME "runtime-log.json"
#define CONSOLE_NAME     "console.sock"

extern char **environ;

static struct runtime_job *queue_head, *queue_tail, *running;

void runtime_job_arg(struct runtime_job *job, const char *arg)
{
    char *copy;

    if (job->argc + 2 > job->argv_capacity) {
        size_t capacity = job->argv_capacity ? job->argv_capacity * 2 : 16;
        char **grown = realloc(job->argv, capacity * sizeof(*grown));
        if (!grown) {
            job->failed_to_build = true;
            return;
        }
        job->argv = grown;
        job->argv_capacity = capacity;
    }
    copy = strdup(arg);
    if (!copy) {
        job->failed_to_build = true;
        return;
    }
    job->argv[job->argc++] = copy;
    job->argv[job->argc] = NULL;
}

struct runtime_job *runtime_job_new(const char *command)
{
    char log_path[4096];
    struct runtime_job *job = calloc(1, sizeof(*job));

    if (!job)
        return NULL;
    job->command = strdup(command);
    job->stdio[0] = job->stdio[1] = job->stdio[2] = -1;
    job->console_listener = -1;
    watch_init(&job->out.watch);
    watch_init(&job->err.watch);
    job->out.job = job->err.job = job;
    if (!job->command) {
        free(job);
        return NULL;
    }
    runtime_job_arg(job, shim.runtime);
    if (shim.runtime_root) {
        runtime_job_arg(job, "--root");
        runtime_job_arg(job, shim.runtime_root);
    }
    snprintf(log_path, sizeof(log_path), "%s/%s", shim.bundle, RUNTIME_LOG_NAME);
    runtime_job_arg(job, "--log");
    runtime_job_arg(job, log_path);
    runtime_job_arg(job, "--log-format");
    runtime_job_arg(job, "json");
    runtime_job_arg(job, command);
    return job;
}

int runtime_job_console_socket(struct runtime_job *job, struct berr *err)
{
    char path[4096];
    int rc;

    snprintf(path, sizeof(path), "%s/%s", shim.bundle, CONSOLE_NAME);
    unlinkat(shim.bundle_fd, CONSOLE_NAME, 0);
    if ((rc = unix_listen(path, &job->console_listener, err)))
        return berr_prefix(err, "console socket");
    unix_bundle_path(CONSOLE_NAME, path, sizeof(path));
    runtime_job_arg(job, "--console-socket");
    runtime_job_arg(job, path);
    return 0;
}

int runtime_job_take_master(struct runtime_job *job, int *master, struct berr *err)
{
    if (job->console_listener < 0)
        return berr_set(err, BERR_INTERNAL, "no console socket");
    return unix_receive_fd(job->console_listener, master, err);
}

/* Closes what the job holds; its memory is freed separately. */
static void release(struct runtime_job *job)
{
    size_t i;

    for (i = 0; i < 3; i++)
        if (job->stdio[i] >= 0) {
            close(job->stdio[i]);
            job->stdio[i] = -1;
        }
    loop_close(&job->out.watch);
    loop_close(&job->err.watch);
    buffer_free(&job->out.data);
    buffer_free(&job->err.data);
    if (job->console_listener >= 0) {
        close(job->console_listener);
        job->console_listener = -1;
        unlinkat(shim.bundle_fd, CONSOLE_NAME, 0);
    }
    if (job->temporary_file) {
        unlinkat(shim.bundle_fd, job->temporary_file, 0);
        free(job->temporary_file);
        job->temporary_file = NULL;
    }
}

static void destroy(void *object)
{
    struct runtime_job *job = object;
    size_t i;

    for (i = 0; i < job->argc; i++)
        free(job->argv[i]);
    free(job->argv);
    free(job->command);
    free(job);
}

void runtime_job_free(struct runtime_job *job)
{
    if (!job)
        return;
    release(job);
    destroy(job);
}

static void on_capture(struct watch *watch, uint32_t events)
{
    struct runtime_capture *capture = watch_owner(watch, struct runtime_capture, watch);
    char chunk[4096];
    ssize_t got;

    (void)events;
    got = read(watch->fd, chunk, sizeof(chunk));
    if (got > 0) {
        if (capture->data.length + (size_t)got <= RUNTIME_CAPTURE_MAX &&
            buffer_append(&capture->data, chunk, (size_t)got) < 0)
            log_warn("runtime output: out of memory");
    } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        loop_close(watch);
    }
}

static void drain_capture(struct runtime_capture *capture)
{
    int rounds;

    for (rounds = 0; rounds < 4096 && watch_open(&capture->watch); rounds++) {
        size_t before = capture->data.length;
        on_capture(&capture->watch, EPOLLIN);
        if (capture->data.length == before && watch_open(&capture->watch))
            break; /* EAGAIN: a descendant holds the pipe; what is there is read */
    }
    loop_close(&capture->watch);
}

/* Opens a capture pipe; *child gets the write side. */
static int open_capture(struct runtime_capture *capture, int *child, struct berr *err)
{
    int ends[2], rc;

    if (pipe2(ends, O_CLOEXEC) < 0)
        return berr_errno(err, errno, "pipe");
    if (fcntl(ends[0], F_SETFL, O_NONBLOCK) < 0) {
        rc = berr_errno(err, errno, "fcntl");
        close(ends[0]);
        close(ends[1]);
        return rc;
    }
    if ((rc = loop_add(&capture->watch, ends[0], EPOLLIN, on_capture, err))) {
        close(ends[0]);
        close(ends[1]);
        return rc;
    }
    *child = ends[1];
    return 0;
}

static int spawn(struct runtime_job *job, struct berr *err)
{
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    sigset_t empty, defaults;
    int fds[3], i, rc, log_fd;

    if (job->failed_to_build)
        return berr_set(err, BERR_NOMEM, "out of memory");
    /* One log per command, so its errors are the ones read back. */
    log_fd =
        openat(shim.bundle_fd, RUNTIME_LOG_NAME, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log_fd >= 0)
        close(log_fd);

    fds[0] = job->stdio[0] >= 0 ? job->stdio[0] : shim.devnull_fd;
    for (i = 1; i < 3; i++) {
        fds[i] = job->stdio[i];
        if (fds[i] < 0) {
            if ((rc = open_capture(i == 1 ? &job->out : &job->err, &job->stdio[i], err)))
                return rc;
            fds[i] = job->stdio[i];
        }
    }
    sigemptyset(&empty);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGCHLD);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGHUP);
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    for (i = 0; i < 3; i++)
        posix_spawn_file_actions_adddup2(&actions, fds[i], i);
    posix_spawnattr_setsigmask(&attributes, &empty);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (job->starts_process)
        process_forget_early_exits();
    rc = posix_spawnp(&job->pid, job->argv[0], &actions, &attributes, job->argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    /* The runtime has its copies now (or failed to start). */
    for (i = 0; i < 3; i++)
        if (job->stdio[i] >= 0) {
            close(job->stdio[i]);
            job->stdio[i] = -1;
        }
    if (rc)
        return berr_errno(err, rc, "run the runtime %s", shim.runtime);
    job->deadline_ms = loop_now_ms() + RUNTIME_TIMEOUT_MS;
    log_debug("runtime %s: pid %d", job->command, (int)job->pid);
    return 0;
}

/* The last error the runtime logged with --log-format json, or "". */
static void read_logged_error(char *out, size_t size)
{
    char text[8192];
    ssize_t got;
    off_t end;
    char *line, *save = NULL;
    int fd = openat(shim.bundle_fd, RUNTIME_LOG_NAME, O_RDONLY | O_CLOEXEC);

    out[0] = '\0';
    if (fd < 0)
        return;
    end = lseek(fd, 0, SEEK_END);
    if (end > (off_t)sizeof(text) - 1)
        lseek(fd, end - (off_t)sizeof(text) + 1, SEEK_SET);
    else
        lseek(fd, 0, SEEK_SET);
    got = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (got <= 0)
        return;
    text[got] = '\0';
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        const char *level = NULL, *message = NULL;
        yajl_val tree;
        struct berr ignored;
        if (json_parse(line, &tree, &ignored))
            continue;
        json_get_string(tree, "level", &level, &ignored);
        json_get_string(tree, "msg", &message, &ignored);
        if (level && message && (!strcmp(level, "error") || !strcmp(level, "fatal")))
            snprintf(out, size, "%s", message);
        yajl_tree_free(tree);
    }
}

/* stderr's text, trimmed, on one line. */
static void captured_stderr(struct runtime_job *job, char *out, size_t size)
{
    size_t length = job->err.data.length, i, used = 0;
    const uint8_t *data = buffer_head(&job->err.data);

    while (length && (data[length - 1] == '\n' || data[length - 1] == ' '))
        length--;
    if (length > 900) { /* the end says what went wrong */
        data += length - 900;
        length = 900;
    }
    for (i = 0; i < length && used + 1 < size; i++)
        out[used++] = data[i] == '\n' ? ';' : (char)data[i];
    out[used] = '\0';
}

static int failure(struct runtime_job *job, struct berr *err)
{
    char message[1024];
    enum berr_code code = BERR_IO;

    if (job->timed_out)
        return berr_set(err, BERR_TIMEOUT, "%s %s: no answer after %d s; killed", shim.runtime,
                        job->command, RUNTIME_TIMEOUT_MS / 1000);
    read_logged_error(message, sizeof(message));
    if (!message[0])
        captured_stderr(job, message, sizeof(message));
    if (!message[0]) {
        if (WIFEXITED(job->wait_status))
            snprintf(message, sizeof(message), "exit status %d", WEXITSTATUS(job->wait_status));
        else
            snprintf(message, sizeof(message), "killed by signal %d", WTERMSIG(job->wait_status));
    }
    if (strstr(message, "does not exist") || strstr(message, "not exist") ||
        strstr(message, "not found"))
        code = BERR_NOT_FOUND;
    return berr_set(err, code, "%s %s: %s", shim.runtime, job->command, message);
}

static void start_next(void);

static void complete(struct runtime_job *job, int rc, struct berr *err)
{
    job->done(job, rc, err);
    if (running == job)
        running = NULL;
    /* Its capture watches may still be named by events of this batch. */
    release(job);
    loop_defer_free(job, destroy);
    start_next();
}

static void start_next(void)
{
    while (!running && queue_head) {
        struct runtime_job *job = queue_head;
        struct berr err;
        int rc;

        queue_head = job->next;
        if (!queue_head)
            queue_tail = NULL;
        job->next = NULL;
        running = job;
        berr_clear(&err);
        rc = spawn(job, &err);
        if (rc) {
            berr_prefix(&err, "%s", job->command);
            complete(job, rc, &err);
        }
    }
}

void runtime_submit(struct runtime_job *job)
{
    if (queue_tail)
        queue_tail->next = job;
    else
        queue_head = job;
    queue_tail = job;
    start_next();
}

bool runtime_reaped(pid_t pid, int wait_status)
{
    struct runtime_job *job = running;
    struct berr err;
    int rc = 0;

    if (!job || job->pid != pid || job->exited)
        return false;
    job->exited = true;
    job->wait_status = wait_status;
    drain_capture(&job->out);
    drain_capture(&job->err);
    berr_clear(&err);
    if (job->timed_out || !WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0)
        rc = failure(job, &err);
    complete(job, rc, &err);
    return true;
}

bool runtime_starts_process(void)
{
    return running && running->starts_process;
}

bool runtime_busy(void)
{
    return running || queue_head;
}

int64_t runtime_next_deadline(void)
{
    return running && !running->timed_out ? running->deadline_ms : -1;
}

void runtime_check_deadline(int64_t now_ms)
{
    if (running && !running->timed_out && running->deadline_ms <= now_ms) {
        log_error("%s %s (pid %d): no answer after %d s; killing it", shim.runtime,
                  running->command, (int)running->pid, RUNTIME_TIMEOUT_MS / 1000);
        running->timed_out = true;
        kill(running->pid, SIGKILL);
    }
}
