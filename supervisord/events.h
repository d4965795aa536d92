/*
 * events: the supervisor's event bus. Services publish (task exits, image
 * and container changes, ...), Events.Subscribe streams read.
 *
 * Each event is packed once into an Envelope and shared by reference with
 * every subscriber whose filters match. A subscriber has a bounded queue:
 * one that stops reading is cut off (its stream ends with
 * RESOURCE_EXHAUSTED) instead of holding memory or slowing publishers.
 */
#ifndef BERTH_SUPERVISOR_EVENTS_H
#define BERTH_SUPERVISOR_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "berr.h"
#include "berth/supervisor/v1/events.pb-c.h"

struct event_bus;
struct event_subscription;

int event_bus_create(struct event_bus **out, struct berr *err);
/* Ends every subscription (their next wait returns BERR_CANCELLED). */
void event_bus_destroy(struct event_bus *bus);

/* Stamps the time, namespace and topic on envelope, packs it and hands it
 * to every matching subscriber. The caller keeps envelope. */
void event_bus_publish(struct event_bus *bus, const char *namespace, const char *topic,
                       Berth__Supervisor__V1__Envelope *envelope);

/* filters in filter.h's grammar over the fields "topic" and "namespace"
 * ('topic=="/tasks/exit"', 'topic~="^/tasks/"', "namespace==default,topic~=exit";
 * any may match; none: all). Bad filter syntax: BERR_INVALID. */
int event_bus_subscribe(struct event_bus *bus, char **filters, size_t filter_count,
                        struct event_subscription **out, struct berr *err);

/* Waits up to timeout_ms (-1: forever) for the next event. Returns 0 with
 * *envelope (free with protobuf_c_message_free_unpacked), BERR_TIMEOUT when
 * none came, BERR_NOSPACE when the subscriber fell behind and was cut
 * off, BERR_CANCELLED when the bus is closing. */
int event_subscription_next(struct event_subscription *subscription, int timeout_ms,
                            Berth__Supervisor__V1__Envelope **envelope, struct berr *err);
void event_subscription_close(struct event_subscription *subscription);

#endif
