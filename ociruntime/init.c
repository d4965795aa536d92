/*
 * init: the container process from the clone to the exec. See init.h for
 * the rules this code follows (it shares the runtime's memory).
 *
 * The order follows the OCI lifecycle: namespaces; mounts and devices (the
 * runtime moves us into our cgroups meanwhile); createRuntime hooks in the
 * runtime; createContainer hooks here; masked and read-only paths;
 * pivot_root; hostname, terminal, environment, working directory; then
 * "created" and a wait for start; startContainer hooks; the exec stub.
 */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "devices.h"
#include "exec_stub.h"
#include "hooks.h"
#include "raw_syscall.h"
#include "rootfs.h"
#include "terminal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#define KEYCTL_JOIN_SESSION_KEYRING 1

static const char default_path[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/* ---- talking to the runtime ---- */

int sync_receive(int fd)
{
    unsigned char message;
    long rc;

    do
        rc = raw_read(fd, &message, 1);
    while (rc == -EINTR);
    if (rc == 1)
        return message;
    return rc == 0 ? 0 : (int)rc;
}

int sync_send(int fd, enum sync_message message)
{
    unsigned char byte = (unsigned char)message;
    long rc;

    do
        rc = raw_write(fd, &byte, 1);
    while (rc == -EINTR);
    return rc == 1 ? 0 : (int)(rc < 0 ? rc : -EIO);
}

/* Waits for one message from the runtime. */
static int wait_for(struct init_context *context, enum sync_message expected, struct berr *err)
{
    int message = sync_receive(context->sync_fd);

    if (message == (int)expected)
        return 0;
    if (message <= 0)
        return berr_set(err, BERR_UNAVAILABLE, "the runtime went away during setup");
    return berr_set(err, BERR_INTERNAL, "unexpected message %d from the runtime", message);
}

/* First thing, before anything is created: into the container's cgroups
 * (see struct cgroup_join for why the process does it itself). */
static int join_cgroups(struct init_context *context, struct berr *err)
{
    const char *failed = NULL;
    int rc = cgroup_join_self(&context->cgroup_join, context->born_in_v2, &failed);

    if (rc < 0)
        return berr_errno(err, -rc, "move into cgroup %s", failed);
    return 0;
}

/* ---- process settings (shared with exec) ---- */

static int write_proc_file(const char *path, const char *value, struct berr *err)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;

    if (fd < 0)
        return berr_errno(err, errno, "open %s", path);
    if (write(fd, value, strlen(value)) < 0)
        rc = berr_errno(err, errno, "write %s", path);
    close(fd);
    return rc;
}

struct scheduler_attributes {
    uint32_t size;
    uint32_t policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime;
    uint64_t deadline;
    uint64_t period;
};

int init_apply_process_settings(const struct spec_process *process, struct berr *err)
{
    char value[64];
    size_t i;
    int rc;

    for (i = 0; i < process->rlimit_count; i++) {
        const struct spec_rlimit *limit = &process->rlimits[i];
        struct rlimit wanted = {limit->soft, limit->hard};
        if (setrlimit(limit->resource, &wanted) < 0)
            return berr_errno(err, errno, "setrlimit %d (soft %llu, hard %llu)", limit->resource,
                              (unsigned long long)limit->soft, (unsigned long long)limit->hard);
    }
    if (process->has_oom_score_adj) {
        snprintf(value, sizeof(value), "%d", process->oom_score_adj);
        if ((rc = write_proc_file("/proc/self/oom_score_adj", value, err)))
            return rc;
    }
    if (process->has_io_priority &&
        syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0,
                (process->io_priority_class << 13) | process->io_priority_level) < 0)
        return berr_errno(err, errno, "set the I/O priority");
    if (process->has_scheduler) {
        struct scheduler_attributes attributes;
        memset(&attributes, 0, sizeof(attributes));
        attributes.size = sizeof(attributes);
        attributes.policy = (uint32_t)process->scheduler.policy;
        attributes.flags = process->scheduler.flags;
        attributes.nice = process->scheduler.nice;
        attributes.priority = (uint32_t)process->scheduler.priority;
        attributes.runtime = process->scheduler.runtime;
        attributes.deadline = process->scheduler.deadline;
        attributes.period = process->scheduler.period;
        if (syscall(SYS_sched_setattr, 0, &attributes, 0) < 0)
            return berr_errno(err, errno, "set the scheduler policy");
    }
    if (process->user.has_umask)
        umask(process->user.umask);
    if (process->apparmor_profile) {
        char line[512];
        snprintf(line, sizeof(line), "exec %s", process->apparmor_profile);
        if (write_proc_file("/proc/self/attr/apparmor/exec", line, NULL) != 0 &&
            (rc = write_proc_file("/proc/self/attr/exec", line, err)))
            return rc;
    }
    if (process->selinux_label &&
        (rc = write_proc_file("/proc/self/attr/exec", process->selinux_label, err)))
        return rc;
    return 0;
}

void init_reset_signals(void)
{
    sigset_t none;
    int signal_number;

    for (signal_number = 1; signal_number < NSIG; signal_number++)
        signal(signal_number, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* ---- environment and executable (after pivot_root or setns(mnt)) ---- */

static unsigned long parse_number(const char *text)
{
    unsigned long value = 0;

    if (!*text)
        return (unsigned long)-1;
    for (; *text; text++) {
        if (*text < '0' || *text > '9')
            return (unsigned long)-1;
        value = value * 10 + (unsigned long)(*text - '0');
    }
    return value;
}

/* HOME from the container's /etc/passwd, "/" when the user has none. */
static void find_home(uid_t uid, char *out, size_t size)
{
    char buffer[4096], line[1024];
    size_t line_length = 0;
    ssize_t got;
    int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

    snprintf(out, size, "/");
    if (fd < 0)
        return;
    while ((got = read(fd, buffer, sizeof(buffer))) > 0) {
        ssize_t i;
        for (i = 0; i < got; i++) {
            char *fields[7], *cursor;
            int count = 0;
            if (buffer[i] != '\n') {
                if (line_length < sizeof(line) - 1)
                    line[line_length++] = buffer[i];
                continue;
            }
            line[line_length] = '\0';
            line_length = 0;
            for (cursor = line; count < 7; count++) {
                fields[count] = cursor;
                cursor = strchr(cursor, ':');
                if (!cursor)
                    break;
                *cursor++ = '\0';
            }
            if (count >= 5 && fields[5][0] && parse_number(fields[2]) == (unsigned long)uid) {
                snprintf(out, size, "%s", fields[5]);
                close(fd);
                return;
            }
        }
    }
    close(fd);
}

/* The process's environment, plus HOME when it has none (as runc does). */
static void build_environment(const struct spec_process *process, char **environment, char *home,
                              size_t home_size)
{
    size_t count = 0;
    char **item;

    for (item = process->env; item && *item; item++)
        environment[count++] = *item;
    if (!spec_getenv(process->env, "HOME")) {
        memcpy(home, "HOME=", 5);
        find_home(process->user.uid, home + 5, home_size - 5);
        environment[count++] = home;
    }
    environment[count] = NULL;
}

static bool is_executable_file(const char *path)
{
    struct stat info;

    return stat(path, &info) == 0 && S_ISREG(info.st_mode) && (info.st_mode & 0111) &&
           access(path, X_OK) == 0;
}

int init_find_executable(const struct spec_process *process, char **environment, char *out,
                         size_t size, struct berr *err)
{
    const char *name = process->args[0];
    const char *path = spec_getenv(environment, "PATH");
    const char *cursor;

    if (strchr(name, '/')) {
        struct stat info;
        if ((size_t)snprintf(out, size, "%s", name) >= size)
            return berr_set(err, BERR_INVALID, "exec: %s: path too long", name);
        /* As runc's lookup (Go's exec.LookPath), in Go's words, which the
         * docker CLI reads for its exit code: a missing file is 127, a
         * directory or a file without execute bits "permission denied"
         * (126), not something to try and fail at exec time. */
        if (stat(out, &info) != 0)
            return errno == ENOENT
                       ? berr_set(err, BERR_NOT_FOUND,
                                  "exec: \"%s\": stat %s: no such file or directory", name, name)
                       : berr_errno(err, errno, "exec: \"%s\"", name);
        if (S_ISDIR(info.st_mode) || !(info.st_mode & 0111))
            return berr_set(err, BERR_PERMISSION, "exec: \"%s\": permission denied", name);
        return 0;
    }
    if (!path)
        path = default_path;
    for (cursor = path;;) {
        const char *end = strchrnul(cursor, ':');
        int length = (int)(end - cursor);
        if ((size_t)snprintf(out, size, "%.*s/%s", length ? length : 1, length ? cursor : ".",
                             name) < size &&
            is_executable_file(out))
            return 0;
        if (!*end)
            break;
        cursor = end + 1;
    }
    return berr_set(err, BERR_NOT_FOUND, "exec: \"%s\": executable file not found in $PATH", name);
}

/* ---- the exec stub ---- */

static int write_parameters(int fd, const void *data, size_t size)
{
    const char *cursor = data;

    while (size > 0) {
        ssize_t written = write(fd, cursor, size);
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0)
            return -errno;
        cursor += written;
        size -= (size_t)written;
    }
    return 0;
}

static int make_parameters(const struct spec_process *process,
                           const struct seccomp_program *seccomp, bool has_seccomp,
                           unsigned last_capability, int *out, struct berr *err)
{
    struct exec_stub_parameters parameters;
    int fd = (int)syscall(SYS_memfd_create, "berth-exec-parameters", MFD_CLOEXEC), rc;

    if (fd < 0)
        return berr_errno(err, errno, "memfd for the exec parameters");
    memset(&parameters, 0, sizeof(parameters));
    parameters.magic = EXEC_STUB_MAGIC;
    parameters.version = EXEC_STUB_VERSION;
    parameters.flags = EXEC_STUB_SET_GROUPS;
    parameters.uid = process->user.uid;
    parameters.gid = process->user.gid;
    parameters.group_count = (uint32_t)process->user.additional_gid_count;
    parameters.last_capability = last_capability;
    if (process->has_capabilities) {
        parameters.flags |= EXEC_STUB_SET_CAPABILITIES;
        parameters.bounding = process->capabilities.bounding;
        parameters.effective = process->capabilities.effective;
        parameters.permitted = process->capabilities.permitted;
        parameters.inheritable = process->capabilities.inheritable;
        parameters.ambient = process->capabilities.ambient;
    }
    if (process->no_new_privileges)
        parameters.flags |= EXEC_STUB_NO_NEW_PRIVILEGES;
    if (has_seccomp) {
        parameters.flags |= EXEC_STUB_SECCOMP;
        parameters.seccomp_flags = seccomp->flags;
        parameters.seccomp_length = seccomp->length;
    }
    rc = write_parameters(fd, &parameters, sizeof(parameters));
    if (!rc && parameters.group_count)
        rc = write_parameters(fd, process->user.additional_gids,
                              parameters.group_count * sizeof(uint32_t));
    if (!rc && has_seccomp)
        rc = write_parameters(fd, seccomp->filter, (size_t)seccomp->length * 8);
    if (rc < 0) {
        close(fd);
        return berr_errno(err, -rc, "write the exec parameters");
    }
    *out = fd;
    return 0;
}

/* Every descriptor above stdio and the preserved ones closes at exec. */
static int close_others_on_exec(int first, struct berr *err)
{
    struct rlimit limit;
    int fd;

    if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return 0;
    if (errno != ENOSYS && errno != EINVAL)
        return berr_errno(err, errno, "mark descriptors close-on-exec");
    if (getrlimit(RLIMIT_NOFILE, &limit) < 0)
        return berr_errno(err, errno, "getrlimit");
    for (fd = first; (rlim_t)fd < limit.rlim_cur; fd++)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    return 0;
}

int init_exec_stub(int stub_fd, const struct spec_process *process, char *executable,
                   char **environment, const struct seccomp_program *seccomp, bool has_seccomp,
                   unsigned last_capability, int preserve_fds, struct berr *err)
{
    size_t argument_count = 0, i;
    char fd_text[16];
    int parameters_fd = -1, rc;

    while (process->args[argument_count])
        argument_count++;
    {
        char *argv[argument_count + 4];
        if ((rc = make_parameters(process, seccomp, has_seccomp, last_capability, &parameters_fd,
                                  err)))
            return rc;
        if ((rc = close_others_on_exec(3 + preserve_fds, err)))
            return rc;
        if (fcntl(parameters_fd, F_SETFD, 0) < 0)
            return berr_errno(err, errno, "pass the exec parameters");
        snprintf(fd_text, sizeof(fd_text), "%d", parameters_fd);
        argv[0] = (char *)"berth-runtime-exec";
        argv[1] = fd_text;
        argv[2] = executable;
        for (i = 0; i <= argument_count; i++)
            argv[3 + i] = process->args[i];
        init_reset_signals();
        syscall(SYS_execveat, stub_fd, "", argv, environment, AT_EMPTY_PATH);
        rc = berr_errno(err, errno, "exec the exec stub");
        close(parameters_fd);
        return rc;
    }
}

/* ---- the container's init ---- */

static int set_names(const struct spec *spec, struct berr *err)
{
    if (spec->hostname && *spec->hostname &&
        sethostname(spec->hostname, strlen(spec->hostname)) < 0)
        return berr_errno(err, errno, "set hostname %s", spec->hostname);
    if (spec->domainname && *spec->domainname &&
        setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
        return berr_errno(err, errno, "set domainname %s", spec->domainname);
    return 0;
}

/* Sysctls, through the host's /proc before the pivot: /proc/sys follows the
 * namespaces of the writer, which are the container's already. */
static int write_sysctls(const struct spec *spec, struct berr *err)
{
    char path[PATH_MAX];
    size_t i;
    int rc;

    for (i = 0; i < spec->sysctl_count; i++) {
        const char *key = spec->sysctls[i].key;
        size_t length = (size_t)snprintf(path, sizeof(path), "/proc/sys/%s", key), j;
        if (length >= sizeof(path))
            return berr_set(err, BERR_INVALID, "sysctl %s: name too long", key);
        for (j = strlen("/proc/sys/"); j < length; j++)
            if (path[j] == '.')
                path[j] = '/';
        if ((rc = write_proc_file(path, spec->sysctls[i].value, err)))
            return berr_prefix(err, "sysctl %s", key);
    }
    return 0;
}

static int enter_working_directory(const char *cwd, struct berr *err)
{
    int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), fd, rc = 0;

    if (root < 0)
        return berr_errno(err, errno, "open /");
    /* Resolved by the kernel inside the root, never through /proc/self/fd
     * magic links: the cwd cannot lead outside the container (CVE-2024-21626). */
    fd = rootfs_open_in_root(root, cwd, O_PATH | O_DIRECTORY);
    close(root);
    if (fd < 0)
        return berr_errno(err, -fd, "process.cwd %s", cwd);
    if (fchdir(fd) < 0)
        rc = berr_errno(err, errno, "chdir %s", cwd);
    close(fd);
    return rc;
}

static int make_working_directory(const struct init_context *context, struct berr *err)
{
    int root_fd = open(context->spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC), fd, rc;

    if (root_fd < 0)
        return berr_errno(err, errno, "open %s", context->spec->root_path);
    rc = rootfs_make_in_root(root_fd, context->process->cwd, true, &fd, err);
    close(root_fd);
    if (rc == 0)
        close(fd);
    return rc;
}

static bool has_runtime_hooks(const struct spec *spec)
{
    return spec->hooks[HOOK_PRESTART].count || spec->hooks[HOOK_CREATE_RUNTIME].count;
}

/* create: blocks in the open of exec.fifo until `start` opens it for
 * reading, then says so with one byte. The fifo stays open (close-on-exec):
 * `start` reads until it closes, which tells it the process has exec'd or
 * failed (failures are written into the fifo first). */
static int wait_for_start(struct init_context *context, struct berr *err)
{
    if (context->mode == INIT_RUN)
        return wait_for(context, SYNC_START, err);
    context->fifo_fd = openat(context->fifo_directory_fd, "exec.fifo", O_WRONLY | O_CLOEXEC);
    if (context->fifo_fd < 0)
        return berr_errno(err, errno, "open the exec fifo");
    close(context->fifo_directory_fd);
    if (write(context->fifo_fd, "0", 1) != 1)
        return berr_errno(err, errno, "write the exec fifo");
    return 0;
}

/* After the start: a failure goes to whoever started us. */
static void report_start_failure(struct init_context *context)
{
    if (context->mode == INIT_RUN || context->fifo_fd < 0) {
        sync_send(context->sync_fd, SYNC_ERROR);
        return;
    }
    if (write(context->fifo_fd, context->error.message, strlen(context->error.message)) < 0)
        return;
}

static int become_user_namespace_root(struct berr *err)
{
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
        return berr_errno(err, errno, "become root in the user namespace");
    /* Changing ids made the process non-dumpable, which makes its /proc
     * files root's: take them back (nothing else runs in the container yet). */
    prctl(PR_SET_DUMPABLE, 1);
    return 0;
}

static int setup_container(struct init_context *context, struct berr *err)
{
    const struct spec *spec = context->spec;
    const struct spec_process *process = context->process;
    int rc;

    if ((rc = rootfs_prepare(context, err)) || (rc = rootfs_mount_all(context, err)) ||
        (rc = devices_create(context, err)))
        return rc;
    /* The runtime runs the prestart/createRuntime hooks and prepares the
     * state the createContainer hooks get. */
    if (has_runtime_hooks(spec) || spec->hooks[HOOK_CREATE_CONTAINER].count) {
        if ((rc = sync_send(context->sync_fd, SYNC_RUN_RUNTIME_HOOKS)) < 0)
            return berr_errno(err, -rc, "ask for the createRuntime hooks");
        if ((rc = wait_for(context, SYNC_HOOKS_DONE, err)))
            return rc;
    }
    if (spec->hooks[HOOK_CREATE_CONTAINER].count &&
        (rc = hooks_run(&spec->hooks[HOOK_CREATE_CONTAINER], HOOK_CREATE_CONTAINER,
                        context->hook_state, err)))
        return rc;
    if ((rc = write_sysctls(spec, err)) || (rc = make_working_directory(context, err)) ||
        (rc = rootfs_finish(context, err)) || (rc = rootfs_pivot(context, err)) ||
        (rc = set_names(spec, err)))
        return rc;
    if (spec->has_personality && personality(spec->personality) < 0)
        return berr_errno(err, errno, "set personality");
    if (process->terminal &&
        (rc = terminal_setup(context->console_socket_fd, process->console_height,
                             process->console_width, true, err)))
        return rc;
    build_environment(process, context->environment, context->home, sizeof(context->home));
    if ((rc = init_find_executable(process, context->environment, context->executable,
                                   sizeof(context->executable), err)) ||
        (rc = enter_working_directory(process->cwd, err)))
        return rc;
    return 0;
}

static int run_init(struct init_context *context, struct berr *err)
{
    const struct spec *spec = context->spec;
    int rc;

    if (setsid() < 0)
        return berr_errno(err, errno, "setsid");
    if ((rc = setup_container(context, err)))
        return rc;
    /* From here the container outlives the runtime that created it. */
    prctl(PR_SET_PDEATHSIG, 0);
    if ((rc = sync_send(context->sync_fd, SYNC_CREATED)) < 0)
        return berr_errno(err, -rc, "report the container created");
    if ((rc = wait_for_start(context, err)))
        return rc;
    if (!(spec->hooks[HOOK_START_CONTAINER].count &&
          (rc = hooks_run(&spec->hooks[HOOK_START_CONTAINER], HOOK_START_CONTAINER,
                          context->hook_state, err))))
        rc = init_exec_stub(context->stub_fd, context->process, context->executable,
                            context->environment, &context->seccomp, context->has_seccomp,
                            context->last_capability, context->preserve_fds, err);
    report_start_failure(context);
    _exit(1);
}

/* After joining a user namespace, a new pid namespace only applies to
 * children: this process forks the real init (as a sibling, CLONE_PARENT,
 * so the runtime stays its parent) and leaves. */
static int continue_as_init(void *argument)
{
    struct init_context *context = argument;
    int rc;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    rc = run_init(context, &context->error);
    (void)rc;
    sync_send(context->sync_fd, SYNC_ERROR);
    _exit(1);
}

int init_main(void *argument)
{
    struct init_context *context = argument;
    struct berr *err = &context->error;
    int rc = 0;

    context->fifo_fd = -1;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    rc = join_cgroups(context, err);
    if (!rc && context->wait_for_id_maps && !(rc = wait_for(context, SYNC_ID_MAPS_WRITTEN, err)))
        rc = become_user_namespace_root(err);
    if (!rc && !(rc = namespace_join(&context->namespaces, context->spec, err)) &&
        context->namespaces.join_fds[NS_USER] >= 0)
        rc = become_user_namespace_root(err);
    /* A cgroup namespace is rooted where the process is when it is made. */
    if (!rc && context->namespaces.new_cgroup_namespace && unshare(CLONE_NEWCGROUP) < 0)
        rc = berr_errno(err, errno, "create cgroup namespace");
    if (!rc && !context->no_new_keyring &&
        syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS)
        rc = berr_errno(err, errno, "join a new session keyring");
    if (!rc)
        rc = init_apply_process_settings(context->process, err);
    if (!rc && context->namespaces.new_pid_after_join) {
        pid_t pid = clone(continue_as_init, context->stack + context->stack_size,
                          CLONE_VM | CLONE_PARENT | SIGCHLD, context);
        if (pid < 0) {
            rc = berr_errno(err, errno, "start the container's init");
        } else {
            context->init_pid = pid;
            sync_send(context->sync_fd, SYNC_INIT_PID);
            _exit(0);
        }
    }
    if (!rc)
        rc = run_init(context, err);
    (void)rc;
    sync_send(context->sync_fd, SYNC_ERROR);
    _exit(1);
}
