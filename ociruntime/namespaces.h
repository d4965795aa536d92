/*
 * namespaces: which namespaces a container creates and which it joins, and
 * the user namespace's id maps.
 *
 * The runtime decides before it clones: new namespaces become clone flags
 * (so the kernel creates them in one step), joined ones are opened here,
 * as fds, while the paths still mean what the config meant, and the child
 * joins them with setns. Pid and time namespaces are special: they apply to
 * a process's children (or from its next exec), so a joined pid namespace
 * is entered by the runtime around the clone (namespace_enter_for_clone),
 * a joined time namespace before it, and a new time namespace is created
 * by the child, which enters it when it execs.
 */
#ifndef BERTH_RUNTIME_NAMESPACES_H
#define BERTH_RUNTIME_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>

#include "berr.h"
#include "spec.h"

struct namespace_plan {
    int clone_flags;             /* CLONE_NEW* the clone itself creates */
    int unshare_flags;           /* CLONE_NEW* the child creates after joining a user ns */
    int join_fds[NS_KIND_COUNT]; /* fds of namespaces to join (-1: none), except pid and time */
    bool new_cgroup_namespace;   /* unshared by the child once it is in its cgroup */
    bool new_pid_after_join;     /* joined user ns + new pid ns: the child forks the init */
    int pid_join_fd;             /* the pid namespace the runtime enters around the clone */
    int time_join_fd;            /* the time namespace likewise */
    bool new_time_namespace;
    int saved_pid_fd; /* the runtime's own namespaces, to come back to */
    int saved_time_fd;
};

/* Opens the namespaces to join and works out the flags. */
int namespace_plan_make(const struct spec *spec, struct namespace_plan *plan, struct berr *err);
void namespace_plan_close(struct namespace_plan *plan);
/* Closes the plan's descriptors without touching the plan (which a cloned
 * process may be reading). */
void namespace_plan_close_fds(const struct namespace_plan *plan);

/* Around the clone: enter the pid namespace the child must be born in, and
 * return to the runtime's own; a joined time namespace is entered for good. */
int namespace_enter_for_clone(const struct spec *spec, struct namespace_plan *plan,
                              struct berr *err);
int namespace_leave_after_clone(struct namespace_plan *plan, struct berr *err);

/* Writes /proc/pid/uid_map and gid_map. */
int namespace_write_id_maps(pid_t pid, const struct spec *spec, struct berr *err);

/* In the child: join what the plan opened (user first), then unshare what
 * must be created after joining. Returns 0 or fills err. */
int namespace_join(const struct namespace_plan *plan, const struct spec *spec, struct berr *err);

/* For exec: opens the namespace files (/proc/PID/ns/...) of a running container for every namespace
 * that differs from the runtime's own. */
int namespace_plan_for_process(pid_t pid, struct namespace_plan *plan, struct berr *err);

#endif
