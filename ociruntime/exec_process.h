/*
 * exec_process: `exec`, a new process inside a running container.
 *
 * The process joins the namespaces of the container's init (read from
 * /proc/PID/ns), its cgroups, its seccomp filter and — unless overridden —
 * the settings of the container's own process (user, capabilities, rlimits,
 * no_new_privs), then execs through the exec stub like the init does. As
 * for create, the process is cloned with CLONE_VM and moved into the
 * cgroups by the runtime while it joins the namespaces.
 */
#ifndef BERTH_RUNTIME_EXEC_PROCESS_H
#define BERTH_RUNTIME_EXEC_PROCESS_H

#include <stdbool.h>

#include "arena.h"
#include "berr.h"
#include "spec.h"

struct exec_options {
    const char *root;
    const char *id;
    const char *console_socket; /* NULL: none */
    const char *pid_file;       /* NULL: none */
    bool detach;
    bool ignore_paused;
    int preserve_fds;
    const char *cgroup; /* --cgroup: "SUB" or "CONTROLLER[,CONTROLLER]:SUB" (NULL: none) */
};

/* Runs process (built by the caller from --process or the flags) in the
 * container. Foreground: *exit_status is the process's (128 + signal if
 * killed). Detached: returns once the process runs. */
int exec_process(struct arena *arena, const struct exec_options *options,
                 struct spec_process *process, int *exit_status, struct berr *err);

#endif
