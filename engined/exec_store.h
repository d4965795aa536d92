/*
 * exec_store: Docker's exec instances (docker exec), in memory as in
 * dockerd: an exec is made by POST /containers/{id}/exec, run by
 * POST /exec/{id}/start, and looked at by GET /exec/{id}/json.
 *
 * Why two indexes: /exec/{id} routes name an exec alone (a global table),
 * while a container's inspect lists its ExecIDs and its removal takes its
 * execs along (each container's list, in container->execs under its lock).
 * A record holds a reference to its container. Finished execs are dropped
 * EXEC_KEEP_NS after they exited (dockerd's collector drops them after 5
 * to 10 minutes); all of a container's go with it.
 *
 * Locking: the store's lock guards the table and every record's run state
 * (started, running, exit); a record's config is immutable. The store's
 * lock is never held together with a container's.
 */
#ifndef BERTH_ENGINED_EXEC_STORE_H
#define BERTH_ENGINED_EXEC_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "berr.h"
#include "container_store.h"
#include "json.h"

#define EXEC_ID_LENGTH 64
#define EXEC_KEEP_NS   (300 * 1000000000LL)

struct exec_store;

/* What the create request asked for (immutable). */
struct exec_config {
    char **cmd;                             /* NULL-terminated, at least one */
    char **env;                             /* the exec's own Env (NULL-terminated, may be NULL) */
    char *user, *working_dir, *detach_keys; /* "" when not given */
    bool tty, privileged;
    bool attach_stdin, attach_stdout, attach_stderr;
    uint32_t console_height, console_width;
};

void exec_config_free(struct exec_config *config);

struct exec_record {
    char id[EXEC_ID_LENGTH + 1];
    struct container *container; /* a reference */
    struct exec_config config;

    /* (the store's lock) */
    bool starting; /* a start has been asked for (a second is refused) */
    bool running;
    bool exited;
    int exit_code;
    uint32_t pid;
    int64_t finished_at; /* ns; for the collector */

    int references; /* internal */
};

int exec_store_create(struct exec_store **out, struct berr *err);
void exec_store_destroy(struct exec_store *store);

/* Adds a record for container (takes config's contents). *out carries a
 * reference. */
int exec_store_add(struct exec_store *store, struct container *container,
                   struct exec_config *config, struct exec_record **out, struct berr *err);

/* The exec of a full id; BERR_NOT_FOUND ("No such exec instance: ID")
 * when unknown or its container is gone. */
int exec_store_get(struct exec_store *store, const char *id, struct exec_record **out,
                   struct berr *err);
void exec_record_put(struct exec_store *store, struct exec_record *record);

/* Claims the start: BERR_CONFLICT (dockerd's words) if it ran or runs. */
int exec_store_claim_start(struct exec_store *store, struct exec_record *record, struct berr *err);
void exec_store_set_running(struct exec_store *store, struct exec_record *record, uint32_t pid);
/* Records the exit; true for the first report (the caller publishes and
 * cleans up), false for a repeat. */
bool exec_store_set_exited(struct exec_store *store, struct exec_record *record, int exit_code);
/* Waits up to timeout_ms until the exec runs or ended; true if it runs. */
bool exec_store_wait_running(struct exec_store *store, struct exec_record *record, int timeout_ms);
/* A copy of the run state, under the store's lock. */
void exec_store_state(struct exec_store *store, struct exec_record *record, bool *running,
                      bool *exited, int *exit_code, uint32_t *pid);

/* Drops every exec of the container (it is being removed). */
void exec_store_drop_container(struct exec_store *store, struct container *container);

/* Writes inspect's "ExecIDs" value (null when none). Hold container->lock. */
void exec_store_write_ids(struct container *container, struct json_writer *writer);

#endif
