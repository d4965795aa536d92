/*
 * init: the container's first process, from the clone to the exec.
 *
 * The runtime clones this process with CLONE_VM: it runs in the runtime's
 * memory, on its own stack, until it execs the exec stub. Everything it
 * reads is in struct init_context and the spec, both in the arena, prepared
 * by the runtime before the clone. Rules for code that runs here (init.c,
 * rootfs.c, devices.c, the child half of hooks.c and terminal.c):
 *   - no malloc, no stdio, no function that may allocate (strerror is fine:
 *     glibc's is a table lookup for known errnos);
 *   - report errors through context->error and SYNC_ERROR, never exit
 *     silently;
 *   - paths inside the container are opened with openat2 RESOLVE_IN_ROOT.
 *
 * The conversation with the runtime goes over a SOCK_SEQPACKET pair, one
 * byte per message (enum sync_message); data travels in the context.
 */
#ifndef BERTH_RUNTIME_INIT_H
#define BERTH_RUNTIME_INIT_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "berr.h"
#include "cgroup.h"
#include "namespaces.h"
#include "seccomp.h"
#include "spec.h"

enum sync_message {
    /* runtime → container process */
    SYNC_ID_MAPS_WRITTEN = 1, /* uid_map and gid_map are written */
    SYNC_CGROUP_JOINED,       /* the process is in its cgroups */
    SYNC_HOOKS_DONE,          /* prestart/createRuntime hooks ran */
    SYNC_START,               /* run: go on to exec (create waits on the fifo instead) */
    /* container process → runtime */
    SYNC_INIT_PID,          /* context->init_pid holds the real init (after a second fork) */
    SYNC_RUN_RUNTIME_HOOKS, /* ready for prestart/createRuntime hooks */
    SYNC_CREATED,           /* set up; waiting for start */
    SYNC_ERROR,             /* context->error says what failed */
};

enum init_mode {
    INIT_CREATE, /* wait for `start` on the exec fifo */
    INIT_RUN,    /* wait for SYNC_START from the runtime that runs it */
};

struct init_context {
    /* Prepared by the runtime before the clone; read-only afterwards. */
    const struct spec *spec;
    const struct spec_process *process;
    enum init_mode mode;
    const char *container_id;
    struct namespace_plan namespaces;
    const struct cgroup *cgroup;
    int sync_fd;           /* the container process's end of the socket pair */
    int stub_fd;           /* sealed memfd holding the exec stub */
    int console_socket_fd; /* -1: no console socket */
    int fifo_directory_fd; /* create: the state directory holding exec.fifo; else -1 */
    int preserve_fds;
    bool no_pivot;
    bool no_new_keyring;
    bool wait_for_id_maps;
    bool has_seccomp;
    struct seccomp_program seccomp;
    unsigned last_capability;
    char *hook_state; /* state JSON for createContainer/startContainer hooks (set after clone) */

    /* Scratch space the container process owns (no allocation there). */
    char **environment; /* process env + HOME, room for one more entry */
    char home[PATH_MAX + 8];
    char executable[PATH_MAX];
    char *stack; /* for the second fork, when there is one */
    size_t stack_size;
    bool cgroup_joined;
    int fifo_fd; /* create: the exec fifo once `start` opened it */

    /* Written by the container process for the runtime to read. */
    struct berr error;
    pid_t init_pid;
};

/* Entry point of the cloned process (clone's fn). Never returns on success:
 * it ends in the exec stub. */
int init_main(void *context);

/* Reads one sync message (raw system call). Returns the message, 0 at EOF,
 * or -errno. */
int sync_receive(int fd);
/* Sends one sync message (raw system call). Returns 0 or -errno. */
int sync_send(int fd, enum sync_message message);

/* Helpers shared with the exec path (exec_process.c) — same rules apply. */
int init_apply_process_settings(const struct spec_process *process, struct berr *err);
int init_find_executable(const struct spec_process *process, char **environment, char *out,
                         size_t size, struct berr *err);
int init_exec_stub(int stub_fd, const struct spec_process *process, char *executable,
                   char **environment, const struct seccomp_program *seccomp, bool has_seccomp,
                   unsigned last_capability, int preserve_fds, struct berr *err);
/* Resets signal dispositions and the mask, as a new process expects them. */
void init_reset_signals(void);

#endif
