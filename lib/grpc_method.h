/*
 * grpc_method: one gRPC method as berth's binding sees it.
 *
 * protoc-c describes messages but not streaming, so proto/gen_method_table.py
 * writes a table of these per service from protoc's descriptor set (files
 * named X.pb-rpc.h next to protoc-c's X.pb-c.h):
 *
 *     #include "berth/supervisor/v1/content.pb-rpc.h"
 *     const struct rpc_method *read =
 *         &berth_supervisor_v1_content_methods[BERTH_SUPERVISOR_V1_CONTENT_READ];
 *
 * The server (grpc_server.h) and the client (grpc_client.h) take these. The
 * names start with rpc_, not grpc_: gRPC core owns that prefix
 * (grpc_server_create, struct grpc_call, ...). This header needs only
 * protobuf-c, so generated tables do not pull gRPC into what links them.
 */
#ifndef BERTH_GRPC_METHOD_H
#define BERTH_GRPC_METHOD_H

#include <stdbool.h>

#include <protobuf-c/protobuf-c.h>

struct rpc_method {
    const char *path; /* "/berth.supervisor.v1.Content/Read" */
    const ProtobufCMessageDescriptor *input;
    const ProtobufCMessageDescriptor *output;
    bool client_streaming; /* the client sends a stream of requests */
    bool server_streaming; /* the server answers with a stream of responses */
};

/* What rpc_call_receive and rpc_stream_receive return at the end of a
 * stream: negative, so it is never mistaken for a berr code (BERR_INVALID
 * is 1). */
#define RPC_END_OF_STREAM (-1)

#endif
