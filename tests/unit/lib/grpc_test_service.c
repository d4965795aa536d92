/*
 * grpc_test_service: handlers of berth.test.v1.Echo. Each request carries
 * knobs (fail_code, wait_for_cancel, count) so that tests choose the
 * behaviour from the client side. See grpc_test.proto.
 */
#include "grpc_test_service.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grpc_test.pb-c.h"
#include "grpc_test.pb-rpc.h"

#define WAIT_FOR_CANCEL_MAX_MS 20000

static void sleep_ms(long ms)
{
    struct timespec pause = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    nanosleep(&pause, NULL);
}

/* Blocks like a handler waiting for a process, checking for cancellation. */
static int wait_for_cancel(struct rpc_call *call, struct echo_service *service, struct berr *err)
{
    for (long waited = 0; waited < WAIT_FOR_CANCEL_MAX_MS; waited++) {
        if (rpc_call_cancelled(call)) {
            __atomic_fetch_add(&service->cancellations_seen, 1, __ATOMIC_SEQ_CST);
            return berr_set(err, BERR_CANCELLED, "cancelled while waiting");
        }
        sleep_ms(1);
    }
    return berr_set(err, BERR_TIMEOUT, "never cancelled");
}

static int fail_if_asked(const Berth__Test__V1__EchoRequest *request, struct berr *err)
{
    if (request->fail_code)
        return berr_set(err, request->fail_code, "%s", request->fail_message);
    return 0;
}

static void echo(struct rpc_call *call, const Berth__Test__V1__EchoRequest *request, int64_t index,
                 Berth__Test__V1__EchoResponse *response)
{
    const char *namespace = rpc_call_namespace(call);

    berth__test__v1__echo_response__init(response);
    response->text = request->text;
    response->payload = request->payload;
    response->namespace_ = (char *)(namespace ? namespace : "");
    response->index = index;
}

/* The single request of a unary or server-streaming call. */
static int receive_single(struct rpc_call *call, ProtobufCMessage **request, struct berr *err)
{
    int rc = rpc_call_receive(call, request, err);
    if (rc == RPC_END_OF_STREAM)
        return berr_set(err, BERR_INVALID, "no request");
    return rc;
}

static int unary(struct rpc_call *call, void *data, struct berr *err)
{
    Berth__Test__V1__EchoRequest *request;
    Berth__Test__V1__EchoResponse response;
    int rc = receive_single(call, (ProtobufCMessage **)&request, err);

    if (rc)
        return rc;
    rc = fail_if_asked(request, err);
    if (rc == 0 && request->wait_for_cancel)
        rc = wait_for_cancel(call, data, err);
    if (rc == 0) {
        echo(call, request, 0, &response);
        rc = rpc_call_send(call, &response.base, err);
    }
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int server_stream(struct rpc_call *call, void *data, struct berr *err)
{
    Berth__Test__V1__StreamRequest *request;
    Berth__Test__V1__EchoResponse response = BERTH__TEST__V1__ECHO_RESPONSE__INIT;
    uint8_t *payload;
    int rc = receive_single(call, (ProtobufCMessage **)&request, err);

    if (rc)
        return rc;
    payload = calloc(1, request->payload_size > 0 ? (size_t)request->payload_size : 1);
    response.payload.data = payload;
    response.payload.len = request->payload_size > 0 ? (size_t)request->payload_size : 0;
    response.text = "stream";
    for (int64_t i = 0; i < request->count && rc == 0; i++) {
        response.index = i;
        if (response.payload.len > 0)
            payload[0] = (uint8_t)i;
        rc = rpc_call_send(call, &response.base, err);
    }
    if (rc == 0 && request->wait_for_cancel)
        rc = wait_for_cancel(call, data, err);
    free(payload);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int client_stream(struct rpc_call *call, void *data, struct berr *err)
{
    Berth__Test__V1__CountResponse response = BERTH__TEST__V1__COUNT_RESPONSE__INIT;
    Berth__Test__V1__EchoRequest *request;
    int rc;

    (void)data;
    while ((rc = rpc_call_receive(call, (ProtobufCMessage **)&request, err)) == 0) {
        response.count++;
        response.bytes += (int64_t)request->payload.len;
        rc = fail_if_asked(request, err);
        protobuf_c_message_free_unpacked(&request->base, NULL);
        if (rc)
            return rc;
    }
    if (rc != RPC_END_OF_STREAM)
        return rc;
    return rpc_call_send(call, &response.base, err);
}

static int bidi(struct rpc_call *call, void *data, struct berr *err)
{
    Berth__Test__V1__EchoRequest *request;
    Berth__Test__V1__EchoResponse response;
    int64_t index = 0;
    int rc;

    while ((rc = rpc_call_receive(call, (ProtobufCMessage **)&request, err)) == 0) {
        rc = fail_if_asked(request, err);
        if (rc == 0 && request->wait_for_cancel)
            rc = wait_for_cancel(call, data, err);
        if (rc == 0) {
            echo(call, request, index++, &response);
            rc = rpc_call_send(call, &response.base, err);
        }
        protobuf_c_message_free_unpacked(&request->base, NULL);
        if (rc)
            return rc;
    }
    return rc == RPC_END_OF_STREAM ? 0 : rc;
}

int echo_service_register(struct rpc_server *server, struct echo_service *service, struct berr *err)
{
    static const rpc_handler handlers[BERTH_TEST_V1_ECHO_METHOD_COUNT] = {
        [BERTH_TEST_V1_ECHO_UNARY] = unary,
        [BERTH_TEST_V1_ECHO_SERVER_STREAM] = server_stream,
        [BERTH_TEST_V1_ECHO_CLIENT_STREAM] = client_stream,
        [BERTH_TEST_V1_ECHO_BIDI] = bidi,
    };
    int rc = 0;

    for (int i = 0; i < BERTH_TEST_V1_ECHO_METHOD_COUNT && rc == 0; i++)
        rc = rpc_server_register(server, &berth_test_v1_echo_methods[i], handlers[i], service, err);
    return rc;
}
