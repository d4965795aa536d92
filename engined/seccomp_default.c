/*
 * seccomp_default: Docker's default seccomp profile as berth's own data,
 * and the translation of Docker-format profiles into the OCI "seccomp"
 * object.
 *
 * Why data here: the behaviour clients rely on is Docker's documented
 * default (an allow-list; everything else fails with EPERM; namespace and
 * mount calls only with CAP_SYS_ADMIN; clone without namespace flags; the
 * ptrace family from Linux 4.8; per-capability groups; per-architecture
 * extras), and a Docker profile is not an OCI one: its rules carry
 * conditions ("includes"/"excludes" on capabilities, architectures and the
 * kernel version) that the engine resolves for each container before the
 * runtime sees the list. A custom profile (--security-opt seccomp=FILE:
 * the CLI sends the file's text) goes through the same resolution.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "spec.h"

#define ALLOW         "SCMP_ACT_ALLOW"
#define ERRNO         "SCMP_ACT_ERRNO"
#define EPERM_NUMBER  1
#define ENOSYS_NUMBER 38
/* CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET (and NEWTIME
 * lives in the low bits clone cannot take): clone without any of these. */
#define CLONE_NAMESPACE_FLAGS 2114060288ULL

struct seccomp_arg {
    unsigned index;
    unsigned long long value, value_two;
    const char *op;
};

/* One rule; NULL-terminated string lists; errno_ret < 0: none. */
struct seccomp_rule {
    const char *const *names;
    const char *action;
    int errno_ret;
    const struct seccomp_arg *args;
    size_t arg_count;
    const char *const *include_caps;   /* every one needed */
    const char *const *exclude_caps;   /* any one excludes */
    const char *const *include_arches; /* Go architecture names */
    const char *const *exclude_arches;
    const char *min_kernel; /* "4.8" */
};

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- the default profile ---- */

static const char *const allowed[] = {
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "cachestat",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_requeue",
    "futex_time64",
    "futex_wait",
    "futex_waitv",
    "futex_wake",
    "futimesat",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "get_thread_area",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "ioctl",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "ioprio_get",
    "ioprio_set",
    "io_setup",
    "io_submit",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listxattr",
    "llistxattr",
    "_llseek",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "map_shadow_stack",
    "membarrier",
    "memfd_create",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "nanosleep",
    "newfstatat",
    "_newselect",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pselect6_time64",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "setsockopt",
    "set_thread_area",
    "set_tid_address",
    "setuid",
    "setuid32",
    "setxattr",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "sigprocmask",
    "sigreturn",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
    NULL,
};

static const struct seccomp_arg socket_not_vsock[] = {{0, 40, 0, "SCMP_CMP_NE"}};
static const struct seccomp_arg personality_values[] = {
    {0, 0, 0, "SCMP_CMP_EQ"},             /* PER_LINUX */
    {0, 8, 0, "SCMP_CMP_EQ"},             /* PER_LINUX32 */
    {0, 131072, 0, "SCMP_CMP_EQ"},        /* UNAME26 */
    {0, 131080, 0, "SCMP_CMP_EQ"},        /* UNAME26|PER_LINUX32 */
    {0, 4294967295ULL, 0, "SCMP_CMP_EQ"}, /* query */
};
static const struct seccomp_arg clone_without_namespaces[] = {
    {0, CLONE_NAMESPACE_FLAGS, 0, "SCMP_CMP_MASKED_EQ"},
};
/* s390 passes clone's flags second. */
static const struct seccomp_arg clone_without_namespaces_s390[] = {
    {1, CLONE_NAMESPACE_FLAGS, 0, "SCMP_CMP_MASKED_EQ"},
};

#define ARGS(array) array, sizeof(array) / sizeof(array[0])

static const struct seccomp_rule default_rules[] = {
    {allowed, ALLOW, -1, NULL, 0, NULL, NULL, NULL, NULL, NULL},
    {LIST("socket"), ALLOW, -1, ARGS(socket_not_vsock), NULL, NULL, NULL, NULL, NULL},
    /* One rule per value: the values are alternatives (a rule's args all
     * hold at once). */
    {LIST("personality"), ALLOW, -1, &personality_values[0], 1, NULL, NULL, NULL, NULL, NULL},
    {LIST("personality"), ALLOW, -1, &personality_values[1], 1, NULL, NULL, NULL, NULL, NULL},
    {LIST("personality"), ALLOW, -1, &personality_values[2], 1, NULL, NULL, NULL, NULL, NULL},
    {LIST("personality"), ALLOW, -1, &personality_values[3], 1, NULL, NULL, NULL, NULL, NULL},
    {LIST("personality"), ALLOW, -1, &personality_values[4], 1, NULL, NULL, NULL, NULL, NULL},
    {LIST("ptrace", "process_vm_readv", "process_vm_writev"), ALLOW, -1, NULL, 0, NULL, NULL, NULL,
     NULL, "4.8"},
    /* Architecture extras. */
    {LIST("arch_prctl", "modify_ldt"), ALLOW, -1, NULL, 0, NULL, NULL, LIST("amd64", "x32", "386"),
     NULL, NULL},
    {LIST("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush",
          "set_tls"),
     ALLOW, -1, NULL, 0, NULL, NULL, LIST("arm", "arm64"), NULL, NULL},
    {LIST("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"), ALLOW, -1, NULL, 0,
     NULL, NULL, LIST("s390", "s390x"), NULL, NULL},
    {LIST("riscv_flush_icache"), ALLOW, -1, NULL, 0, NULL, NULL, LIST("riscv64"), NULL, NULL},
    /* Capability groups. */
    {LIST("open_by_handle_at"), ALLOW, -1, NULL, 0, LIST("CAP_DAC_READ_SEARCH"), NULL, NULL, NULL,
     NULL},
    {LIST("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
          "lookup_dcookie", "mount", "mount_setattr", "move_mount", "name_to_handle_at",
          "open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname",
          "setns", "syslog", "umount", "umount2", "unshare"),
     ALLOW, -1, NULL, 0, LIST("CAP_SYS_ADMIN"), NULL, NULL, NULL, NULL},
    {LIST("clone"), ALLOW, -1, ARGS(clone_without_namespaces), NULL, LIST("CAP_SYS_ADMIN"), NULL,
     LIST("s390", "s390x"), NULL},
    {LIST("clone"), ALLOW, -1, ARGS(clone_without_namespaces_s390), NULL, LIST("CAP_SYS_ADMIN"),
     LIST("s390", "s390x"), NULL, NULL},
    /* clone3's flags are behind a pointer: without CAP_SYS_ADMIN it
     * answers ENOSYS, and libcs fall back to clone. */
    {LIST("clone3"), ERRNO, ENOSYS_NUMBER, NULL, 0, NULL, LIST("CAP_SYS_ADMIN"), NULL, NULL, NULL},
    {LIST("reboot"), ALLOW, -1, NULL, 0, LIST("CAP_SYS_BOOT"), NULL, NULL, NULL, NULL},
    {LIST("chroot"), ALLOW, -1, NULL, 0, LIST("CAP_SYS_CHROOT"), NULL, NULL, NULL, NULL},
    {LIST("delete_module", "init_module", "finit_module"), ALLOW, -1, NULL, 0,
     LIST("CAP_SYS_MODULE"), NULL, NULL, NULL, NULL},
    {LIST("acct"), ALLOW, -1, NULL, 0, LIST("CAP_SYS_PACCT"), NULL, NULL, NULL, NULL},
    {LIST("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev",
          "ptrace"),
     ALLOW, -1, NULL, 0, LIST("CAP_SYS_PTRACE"), NULL, NULL, NULL, NULL},
    {LIST("iopl", "ioperm"), ALLOW, -1, NULL, 0, LIST("CAP_SYS_RAWIO"), NULL, NULL, NULL, NULL},
    {LIST("settimeofday", "stime", "clock_settime", "clock_settime64"), ALLOW, -1, NULL, 0,
     LIST("CAP_SYS_TIME"), NULL, NULL, NULL, NULL},
    {LIST("vhangup"), ALLOW, -1, NULL, 0, LIST("CAP_SYS_TTY_CONFIG"), NULL, NULL, NULL, NULL},
    {LIST("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"), ALLOW, -1, NULL, 0,
     LIST("CAP_SYS_NICE"), NULL, NULL, NULL, NULL},
    {LIST("syslog"), ALLOW, -1, NULL, 0, LIST("CAP_SYSLOG"), NULL, NULL, NULL, NULL},
    {LIST("bpf"), ALLOW, -1, NULL, 0, LIST("CAP_BPF"), NULL, NULL, NULL, NULL},
    {LIST("perf_event_open"), ALLOW, -1, NULL, 0, LIST("CAP_PERFMON"), NULL, NULL, NULL, NULL},
};

/* ---- the host ---- */

struct host_arch {
    const char *machine;        /* uname */
    const char *go;             /* Docker's name in profiles */
    const char *const *seccomp; /* native first, then the ones it also runs */
};

static const struct host_arch host_arches[] = {
    {"x86_64", "amd64", LIST("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32")},
    {"aarch64", "arm64", LIST("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM")},
    {"i686", "386", LIST("SCMP_ARCH_X86")},
    {"armv7l", "arm", LIST("SCMP_ARCH_ARM")},
    {"s390x", "s390x", LIST("SCMP_ARCH_S390X", "SCMP_ARCH_S390")},
    {"ppc64le", "ppc64le", LIST("SCMP_ARCH_PPC64LE")},
    {"riscv64", "riscv64", LIST("SCMP_ARCH_RISCV64")},
};

static const struct host_arch *native_arch(void)
{
    struct utsname host;

    uname(&host);
    for (size_t i = 0; i < sizeof(host_arches) / sizeof(host_arches[0]); i++)
        if (strcmp(host.machine, host_arches[i].machine) == 0)
            return &host_arches[i];
    return &host_arches[0];
}

/* The running kernel is at least version ("4.8"). */
static bool kernel_at_least(const char *version)
{
    struct utsname host;
    int major = 0, minor = 0, want_major = 0, want_minor = 0;

    uname(&host);
    sscanf(host.release, "%d.%d", &major, &minor);
    sscanf(version, "%d.%d", &want_major, &want_minor);
    return major > want_major || (major == want_major && minor >= want_minor);
}

static bool in_list(const char *const *list, const char *item)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], item) == 0)
            return true;
    return false;
}

static bool rule_applies(const struct seccomp_rule *rule, const char *const *caps, const char *arch)
{
    size_t i;

    for (i = 0; rule->exclude_caps && rule->exclude_caps[i]; i++)
        if (in_list(caps, rule->exclude_caps[i]))
            return false;
    for (i = 0; rule->include_caps && rule->include_caps[i]; i++)
        if (!in_list(caps, rule->include_caps[i]))
            return false;
    if (rule->include_arches && !in_list(rule->include_arches, arch))
        return false;
    if (rule->exclude_arches && in_list(rule->exclude_arches, arch))
        return false;
    if (rule->min_kernel && *rule->min_kernel && !kernel_at_least(rule->min_kernel))
        return false;
    return true;
}

/* ---- writing ---- */

static void write_rule(struct json_writer *writer, const struct seccomp_rule *rule)
{
    json_object_begin(writer);
    json_key(writer, "names");
    json_array_begin(writer);
    for (size_t i = 0; rule->names[i]; i++)
        json_string(writer, rule->names[i]);
    json_array_end(writer);
    json_kv_string(writer, "action", rule->action);
    if (rule->errno_ret >= 0)
        json_kv_uint(writer, "errnoRet", (uint64_t)rule->errno_ret);
    if (rule->arg_count) {
        json_key(writer, "args");
        json_array_begin(writer);
        for (size_t i = 0; i < rule->arg_count; i++) {
            json_object_begin(writer);
            json_kv_uint(writer, "index", rule->args[i].index);
            json_kv_uint(writer, "value", rule->args[i].value);
            json_kv_uint(writer, "valueTwo", rule->args[i].value_two);
            json_kv_string(writer, "op", rule->args[i].op);
            json_object_end(writer);
        }
        json_array_end(writer);
    }
    json_object_end(writer);
}

static void write_default(struct json_writer *writer, const char *const *caps)
{
    const struct host_arch *arch = native_arch();

    json_object_begin(writer);
    json_kv_string(writer, "defaultAction", ERRNO);
    json_kv_uint(writer, "defaultErrnoRet", EPERM_NUMBER);
    json_key(writer, "architectures");
    json_array_begin(writer);
    for (size_t i = 0; arch->seccomp[i]; i++)
        json_string(writer, arch->seccomp[i]);
    json_array_end(writer);
    json_key(writer, "syscalls");
    json_array_begin(writer);
    for (size_t i = 0; i < sizeof(default_rules) / sizeof(default_rules[0]); i++)
        if (rule_applies(&default_rules[i], caps, arch->go))
            write_rule(writer, &default_rules[i]);
    json_array_end(writer);
    json_object_end(writer);
}

/* ---- Docker-format profiles ---- */

struct parsed_rule {
    struct seccomp_rule rule;
    char **names, **include_caps, **exclude_caps, **include_arches, **exclude_arches;
    struct seccomp_arg *args;
};

static void parsed_rule_free(struct parsed_rule *parsed)
{
    json_free_string_array(parsed->names);
    json_free_string_array(parsed->include_caps);
    json_free_string_array(parsed->exclude_caps);
    json_free_string_array(parsed->include_arches);
    json_free_string_array(parsed->exclude_arches);
    free(parsed->args);
}

static int parse_args(yajl_val args, struct parsed_rule *parsed, struct berr *err)
{
    size_t i;

    if (!args || !YAJL_IS_ARRAY(args) || !args->u.array.len)
        return 0;
    parsed->args = calloc(args->u.array.len, sizeof(*parsed->args));
    if (!parsed->args)
        return berr_set(err, BERR_NOMEM, "out of memory");
    for (i = 0; i < args->u.array.len; i++) {
        yajl_val arg = args->u.array.values[i];
        uint64_t index = 0, value = 0, value_two = 0;
        const char *op = NULL;
        int rc;
        if ((rc = json_get_uint64(arg, "index", &index, err)) ||
            (rc = json_get_uint64(arg, "value", &value, err)) ||
            (rc = json_get_uint64(arg, "valueTwo", &value_two, err)) ||
            (rc = json_get_string(arg, "op", &op, err)))
            return berr_prefix(err, "seccomp profile: args[%zu]", i);
        if (!op)
            return berr_set(err, BERR_INVALID, "seccomp profile: args[%zu]: op is required", i);
        parsed->args[i] = (struct seccomp_arg){(unsigned)index, value, value_two, op};
    }
    parsed->rule.args = parsed->args;
    parsed->rule.arg_count = args->u.array.len;
    return 0;
}

static int parse_rule(yajl_val entry, struct parsed_rule *parsed, struct berr *err)
{
    yajl_val includes = json_get(entry, "includes"), excludes = json_get(entry, "excludes");
    const char *name = NULL, *min_kernel = NULL;
    int64_t errno_ret = -1;
    int rc;

    memset(parsed, 0, sizeof(*parsed));
    parsed->rule.errno_ret = -1;
    if ((rc = json_get_string_array(entry, "names", &parsed->names, NULL, err)) ||
        (rc = json_get_string(entry, "name", &name, err)) ||
        (rc = json_get_string(entry, "action", &parsed->rule.action, err)) ||
        (rc = json_get_int64(entry, "errnoRet", &errno_ret, err)) ||
        (rc = json_get_string_array(includes, "caps", &parsed->include_caps, NULL, err)) ||
        (rc = json_get_string_array(excludes, "caps", &parsed->exclude_caps, NULL, err)) ||
        (rc = json_get_string_array(includes, "arches", &parsed->include_arches, NULL, err)) ||
        (rc = json_get_string_array(excludes, "arches", &parsed->exclude_arches, NULL, err)) ||
        (rc = json_get_string(includes, "minKernel", &min_kernel, err)) ||
        (rc = parse_args(json_get(entry, "args"), parsed, err)))
        return berr_prefix(err, "seccomp profile");
    if (!parsed->names && name) {
        parsed->names = calloc(2, sizeof(char *));
        if (!parsed->names || !(parsed->names[0] = strdup(name)))
            return berr_set(err, BERR_NOMEM, "out of memory");
    }
    if (!parsed->names || !parsed->rule.action)
        return berr_set(err, BERR_INVALID, "seccomp profile: a rule needs names and an action");
    parsed->rule.names = (const char *const *)parsed->names;
    parsed->rule.errno_ret = (int)errno_ret;
    parsed->rule.include_caps = (const char *const *)parsed->include_caps;
    parsed->rule.exclude_caps = (const char *const *)parsed->exclude_caps;
    parsed->rule.include_arches = (const char *const *)parsed->include_arches;
    parsed->rule.exclude_arches = (const char *const *)parsed->exclude_arches;
    parsed->rule.min_kernel = min_kernel;
    return 0;
}

/* "architectures" as given, or the archMap entry of the native one. */
static void write_architectures(struct json_writer *writer, yajl_val profile,
                                const struct host_arch *arch)
{
    yajl_val list = json_get(profile, "architectures"), map = json_get(profile, "archMap");

    json_key(writer, "architectures");
    json_array_begin(writer);
    for (size_t i = 0; YAJL_IS_ARRAY(list) && i < list->u.array.len; i++)
        if (YAJL_IS_STRING(list->u.array.values[i]))
            json_string(writer, list->u.array.values[i]->u.string);
    for (size_t i = 0; !YAJL_IS_ARRAY(list) && YAJL_IS_ARRAY(map) && i < map->u.array.len; i++) {
        yajl_val entry = map->u.array.values[i], subs = json_get(entry, "subArchitectures");
        const char *name = NULL;
        json_get_string(entry, "architecture", &name, NULL);
        if (!name || strcmp(name, arch->seccomp[0]) != 0)
            continue;
        json_string(writer, name);
        for (size_t j = 0; YAJL_IS_ARRAY(subs) && j < subs->u.array.len; j++)
            if (YAJL_IS_STRING(subs->u.array.values[j]))
                json_string(writer, subs->u.array.values[j]->u.string);
    }
    json_array_end(writer);
}

static int write_custom(struct json_writer *writer, const char *text, const char *const *caps,
                        struct berr *err)
{
    const struct host_arch *arch = native_arch();
    yajl_val profile = NULL, syscalls, flags;
    const char *default_action = NULL;
    int64_t default_errno = -1;
    int rc;

    if ((rc = json_parse(text, &profile, err)))
        return berr_prefix(err, "decoding seccomp profile failed");
    if ((rc = json_get_string(profile, "defaultAction", &default_action, err)) ||
        (rc = json_get_int64(profile, "defaultErrnoRet", &default_errno, err)))
        goto out;
    if (!default_action) {
        rc = berr_set(err, BERR_INVALID, "seccomp profile: defaultAction is required");
        goto out;
    }
    json_object_begin(writer);
    json_kv_string(writer, "defaultAction", default_action);
    if (default_errno >= 0)
        json_kv_int(writer, "defaultErrnoRet", default_errno);
    write_architectures(writer, profile, arch);
    if ((flags = json_get(profile, "flags")) && YAJL_IS_ARRAY(flags)) {
        json_key(writer, "flags");
        json_value(writer, flags);
    }
    json_key(writer, "syscalls");
    json_array_begin(writer);
    syscalls = json_get(profile, "syscalls");
    for (size_t i = 0; rc == 0 && YAJL_IS_ARRAY(syscalls) && i < syscalls->u.array.len; i++) {
        struct parsed_rule parsed;
        if ((rc = parse_rule(syscalls->u.array.values[i], &parsed, err)) == 0 &&
            rule_applies(&parsed.rule, caps, arch->go))
            write_rule(writer, &parsed.rule);
        parsed_rule_free(&parsed);
    }
    json_array_end(writer);
    json_object_end(writer);
out:
    yajl_tree_free(profile);
    return rc;
}

int seccomp_write(struct json_writer *writer, const char *profile, const char *const *capabilities,
                  struct berr *err)
{
    if (!profile) {
        write_default(writer, capabilities);
        return 0;
    }
    return write_custom(writer, profile, capabilities, err);
}
