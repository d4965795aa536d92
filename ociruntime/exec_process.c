/*
 * exec_process: see exec_process.h. The runtime half prepares and clones;
 * exec_main is the new process's half, under the rules of init.h.
 */
#include "exec_process.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "container.h"
#include "foreground.h"
#include "init.h"
#include "namespaces.h"
#include "rootfs.h"
#include "seccomp.h"
#include "state.h"
#include "terminal.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

#define EXEC_STACK_SIZE (256 * 1024)

struct exec_context {
    const struct spec_process *process;
    struct seccomp_program seccomp;
    bool has_seccomp;
    struct namespace_plan namespaces;
    int sync_fd;
    int stub_fd;
    int console_socket_fd;
    int preserve_fds;
    unsigned last_capability;
    char **environment;
    char home[PATH_MAX + 8];
    char executable[PATH_MAX];
    struct berr error;
};

/* ---- the new process ---- */

static int wait_for_cgroup(struct exec_context *context, struct berr *err)
{
    int message = sync_receive(context->sync_fd);

    if (message == SYNC_CGROUP_JOINED)
        return 0;
    return berr_set(err, BERR_UNAVAILABLE, "the runtime went away during exec");
}

static int enter_working_directory(const char *cwd, struct berr *err)
{
    int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), fd, rc = 0;

    if (root < 0)
        return berr_errno(err, errno, "open /");
    /* Inside the container's root, never through /proc/self/fd (CVE-2024-21626). */
    fd = rootfs_open_in_root(root, cwd, O_PATH | O_DIRECTORY);
    close(root);
    if (fd < 0)
        return berr_errno(err, -fd, "cwd %s", cwd);
    if (fchdir(fd) < 0)
        rc = berr_errno(err, errno, "chdir %s", cwd);
    close(fd);
    return rc;
}

static int run_exec(struct exec_context *context, struct berr *err)
{
    const struct spec_process *process = context->process;
    size_t count = 0;
    char **item;
    int rc;

    /* Never show /proc/PID/exe of the runtime to the container's processes. */
    prctl(PR_SET_DUMPABLE, 0);
    if ((rc = init_apply_process_settings(process, err)) ||
        (rc = namespace_join(&context->namespaces, NULL, err)))
        return rc;
    if (process->terminal && setsid() < 0)
        return berr_errno(err, errno, "setsid");
    if ((rc = wait_for_cgroup(context, err)))
        return rc;
    if (process->terminal &&
        (rc = terminal_setup(context->console_socket_fd, process->console_height,
                             process->console_width, false, err)))
        return rc;
    for (item = process->env; item && *item; item++)
        context->environment[count++] = *item;
    if (!spec_getenv(process->env, "HOME")) {
        snprintf(context->home, sizeof(context->home), "HOME=/");
        context->environment[count++] = context->home;
    }
    context->environment[count] = NULL;
    if ((rc = init_find_executable(process, context->environment, context->executable,
                                   sizeof(context->executable), err)) ||
        (rc = enter_working_directory(process->cwd, err)))
        return rc;
    /* The process outlives the runtime (exec --detach). */
    prctl(PR_SET_PDEATHSIG, 0);
    return init_exec_stub(context->stub_fd, process, context->executable, context->environment,
                          &context->seccomp, context->has_seccomp, context->last_capability,
                          context->preserve_fds, err);
}

static int exec_main(void *argument)
{
    struct exec_context *context = argument;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    run_exec(context, &context->error);
    sync_send(context->sync_fd, SYNC_ERROR);
    _exit(1);
}

/* ---- the runtime ---- */

/* exec --cgroup (runc's): put the process in a sub-cgroup of the
 * container's, in every hierarchy or only the named controllers'. */
static int apply_sub_cgroup(struct arena *arena, const char *text, struct cgroup *cgroup,
                            struct berr *err)
{
    const char *colon = strchr(text, ':');
    const char *sub = colon ? colon + 1 : text;
    char controllers[256];
    size_t i;

    if (!*sub || sub[0] == '/' || strstr(sub, ".."))
        return berr_set(err, BERR_INVALID, "--cgroup %s: needs a relative path without \"..\"",
                        text);
    snprintf(controllers, sizeof(controllers), "%.*s", colon ? (int)(colon - text) : 0, text);
    for (i = 0; i < cgroup->count; i++) {
        struct cgroup_hierarchy *hierarchy = &cgroup->hierarchies[i];
        char copy[256], *item, *save = NULL;
        bool chosen = !colon;
        if (colon && !hierarchy->is_v2) {
            snprintf(copy, sizeof(copy), "%s", controllers);
            for (item = strtok_r(copy, ",", &save); item && !chosen;
                 item = strtok_r(NULL, ",", &save))
                chosen = cgroup_find(cgroup, item) == hierarchy;
        }
        if (!chosen)
            continue;
        hierarchy->path = arena_printf(arena, "%s/%s", hierarchy->path, sub);
        if (!hierarchy->path)
            return berr_set(err, BERR_NOMEM, "out of memory");
        if (access(hierarchy->path, F_OK) != 0)
            return berr_errno(err, errno, "--cgroup %s: %s", text, hierarchy->path);
    }
    return 0;
}

static int check_status(const struct container_state *state, const struct exec_options *options,
                        struct berr *err)
{
    enum container_status status = state_status(state);

    if (status == CONTAINER_STOPPED)
        return berr_set(err, BERR_CONFLICT, "cannot exec in container %s: it is stopped",
                        state->id);
    if (status == CONTAINER_PAUSED && !options->ignore_paused)
        return berr_set(err, BERR_CONFLICT,
                        "cannot exec in container %s: it is paused (use --ignore-paused)",
                        state->id);
    return 0;
}

static int prepare(struct arena *arena, const struct exec_options *options,
                   struct container_state *state, struct spec_process *process,
                   struct exec_context *context, int *terminal_fd, struct berr *err)
{
    size_t count = 0;
    int rc;

    memset(context, 0, sizeof(*context));
    context->sync_fd = context->stub_fd = context->console_socket_fd = -1;
    context->process = process;
    context->preserve_fds = options->preserve_fds;
    context->last_capability = container_last_capability();
    while (process->env && process->env[count])
        count++;
    context->environment = arena_alloc(arena, (count + 2) * sizeof(char *));
    if (!context->environment)
        return berr_set(err, BERR_NOMEM, "out of memory");
    if (process->terminal && !options->console_socket && options->detach)
        return berr_set(err, BERR_INVALID, "exec --tty --detach needs --console-socket");
    if (!process->terminal && options->console_socket)
        return berr_set(err, BERR_INVALID, "--console-socket is only used with --tty");
    if ((rc = namespace_plan_for_process(state->pid, &context->namespaces, err)))
        return rc;
    if (state->spec && state->spec->seccomp) {
        if ((rc = seccomp_compile(state->spec->seccomp, arena, &context->seccomp, err)))
            return berr_prefix(err, "linux.seccomp");
        context->has_seccomp = true;
    }
    if ((rc = container_stub_fd(&context->stub_fd, err)))
        return rc;
    if (options->console_socket) {
        if ((rc = terminal_connect(options->console_socket, &context->console_socket_fd, err)))
            return rc;
    } else if (process->terminal) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
            return berr_errno(err, errno, "socket pair for the terminal");
        *terminal_fd = pair[0];
        context->console_socket_fd = pair[1];
    }
    return 0;
}

/* The runtime's copies of what only the new process uses (without touching
 * the shared context). */
static void close_child_descriptors(const struct exec_context *context)
{
    const int fds[] = {context->sync_fd, context->stub_fd, context->console_socket_fd};
    size_t i;

    for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    namespace_plan_close_fds(&context->namespaces);
}

/* Clones the process, moves it into the cgroups, waits for its exec.
 * On success *pid and *pidfd name it. */
static int launch(struct container_state *state, struct exec_context *context, pid_t *pid_out,
                  int *pidfd_out, struct berr *err)
{
    int cgroup_fds[CGROUP_MAX_HIERARCHIES], pair[2], pidfd = -1, sync_fd, message, rc;
    size_t failed = 0;
    char *stack;
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
        return berr_errno(err, errno, "socket pair");
    sync_fd = pair[0];
    context->sync_fd = pair[1];
    if ((rc = cgroup_open_procs(&state->cgroup, cgroup_fds, err))) {
        close(pair[0]);
        close(pair[1]);
        return rc;
    }
    stack = mmap(NULL, EXEC_STACK_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        rc = berr_errno(err, errno, "stack for the new process");
        goto out;
    }
    if ((rc = namespace_enter_for_clone(NULL, &context->namespaces, err)))
        goto out;
    pid = clone(exec_main, stack + EXEC_STACK_SIZE, CLONE_VM | CLONE_PIDFD | SIGCHLD, context,
                &pidfd);
    rc = pid < 0 ? berr_errno(err, errno, "clone the new process") : 0;
    if (namespace_leave_after_clone(&context->namespaces, rc ? NULL : err) && !rc)
        rc = err->code;
    if (pid < 0)
        goto out;
    close_child_descriptors(context);
    if (rc)
        goto kill_child;
    /* While the process joins the namespaces (raw calls: it shares our memory). */
    rc = cgroup_attach_fds(cgroup_fds, state->cgroup.count, pid, &failed);
    if (rc < 0) {
        rc = berr_errno(err, -rc, "move the new process into %s",
                        state->cgroup.hierarchies[failed].path);
        goto kill_child;
    }
    if ((rc = sync_send(sync_fd, SYNC_CGROUP_JOINED)) < 0) {
        rc = berr_errno(err, -rc, "resume the new process");
        goto kill_child;
    }
    /* The sync socket closes when the process execs (close-on-exec). */
    message = sync_receive(sync_fd);
    if (message == SYNC_ERROR) {
        *err = context->error;
        rc = err->code ? err->code : BERR_INTERNAL;
        goto kill_child;
    }
    if (message != 0) {
        rc = berr_set(err, BERR_INTERNAL, "unexpected message %d from the new process", message);
        goto kill_child;
    }
    *pid_out = pid;
    *pidfd_out = pidfd;
    rc = 0;
    goto out;
kill_child:
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    if (pidfd >= 0)
        close(pidfd);
out:
    cgroup_close_fds(cgroup_fds, state->cgroup.count);
    close(sync_fd);
    return rc;
}

int exec_process(struct arena *arena, const struct exec_options *options,
                 struct spec_process *process, int *exit_status, struct berr *err)
{
    struct container_state state;
    struct exec_context *context = arena_alloc(arena, sizeof(*context));
    int terminal_fd = -1, master_fd = -1, pidfd = -1, rc;
    pid_t pid = 0;

    *exit_status = 0;
    if (!context)
        return berr_set(err, BERR_NOMEM, "out of memory");
    if ((rc = state_load(arena, options->root, options->id, &state, err)) ||
        (rc = check_status(&state, options, err)))
        return rc;
    if (state_load_spec(arena, &state, NULL) != 0)
        state.spec = NULL;
    if (options->cgroup && (rc = apply_sub_cgroup(arena, options->cgroup, &state.cgroup, err)))
        return rc;
    if ((rc = prepare(arena, options, &state, process, context, &terminal_fd, err))) {
        close_child_descriptors(context);
        goto out;
    }
    if ((rc = launch(&state, context, &pid, &pidfd, err)))
        goto out;
    if (terminal_fd >= 0 && (rc = terminal_receive(terminal_fd, &master_fd, err))) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        goto out;
    }
    if (options->pid_file && (rc = container_write_pid_file(options->pid_file, pid, err))) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        goto out;
    }
    if (options->detach) {
        rc = 0;
        goto out;
    }
    rc = foreground_wait(pid, pidfd, master_fd, exit_status, err);
    master_fd = -1; /* closed by foreground_wait */
out:
    if (master_fd >= 0)
        close(master_fd);
    if (terminal_fd >= 0)
        close(terminal_fd);
    if (pidfd >= 0)
        close(pidfd);
    return rc;
}
