/*
 * state: what berth-runtime remembers of a container between commands.
 *
 * Each container has a directory ROOT/ID (ROOT is --root, by default
 * /run/berth-runtime) holding:
 *   state.json   the init process (pid and start time, which guards against
 *                pid reuse), bundle, creation time, owner, cgroup directories
 *   config.json  a copy of the bundle's config, as the container was created
 *                from it (exec, delete and the hooks read it; the bundle may
 *                change or vanish meanwhile)
 *   exec.fifo    exists between create and start (see container.c)
 * The status is never stored: it is worked out from the process and the
 * freezer each time, so it cannot go stale when a container dies.
 */
#ifndef BERTH_RUNTIME_STATE_H
#define BERTH_RUNTIME_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "arena.h"
#include "berr.h"
#include "cgroup.h"
#include "json.h"
#include "spec.h"

#define STATE_FILE   "state.json"
#define STATE_CONFIG "config.json"
#define STATE_FIFO   "exec.fifo"
#define STATE_ID_MAX 1024

enum container_status {
    CONTAINER_CREATING,
    CONTAINER_CREATED,
    CONTAINER_RUNNING,
    CONTAINER_PAUSED,
    CONTAINER_STOPPED,
};

struct container_state {
    const char *id;
    const char *root;      /* --root */
    const char *directory; /* root/id */
    pid_t pid;
    uint64_t pid_start_time; /* /proc/pid/stat field 22, in clock ticks */
    const char *bundle;
    const char *rootfs;
    const char *created; /* RFC 3339 */
    uid_t owner;
    bool own_pid_namespace; /* killing init kills everything */
    struct cgroup cgroup;
    const char *oci_version;
    struct spec_annotation *annotations;
    size_t annotation_count;
    struct spec *spec; /* the copy of config.json, once state_load_spec read it */
};

const char *container_status_name(enum container_status status);

/* Checks an id: letters, digits and "_+-." only, not "." or "..". */
int state_check_id(const char *id, struct berr *err);

/* Creates ROOT/ID; an existing one is BERR_EXISTS. Returns the directory's fd. */
int state_create_directory(const char *root, const char *id, int *directory_fd, struct berr *err);

/* Writes state.json (atomically). */
int state_save(int directory_fd, const struct container_state *state, struct berr *err);

/* Loads ROOT/ID. Unknown id: BERR_NOT_FOUND "container ID does not exist". */
int state_load(struct arena *arena, const char *root, const char *id, struct container_state *out,
               struct berr *err);

/* Parses the container's copy of config.json into state->spec. */
int state_load_spec(struct arena *arena, struct container_state *state, struct berr *err);

/* The current status, from the process, the fifo and the freezer. */
enum container_status state_status(const struct container_state *state);

/* The start time of a process (field 22 of /proc/pid/stat), 0 if it is gone
 * or a zombie. */
uint64_t state_process_start_time(pid_t pid);

/* True if state->pid is still the container's init process. */
bool state_init_alive(const struct container_state *state);

/* Removes ROOT/ID and everything in it. */
int state_remove(const char *root, const char *id, struct berr *err);

/* The OCI state document of `state`: ociVersion, id, status, pid, bundle, annotations. */
void state_write_oci_json(const struct container_state *state, enum container_status status,
                          struct json_writer *writer);

/* Calls visit for each container directory name in root (in name order). */
int state_list_ids(const char *root, char ***ids, size_t *count, struct berr *err);

#endif
