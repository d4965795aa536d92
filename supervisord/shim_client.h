/*
 * shim_client: the supervisor's side of the shim protocol
 * (proto/berth/shim/v1/shim.proto, framed by lib/framing.h).
 *
 * A client is one connection to one shim. Requests on it are answered in
 * order, so a connection is used by one caller at a time (a mutex); a
 * request that blocks (Wait) gets a connection of its own, and so do event
 * subscriptions and attach streams, which switch the connection's mode.
 */
#ifndef BERTH_SUPERVISOR_SHIM_CLIENT_H
#define BERTH_SUPERVISOR_SHIM_CLIENT_H

#include <stdbool.h>

#include "berr.h"
#include "berth/shim/v1/shim.pb-c.h"

struct shim_client;

int shim_client_connect(const char *socket_path, struct shim_client **out, struct berr *err);
void shim_client_close(struct shim_client *client);

/* The client's descriptor (for polling an event stream). */
int shim_client_fd(const struct shim_client *client);

/* Sends request (its id is set here) and waits for the answer. A shim error
 * comes back as its berr code and message; *response (free with
 * berth__shim__v1__response__free_unpacked) only on success. */
int shim_client_call(struct shim_client *client, Berth__Shim__V1__Request *request,
                     Berth__Shim__V1__Response **response, struct berr *err);

/* As shim_client_call, for a request whose answer may take days (Wait):
 * gives up with BERR_CANCELLED once cancelled(context) is true (checked
 * every 250 ms). The connection is not reusable after a cancel. */
int shim_client_call_cancellable(struct shim_client *client, Berth__Shim__V1__Request *request,
                                 bool (*cancelled)(void *), void *context,
                                 Berth__Shim__V1__Response **response, struct berr *err);

/* Subscribe mode: reads the next event (blocking). */
int shim_client_next_event(struct shim_client *client, Berth__Shim__V1__Event **event,
                           struct berr *err);

/* Attach mode: one frame each way. */
int shim_client_send_frame(struct shim_client *client, const Berth__Shim__V1__AttachFrame *frame,
                           struct berr *err);
int shim_client_receive_frame(struct shim_client *client, Berth__Shim__V1__AttachFrame **frame,
                              struct berr *err);

#endif
