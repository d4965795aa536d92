/*
 * clone3: clone(2)'s successor with a child function, for what glibc's
 * clone() cannot do: CLONE_INTO_CGROUP, which starts the child in a cgroup
 * v2 directory instead of moving it there afterwards (a move waits for an
 * RCU grace period, milliseconds; being born there costs nothing).
 */
#ifndef BERTH_RUNTIME_CLONE3_H
#define BERTH_RUNTIME_CLONE3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Like clone(fn, stack + stack_size, flags | SIGCHLD, arg, pidfd): the child
 * runs fn(arg) on the given stack and exits with its return value. With
 * cgroup_fd >= 0 the child starts in that cgroup v2 directory. Returns the
 * pid, or -errno (-ENOSYS on kernels without clone3). */
pid_t clone3_run(int (*fn)(void *), void *arg, char *stack, size_t stack_size, uint64_t flags,
                 int cgroup_fd, int *pidfd);

/* The runtime's clone of a container process: fn(arg) with CLONE_VM and
 * CLONE_PIDFD (plus flags) on its own stack, born in the cgroup v2
 * directory cgroup_fd when >= 0 and the kernel has clone3 (*born_in_v2 then
 * true), else with clone(2). Returns the pid or -1 with errno. */
pid_t clone_vm_process(int (*fn)(void *), void *arg, int flags, char *stack, size_t stack_size,
                       int cgroup_fd, bool *born_in_v2, int *pidfd);

#endif
