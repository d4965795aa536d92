/*
 * events: the engine's event log, what GET /events streams (Docker's
 * model: container, image, network, volume and daemon events, each with
 * an actor and attributes).
 *
 * The last EVENTS_KEPT events stay in memory so that a subscriber with
 * `since` gets them replayed before the live ones (dockerd keeps 256; we
 * keep more, it costs little). Events are immutable once published and
 * shared by reference; a subscriber that stops reading is cut off rather
 * than allowed to hold memory.
 */
#ifndef BERTH_ENGINED_EVENTS_H
#define BERTH_ENGINED_EVENTS_H

#include <stdint.h>

#include "berr.h"
#include "json.h"

#define EVENTS_KEPT 1024

struct engine_events;
struct engine_event_subscription;

struct engine_event {
    int references; /* internal */
    char *type;     /* "container", "image", "network", "volume", "daemon" */
    char *action;   /* "create", "start", "die", "exec_start: sh", "health_status: healthy" */
    char *actor_id;
    char **attributes; /* key, value, key, value..., NULL */
    int64_t time_nano; /* Unix time in nanoseconds */
};

int engine_events_create(struct engine_events **out, struct berr *err);
/* Ends every subscription (their next wait returns BERR_CANCELLED). */
void engine_events_destroy(struct engine_events *events);

/* attributes: key, value pairs ending with NULL (may be NULL). Containers
 * should carry "name" and "image"; images "name". */
void engine_events_publish(struct engine_events *events, const char *type, const char *action,
                           const char *actor_id, const char *const *attributes);

/* Replays kept events with time >= since_nano (0: none), then live ones. */
int engine_events_subscribe(struct engine_events *events, int64_t since_nano,
                            struct engine_event_subscription **out, struct berr *err);
/* Waits up to timeout_ms (-1: forever). 0 with *event (engine_event_release
 * it), BERR_TIMEOUT, BERR_NOSPACE (fell behind, cut off), BERR_CANCELLED
 * (the engine is stopping). */
int engine_event_next(struct engine_event_subscription *subscription, int timeout_ms,
                      struct engine_event **event, struct berr *err);
/* Ends the subscriber's current wait (or its next one) early: without an
 * event queued, engine_event_next returns BERR_TIMEOUT at once. For a
 * subscriber that also waits for other things (timers, a stop). Any thread. */
void engine_event_wake(struct engine_event_subscription *subscription);
void engine_events_unsubscribe(struct engine_event_subscription *subscription);
void engine_event_release(struct engine_event *event);

/* The attribute's value, or NULL. */
const char *engine_event_attribute(const struct engine_event *event, const char *key);

/* The event as /events sends it: Type, Action, Actor{ID, Attributes},
 * scope, time, timeNano, and for containers and images the legacy status,
 * id and from fields. */
void engine_event_json(const struct engine_event *event, struct json_writer *writer);

#endif
