/*
 * service_events: Events.Subscribe, a server stream fed by the event bus
 * (events.h). Events are not namespaced at subscription time (containerd's
 * model): every envelope names its namespace, and a client that wants one
 * says "namespace==NAME" in its filters.
 *
 * The response headers go out as soon as the subscription is in place, so
 * a client can wait for them before acting on what it wants to watch.
 * The handler wakes every 250 ms to notice a client that went away even
 * when nothing is published; a client that stops reading is cut off by the
 * bus (RESOURCE_EXHAUSTED) rather than allowed to hold memory.
 */
#include "berth/supervisor/v1/events.pb-c.h"
#include "berth/supervisor/v1/events.pb-rpc.h"
#include "service_util.h"
#include "supervisor.h"

#define POLL_MS 250

static int subscribe(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__SubscribeRequest *request = NULL;
    struct event_subscription *subscription = NULL;
    int rc;

    if ((rc = service_request(call, (ProtobufCMessage **)&request, err)))
        return rc;
    rc = event_bus_subscribe(supervisor->events, request->filters, request->n_filters,
                             &subscription, err);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    if (rc)
        return rc;
    /* Headers now: a client that waits for them knows it misses nothing
     * from here on (subscribe, wait for headers, then start a task). */
    rc = rpc_call_send_headers(call, err);
    while (rc == 0 && !rpc_call_cancelled(call)) {
        Berth__Supervisor__V1__Envelope *envelope = NULL;
        rc = event_subscription_next(subscription, POLL_MS, &envelope, err);
        if (rc == BERR_TIMEOUT) {
            rc = 0; /* nothing happened: look whether the client is still there */
            continue;
        }
        if (rc == BERR_NOSPACE) {
            berr_set(err, BERR_NOSPACE, "the subscriber fell too far behind; subscribe again");
            break;
        }
        if (rc)
            break;
        rc = rpc_call_send(call, &envelope->base, err);
        protobuf_c_message_free_unpacked(&envelope->base, NULL);
        if (rc)
            break;
    }
    if (rc == BERR_TIMEOUT)
        rc = berr_set(err, BERR_CANCELLED, "the subscriber went away");
    event_subscription_close(subscription);
    return rc;
}

int service_events_register(struct rpc_server *server, struct supervisor *supervisor,
                            struct berr *err)
{
    return rpc_server_register(
        server, &berth_supervisor_v1_events_methods[BERTH_SUPERVISOR_V1_EVENTS_SUBSCRIBE],
        subscribe, supervisor, err);
}
