/*
 * self_protect: make sure no process in a container can ever write the
 * runtime's binary (the CVE-2019-5736 class).
 *
 * Every process berth-runtime puts into a container starts as a copy of
 * the runtime (the init until it execs, exec's helper while it joins the
 * namespaces). A container process allowed to ptrace (CAP_SYS_PTRACE) can
 * open /proc/PID/exe of such a process and, once the runtime has exited,
 * write through it to the binary on the host. So before create, run and
 * exec, the runtime re-executes itself through a read-only, detached bind
 * mount of its own binary (open_tree + mount_setattr; no copy, and the
 * mount vanishes with the process), or, where the mount API is not
 * allowed, from a sealed memfd copy. /proc/PID/exe then names a file
 * nobody can write. (The exec stub, which the container runs last, is a
 * sealed memfd of its own.)
 */
#ifndef BERTH_RUNTIME_SELF_PROTECT_H
#define BERTH_RUNTIME_SELF_PROTECT_H

#include "berr.h"

/* Returns 0 when the running binary is already protected; otherwise
 * re-executes it (argv, environ) and only returns on failure. */
int self_protect(char **argv, struct berr *err);

#endif
