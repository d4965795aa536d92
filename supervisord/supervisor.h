/*
 * supervisor: what berth-supervisord's services share, built by main.c.
 *
 * One struct holds every store; each gRPC service is a file
 * (service_<name>.c) with a register function that takes it. Handlers get
 * the namespace from supervisor_namespace() and publish changes on the
 * event bus.
 */
#ifndef BERTH_SUPERVISOR_SUPERVISOR_H
#define BERTH_SUPERVISOR_SUPERVISOR_H

#include "berr.h"
#include "content_store.h"
#include "events.h"
#include "gc.h"
#include "grpc_server.h"
#include "images.h"
#include "metadata.h"
#include "snapshots.h"

struct task_manager;

struct supervisor {
    const char *root;  /* --root: persistent state (meta.lmdb, content, snapshots) */
    const char *state; /* --state: runtime state (task bundles, shim sockets) */
    const char *shim_path;
    const char *runtime_path; /* the default OCI runtime */
    struct metadata *metadata;
    struct content_store *content;
    struct image_store *images;
    struct snapshotter *snapshotter;
    struct gc *gc;
    struct event_bus *events;
    struct task_manager *tasks;
};

/* The call's namespace: its "berth-namespace" metadata, else "default".
 * An invalid name is BERR_INVALID. A call that may write (not Get, List,
 * Info, Read, Stat...) records the namespace as existing. */
int supervisor_namespace(struct supervisor *supervisor, struct rpc_call *call,
                         const char **namespace, struct berr *err);

/* Each service's handlers (service_*.c). */
int service_namespaces_register(struct rpc_server *server, struct supervisor *supervisor,
                                struct berr *err);
int service_content_register(struct rpc_server *server, struct supervisor *supervisor,
                             struct berr *err);
int service_images_register(struct rpc_server *server, struct supervisor *supervisor,
                            struct berr *err);
int service_snapshots_register(struct rpc_server *server, struct supervisor *supervisor,
                               struct berr *err);
int service_leases_register(struct rpc_server *server, struct supervisor *supervisor,
                            struct berr *err);
int service_version_register(struct rpc_server *server, struct supervisor *supervisor,
                             struct berr *err);
int service_containers_register(struct rpc_server *server, struct supervisor *supervisor,
                                struct berr *err);
int service_tasks_register(struct rpc_server *server, struct supervisor *supervisor,
                           struct berr *err);
int service_events_register(struct rpc_server *server, struct supervisor *supervisor,
                            struct berr *err);

#endif
