/*
 * cgroup: the container's control groups, on cgroup v1, v2 or the hybrid
 * layout (v1 controllers plus a v2 tree without controllers, as on systemd
 * hosts in "hybrid" mode).
 *
 * A struct cgroup is the list of directories that make up one container's
 * cgroup: one per v1 hierarchy, and the v2 one. It is computed from the
 * spec's cgroupsPath (runc's rules: absolute paths start at each
 * hierarchy's root, relative ones at the runtime's own cgroup, an empty one
 * is the container id), saved in the state, and every command that touches
 * the container's processes or resources goes through it.
 *
 * Resource files are written by the version drivers (cgroup_v1.c,
 * cgroup_v2.c); this module owns the directories and the processes.
 */
#ifndef BERTH_RUNTIME_CGROUP_H
#define BERTH_RUNTIME_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>

#include "arena.h"
#include "berr.h"
#include "json.h"

struct cgroup_resources;

enum cgroup_layout {
    CGROUP_LAYOUT_V1,     /* only v1 hierarchies */
    CGROUP_LAYOUT_HYBRID, /* v1 controllers + a v2 tree (no controllers in it) */
    CGROUP_LAYOUT_V2,     /* unified: everything in one v2 tree */
};

#define CGROUP_MAX_HIERARCHIES 20

struct cgroup_hierarchy {
    const char *controllers; /* "memory", "cpu,cpuacct", "name=systemd"; "" for v2 */
    const char *path;        /* the container's directory in this hierarchy */
    bool is_v2;
};

struct cgroup {
    enum cgroup_layout layout;
    struct cgroup_hierarchy hierarchies[CGROUP_MAX_HIERARCHIES];
    size_t count;
};

const char *cgroup_layout_name(enum cgroup_layout layout);

/* Works out the container's directories. Creates nothing. */
int cgroup_resolve(struct arena *arena, const char *cgroups_path, const char *container_id,
                   struct cgroup *out, struct berr *err);

/* The hierarchy holding a v1 controller ("memory", "freezer"), or the v2
 * one when the layout is unified; NULL when the host has none. */
const struct cgroup_hierarchy *cgroup_find(const struct cgroup *cgroup, const char *controller);

/* Creates the directories (and missing parents, with cpuset parents
 * initialised) and writes the resource limits, before any process joins. */
int cgroup_create(const struct cgroup *cgroup, const struct cgroup_resources *resources,
                  struct berr *err);

/* Writes resource limits to an existing cgroup (`update`). */
int cgroup_update(const struct cgroup *cgroup, const struct cgroup_resources *resources,
                  struct berr *err);

/* How a new process gets into the container's cgroups without waiting.
 *
 * Moving another process into a cgroup (writing its pid to cgroup.procs)
 * takes the kernel's cgroup_threadgroup_rwsem for writing, which waits for
 * an RCU grace period: 5 to 15 ms here. Two ways around it: a process that
 * moves *itself* through a v1 "tasks" file ("0") skips that lock; and a
 * process cloned with CLONE_INTO_CGROUP starts in its v2 directory. So the
 * runtime opens these files before the clone, and the new process joins
 * by itself, first thing (cgroup_join_self). */
struct cgroup_join {
    int task_fds[CGROUP_MAX_HIERARCHIES]; /* v1 hierarchies: DIR/tasks */
    const char *task_paths[CGROUP_MAX_HIERARCHIES];
    size_t task_count;
    int v2_directory_fd; /* for CLONE_INTO_CGROUP; -1 when there is no v2 directory */
    int v2_procs_fd;     /* DIR/cgroup.procs, when the clone could not start there */
    const char *v2_path;
};

int cgroup_join_prepare(const struct cgroup *cgroup, struct cgroup_join *join, struct berr *err);
/* In the new process: moves itself into every v1 hierarchy, and into the v2
 * one unless it was born there. Raw system calls only (it runs in the
 * runtime's memory). Returns 0 or -errno, with the failing path in *failed. */
int cgroup_join_self(const struct cgroup_join *join, bool born_in_v2, const char **failed);
/* Closes the descriptors (without changing join, which a cloned process
 * may be reading). */
void cgroup_join_close(const struct cgroup_join *join);

/* Removes the directories, waiting up to timeout_ms for exiting processes. */
int cgroup_destroy(const struct cgroup *cgroup, int timeout_ms, struct berr *err);

/* Freezer: pause and resume every process of the container. */
int cgroup_freeze(const struct cgroup *cgroup, bool frozen, struct berr *err);
int cgroup_is_frozen(const struct cgroup *cgroup, bool *frozen, struct berr *err);

/* Every pid in the container's cgroup and its descendants (malloc'ed). */
int cgroup_pids(const struct cgroup *cgroup, pid_t **pids, size_t *count, struct berr *err);

/* Sends signal to every process of the container (frozen meanwhile, so none escapes by forking). */
int cgroup_signal_all(const struct cgroup *cgroup, int signal, struct berr *err);

/* Writes the "data" object of `events --stats` (cpu, memory, pids, blkio, hugetlb). */
int cgroup_stats(const struct cgroup *cgroup, struct json_writer *writer, struct berr *err);

/* The state file's form: {"layout": ..., "hierarchies": [{"controllers", "path"}]}. */
void cgroup_to_json(const struct cgroup *cgroup, struct json_writer *writer);
int cgroup_from_json(struct arena *arena, yajl_val object, struct cgroup *out, struct berr *err);

#endif
