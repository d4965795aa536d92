/*
 * raw_syscall: system calls that never touch errno or any libc state.
 *
 * Two users: the exec stub (built without a libc), and the runtime while its
 * CLONE_VM child runs. Parent and child then share one address space and
 * one errno (the thread pointer is the same), so whichever of them is not
 * the one reading errno must make its calls through here. Each returns the
 * kernel's value: >= 0 on success, -errno on failure.
 */
#ifndef BERTH_RUNTIME_RAW_SYSCALL_H
#define BERTH_RUNTIME_RAW_SYSCALL_H

#include <asm/unistd.h>

#if defined(__x86_64__)
static inline long raw_syscall6(long number, long a, long b, long c, long d, long e, long f)
{
    long result;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return result;
}
#elif defined(__aarch64__)
static inline long raw_syscall6(long number, long a, long b, long c, long d, long e, long f)
{
    register long x8 __asm__("x8") = number;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory", "cc");
    return x0;
}
#else
#error "berth-runtime: raw system calls are written for x86_64 and aarch64 only"
#endif

#define raw_syscall0(n)          raw_syscall6((n), 0, 0, 0, 0, 0, 0)
#define raw_syscall1(n, a)       raw_syscall6((n), (long)(a), 0, 0, 0, 0, 0)
#define raw_syscall2(n, a, b)    raw_syscall6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define raw_syscall3(n, a, b, c) raw_syscall6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define raw_syscall4(n, a, b, c, d)                                                                \
    raw_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define raw_syscall5(n, a, b, c, d, e)                                                             \
    raw_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

static inline long raw_write(int fd, const void *buffer, unsigned long size)
{
    return raw_syscall3(__NR_write, fd, buffer, size);
}

static inline long raw_read(int fd, void *buffer, unsigned long size)
{
    return raw_syscall3(__NR_read, fd, buffer, size);
}

#endif
