/*
 * container: the lifecycle commands of berth-runtime, on the runtime side:
 * create, start, run, kill, delete. (The container process's side is
 * init.c; exec into a running container is exec_process.c.)
 *
 * create: everything that can be checked or prepared is done before the
 * clone (spec, state directory, cgroup directories and limits, seccomp
 * program, namespaces to join, the exec stub); then the container process
 * is cloned and, while it mounts its filesystems, the runtime moves it into
 * its cgroups. It ends "created", blocked on the exec fifo, which `start`
 * writes to. Any failure undoes what was made: no state directory, cgroup,
 * mount or process is left behind.
 */
#ifndef BERTH_RUNTIME_CONTAINER_H
#define BERTH_RUNTIME_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "arena.h"
#include "berr.h"

struct container_options {
    const char *root; /* --root */
    const char *id;
    const char *bundle;
    const char *console_socket; /* NULL: none */
    const char *pid_file;       /* NULL: none */
    int preserve_fds;
    bool no_pivot;
    bool no_new_keyring;
    bool detach; /* run -d */
    bool keep;   /* run --keep: do not delete after a foreground run */
};

int container_create(struct arena *arena, const struct container_options *options,
                     struct berr *err);
int container_start(struct arena *arena, const char *root, const char *id, struct berr *err);
/* Foreground: *exit_status is the container's (128 + signal if killed). */
int container_run(struct arena *arena, const struct container_options *options, int *exit_status,
                  struct berr *err);
int container_kill(struct arena *arena, const char *root, const char *id, int signal, bool all,
                   struct berr *err);
int container_delete(struct arena *arena, const char *root, const char *id, bool force,
                     struct berr *err);

/* The highest capability the running kernel knows. */
unsigned container_last_capability(void);

/* A sealed memfd holding the exec stub. */
int container_stub_fd(int *fd, struct berr *err);

/* Writes the pid file atomically (runc's format: the pid, no newline). */
int container_write_pid_file(const char *path, pid_t pid, struct berr *err);

#endif
