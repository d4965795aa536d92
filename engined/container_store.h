/*
 * container_store: Docker's view of containers, the engine's own records.
 *
 * The supervisor knows what runs (a spec, a snapshot, a task); Docker
 * clients want more: a name, the Config and HostConfig they sent (merged
 * with the image's), a State with exit codes and times, restart counts.
 * That is this store. Each container is a directory ROOT/containers/ID/
 * holding config.v2.json (everything below, replaced atomically on every
 * change, so a crash leaves the old or the new record), the json-file log
 * ID-json.log, and the hosts, hostname and resolv.conf files bind-mounted
 * into it. All records are loaded when the engine starts; in memory each
 * container is one reference-counted object, indexed by id and by name.
 *
 * Looking a container up (container_store_get) goes as dockerd does: a
 * full id, then a name (with or without the leading "/"), then a unique id
 * prefix; an ambiguous prefix is BERR_INVALID, nothing is BERR_NOT_FOUND
 * with Docker's message "No such container: REF".
 *
 * Locking, the part every user of this header must follow:
 *  - container->lock guards every field marked (lock). Hold it briefly:
 *    read or change fields, container_save, broadcast `changed`, unlock.
 *    Never make a supervisor call or wait for a client while holding it:
 *    a start sets `starting` and an exit `exiting`, then let it go for
 *    their supervisor calls.
 *  - container->operation serializes the lifecycle operations (start,
 *    stop, restart, remove, pause, unpause, update, rename, the monitor's
 *    restarts). Kill does not take it (it must reach a container that a
 *    stop is waiting on); neither does the exit monitor, which only takes
 *    `lock` (so a stop holding `operation` can wait for the exit).
 *  - Order: operation, then the store's lock, then container->lock.
 *  - settings (Config/HostConfig) are immutable and reference counted:
 *    take them with container_settings_get, read them without any lock,
 *    release with container_settings_put. Update replaces them whole.
 *
 * For attach, logs, exec, stats and health (built on this store):
 *  - settings->tty / open_stdin / stdin_once; container->log_path (the
 *    json-file log the shim writes; NULL with the "none" log driver);
 *  - state.running / paused / restarting, state.pid (host pid of the init);
 *  - state.health: the State.Health object as JSON text (NULL: no health
 *    check yet); set it under lock, then container_save;
 *  - settings->healthcheck: Config.Healthcheck (NULL when none);
 *  - execs: a slot for the exec table (ExecIDs in inspect), guarded by lock;
 *  - changed: broadcast on every state change (start, exit, pause,
 *    removal); wait on it with lock held.
 * Publish container events with container_event (events.h attributes:
 * name, image, the labels, plus any given).
 */
#ifndef BERTH_ENGINED_CONTAINER_STORE_H
#define BERTH_ENGINED_CONTAINER_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berr.h"
#include "json.h"

#define CONTAINER_ID_LENGTH 64
#define CONTAINER_SHORT_ID  12

struct container_store;
struct engine_events;

enum restart_policy {
    RESTART_NO,
    RESTART_ALWAYS,
    RESTART_ON_FAILURE,
    RESTART_UNLESS_STOPPED,
};

/* Config and HostConfig, immutable once made (container_settings_make). */
struct container_settings {
    int references;       /* internal */
    yajl_val config;      /* "Config", as inspect shows it (image defaults merged) */
    yajl_val host_config; /* "HostConfig", as inspect shows it (every field) */
    /* Parsed from the two, for the lifecycle and its neighbours: */
    const char *image; /* Config.Image, as the client named it */
    bool tty, open_stdin, stdin_once;
    int stop_signal;  /* Config.StopSignal as a number (SIGTERM by default) */
    int stop_timeout; /* Config.StopTimeout in seconds (10 by default; -1: forever) */
    enum restart_policy restart_policy;
    int restart_max_retries; /* on-failure:N; 0: no limit */
    bool auto_remove;
    const char *network_mode; /* "default", "bridge", "host", "none", ... */
    bool host_network;
    const char *log_driver; /* "json-file" or "none" */
    int64_t log_max_size;   /* bytes; 0: the log is never rotated */
    int log_max_files;
    yajl_val labels;      /* Config.Labels (an object), or NULL */
    yajl_val healthcheck; /* Config.Healthcheck, or NULL */
};

struct container_state {
    bool running; /* also while paused and while restarting, as Docker */
    bool paused;
    bool restarting; /* exited, a restart policy will start it again */
    bool oom_killed;
    bool dead;
    bool removing;
    uint32_t pid; /* the init's host pid while running, else 0 */
    int exit_code;
    char *error;        /* the last start error, or NULL */
    int64_t started_at; /* ns since the epoch; 0: never */
    int64_t finished_at;
    char *health; /* State.Health as JSON text, or NULL */
};

struct container {
    /* Fixed once the container exists. */
    char id[CONTAINER_ID_LENGTH + 1];
    char *dir;       /* ROOT/containers/ID */
    int64_t created; /* ns since the epoch */
    char *image_id;  /* "sha256:<config digest>", Docker's image ID */
    char *path;      /* inspect's Path and Args: the process (entrypoint + cmd) */
    char **args;     /* NULL-terminated */
    char *log_path;  /* DIR/ID-json.log; NULL with the "none" log driver */
    char *hosts_path, *hostname_path, *resolv_conf_path;
    char *snapshot_key; /* the active snapshot holding the root filesystem */

    pthread_mutex_t operation; /* serializes lifecycle operations (see above) */
    pthread_mutex_t lock;      /* guards what follows */
    pthread_cond_t changed;    /* broadcast on state changes */

    char *name;                          /* (lock) "/name" */
    struct container_settings *settings; /* (lock) use container_settings_get */
    struct container_state state;        /* (lock) */
    int restart_count;                   /* (lock) restarts by the policy since the last start */
    bool has_been_started_before;        /* (lock) */
    bool manually_stopped;               /* (lock) stop/kill said so: unless-stopped stays down */
    uint64_t exits; /* (lock) bumped at each exit or restart-exit: waiters compare */
    bool removed;   /* (lock) out of the store; waiters of "removed" end */
    bool starting;  /* (lock) a start is between Tasks.Create and its outcome */
    bool exiting;   /* (lock) the monitor is recording an exit (deleting the task) */

    /* The restart policy's (monitor.c), (lock): */
    bool exit_on_next;        /* the next exit is final: no restart (stop, kill, rm) */
    int64_t restart_delay_ns; /* the back-off: 100 ms doubling, reset after 10 s up */
    uint64_t restart_ticket;  /* a scheduled restart runs only if still current */

    void *execs; /* (lock) the exec table, owned by the exec code */

    /* Attaching before the process runs (attach.h), (lock). docker run
     * attaches, then starts: a start opens `attach_window` once
     * Tasks.Create made the task (nothing runs yet) and waits, a few
     * seconds at most, until no attach_waiters are left before
     * Tasks.Start; an attach that finds the container not running counts
     * itself in attach_waiters, waits for the window, attaches, and counts
     * itself out. So it sees the output from its first byte. */
    int attach_waiters;
    bool attach_window;

    int references; /* internal */
    bool hidden;    /* internal: created, not yet published */
};

/* ---- the store ---- */

/* Loads ROOT/containers/STAR/config.v2.json (unreadable records are logged
 * and skipped; half-created directories are removed). */
int container_store_open(const char *root, struct container_store **out, struct berr *err);
void container_store_close(struct container_store *store);

/* 64 random hex digits. */
void container_id_generate(char out[CONTAINER_ID_LENGTH + 1]);

/* Docker's rule: /?[a-zA-Z0-9][a-zA-Z0-9_.-]+ (BERR_INVALID otherwise). */
int container_name_check(const char *name, struct berr *err);

struct container_new {
    const char *id;   /* container_id_generate's */
    const char *name; /* NULL or "": generated */
    const char *image_id;
    const char *path;
    char *const *args;
    struct container_settings *settings; /* the store takes a reference */
};

/*
 * Adds a container in the "created" state, hidden (lookups and lists do
 * not see it, but its name is taken: a second create with the name is
 * BERR_EXISTS with Docker's conflict message). Creates its directory.
 * Publish it once the supervisor has it; remove it if that failed.
 * *out carries a reference.
 */
int container_store_add(struct container_store *store, const struct container_new *spec,
                        struct container **out, struct berr *err);
/* Writes the record and makes the container visible. */
int container_store_publish(struct container_store *store, struct container *container,
                            struct berr *err);

/* A reference to the container ref names (see above), or BERR_NOT_FOUND. */
int container_store_get(struct container_store *store, const char *ref, struct container **out,
                        struct berr *err);

/* References to every visible container, newest first. Free with
 * container_list_free. */
int container_store_list(struct container_store *store, struct container ***out, size_t *count,
                         struct berr *err);
void container_list_free(struct container **containers, size_t count);

/* New name (validated, unique; with or without "/"). Persists. */
int container_store_rename(struct container_store *store, struct container *container,
                           const char *name, struct berr *err);

/* Takes the container out of the store (ids and name free again), deletes
 * its directory, marks it removed and wakes its waiters. */
int container_store_remove(struct container_store *store, struct container *container,
                           struct berr *err);

void container_hold(struct container *container);
void container_put(struct container *container);

/* ---- one container ---- */

/* Writes config.v2.json. Hold container->lock. */
int container_save(struct container *container, struct berr *err);

/* container_save, logging a failure instead of returning it. Hold lock. */
void container_save_or_log(struct container *container);

/* The settings with a reference (takes and drops lock itself). */
struct container_settings *container_settings_get(struct container *container);
void container_settings_put(struct container_settings *settings);
/* Another reference to settings the caller holds (or reads under lock). */
void container_settings_hold(struct container_settings *settings);
/* Replaces the settings (takes a reference to new ones). Hold lock. */
void container_settings_replace(struct container *container, struct container_settings *settings);

/* Makes settings from Config and HostConfig JSON texts (validated as far
 * as the lifecycle reads them). */
int container_settings_make(const char *config, const char *host_config,
                            struct container_settings **out, struct berr *err);

/* Docker's State.Status: "created", "running", "paused", "restarting",
 * "removing", "exited", "dead". Hold lock. */
const char *container_status(const struct container *container);
/* What `docker ps` shows: "Up 3 minutes", "Exited (0) 2 seconds ago". Hold lock. */
void container_status_text(const struct container *container, int64_t now, char *out, size_t size);

/* Publishes a container event with name, image and label attributes, plus
 * extra (key, value, ..., NULL; may be NULL). Takes lock itself. */
void container_event(struct engine_events *events, struct container *container, const char *action,
                     const char *const *extra);

/* Writes the whole State object (inspect's shape). Hold lock. */
void container_state_json(const struct container *container, struct json_writer *writer);

#endif
