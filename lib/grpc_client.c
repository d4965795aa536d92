/*
 * grpc_client: see grpc_client.h. One grpc_channel per client (gRPC makes
 * it thread-safe and reconnects it); each call or stream has a pluck queue
 * of its own, which the calling thread polls while it waits, so there are
 * no threads of ours and no shared queue to contend on.
 *
 * A unary call is one batch with every op. A stream starts its
 * RECV_STATUS_ON_CLIENT batch when it opens (as grpcio does), sends its
 * initial metadata, and then runs one batch per send or receive. Whoever
 * first needs the status (the receiver at the end of the stream, a sender
 * whose send failed, free) plucks it, under a mutex, since two threads must
 * never pluck one tag.
 */
#include "grpc_client.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>

#include "grpc_common.h"

struct rpc_client {
    grpc_channel *channel;
};

struct rpc_stream {
    const struct rpc_method *method;
    grpc_call *core;
    grpc_completion_queue *queue;
    bool send_closed;               /* the sender's */
    bool initial_metadata_received; /* the receiver's */
    grpc_metadata_array initial_metadata;

    pthread_mutex_t status_mutex; /* guards the status tag and what follows */
    bool status_received;
    grpc_status_code status;
    grpc_slice status_details;
    grpc_metadata_array trailing_metadata;

    char send_tag, receive_tag, status_tag;
};

int rpc_client_open(const char *address, struct rpc_client **out, struct berr *err)
{
    struct rpc_client *client;
    grpc_channel_credentials *credentials;

    *out = NULL;
    if (!address || !*address)
        return berr_set(err, BERR_INVALID, "gRPC client: no address");
    client = calloc(1, sizeof(*client));
    if (!client)
        return berr_set(err, BERR_NOMEM, "gRPC client: out of memory");
    rpc_library_init();
    credentials = grpc_insecure_credentials_create();
    client->channel = grpc_channel_create(address, credentials, rpc_channel_args());
    grpc_channel_credentials_release(credentials);
    *out = client;
    return 0;
}

void rpc_client_close(struct rpc_client *client)
{
    if (!client)
        return;
    grpc_channel_destroy(client->channel);
    rpc_library_shutdown();
    free(client);
}

/* --- shared by unary calls and streams ----------------------------------- */

static grpc_call *create_call(struct rpc_client *client, const struct rpc_method *method,
                              grpc_completion_queue *queue, int timeout_ms)
{
    grpc_slice path = grpc_slice_from_copied_string(method->path);
    grpc_call *call =
        grpc_channel_create_call(client->channel, NULL, GRPC_PROPAGATE_DEFAULTS, queue, path, NULL,
                                 rpc_deadline_after(timeout_ms), NULL);
    grpc_slice_unref(path);
    return call;
}

/* Fills the SEND_INITIAL_METADATA op; *entry holds the namespace until the
 * batch completes (release_initial_metadata). */
static void initial_metadata_op(grpc_op *op, grpc_metadata *entry, const char *namespace,
                                int timeout_ms)
{
    memset(op, 0, sizeof(*op));
    op->op = GRPC_OP_SEND_INITIAL_METADATA;
    /* With a deadline, wait for the server to come (back) up until then. */
    op->flags = GRPC_INITIAL_METADATA_WAIT_FOR_READY_EXPLICITLY_SET;
    if (timeout_ms > 0)
        op->flags |= GRPC_INITIAL_METADATA_WAIT_FOR_READY;
    if (!namespace)
        return;
    memset(entry, 0, sizeof(*entry));
    entry->key = grpc_slice_from_static_string(RPC_NAMESPACE_KEY);
    entry->value = grpc_slice_from_copied_string(namespace);
    op->data.send_initial_metadata.count = 1;
    op->data.send_initial_metadata.metadata = entry;
}

static void release_initial_metadata(grpc_op *op)
{
    if (op->data.send_initial_metadata.count)
        grpc_slice_unref(op->data.send_initial_metadata.metadata[0].value);
}

/* The berr of a non-OK status: the server's details, or the status name. */
static int status_error(const struct rpc_method *method, grpc_status_code status,
                        grpc_slice details, struct berr *err)
{
    enum berr_code code = rpc_berr_from_status(status);

    if (code == BERR_OK)
        code = BERR_INTERNAL;
    if (GRPC_SLICE_LENGTH(details) == 0)
        return berr_set(err, code, "%s: %s", method->path, rpc_status_name(status));
    return berr_set(err, code, "%.*s", (int)GRPC_SLICE_LENGTH(details),
                    (const char *)GRPC_SLICE_START_PTR(details));
}

static int check_request(const struct rpc_method *method, const ProtobufCMessage *message,
                         struct berr *err)
{
    if (message->descriptor != method->input)
        return berr_set(err, BERR_INVALID, "%s: cannot send a %s, the method takes %s",
                        method->path, message->descriptor->name, method->input->name);
    return 0;
}

/* --- unary calls --------------------------------------------------------- */

struct unary_result {
    grpc_metadata_array initial_metadata;
    grpc_metadata_array trailing_metadata;
    grpc_byte_buffer *response;
    grpc_status_code status;
    grpc_slice details;
};

static int run_unary(grpc_call *call, grpc_completion_queue *queue, grpc_op *ops,
                     grpc_byte_buffer *request, struct unary_result *result, struct berr *err)
{
    int rc;

    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = request;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &result->initial_metadata;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &result->response;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &result->trailing_metadata;
    ops[5].data.recv_status_on_client.status = &result->status;
    ops[5].data.recv_status_on_client.status_details = &result->details;
    /* A batch with RECV_STATUS completes when the call ends, however it ends:
     * the status says how. */
    rc = rpc_run_batch(call, queue, ops, 6, queue, err);
    return rc == BERR_CANCELLED ? 0 : rc;
}

int rpc_client_unary(struct rpc_client *client, const struct rpc_method *method,
                     const char *namespace, const ProtobufCMessage *request,
                     ProtobufCMessage **response, int timeout_ms, struct berr *err)
{
    struct unary_result result = {.status = GRPC_STATUS_UNKNOWN, .details = grpc_empty_slice()};
    grpc_completion_queue *queue;
    grpc_byte_buffer *packed;
    grpc_metadata entry;
    grpc_op ops[6];
    grpc_call *call;
    int rc;

    *response = NULL;
    if (method->client_streaming || method->server_streaming)
        return berr_set(err, BERR_INVALID, "%s streams: use rpc_stream_open", method->path);
    rc = check_request(method, request, err);
    if (rc)
        return rc;
    berr_clear(err);
    queue = grpc_completion_queue_create_for_pluck(NULL);
    call = create_call(client, method, queue, timeout_ms);
    grpc_metadata_array_init(&result.initial_metadata);
    grpc_metadata_array_init(&result.trailing_metadata);
    memset(ops, 0, sizeof(ops));
    initial_metadata_op(&ops[0], &entry, namespace, timeout_ms);
    packed = rpc_pack(request);

    rc = run_unary(call, queue, ops, packed, &result, err);
    if (rc == 0 && result.status != GRPC_STATUS_OK)
        rc = status_error(method, result.status, result.details, err);
    else if (rc == 0 && !result.response)
        rc = berr_set(err, BERR_INTERNAL, "%s: the server sent no response", method->path);
    else if (rc == 0)
        rc = rpc_unpack(method->output, result.response, response, err);

    release_initial_metadata(&ops[0]);
    grpc_byte_buffer_destroy(packed);
    if (result.response)
        grpc_byte_buffer_destroy(result.response);
    grpc_slice_unref(result.details);
    grpc_metadata_array_destroy(&result.initial_metadata);
    grpc_metadata_array_destroy(&result.trailing_metadata);
    grpc_call_unref(call);
    rpc_queue_destroy(queue);
    return rc;
}

/* --- streams ------------------------------------------------------------- */

static int start_status(struct rpc_stream *stream, struct berr *err)
{
    grpc_op op = {.op = GRPC_OP_RECV_STATUS_ON_CLIENT};
    grpc_call_error started;

    op.data.recv_status_on_client.trailing_metadata = &stream->trailing_metadata;
    op.data.recv_status_on_client.status = &stream->status;
    op.data.recv_status_on_client.status_details = &stream->status_details;
    started = grpc_call_start_batch(stream->core, &op, 1, &stream->status_tag, NULL);
    if (started != GRPC_CALL_OK) {
        stream->status_received = true; /* nothing to pluck */
        return berr_set(err, BERR_INTERNAL, "grpc_call_start_batch: error %d", (int)started);
    }
    return 0;
}

/* Plucks the status: blocking (until the call ends) or only if it is there. */
static bool take_status(struct rpc_stream *stream, bool wait)
{
    bool received;

    pthread_mutex_lock(&stream->status_mutex);
    if (!stream->status_received) {
        gpr_timespec deadline =
            wait ? gpr_inf_future(GPR_CLOCK_REALTIME) : gpr_inf_past(GPR_CLOCK_REALTIME);
        grpc_event event =
            grpc_completion_queue_pluck(stream->queue, &stream->status_tag, deadline, NULL);
        stream->status_received = event.type == GRPC_OP_COMPLETE;
    }
    received = stream->status_received;
    pthread_mutex_unlock(&stream->status_mutex);
    return received;
}

/* The stream's end as a return value: RPC_END_OF_STREAM for OK, else the
 * status's code. */
static int stream_end(struct rpc_stream *stream, struct berr *err)
{
    take_status(stream, true);
    if (stream->status == GRPC_STATUS_OK)
        return RPC_END_OF_STREAM;
    return status_error(stream->method, stream->status, stream->status_details, err);
}

/* A send failed: the call is over. Its status, if it has come already. */
static int send_failed(struct rpc_stream *stream, struct berr *err)
{
    if (take_status(stream, false) && stream->status != GRPC_STATUS_OK)
        return status_error(stream->method, stream->status, stream->status_details, err);
    return berr_set(err, BERR_CANCELLED, "%s: the call ended", stream->method->path);
}

static int send_initial_metadata(struct rpc_stream *stream, const char *namespace, int timeout_ms,
                                 struct berr *err)
{
    grpc_metadata entry;
    grpc_op op;
    int rc;

    initial_metadata_op(&op, &entry, namespace, timeout_ms);
    rc = rpc_run_batch(stream->core, stream->queue, &op, 1, &stream->send_tag, err);
    release_initial_metadata(&op);
    if (rc == BERR_CANCELLED) {
        /* Not connected by the deadline, or refused: the status says which. */
        rc = stream_end(stream, err);
        if (rc == RPC_END_OF_STREAM)
            rc = berr_set(err, BERR_UNAVAILABLE, "%s: the call ended", stream->method->path);
    }
    return rc;
}

int rpc_stream_open(struct rpc_client *client, const struct rpc_method *method,
                    const char *namespace, int timeout_ms, struct rpc_stream **out,
                    struct berr *err)
{
    struct rpc_stream *stream = calloc(1, sizeof(*stream));
    int rc;

    *out = NULL;
    if (!stream)
        return berr_set(err, BERR_NOMEM, "%s: out of memory", method->path);
    stream->method = method;
    stream->queue = grpc_completion_queue_create_for_pluck(NULL);
    stream->core = create_call(client, method, stream->queue, timeout_ms);
    stream->status = GRPC_STATUS_UNKNOWN;
    stream->status_details = grpc_empty_slice();
    grpc_metadata_array_init(&stream->initial_metadata);
    grpc_metadata_array_init(&stream->trailing_metadata);
    pthread_mutex_init(&stream->status_mutex, NULL);
    rc = start_status(stream, err);
    if (rc == 0)
        rc = send_initial_metadata(stream, namespace, timeout_ms, err);
    if (rc) {
        rpc_stream_free(stream);
        return rc;
    }
    *out = stream;
    return 0;
}

int rpc_stream_send(struct rpc_stream *stream, const ProtobufCMessage *message, struct berr *err)
{
    const struct rpc_method *method = stream->method;
    grpc_byte_buffer *packed;
    grpc_op ops[2];
    size_t count = 0;
    int rc;

    if (stream->send_closed)
        return berr_set(err, BERR_CONFLICT, "%s: no more requests may be sent", method->path);
    rc = check_request(method, message, err);
    if (rc)
        return rc;
    packed = rpc_pack(message);
    memset(ops, 0, sizeof(ops));
    ops[count].op = GRPC_OP_SEND_MESSAGE;
    ops[count++].data.send_message.send_message = packed;
    if (!method->client_streaming) {
        ops[count++].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT; /* the one request */
        stream->send_closed = true;
    }
    rc = rpc_run_batch(stream->core, stream->queue, ops, count, &stream->send_tag, err);
    grpc_byte_buffer_destroy(packed);
    if (rc == BERR_CANCELLED)
        return send_failed(stream, err);
    return rc;
}

int rpc_stream_close_send(struct rpc_stream *stream, struct berr *err)
{
    grpc_op op = {.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT};
    int rc;

    if (stream->send_closed)
        return 0;
    stream->send_closed = true;
    rc = rpc_run_batch(stream->core, stream->queue, &op, 1, &stream->send_tag, err);
    if (rc == BERR_CANCELLED)
        return send_failed(stream, err);
    return rc;
}

int rpc_stream_receive_headers(struct rpc_stream *stream, struct berr *err)
{
    grpc_op op;
    int rc;

    if (stream->initial_metadata_received)
        return 0;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_INITIAL_METADATA;
    op.data.recv_initial_metadata.recv_initial_metadata = &stream->initial_metadata;
    stream->initial_metadata_received = true;
    rc = rpc_run_batch(stream->core, stream->queue, &op, 1, &stream->receive_tag, err);
    if (rc == BERR_CANCELLED)
        return stream_end(stream, err);
    return rc;
}

int rpc_stream_receive(struct rpc_stream *stream, ProtobufCMessage **message, struct berr *err)
{
    grpc_byte_buffer *buffer = NULL;
    grpc_op ops[2];
    size_t count = 0;
    int rc;

    *message = NULL;
    memset(ops, 0, sizeof(ops));
    if (!stream->initial_metadata_received) {
        ops[count].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[count++].data.recv_initial_metadata.recv_initial_metadata = &stream->initial_metadata;
        stream->initial_metadata_received = true;
    }
    ops[count].op = GRPC_OP_RECV_MESSAGE;
    ops[count++].data.recv_message.recv_message = &buffer;
    rc = rpc_run_batch(stream->core, stream->queue, ops, count, &stream->receive_tag, err);
    if (rc != 0 && rc != BERR_CANCELLED)
        return rc;
    if (!buffer)
        return stream_end(stream, err);
    rc = rpc_unpack(stream->method->output, buffer, message, err);
    grpc_byte_buffer_destroy(buffer);
    if (rc)
        grpc_call_cancel(stream->core, NULL); /* a peer that sends garbage is done */
    return rc;
}

void rpc_stream_cancel(struct rpc_stream *stream)
{
    grpc_call_cancel(stream->core, NULL);
}

void rpc_stream_free(struct rpc_stream *stream)
{
    if (!stream)
        return;
    if (!take_status(stream, false)) {
        grpc_call_cancel(stream->core, NULL);
        take_status(stream, true);
    }
    grpc_slice_unref(stream->status_details);
    grpc_metadata_array_destroy(&stream->initial_metadata);
    grpc_metadata_array_destroy(&stream->trailing_metadata);
    grpc_call_unref(stream->core);
    rpc_queue_destroy(stream->queue);
    pthread_mutex_destroy(&stream->status_mutex);
    free(stream);
}
