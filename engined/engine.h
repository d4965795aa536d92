/*
 * engine: what berth-engined's parts share, built by main.c.
 *
 * The engine is the Docker Engine API in front of berth-supervisord: it
 * keeps Docker's view of containers (names, configs, restart policies,
 * health) and drives everything that runs through the supervisor's gRPC
 * API, in the supervisor namespace ENGINE_NAMESPACE. Each API area is a
 * file (api_<area>.c) with a register function that adds its routes.
 */
#ifndef BERTH_ENGINED_ENGINE_H
#define BERTH_ENGINED_ENGINE_H

#include <time.h>

#include "berr.h"
#include "events.h"
#include "grpc_client.h"
#include "http_server.h"
#include "image_store.h"

/* Where the engine's images, containers and tasks live in the supervisor. */
#define ENGINE_NAMESPACE "berth"

/* Supervisor calls that should answer at once (not Wait, not streams). */
#define ENGINE_RPC_TIMEOUT_MS 60000

struct container_store;
struct exec_store;
struct monitor;
struct health;

struct engine {
    const char *root;    /* --root: persistent state (containers/<id>/...) */
    const char *state;   /* --state: runtime state */
    const char *address; /* --address: where the API listens */
    const char *supervisor_address;
    struct rpc_client *supervisor;
    struct http_server *http;
    struct engine_events *events;
    struct image_store *images;         /* Docker's image model over the supervisor's */
    struct container_store *containers; /* Docker's containers (container_store.h) */
    struct monitor *monitor;            /* exits, restart policies (monitor.h) */
    struct health *health;              /* health checks (health.h) */
    struct exec_store *execs;           /* docker exec's instances (exec_store.h) */
    const char *init_path;              /* the --init binary (tini-static); NULL: none */
    time_t started;
};

/* Each API area's routes (api_*.c). */
int api_system_register(struct engine *engine, struct berr *err);
int api_images_register(struct engine *engine, struct berr *err);
int api_containers_register(struct engine *engine, struct berr *err);
int api_archive_register(struct engine *engine, struct berr *err);
int api_attach_register(struct engine *engine, struct berr *err);
int api_logs_register(struct engine *engine, struct berr *err);
int api_exec_register(struct engine *engine, struct berr *err);
int api_stats_register(struct engine *engine, struct berr *err);

#endif
