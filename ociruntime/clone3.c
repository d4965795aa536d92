/*
 * clone3: see clone3.h. The kernel starts the child on the new stack right
 * after the system call, so the call and the jump to the child function
 * are a few lines of assembly per architecture (as glibc's clone is).
 */
#include "clone3.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

struct clone_arguments {
    uint64_t flags;
    uint64_t pidfd;
    uint64_t child_tid;
    uint64_t parent_tid;
    uint64_t exit_signal;
    uint64_t stack;
    uint64_t stack_size;
    uint64_t tls;
    uint64_t set_tid;
    uint64_t set_tid_size;
    uint64_t cgroup;
};

/* long berth_clone3(struct clone_arguments *, size_t, int (*fn)(void *), void *arg) */
long berth_clone3(struct clone_arguments *arguments, size_t size, int (*fn)(void *), void *arg);

#if defined(__x86_64__)
__asm__(".text\n"
        ".global berth_clone3\n"
        ".type berth_clone3,@function\n"
        "berth_clone3:\n"
        "  mov %rdx, %r8\n" /* fn and arg survive the system call in r8 and r9 */
        "  mov %rcx, %r9\n"
        "  mov $435, %eax\n" /* __NR_clone3 */
        "  syscall\n"
        "  test %rax, %rax\n"
        "  jz 1f\n"
        "  ret\n"
        "1:\n"
        "  xor %ebp, %ebp\n"
        "  mov %r9, %rdi\n"
        "  call *%r8\n"
        "  mov %eax, %edi\n"
        "  mov $231, %eax\n" /* __NR_exit_group */
        "  syscall\n"
        "  hlt\n"
        ".size berth_clone3, .-berth_clone3\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".global berth_clone3\n"
        ".type berth_clone3,%function\n"
        "berth_clone3:\n"
        "  mov x9, x2\n"
        "  mov x10, x3\n"
        "  mov x8, #435\n"
        "  svc #0\n"
        "  cbz x0, 1f\n"
        "  ret\n"
        "1:\n"
        "  mov x29, #0\n"
        "  mov x30, #0\n"
        "  mov x0, x10\n"
        "  blr x9\n"
        "  mov x8, #94\n" /* __NR_exit_group */
        "  svc #0\n"
        ".size berth_clone3, .-berth_clone3\n");
#else
#error "clone3.c is written for x86_64 and aarch64"
#endif

pid_t clone3_run(int (*fn)(void *), void *arg, char *stack, size_t stack_size, uint64_t flags,
                 int cgroup_fd, int *pidfd)
{
    struct clone_arguments arguments;

    memset(&arguments, 0, sizeof(arguments));
    arguments.flags = flags;
    if (flags & CLONE_PIDFD)
        arguments.pidfd = (uint64_t)(uintptr_t)pidfd;
    arguments.exit_signal = SIGCHLD;
    arguments.stack = (uint64_t)(uintptr_t)stack;
    arguments.stack_size = stack_size;
    if (cgroup_fd >= 0) {
        arguments.flags |= CLONE_INTO_CGROUP;
        arguments.cgroup = (uint64_t)cgroup_fd;
    }
    return (pid_t)berth_clone3(&arguments, sizeof(arguments), fn, arg);
}

pid_t clone_vm_process(int (*fn)(void *), void *arg, int flags, char *stack, size_t stack_size,
                       int cgroup_fd, bool *born_in_v2, int *pidfd)
{
    pid_t pid;

    if (cgroup_fd >= 0) {
        /* Set before the clone: the child reads it first thing. */
        *born_in_v2 = true;
        pid = clone3_run(fn, arg, stack, stack_size,
                         (uint64_t)(unsigned)(flags | CLONE_VM | CLONE_PIDFD), cgroup_fd, pidfd);
        if (pid >= 0)
            return pid;
        if (pid != -ENOSYS && pid != -E2BIG) {
            errno = -pid;
            return -1;
        }
    }
    *born_in_v2 = false;
    return clone(fn, stack + stack_size, flags | CLONE_VM | CLONE_PIDFD | SIGCHLD, arg, pidfd);
}
