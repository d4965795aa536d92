/*
 * grpc_server: berth-supervisord's gRPC server, over gRPC core's C API.
 *
 * Why this shape: a supervisor handler unpacks layers, waits for a shim or a
 * process, writes files. gRPC core only makes progress while some thread
 * polls a completion queue, so handlers must not run on the polling threads.
 * Here two threads poll one notification queue and do nothing but accept
 * calls; each call runs its handler on a thread of its own, with a blocking
 * API over a completion queue private to that call. A handler can block as
 * long as it likes without stalling anyone else's call.
 *
 *     static int read_handler(struct rpc_call *call, void *data, struct berr *err)
 *     {
 *         ProtobufCMessage *request;
 *         int rc = rpc_call_receive(call, &request, err);   // the one request
 *         if (rc)
 *             return rc == RPC_END_OF_STREAM ? BERR_INVALID : rc;
 *         ... rpc_call_send(call, &response.base, err) for each chunk ...
 *         protobuf_c_message_free_unpacked(request, NULL);
 *         return 0;                                         // status OK
 *     }
 *
 *     rpc_server_create("unix:/run/berth/supervisord.sock", &server, &err);
 *     rpc_server_register(server, &berth_supervisor_v1_content_methods[
 *                         BERTH_SUPERVISOR_V1_CONTENT_READ], read_handler, store, &err);
 *     rpc_server_start(server, &err);
 *     ... wait for SIGTERM ...
 *     rpc_server_shutdown(server);
 *
 * A handler returns 0 for an OK status or a berr code, which the client sees
 * as a gRPC status (BERR_NOT_FOUND → NOT_FOUND, ...; grpc_common.c has the
 * table) with err->message as the status details. Calls to methods nobody
 * registered end at once with UNIMPLEMENTED.
 *
 * A daemon should block SIGTERM and SIGINT before rpc_server_create (gRPC's
 * threads inherit the mask) and wait for them with sigwait.
 *
 * Names start with rpc_ because gRPC core owns grpc_ (grpc_server_create...).
 */
#ifndef BERTH_GRPC_SERVER_H
#define BERTH_GRPC_SERVER_H

#include <stdbool.h>

#include "berr.h"
#include "grpc_method.h"

struct rpc_server;
struct rpc_call;

typedef int (*rpc_handler)(struct rpc_call *call, void *data, struct berr *err);

/*
 * A server that will listen on address: "unix:/path", "unix:///path" or a
 * TCP "host:port" (port 0 picks one: see rpc_server_port). For a unix
 * socket, an flock on "<path>.lock" comes first, so that a second server
 * cannot take over (gRPC would silently unlink a live server's socket):
 * BERR_EXISTS if another process holds it. The socket's mode is 0660. The
 * lock file stays behind on shutdown.
 */
int rpc_server_create(const char *address, struct rpc_server **out, struct berr *err);

/* Serve method with handler(call, data, ...). Before rpc_server_start. */
int rpc_server_register(struct rpc_server *server, const struct rpc_method *method,
                        rpc_handler handler, void *data, struct berr *err);

/* Accept calls from now on. */
int rpc_server_start(struct rpc_server *server, struct berr *err);

/* The TCP port the server listens on (0 for a unix socket). */
int rpc_server_port(const struct rpc_server *server);

/*
 * Stop accepting calls, cancel the calls in progress (their clients get
 * UNAVAILABLE), wait until every handler has returned, and free everything.
 * Handlers blocked outside gRPC should poll rpc_call_cancelled. Also for a
 * server never started.
 */
void rpc_server_shutdown(struct rpc_server *server);

/*
 * The same, minus gRPC's own library teardown, for a daemon about to exit:
 * that teardown can wait up to 10 s for a backup poller thread (see
 * grpc_common.c), and exit ends the thread anyway. Every call has ended and
 * every handler has returned when this returns.
 */
void rpc_server_shutdown_for_exit(struct rpc_server *server);

/* In a handler. One thread may send while another receives (for a
 * bidirectional stream); other functions are for the handler's thread. */

/* The value of request metadata key (lowercase), or NULL. The string lives
 * as long as the call. The namespace is under "berth-namespace". */
const char *rpc_call_metadata(struct rpc_call *call, const char *key);

/* The namespace the client named, or NULL. */
const char *rpc_call_namespace(struct rpc_call *call);

/* The method being called. */
const struct rpc_method *rpc_call_method(const struct rpc_call *call);

/*
 * The next request message into *message (free it with
 * protobuf_c_message_free_unpacked(*message, NULL)). Returns 0 with a
 * message, RPC_END_OF_STREAM (negative) at the end of the client's stream
 * (for a method with a single request: on the second call), BERR_INVALID for a malformed message
 * (or a missing single request), BERR_CANCELLED if the call ended.
 */
int rpc_call_receive(struct rpc_call *call, ProtobufCMessage **message, struct berr *err);

/*
 * Send a response message. On a streaming response, each call sends one
 * message of the stream and blocks until gRPC took it (a client that does
 * not read slows the handler down). On a single response, the message goes
 * out with the status when the handler returns 0; a second one is an error.
 * BERR_CANCELLED if the call ended.
 */
int rpc_call_send(struct rpc_call *call, const ProtobufCMessage *message, struct berr *err);

/* The client cancelled, went away, or the call's deadline passed (gRPC does
 * not stop a handler: long handlers check this). */
bool rpc_call_cancelled(struct rpc_call *call);

/* Sends the response headers now (otherwise they go with the first
 * message): a streaming handler tells its client it is ready, e.g. that a
 * subscription is in place, before it has anything to send. */
int rpc_call_send_headers(struct rpc_call *call, struct berr *err);

/* Ends the call now with status code (a berr code) and message, from any
 * thread: a receive or send blocked in another thread returns
 * BERR_CANCELLED. For a bidirectional handler whose output side learned
 * that the call is over while its input side waits on the client. */
void rpc_call_abort(struct rpc_call *call, int code, const char *message);

/* Milliseconds until the call's deadline (0 if passed), or -1 if none. */
long rpc_call_remaining_ms(struct rpc_call *call);

#endif
