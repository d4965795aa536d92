/*
 * grpc_common: what berth's gRPC server and client share, kept out of their
 * public headers so that users of those never include gRPC's.
 *
 * Pack and unpack protobuf-c messages to and from gRPC byte buffers (with the
 * slice unref that tiny test messages hide: see docs on pitfall 1), map berr
 * codes to gRPC statuses and back, build the channel arguments both ends use
 * (16 MiB messages), and bring gRPC up with its stderr logging turned into
 * berth debug lines unless GRPC_VERBOSITY asks for gRPC's own.
 */
#ifndef BERTH_GRPC_COMMON_H
#define BERTH_GRPC_COMMON_H

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>

#include "berr.h"

/* Both directions, both ends. gRPC's default receive limit is 4 MiB. */
#define RPC_MAX_MESSAGE_SIZE (16 * 1024 * 1024)

/* The metadata key that carries the namespace of a supervisor request. */
#define RPC_NAMESPACE_KEY "berth-namespace"

/* grpc_init, once per user (gRPC counts them); the first also quiets gRPC's log. */
void rpc_library_init(void);
/* grpc_shutdown_blocking: the last user's call tears gRPC down before returning. */
void rpc_library_shutdown(void);

/* The channel arguments of servers and channels: message size limits. */
const grpc_channel_args *rpc_channel_args(void);

/* A byte buffer holding the packed message; the caller destroys it. */
grpc_byte_buffer *rpc_pack(const ProtobufCMessage *message);

/* Unpacks buffer as a descriptor message into *out (free it with
 * protobuf_c_message_free_unpacked(*out, NULL)); BERR_INVALID if malformed. */
int rpc_unpack(const ProtobufCMessageDescriptor *descriptor, grpc_byte_buffer *buffer,
               ProtobufCMessage **out, struct berr *err);

grpc_status_code rpc_status_from_berr(int code);
enum berr_code rpc_berr_from_status(grpc_status_code status);
/* "NOT_FOUND", for messages. */
const char *rpc_status_name(grpc_status_code status);

/* The deadline timeout_ms from now; 0: none. */
gpr_timespec rpc_deadline_after(int timeout_ms);

/*
 * Starts a batch of count ops on call, tagged tag, and waits for it on the
 * call's pluck queue. 0 if it succeeded; BERR_CANCELLED if it completed
 * without success (the call ended: the caller says why); BERR_INVALID if
 * gRPC refused metadata; BERR_INTERNAL if gRPC refused the batch otherwise
 * (a bug of ours: say, two sends in flight).
 */
int rpc_run_batch(grpc_call *call, grpc_completion_queue *queue, const grpc_op *ops, size_t count,
                  void *tag, struct berr *err);

/* Shuts down a pluck queue whose tags were all plucked, and destroys it. */
void rpc_queue_destroy(grpc_completion_queue *queue);

#endif
