/*
 * grpc_client: berth-engined's (and the tests') gRPC client, over gRPC
 * core's C API.
 *
 * Why: the engine calls the supervisor from many threads (one per Docker API
 * request), mostly unary calls, plus a few streams (events, pull progress,
 * attach). So: one channel shared by all threads, and a blocking API in which
 * every call polls a completion queue of its own; nothing runs in the
 * background, and no callback runs on a thread the caller does not own.
 *
 *     rpc_client_open("unix:/run/berth/supervisord.sock", &client, &err);
 *     rc = rpc_client_unary(client, &berth_supervisor_v1_containers_methods[
 *                           BERTH_SUPERVISOR_V1_CONTAINERS_GET], "default",
 *                           &request.base, &response, 5000, &err);
 *     ... protobuf_c_message_free_unpacked(response, NULL);
 *     rpc_client_close(client);
 *
 * A non-OK status comes back as the berr code it maps to (NOT_FOUND →
 * BERR_NOT_FOUND, UNAVAILABLE → BERR_UNAVAILABLE, DEADLINE_EXCEEDED →
 * BERR_TIMEOUT, ...) with the server's status details as the message.
 *
 * With a timeout, a call waits for the server to be ready (gRPC's
 * WAIT_FOR_READY) until its deadline, so calls made while the supervisor
 * restarts succeed once it is back. Without one (timeout_ms 0) a call fails
 * at once with BERR_UNAVAILABLE when nobody listens, and otherwise waits as
 * long as the server takes.
 *
 * Names start with rpc_ because gRPC core owns grpc_.
 */
#ifndef BERTH_GRPC_CLIENT_H
#define BERTH_GRPC_CLIENT_H

#include "berr.h"
#include "grpc_method.h"

struct rpc_client;
struct rpc_stream;

/* A client of address ("unix:/path", "unix:///path", "host:port"). It
 * connects on first use and reconnects by itself. Thread-safe. */
int rpc_client_open(const char *address, struct rpc_client **out, struct berr *err);

/* After every stream of the client is freed. */
void rpc_client_close(struct rpc_client *client);

/*
 * Calls a unary method: one request, one response into *response (free it
 * with protobuf_c_message_free_unpacked(*response, NULL)). namespace goes out
 * as the "berth-namespace" metadata (NULL: none). timeout_ms 0: no deadline.
 */
int rpc_client_unary(struct rpc_client *client, const struct rpc_method *method,
                     const char *namespace, const ProtobufCMessage *request,
                     ProtobufCMessage **response, int timeout_ms, struct berr *err);

/*
 * A streaming call (client, server or both ways). For a method with a
 * single request, send it with rpc_stream_send (that also closes the
 * sending side), then receive. For a client stream, send, then
 * rpc_stream_close_send, then receive the response.
 *
 * One thread may send while another receives; rpc_stream_cancel may come
 * from any thread; rpc_stream_free only once nobody else uses the stream.
 */
int rpc_stream_open(struct rpc_client *client, const struct rpc_method *method,
                    const char *namespace, int timeout_ms, struct rpc_stream **out,
                    struct berr *err);

/* Sends one request. If the call has ended (the server answered with an
 * error, say), returns that status's code when it is known already, or
 * BERR_CANCELLED; rpc_stream_receive then gives the status. */
int rpc_stream_send(struct rpc_stream *stream, const ProtobufCMessage *message, struct berr *err);

/* Tells the server no more requests come. */
int rpc_stream_close_send(struct rpc_stream *stream, struct berr *err);

/*
 * Waits for the server's response headers (initial metadata). A server
 * that sends them as soon as it is ready (Events.Subscribe does, once the
 * subscription is in place) lets the client know nothing it does from now
 * on goes unseen. 0 once they came; a call that ended at once with a
 * status only (gRPC's trailers-only answer) may also give 0 here, and then
 * the next rpc_stream_receive gives that status. A later
 * rpc_stream_receive does not wait for the headers again.
 */
int rpc_stream_receive_headers(struct rpc_stream *stream, struct berr *err);

/*
 * The next response into *message (free it with
 * protobuf_c_message_free_unpacked). Returns 0 with a message,
 * RPC_END_OF_STREAM (negative) when the stream ended with an OK status, or
 * the berr code of a non-OK status (a cancelled stream: BERR_CANCELLED).
 */
int rpc_stream_receive(struct rpc_stream *stream, ProtobufCMessage **message, struct berr *err);

/* Cancels the call: a receive blocked in another thread returns
 * BERR_CANCELLED, and the server's handler sees rpc_call_cancelled. */
void rpc_stream_cancel(struct rpc_stream *stream);

/* Cancels the call if it has not ended, and frees the stream. */
void rpc_stream_free(struct rpc_stream *stream);

#endif
