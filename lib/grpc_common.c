/*
 * grpc_common: the pieces of berth's gRPC binding that the server and the
 * client share. See grpc_common.h; the rules come from the gRPC core probe
 * (docs: "gRPC core C API + protobuf-c").
 */
#include "grpc_common.h"

#include <pthread.h>
#include <stdlib.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>

#include "log.h"

/* gRPC writes its errors ("E1129 ... chttp2_server.cc") to stderr. berth
 * reports what failed through berr, so these become debug lines in berth's
 * log; GRPC_VERBOSITY set in the environment keeps gRPC's own output. */
static void forward_grpc_log(gpr_log_func_args *args)
{
    log_debug("grpc %s:%d: %s", args->file, args->line, args->message);
}

static void quiet_grpc_log(void)
{
    if (!getenv("GRPC_VERBOSITY"))
        gpr_set_log_function(forward_grpc_log);
}

void rpc_library_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, quiet_grpc_log);
    grpc_init();
}

/*
 * Known stall (gRPC 1.51, epoll1): when a write has to wait (a message
 * larger than the socket buffer), gRPC's TCP code parks a "backup poller" on
 * its executor thread in epoll_wait for 10 s at a time. If that thread is the
 * one left polling when the last user shuts gRPC down, grpc_shutdown_blocking
 * waits for it: up to 10 s. Measured with the interop test's server after a
 * 6 MiB response; not seen with client and server in one process. Waking it
 * takes an event in gRPC's epoll set, which the public API has no clean way
 * to make (see docs/lib.md).
 */
void rpc_library_shutdown(void)
{
    grpc_shutdown_blocking();
}

const grpc_channel_args *rpc_channel_args(void)
{
    static grpc_arg args[] = {
        {.type = GRPC_ARG_INTEGER,
         .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
         .value.integer = RPC_MAX_MESSAGE_SIZE},
        {.type = GRPC_ARG_INTEGER,
         .key = GRPC_ARG_MAX_SEND_MESSAGE_LENGTH,
         .value.integer = RPC_MAX_MESSAGE_SIZE},
    };
    static const grpc_channel_args channel_args = {
        .num_args = sizeof(args) / sizeof(args[0]),
        .args = args,
    };
    return &channel_args;
}

grpc_byte_buffer *rpc_pack(const ProtobufCMessage *message)
{
    size_t size = protobuf_c_message_get_packed_size(message);
    grpc_slice slice = grpc_slice_malloc(size);
    grpc_byte_buffer *buffer;

    protobuf_c_message_pack(message, GRPC_SLICE_START_PTR(slice));
    buffer = grpc_raw_byte_buffer_create(&slice, 1);
    /* The buffer took a reference of its own. Slices of 23 bytes or less are
     * inlined and would not leak without this; larger ones would. */
    grpc_slice_unref(slice);
    return buffer;
}

int rpc_unpack(const ProtobufCMessageDescriptor *descriptor, grpc_byte_buffer *buffer,
               ProtobufCMessage **out, struct berr *err)
{
    grpc_byte_buffer_reader reader;
    grpc_slice slice;
    ProtobufCMessage *message;

    *out = NULL;
    /* The reader also decompresses, if the peer compressed. */
    if (!grpc_byte_buffer_reader_init(&reader, buffer))
        return berr_set(err, BERR_INVALID, "malformed %s message: cannot decompress",
                        descriptor->name);
    slice = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    message = protobuf_c_message_unpack(descriptor, NULL, GRPC_SLICE_LENGTH(slice),
                                        GRPC_SLICE_START_PTR(slice));
    grpc_slice_unref(slice);
    if (!message)
        return berr_set(err, BERR_INVALID, "malformed %s message", descriptor->name);
    *out = message;
    return 0;
}

grpc_status_code rpc_status_from_berr(int code)
{
    switch (code) {
    case BERR_OK:
        return GRPC_STATUS_OK;
    case BERR_INVALID:
        return GRPC_STATUS_INVALID_ARGUMENT;
    case BERR_NOT_FOUND:
        return GRPC_STATUS_NOT_FOUND;
    case BERR_EXISTS:
        return GRPC_STATUS_ALREADY_EXISTS;
    case BERR_CONFLICT:
        return GRPC_STATUS_FAILED_PRECONDITION;
    case BERR_PERMISSION:
        return GRPC_STATUS_PERMISSION_DENIED;
    case BERR_UNSUPPORTED:
        return GRPC_STATUS_UNIMPLEMENTED;
    case BERR_NOMEM:
    case BERR_NOSPACE:
        return GRPC_STATUS_RESOURCE_EXHAUSTED;
    case BERR_TIMEOUT:
        return GRPC_STATUS_DEADLINE_EXCEEDED;
    case BERR_UNAVAILABLE:
        return GRPC_STATUS_UNAVAILABLE;
    case BERR_CANCELLED:
        return GRPC_STATUS_CANCELLED;
    case BERR_IO:
    case BERR_INTERNAL:
    default:
        return GRPC_STATUS_INTERNAL;
    }
}

enum berr_code rpc_berr_from_status(grpc_status_code status)
{
    switch (status) {
    case GRPC_STATUS_OK:
        return BERR_OK;
    case GRPC_STATUS_INVALID_ARGUMENT:
    case GRPC_STATUS_OUT_OF_RANGE:
        return BERR_INVALID;
    case GRPC_STATUS_NOT_FOUND:
        return BERR_NOT_FOUND;
    case GRPC_STATUS_ALREADY_EXISTS:
        return BERR_EXISTS;
    case GRPC_STATUS_FAILED_PRECONDITION:
    case GRPC_STATUS_ABORTED:
        return BERR_CONFLICT;
    case GRPC_STATUS_PERMISSION_DENIED:
    case GRPC_STATUS_UNAUTHENTICATED:
        return BERR_PERMISSION;
    case GRPC_STATUS_UNIMPLEMENTED:
        return BERR_UNSUPPORTED;
    case GRPC_STATUS_RESOURCE_EXHAUSTED:
        return BERR_NOSPACE;
    case GRPC_STATUS_DEADLINE_EXCEEDED:
        return BERR_TIMEOUT;
    case GRPC_STATUS_UNAVAILABLE:
        return BERR_UNAVAILABLE;
    case GRPC_STATUS_CANCELLED:
        return BERR_CANCELLED;
    case GRPC_STATUS_DATA_LOSS:
        return BERR_IO;
    case GRPC_STATUS_UNKNOWN:
    case GRPC_STATUS_INTERNAL:
    default:
        return BERR_INTERNAL;
    }
}

const char *rpc_status_name(grpc_status_code status)
{
    static const char *const names[] = {
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    };
    if ((unsigned)status < sizeof(names) / sizeof(names[0]))
        return names[status];
    return "UNKNOWN_STATUS";
}

gpr_timespec rpc_deadline_after(int timeout_ms)
{
    if (timeout_ms <= 0)
        return gpr_inf_future(GPR_CLOCK_MONOTONIC);
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                        gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
}

int rpc_run_batch(grpc_call *call, grpc_completion_queue *queue, const grpc_op *ops, size_t count,
                  void *tag, struct berr *err)
{
    grpc_call_error started = grpc_call_start_batch(call, ops, count, tag, NULL);
    grpc_event event;

    if (started == GRPC_CALL_ERROR_INVALID_METADATA)
        return berr_set(err, BERR_INVALID, "invalid metadata (a key or value gRPC cannot send)");
    if (started != GRPC_CALL_OK)
        return berr_set(err, BERR_INTERNAL, "grpc_call_start_batch: error %d", (int)started);
    event = grpc_completion_queue_pluck(queue, tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (event.type != GRPC_OP_COMPLETE)
        return berr_set(err, BERR_INTERNAL, "grpc_completion_queue_pluck: event %d",
                        (int)event.type);
    if (!event.success)
        return berr_set(err, BERR_CANCELLED, "the call ended");
    return 0;
}

void rpc_queue_destroy(grpc_completion_queue *queue)
{
    grpc_event event;

    grpc_completion_queue_shutdown(queue);
    do {
        /* Any tag: nothing is pending, so only the shutdown comes out. */
        event = grpc_completion_queue_pluck(queue, queue, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    } while (event.type != GRPC_QUEUE_SHUTDOWN);
    grpc_completion_queue_destroy(queue);
}
