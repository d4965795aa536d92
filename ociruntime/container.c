/*
 * container: see container.h. The runtime's half of create/start/run and
 * the commands that act on a container's init process.
 */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "cgroup.h"
#include "cgroup_resources.h"
#include "exec_stub.h"
#include "foreground.h"
#include "hooks.h"
#include "init.h"
#include "json.h"
#include "log.h"
#include "namespaces.h"
#include "seccomp.h"
#include "state.h"
#include "terminal.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define CHILD_STACK_SIZE (512 * 1024)
#define CONFIG_COPY_MAX  (16 * 1024 * 1024)

/* ---- small helpers ---- */

unsigned container_last_capability(void)
{
    char text[16] = {0};
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    unsigned value = 40;

    if (fd >= 0) {
        if (read(fd, text, sizeof(text) - 1) > 0)
            value = (unsigned)strtoul(text, NULL, 10);
        close(fd);
    }
    return value;
}

int container_stub_fd(int *fd, struct berr *err)
{
    size_t size = (size_t)(exec_stub_binary_end - exec_stub_binary);
    int memfd = (int)syscall(SYS_memfd_create, "berth-runtime-exec",
                             MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);

    if (memfd < 0 && errno == EINVAL) /* kernels before 6.3 know no MFD_EXEC */
        memfd =
            (int)syscall(SYS_memfd_create, "berth-runtime-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (memfd < 0)
        return berr_errno(err, errno, "memfd for the exec stub");
    if (write_all(memfd, exec_stub_binary, size) < 0 ||
        fcntl(memfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
        int rc = berr_errno(err, errno, "seal the exec stub");
        close(memfd);
        return rc;
    }
    *fd = memfd;
    return 0;
}

int container_write_pid_file(const char *path, pid_t pid, struct berr *err)
{
    char text[16], absolute[PATH_MAX], *slash;
    int length = snprintf(text, sizeof(text), "%d", (int)pid), directory_fd, rc;

    if (path[0] != '/') {
        if (!getcwd(absolute, sizeof(absolute)))
            return berr_errno(err, errno, "getcwd");
        if (strlen(absolute) + strlen(path) + 2 > sizeof(absolute))
            return berr_set(err, BERR_INVALID, "--pid-file %s: path too long", path);
        strcat(absolute, "/");
        strcat(absolute, path);
    } else {
        snprintf(absolute, sizeof(absolute), "%s", path);
    }
    slash = strrchr(absolute, '/');
    *slash = '\0';
    directory_fd = open(absolute[0] ? absolute : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory_fd < 0)
        return berr_errno(err, errno, "--pid-file %s", path);
    rc = atomic_write_file_at_no_sync(directory_fd, slash + 1, text, (size_t)length, 0644, err);
    close(directory_fd);
    return rc;
}

static void now_rfc3339(char *out, size_t size)
{
    struct timespec now;
    struct tm utc;
    size_t used;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &utc);
    used = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(out + used, size - used, ".%09ldZ", now.tv_nsec);
}

/* The OCI state JSON handed to hooks on stdin. */
static char *hook_state_json(struct arena *arena, const struct container_state *state,
                             enum container_status status)
{
    struct json_writer writer;
    const char *text;
    char *copy = NULL;

    if (json_writer_init(&writer, false, NULL))
        return NULL;
    state_write_oci_json(state, status, &writer);
    if (json_writer_result(&writer, &text, NULL, NULL) == 0)
        copy = arena_strdup(arena, text);
    json_writer_free(&writer);
    return copy;
}

static int copy_config(struct arena *arena, const struct spec *spec, int directory_fd,
                       struct berr *err)
{
    char path[PATH_MAX];
    struct stat info;
    char *data;
    int fd, rc;

    snprintf(path, sizeof(path), "%s/config.json", spec->bundle);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(err, errno, "open %s", path);
    if (fstat(fd, &info) < 0 || info.st_size > CONFIG_COPY_MAX) {
        close(fd);
        return berr_set(err, BERR_INVALID, "%s: cannot copy it", path);
    }
    data = arena_alloc(arena, (size_t)info.st_size + 1);
    if (!data || read(fd, data, (size_t)info.st_size) != info.st_size) {
        rc = berr_errno(err, data ? errno : ENOMEM, "read %s", path);
        close(fd);
        return rc;
    }
    close(fd);
    return atomic_write_file_at_no_sync(directory_fd, STATE_CONFIG, data, (size_t)info.st_size,
                                        0600, err);
}

/* Sysctls must belong to a namespace the container has of its own. */
static int check_sysctls(const struct spec *spec, struct berr *err)
{
    size_t i;

    for (i = 0; i < spec->sysctl_count; i++) {
        const char *key = spec->sysctls[i].key;
        bool owned;
        if (strncmp(key, "net.", 4) == 0)
            owned = spec->namespaces[NS_NETWORK].wanted;
        else if (strncmp(key, "fs.mqueue.", 10) == 0 || strcmp(key, "kernel.msgmax") == 0 ||
                 strcmp(key, "kernel.msgmnb") == 0 || strcmp(key, "kernel.msgmni") == 0 ||
                 strcmp(key, "kernel.sem") == 0 || strcmp(key, "kernel.shmall") == 0 ||
                 strcmp(key, "kernel.shmmax") == 0 || strcmp(key, "kernel.shmmni") == 0 ||
                 strcmp(key, "kernel.shm_rmid_forced") == 0)
            owned = spec->namespaces[NS_IPC].wanted;
        else if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
            owned = spec->namespaces[NS_UTS].wanted;
        else
            owned = false;
        if (!owned)
            return berr_set(err, BERR_INVALID,
                            "linux.sysctl %s: not in a namespace the container has of its own",
                            key);
    }
    return 0;
}

/* The device rules a container's cgroup gets: the config's, then what every
 * container needs (mknod anywhere; the default devices, the terminal, the
 * console, tun) — runc's policy. Devices made from linux.devices are not
 * allowed implicitly: the config's rules decide, as with runc. */
static int effective_device_rules(struct arena *arena, const struct spec *spec,
                                  struct cgroup_resources **out, struct berr *err)
{
    static const struct cgroup_device_rule defaults[] = {
        {true, 'c', -1, -1, "m"},    {true, 'b', -1, -1, "m"}, {true, 'c', 1, 3, "rwm"},
        {true, 'c', 1, 8, "rwm"},    {true, 'c', 1, 7, "rwm"}, {true, 'c', 5, 0, "rwm"},
        {true, 'c', 1, 5, "rwm"},    {true, 'c', 1, 9, "rwm"}, {true, 'c', 5, 1, "rwm"},
        {true, 'c', 136, -1, "rwm"}, {true, 'c', 5, 2, "rwm"}, {true, 'c', 10, 200, "rwm"},
    };
    const struct cgroup_resources *resources = spec->resources;
    size_t default_count = sizeof(defaults) / sizeof(defaults[0]);
    size_t total = resources->device_count + default_count;
    struct cgroup_resources *copy = arena_alloc(arena, sizeof(*copy));
    struct cgroup_device_rule *rules = arena_alloc(arena, total * sizeof(*rules));

    if (!copy || !rules)
        return berr_set(err, BERR_NOMEM, "out of memory");
    *copy = *resources;
    memcpy(rules, resources->devices, resources->device_count * sizeof(*rules));
    memcpy(rules + resources->device_count, defaults, sizeof(defaults));
    copy->devices = rules;
    copy->device_count = total;
    *out = copy;
    return 0;
}

/* ---- create ---- */

struct creation {
    struct arena *arena;
    struct spec *spec;
    struct container_state state;
    struct init_context *context;
    int directory_fd;
    int sync_fd;     /* the runtime's end */
    int terminal_fd; /* run without --console-socket: where the master arrives */
    int cgroup_fds[CGROUP_MAX_HIERARCHIES];
    bool cgroup_created;
    bool cloned; /* the context's descriptors now belong to the container process */
    pid_t pid;
    int pidfd;
};

static void creation_init(struct creation *creation, struct arena *arena)
{
    size_t i;

    memset(creation, 0, sizeof(*creation));
    creation->arena = arena;
    creation->directory_fd = creation->sync_fd = creation->terminal_fd = -1;
    creation->pidfd = -1;
    for (i = 0; i < CGROUP_MAX_HIERARCHIES; i++)
        creation->cgroup_fds[i] = -1;
}

static void close_if_open(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Undoes a failed creation: the process, the cgroups, the state directory. */
static void creation_abort(struct creation *creation, const struct container_options *options)
{
    if (creation->pid > 0) {
        kill(creation->pid, SIGKILL);
        while (waitpid(creation->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    if (creation->cgroup_created)
        cgroup_destroy(&creation->state.cgroup, 2000, NULL);
    if (creation->directory_fd >= 0)
        state_remove(options->root, options->id, NULL);
}

/* The runtime's copies of what only the container process uses. The
 * context is shared memory the container process is reading: close the
 * descriptors, never change the fields. */
static void close_child_descriptors(const struct init_context *context)
{
    const int fds[] = {context->stub_fd, context->fifo_directory_fd, context->console_socket_fd,
                       context->sync_fd};
    size_t i;

    for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    namespace_plan_close_fds(&context->namespaces);
}

static void creation_close(struct creation *creation)
{
    if (creation->context && !creation->cloned) {
        close_child_descriptors(creation->context);
        creation->cloned = true; /* closed once */
    }
    cgroup_close_fds(creation->cgroup_fds, creation->state.cgroup.count);
    for (size_t i = 0; i < CGROUP_MAX_HIERARCHIES; i++)
        creation->cgroup_fds[i] = -1;
    close_if_open(&creation->directory_fd);
    close_if_open(&creation->sync_fd);
    close_if_open(&creation->pidfd);
}

static int check_terminal_options(const struct spec_process *process,
                                  const struct container_options *options, enum init_mode mode,
                                  struct berr *err)
{
    bool detached = mode == INIT_CREATE || options->detach;

    if (process->terminal && detached && !options->console_socket)
        return berr_set(err, BERR_INVALID,
                        "process.terminal needs --console-socket when the runtime does not stay "
                        "attached");
    if (!process->terminal && options->console_socket)
        return berr_set(err, BERR_INVALID,
                        "--console-socket is only used when process.terminal is set");
    return 0;
}

/* Everything the container process needs, in the arena. */
static int prepare_context(struct creation *creation, const struct container_options *options,
                           enum init_mode mode, struct berr *err)
{
    struct arena *arena = creation->arena;
    const struct spec *spec = creation->spec;
    struct init_context *context = arena_alloc(arena, sizeof(*context));
    size_t environment_count = 0;
    int rc;

    if (!context)
        return berr_set(err, BERR_NOMEM, "out of memory");
    creation->context = context;
    context->spec = spec;
    context->process = &spec->process;
    context->mode = mode;
    context->container_id = options->id;
    context->cgroup = &creation->state.cgroup;
    context->sync_fd = context->stub_fd = context->console_socket_fd = -1;
    context->fifo_directory_fd = -1;
    context->preserve_fds = options->preserve_fds;
    context->no_pivot = options->no_pivot;
    context->no_new_keyring = options->no_new_keyring;
    context->last_capability = container_last_capability();
    context->hook_state = (char *)"{}";
    while (spec->process.env[environment_count])
        environment_count++;
    context->environment = arena_alloc(arena, (environment_count + 2) * sizeof(char *));
    if (!context->environment)
        return berr_set(err, BERR_NOMEM, "out of memory");

    if ((rc = namespace_plan_make(spec, &context->namespaces, err)))
        return rc;
    context->wait_for_id_maps = spec->namespaces[NS_USER].wanted && !spec->namespaces[NS_USER].path;
    if (context->namespaces.new_pid_after_join) {
        context->stack_size = CHILD_STACK_SIZE;
        context->stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (context->stack == MAP_FAILED)
            return berr_errno(err, errno, "stack for the container's init");
    }
    if (spec->seccomp) {
        if ((rc = seccomp_compile(spec->seccomp, arena, &context->seccomp, err)))
            return berr_prefix(err, "linux.seccomp");
        context->has_seccomp = true;
    }
    if ((rc = container_stub_fd(&context->stub_fd, err)))
        return rc;
    if (mode == INIT_CREATE) {
        if (mkfifoat(creation->directory_fd, STATE_FIFO, 0622) < 0)
            return berr_errno(err, errno, "create the exec fifo");
        context->fifo_directory_fd = fcntl(creation->directory_fd, F_DUPFD_CLOEXEC, 0);
        if (context->fifo_directory_fd < 0)
            return berr_errno(err, errno, "open the state directory");
    }
    if (options->console_socket) {
        if ((rc = terminal_connect(options->console_socket, &context->console_socket_fd, err)))
            return rc;
    } else if (spec->process.terminal) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
            return berr_errno(err, errno, "socket pair for the terminal");
        creation->terminal_fd = pair[0];
        context->console_socket_fd = pair[1];
    }
    return 0;
}

/* Sends a message to the container process; when it is gone, its own
 * report (an error it sent before dying) says more than EPIPE. */
static int resume(struct creation *creation, enum sync_message message, struct berr *err)
{
    int rc = sync_send(creation->sync_fd, message);

    if (rc == 0)
        return 0;
    if (sync_receive(creation->sync_fd) == SYNC_ERROR) {
        *err = creation->context->error;
        return err->code ? err->code : BERR_INTERNAL;
    }
    return berr_errno(err, -rc, "the container process exited during setup");
}

/* Waits for the container process to report; runs the runtime's hooks when
 * it asks. Returns when it is created, or with its error. */
static int converse(struct creation *creation, struct berr *err)
{
    const struct spec *spec = creation->spec;
    int rc;

    for (;;) {
        int message = sync_receive(creation->sync_fd);
        switch (message) {
        case SYNC_CREATED:
            return 0;
        case SYNC_RUN_RUNTIME_HOOKS: {
            char *state = hook_state_json(creation->arena, &creation->state, CONTAINER_CREATING);
            if ((rc = hooks_run(&spec->hooks[HOOK_PRESTART], HOOK_PRESTART, state, err)) ||
                (rc =
                     hooks_run(&spec->hooks[HOOK_CREATE_RUNTIME], HOOK_CREATE_RUNTIME, state, err)))
                return rc;
            if ((rc = resume(creation, SYNC_HOOKS_DONE, err)))
                return rc;
            break;
        }
        case SYNC_ERROR:
            *err = creation->context->error;
            return err->code ? err->code : BERR_INTERNAL;
        default: {
            int status = 0;
            if (message > 0)
                return berr_set(err, BERR_INTERNAL, "unexpected message %d from the container",
                                message);
            if (waitpid(creation->pid, &status, WNOHANG) == creation->pid) {
                creation->pid = 0;
                if (WIFSIGNALED(status))
                    return berr_set(err, BERR_IO,
                                    "the container process was killed by signal %d during setup",
                                    WTERMSIG(status));
            }
            return berr_set(err, BERR_IO, "the container process exited during setup");
        }
        }
    }
}

static int start_container_process(struct creation *creation, struct berr *err)
{
    struct init_context *context = creation->context;
    const struct spec *spec = creation->spec;
    int pair[2], flags, pidfd = -1, rc;
    size_t failed = 0;
    char *stack;
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
        return berr_errno(err, errno, "socket pair");
    creation->sync_fd = pair[0];
    context->sync_fd = pair[1];
    if ((rc = cgroup_open_procs(&creation->state.cgroup, creation->cgroup_fds, err)))
        return rc;
    stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        return berr_errno(err, errno, "stack for the container process");

    if ((rc = namespace_enter_for_clone(spec, &context->namespaces, err)))
        return rc;
    flags = context->namespaces.clone_flags | CLONE_VM | CLONE_PIDFD | SIGCHLD;
    pid = clone(init_main, stack + CHILD_STACK_SIZE, flags, context, &pidfd);
    rc = pid < 0 ? berr_errno(err, errno, "clone the container process") : 0;
    if (namespace_leave_after_clone(&context->namespaces, rc ? NULL : err) && !rc)
        rc = err->code;
    if (pid < 0)
        return rc;
    creation->pid = pid;
    creation->pidfd = pidfd;
    close_child_descriptors(context);
    creation->cloned = true;
    if (rc)
        return rc;

    if (context->wait_for_id_maps) {
        if ((rc = namespace_write_id_maps(pid, spec, err)))
            return rc;
        if ((rc = resume(creation, SYNC_ID_MAPS_WRITTEN, err)))
            return rc;
    }
    if (context->namespaces.new_pid_after_join) {
        int message = sync_receive(creation->sync_fd), status;
        if (message != SYNC_INIT_PID) {
            *err = context->error;
            if (message == SYNC_ERROR)
                return err->code;
            return berr_set(err, BERR_IO, "the container process exited during setup");
        }
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        close_if_open(&creation->pidfd);
        creation->pid = pid = context->init_pid;
        creation->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    }

    /* The slow part (an RCU grace period on cgroup v1), overlapped with the
     * container process mounting its filesystems. Raw calls only. */
    rc = cgroup_attach_fds(creation->cgroup_fds, creation->state.cgroup.count, pid, &failed);
    if (rc < 0)
        return berr_errno(err, -rc, "move the container process into %s",
                          creation->state.cgroup.hierarchies[failed].path);
    creation->state.pid = pid;
    context->hook_state = hook_state_json(creation->arena, &creation->state, CONTAINER_CREATING);
    if (!context->hook_state)
        return berr_set(err, BERR_NOMEM, "out of memory");
    if ((rc = resume(creation, SYNC_CGROUP_JOINED, err)))
        return rc;
    return converse(creation, err);
}

static int record_state(struct creation *creation, const struct container_options *options,
                        struct berr *err)
{
    struct container_state *state = &creation->state;
    int rc;

    state->pid_start_time = state_process_start_time(state->pid);
    if (!state->pid_start_time)
        return berr_set(err, BERR_IO, "the container process died after setup");
    if ((rc = state_save(creation->directory_fd, state, err)))
        return rc;
    if (options->pid_file && (rc = container_write_pid_file(options->pid_file, state->pid, err)))
        return rc;
    /* Hooks that run later get the created state. */
    creation->context->hook_state = hook_state_json(creation->arena, state, CONTAINER_CREATED);
    return 0;
}

static int create_container(struct arena *arena, const struct container_options *options,
                            enum init_mode mode, struct creation *creation, struct berr *err)
{
    struct container_state *state = &creation->state;
    struct cgroup_resources *resources = NULL;
    char created[64];
    int rc;

    creation_init(creation, arena);
    if ((rc = state_check_id(options->id, err)) ||
        (rc = spec_load(arena, options->bundle, &creation->spec, err)))
        return rc;
    if (!creation->spec->has_process)
        return berr_set(err, BERR_INVALID, "config.json has no process to run");
    if ((rc = check_terminal_options(&creation->spec->process, options, mode, err)) ||
        (rc = check_sysctls(creation->spec, err)))
        return rc;
    if ((rc = state_create_directory(options->root, options->id, &creation->directory_fd, err)))
        return rc;

    now_rfc3339(created, sizeof(created));
    state->id = options->id;
    state->root = options->root;
    state->directory = arena_printf(arena, "%s/%s", options->root, options->id);
    state->bundle = creation->spec->bundle;
    state->rootfs = creation->spec->root_path;
    state->created = arena_strdup(arena, created);
    state->owner = getuid();
    state->own_pid_namespace = creation->spec->namespaces[NS_PID].wanted;
    state->oci_version = creation->spec->oci_version;
    state->annotations = creation->spec->annotations;
    state->annotation_count = creation->spec->annotation_count;
    state->spec = creation->spec;

    if ((rc = copy_config(arena, creation->spec, creation->directory_fd, err)) ||
        (rc =
             cgroup_resolve(arena, creation->spec->cgroups_path, options->id, &state->cgroup, err)))
        goto fail;
    if ((rc = effective_device_rules(arena, creation->spec, &resources, err)) ||
        (rc = cgroup_create(&state->cgroup, resources, err)))
        goto fail;
    creation->cgroup_created = true;
    if ((rc = prepare_context(creation, options, mode, err)) ||
        (rc = start_container_process(creation, err)) ||
        (rc = record_state(creation, options, err)))
        goto fail;
    return 0;
fail:
    creation_abort(creation, options);
    creation_close(creation);
    return rc;
}

int container_create(struct arena *arena, const struct container_options *options, struct berr *err)
{
    struct creation creation;
    int rc = create_container(arena, options, INIT_CREATE, &creation, err);

    if (rc == 0)
        creation_close(&creation);
    return rc;
}

/* ---- start ---- */

static int run_poststart_hooks(struct arena *arena, struct container_state *state)
{
    struct berr err;
    char *json;

    if (state_load_spec(arena, state, &err) != 0)
        return 0;
    if (!state->spec->hooks[HOOK_POSTSTART].count)
        return 0;
    json = hook_state_json(arena, state, CONTAINER_RUNNING);
    /* The spec: a failing poststart hook is logged, the container goes on. */
    if (json && hooks_run(&state->spec->hooks[HOOK_POSTSTART], HOOK_POSTSTART, json, &err))
        log_warn("%s", err.message);
    return 0;
}

/* Opens exec.fifo for reading (which lets the container process's open
 * for writing complete), waits for its first byte, then reads until it is
 * closed: at the exec, or after a failure message. */
static int release_created(const struct container_state *state, const char *fifo, struct berr *err)
{
    char message[BERR_MESSAGE_MAX];
    size_t used = 0;
    bool started = false;
    int pidfd, fd, rc = 0;

    pidfd = (int)syscall(SYS_pidfd_open, state->pid, 0);
    if (pidfd < 0)
        return berr_errno(err, errno, "container %s: process %d", state->id, (int)state->pid);
    fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        rc = berr_errno(err, errno, "start container %s", state->id);
        close(pidfd);
        return rc;
    }
    for (;;) {
        struct pollfd ready[2] = {{fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
        char buffer[512];
        ssize_t got;
        if (poll(ready, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            rc = berr_errno(err, errno, "start container %s: poll", state->id);
            break;
        }
        got = read(fd, buffer, sizeof(buffer));
        if (got > 0) {
            size_t skip = 0;
            if (!started) {
                /* The first byte: the process is past its open; from now on a
                 * blocking read ends exactly when it closes the fifo. */
                started = true;
                skip = 1;
                fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
            }
            for (; skip < (size_t)got && used + 1 < sizeof(message); skip++)
                message[used++] = buffer[skip];
            continue;
        }
        if (got == 0 && started)
            break; /* closed: exec'd, or failed after writing why */
        if (got < 0 && errno != EAGAIN && errno != EINTR) {
            rc = berr_errno(err, errno, "start container %s: read", state->id);
            break;
        }
        if (ready[1].revents & POLLIN) {
            rc = berr_set(err, BERR_IO, "container %s exited before it started", state->id);
            break;
        }
    }
    close(fd);
    close(pidfd);
    if (rc == 0 && used) {
        message[used] = '\0';
        rc = berr_set(err, BERR_IO, "start container %s: %s", state->id, message);
    }
    return rc;
}

int container_start(struct arena *arena, const char *root, const char *id, struct berr *err)
{
    struct container_state state;
    enum container_status status;
    char fifo[PATH_MAX];
    int lock_fd, rc = state_load(arena, root, id, &state, err);

    if (rc)
        return rc;
    /* One start at a time: a second reader would steal the first byte. */
    lock_fd = open(state.directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lock_fd < 0)
        return berr_errno(err, errno, "open %s", state.directory);
    if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
        close(lock_fd);
        return berr_set(err, BERR_CONFLICT, "container %s is being started already", id);
    }
    status = state_status(&state);
    if (status != CONTAINER_CREATED) {
        close(lock_fd);
        return berr_set(err, BERR_CONFLICT, "cannot start container %s: it is %s, not created", id,
                        container_status_name(status));
    }
    snprintf(fifo, sizeof(fifo), "%s/%s", state.directory, STATE_FIFO);
    rc = release_created(&state, fifo, err);
    unlink(fifo);
    close(lock_fd);
    if (rc)
        return rc;
    return run_poststart_hooks(arena, &state);
}

/* ---- kill and delete ---- */

static int signal_init(const struct container_state *state, int signal, struct berr *err)
{
    int pidfd = (int)syscall(SYS_pidfd_open, state->pid, 0), rc = 0;

    if (pidfd < 0)
        return berr_errno(err, errno, "container %s: process %d", state->id, (int)state->pid);
    /* Checked after the pidfd is open, so the pid cannot be reused in between. */
    if (!state_init_alive(state))
        rc = berr_set(err, BERR_CONFLICT, "container %s is not running", state->id);
    else if (syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0) < 0)
        rc = berr_errno(err, errno, "send signal %d to container %s", signal, state->id);
    close(pidfd);
    return rc;
}

int container_kill(struct arena *arena, const char *root, const char *id, int signal, bool all,
                   struct berr *err)
{
    struct container_state state;
    enum container_status status;
    int rc = state_load(arena, root, id, &state, err);

    if (rc)
        return rc;
    status = state_status(&state);
    if (status == CONTAINER_STOPPED && !all)
        return berr_set(err, BERR_CONFLICT, "container %s is not running", id);
    if (all)
        return cgroup_signal_all(&state.cgroup, signal, err);
    return signal_init(&state, signal, err);
}

/* Waits up to timeout_ms for the init process to be gone. */
static void wait_for_exit(const struct container_state *state, int timeout_ms)
{
    int pidfd = (int)syscall(SYS_pidfd_open, state->pid, 0);

    if (pidfd < 0)
        return;
    if (state_init_alive(state)) {
        struct pollfd ready = {pidfd, POLLIN, 0};
        poll(&ready, 1, timeout_ms);
    }
    close(pidfd);
}

static void run_poststop_hooks(struct arena *arena, struct container_state *state)
{
    struct berr err;
    char *json;

    if (state_load_spec(arena, state, &err) != 0 || !state->spec->hooks[HOOK_POSTSTOP].count)
        return;
    json = hook_state_json(arena, state, CONTAINER_STOPPED);
    if (json && hooks_run(&state->spec->hooks[HOOK_POSTSTOP], HOOK_POSTSTOP, json, &err))
        log_warn("%s", err.message);
}

static int destroy(struct arena *arena, struct container_state *state, enum container_status status,
                   struct berr *err)
{
    int rc;

    if (status != CONTAINER_STOPPED) {
        if (state->own_pid_namespace)
            signal_init(state, SIGKILL, NULL);
        else
            cgroup_signal_all(&state->cgroup, SIGKILL, NULL);
        if (status == CONTAINER_PAUSED)
            cgroup_freeze(&state->cgroup, false, NULL);
        wait_for_exit(state, 10000);
    }
    if (state->cgroup.count && (rc = cgroup_destroy(&state->cgroup, 5000, err)))
        return rc;
    run_poststop_hooks(arena, state);
    return state_remove(state->root, state->id, err);
}

int container_delete(struct arena *arena, const char *root, const char *id, bool force,
                     struct berr *err)
{
    struct container_state state;
    enum container_status status;
    int rc = state_load(arena, root, id, &state, err);

    if (rc)
        return rc;
    status = state_status(&state);
    if ((status == CONTAINER_RUNNING || status == CONTAINER_PAUSED) && !force)
        return berr_set(err, BERR_CONFLICT,
                        "cannot delete container %s that is not stopped: %s (use --force)", id,
                        container_status_name(status));
    return destroy(arena, &state, status, err);
}

/* ---- run ---- */

int container_run(struct arena *arena, const struct container_options *options, int *exit_status,
                  struct berr *err)
{
    struct creation creation;
    int master_fd = -1, rc;

    *exit_status = 0;
    rc = create_container(arena, options, INIT_RUN, &creation, err);
    if (rc)
        return rc;
    if (creation.terminal_fd >= 0) {
        rc = terminal_receive(creation.terminal_fd, &master_fd, err);
        close_if_open(&creation.terminal_fd);
        if (rc)
            goto fail;
    }
    if ((rc = resume(&creation, SYNC_START, err)))
        goto fail;
    /* The socket closes when the process execs (or it reports a failure). */
    if (sync_receive(creation.sync_fd) == SYNC_ERROR) {
        *err = creation.context->error;
        rc = err->code ? err->code : BERR_INTERNAL;
        goto fail;
    }
    run_poststart_hooks(arena, &creation.state);
    if (options->detach) {
        creation_close(&creation);
        return 0;
    }
    rc = foreground_wait(creation.pid, creation.pidfd, master_fd, exit_status, err);
    creation.pid = 0; /* reaped */
    creation_close(&creation);
    if (options->keep || rc)
        return rc;
    /* The container is gone: clean up as `delete` would. */
    return destroy(arena, &creation.state, CONTAINER_STOPPED, err);
fail:
    if (master_fd >= 0)
        close(master_fd);
    creation_abort(&creation, options);
    creation_close(&creation);
    return rc;
}
