/*
 * oom: telling the supervisor that the container hit its memory limit.
 *
 * The kernel says so through the container's memory cgroup: on cgroup v1 an
 * eventfd registered with memory.oom_control (cgroup.event_control), on v2 a
 * change of memory.events, watched with inotify. The shim watches that
 * itself, as containerd's shim does, rather than running `RUNTIME events`
 * for every container (a Go runtime's process costs ten times a shim). An
 * event is sent each time the cgroup's oom_kill counter grows, and before
 * the init's exit is reported, so that an OOM kill is known by the time its
 * exit is (what Docker's OOMKilled needs).
 */
#ifndef BERTH_SHIM_OOM_H
#define BERTH_SHIM_OOM_H

#include <sys/types.h>

#include "berr.h"

/* Starts watching the memory cgroup of pid (the init). A host without a
 * memory controller is not an error: nothing is watched. */
int oom_watch_start(pid_t pid, struct berr *err);
/* Reports an OOM kill the kernel has counted but the loop not yet seen. */
void oom_check(void);
void oom_watch_stop(void);

#endif
