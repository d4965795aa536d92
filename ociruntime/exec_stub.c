/*
 * exec_stub: see exec_stub.h for why this exists.
 *
 * Built freestanding (no libc, no startup code), so every call is a raw
 * system call and there is no heap. The order of operations is runc's:
 * seccomp first when it cannot wait (no no_new_privs: loading a filter then
 * needs CAP_SYS_ADMIN, which the steps below drop), then the bounding set,
 * keep-caps across the uid change, groups and ids, the capability sets,
 * ambient capabilities, no_new_privs, seccomp as late as possible, execve.
 * Any failure is written to stderr and ends the process with status 127.
 */
#include <stddef.h>
#include <stdint.h>

#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/mman.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>

#include "exec_stub.h"
#include "raw_syscall.h"

#define EXIT_FAILED 127

static size_t length_of(const char *text)
{
    size_t length = 0;
    while (text[length])
        length++;
    return length;
}

static void put(const char *text)
{
    raw_write(2, text, length_of(text));
}

static void put_number(long value)
{
    char digits[24];
    int position = sizeof(digits);
    unsigned long magnitude = value < 0 ? (unsigned long)-value : (unsigned long)value;

    digits[--position] = '\0';
    do {
        digits[--position] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0)
        digits[--position] = '-';
    put(digits + position);
}

static void __attribute__((noreturn)) fail(const char *what, long error)
{
    put("berth-runtime: ");
    put(what);
    if (error) {
        put(": errno ");
        put_number(-error);
    }
    put("\n");
    raw_syscall1(__NR_exit_group, EXIT_FAILED);
    __builtin_unreachable();
}

static long parse_fd(const char *text)
{
    long value = 0;

    if (!text || !*text)
        return -1;
    for (; *text; text++) {
        if (*text < '0' || *text > '9' || value > 1000000)
            return -1;
        value = value * 10 + (*text - '0');
    }
    return value;
}

/* Needs CAP_SETPCAP in the effective set, so it comes before the uid change. */
static void drop_bounding_set(const struct exec_stub_parameters *parameters)
{
    uint32_t capability;
    long rc;

    for (capability = 0; capability <= parameters->last_capability && capability < 64;
         capability++) {
        if (parameters->bounding & (1ULL << capability))
            continue;
        rc = raw_syscall2(__NR_prctl, PR_CAPBSET_DROP, capability);
        if (rc < 0 && rc != -22 /* EINVAL: unknown to this kernel */)
            fail("drop from the bounding set", rc);
    }
}

static void apply_capabilities(const struct exec_stub_parameters *parameters)
{
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    uint32_t capability;
    long rc;

    data[0].effective = (uint32_t)parameters->effective;
    data[1].effective = (uint32_t)(parameters->effective >> 32);
    data[0].permitted = (uint32_t)parameters->permitted;
    data[1].permitted = (uint32_t)(parameters->permitted >> 32);
    data[0].inheritable = (uint32_t)parameters->inheritable;
    data[1].inheritable = (uint32_t)(parameters->inheritable >> 32);
    rc = raw_syscall2(__NR_capset, &header, data);
    if (rc < 0)
        fail("set capabilities", rc);
    rc = raw_syscall5(__NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (rc < 0 && rc != -22)
        fail("clear ambient capabilities", rc);
    for (capability = 0; capability <= parameters->last_capability && capability < 64;
         capability++) {
        if (!(parameters->ambient & (1ULL << capability)))
            continue;
        rc = raw_syscall5(__NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, capability, 0, 0);
        if (rc < 0)
            fail("raise an ambient capability", rc);
    }
}

static void load_seccomp(const struct exec_stub_parameters *parameters, const void *filter)
{
    struct sock_fprog program;
    long rc;

    program.len = (unsigned short)parameters->seccomp_length;
    program.filter = (struct sock_filter *)filter;
    rc = raw_syscall3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, parameters->seccomp_flags, &program);
    if (rc < 0)
        fail("load the seccomp filter", rc);
}

static void set_identity(const struct exec_stub_parameters *parameters, const uint32_t *groups)
{
    long rc;

    if (parameters->flags & EXEC_STUB_SET_GROUPS) {
        rc = raw_syscall2(__NR_setgroups, parameters->group_count, groups);
        if (rc < 0)
            fail("set supplementary groups", rc);
    }
    rc = raw_syscall3(__NR_setresgid, parameters->gid, parameters->gid, parameters->gid);
    if (rc < 0)
        fail("set the group id", rc);
    rc = raw_syscall3(__NR_setresuid, parameters->uid, parameters->uid, parameters->uid);
    if (rc < 0)
        fail("set the user id", rc);
}

static void run(long argc, char **argv, char **envp)
{
    const struct exec_stub_parameters *parameters;
    const uint32_t *groups;
    const void *filter;
    long fd, size, rc;
    unsigned long needed;
    void *mapped;

    if (argc < 4)
        fail("exec stub: not started by berth-runtime", 0);
    fd = parse_fd(argv[1]);
    if (fd < 3)
        fail("exec stub: bad parameter descriptor", 0);
    size = raw_syscall3(__NR_lseek, fd, 0, 2 /* SEEK_END */);
    if (size < (long)sizeof(struct exec_stub_parameters))
        fail("exec stub: parameters are missing", size < 0 ? size : 0);
    mapped =
        (void *)raw_syscall6(__NR_mmap, 0, size, 1 /* PROT_READ */, 2 /* MAP_PRIVATE */, fd, 0);
    if ((unsigned long)mapped > (unsigned long)-4096L)
        fail("exec stub: map parameters", (long)mapped);
    raw_syscall1(__NR_close, fd);
    parameters = mapped;
    if (parameters->magic != EXEC_STUB_MAGIC || parameters->version != EXEC_STUB_VERSION)
        fail("exec stub: parameters of another version", 0);
    needed = sizeof(*parameters) + (unsigned long)parameters->group_count * 4 +
             (unsigned long)parameters->seccomp_length * 8;
    if (needed > (unsigned long)size)
        fail("exec stub: truncated parameters", 0);
    groups = (const uint32_t *)(parameters + 1);
    filter = groups + parameters->group_count;

    if (parameters->flags & EXEC_STUB_NO_NEW_PRIVILEGES) {
        rc = raw_syscall5(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if (rc < 0)
            fail("set no_new_privs", rc);
    }
    /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it while we have it. */
    if ((parameters->flags & EXEC_STUB_SECCOMP) &&
        !(parameters->flags & EXEC_STUB_NO_NEW_PRIVILEGES))
        load_seccomp(parameters, filter);
    if (parameters->flags & EXEC_STUB_SET_CAPABILITIES) {
        drop_bounding_set(parameters);
        rc = raw_syscall5(__NR_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0);
        if (rc < 0)
            fail("keep capabilities", rc);
    }
    set_identity(parameters, groups);
    if (parameters->flags & EXEC_STUB_SET_CAPABILITIES) {
        raw_syscall5(__NR_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0);
        apply_capabilities(parameters);
    }
    if ((parameters->flags & EXEC_STUB_SECCOMP) &&
        (parameters->flags & EXEC_STUB_NO_NEW_PRIVILEGES))
        load_seccomp(parameters, filter);

    rc = raw_syscall3(__NR_execve, argv[2], &argv[3], envp);
    put("berth-runtime: exec ");
    put(argv[2]);
    fail("failed", rc);
}

/* The kernel enters here with the stack holding argc, argv[], NULL, envp[]. */
void exec_stub_start(long *stack) __attribute__((used, noreturn));
void exec_stub_start(long *stack)
{
    long argc = stack[0];
    char **argv = (char **)(stack + 1);
    char **envp = argv + argc + 1;

    run(argc, argv, envp);
    raw_syscall1(__NR_exit_group, EXIT_FAILED);
    __builtin_unreachable();
}

#if defined(__x86_64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  xor %rbp, %rbp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call exec_stub_start\n"
        "  hlt\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  mov x29, #0\n"
        "  mov x30, #0\n"
        "  mov x0, sp\n"
        "  and sp, x0, #-16\n"
        "  bl exec_stub_start\n");
#endif
