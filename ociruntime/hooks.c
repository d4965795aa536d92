/*
 * hooks: see hooks.h.
 */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

#define HOOK_STACK_SIZE (64 * 1024)

/* The hook's process runs on this stack until it execs (CLONE_VFORK keeps
 * the caller waiting meanwhile, so one stack serves every hook). */
static char hook_stack[HOOK_STACK_SIZE] __attribute__((aligned(16)));

struct hook_launch {
    const struct spec_hook *hook;
    int stdin_fd;
};

const char *hooks_kind_name(enum spec_hook_kind kind)
{
    static const char *const names[HOOK_KIND_COUNT] = {
        [HOOK_PRESTART] = "prestart",
        [HOOK_CREATE_RUNTIME] = "createRuntime",
        [HOOK_CREATE_CONTAINER] = "createContainer",
        [HOOK_START_CONTAINER] = "startContainer",
        [HOOK_POSTSTART] = "poststart",
        [HOOK_POSTSTOP] = "poststop",
    };
    return names[kind];
}

static int hook_process(void *argument)
{
    const struct hook_launch *launch = argument;
    const struct spec_hook *hook = launch->hook;
    char *fallback_argv[] = {(char *)hook->path, NULL};
    char *empty_environment[] = {NULL};
    sigset_t none;

    /* A hook gets a plain signal setup, whatever the runtime changed. */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    /* Its own process group, so a timeout ends whatever it started too. */
    setpgid(0, 0);
    if (dup2(launch->stdin_fd, 0) < 0)
        _exit(126);
    execve(hook->path, hook->args && hook->args[0] ? hook->args : fallback_argv,
           hook->env ? hook->env : empty_environment);
    _exit(127);
}

/* Waits for pid (with pidfd) up to timeout seconds (0: forever). */
static int wait_hook(pid_t pid, int pidfd, int timeout_seconds, int *status)
{
    if (timeout_seconds > 0) {
        struct pollfd ready = {pidfd, POLLIN, 0};
        int rc;
        do
            rc = poll(&ready, 1, timeout_seconds * 1000);
        while (rc < 0 && errno == EINTR);
        if (rc == 0) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, status, 0) < 0 && errno == EINTR)
                ;
            return -ETIMEDOUT;
        }
    }
    while (waitpid(pid, status, 0) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

static int run_one(const struct spec_hook *hook, const char *name, size_t index,
                   const char *state_json, struct berr *err)
{
    struct hook_launch launch;
    int pipe_fds[2], pidfd = -1, status = 0, rc;
    size_t length = strlen(state_json), done = 0;
    pid_t pid;

    if (pipe2(pipe_fds, O_CLOEXEC) < 0)
        return berr_errno(err, errno, "%s hook %zu (%s): pipe", name, index, hook->path);
    launch.hook = hook;
    launch.stdin_fd = pipe_fds[0];
    pid = clone(hook_process, hook_stack + sizeof(hook_stack),
                CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &launch, &pidfd);
    close(pipe_fds[0]);
    if (pid < 0) {
        rc = berr_errno(err, errno, "%s hook %zu (%s): start", name, index, hook->path);
        close(pipe_fds[1]);
        return rc;
    }
    /* The state fits the pipe; a hook that does not read it is fine. */
    while (done < length) {
        ssize_t written = write(pipe_fds[1], state_json + done, length - done);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            break;
        done += (size_t)written;
    }
    close(pipe_fds[1]);
    rc = wait_hook(pid, pidfd, hook->timeout_seconds, &status);
    close(pidfd);
    if (rc == -ETIMEDOUT)
        return berr_set(err, BERR_TIMEOUT, "%s hook %zu (%s) timed out after %d s", name, index,
                        hook->path, hook->timeout_seconds);
    if (rc < 0)
        return berr_errno(err, -rc, "%s hook %zu (%s): wait", name, index, hook->path);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return berr_set(err, BERR_NOT_FOUND, "%s hook %zu (%s) could not be executed", name, index,
                        hook->path);
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        return berr_set(err, BERR_IO, "%s hook %zu (%s) exited with status %d", name, index,
                        hook->path, WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return berr_set(err, BERR_IO, "%s hook %zu (%s) was killed by signal %d", name, index,
                        hook->path, WTERMSIG(status));
    return 0;
}

int hooks_run(const struct spec_hook_list *list, enum spec_hook_kind kind, const char *state_json,
              struct berr *err)
{
    size_t i;
    int rc;

    for (i = 0; i < list->count; i++)
        if ((rc = run_one(&list->hooks[i], hooks_kind_name(kind), i, state_json, err)))
            return rc;
    return 0;
}
