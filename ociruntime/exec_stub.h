/*
 * exec_stub: the last program the container runs before its own.
 *
 * Why a stub: CVE-2019-5736. When the container's first process execs the
 * user's program, /proc/self/exe still names the runtime binary; a program
 * that is "#!/proc/self/exe" would run the runtime binary inside the
 * container, keep a handle on it and overwrite it on the host. So the
 * container process never execs the user's program directly: it first execs
 * this stub from a sealed memfd (which nothing can write), and the stub
 * drops the credentials and execs the user's program. The stub has no libc
 * and runs in about a tenth of the time a glibc program needs to start.
 *
 * The stub is driven by argv and one parameter file:
 *   argv = { "berth-exec", "<parameter fd>", "<program path>", <program argv...> }
 * and the parameter fd holds a struct exec_stub_parameters followed by
 * group_count gid_t values and seccomp_length BPF instructions (8 bytes each).
 */
#ifndef BERTH_RUNTIME_EXEC_STUB_H
#define BERTH_RUNTIME_EXEC_STUB_H

#include <stdint.h>

#define EXEC_STUB_MAGIC   0x62727468u /* "brth" */
#define EXEC_STUB_VERSION 1u

enum exec_stub_flag {
    EXEC_STUB_SET_CAPABILITIES = 1u << 0,
    EXEC_STUB_NO_NEW_PRIVILEGES = 1u << 1,
    EXEC_STUB_SECCOMP = 1u << 2,
    EXEC_STUB_SET_GROUPS = 1u << 3,
};

struct exec_stub_parameters {
    uint32_t magic;
    uint32_t version;
    uint32_t flags; /* enum exec_stub_flag */
    uint32_t uid;
    uint32_t gid;
    uint32_t group_count;
    uint64_t bounding;
    uint64_t effective;
    uint64_t permitted;
    uint64_t inheritable;
    uint64_t ambient;
    uint32_t last_capability; /* highest capability number the kernel knows */
    uint32_t seccomp_flags;   /* SECCOMP_FILTER_FLAG_* */
    uint32_t seccomp_length;  /* instructions */
    uint32_t reserved;
};

/* The stub executable, embedded in berth-runtime (see exec_stub_blob.S). */
extern const unsigned char exec_stub_binary[];
extern const unsigned char exec_stub_binary_end[];

#endif
