/*
 * grpc_test_peer: the C side of the gRPC interop test
 * (tests/integration/grpc/test_interop.py), which drives it from
 * python3-grpcio in both directions:
 *
 *   grpc_test_peer serve ADDRESS   serves berth.test.v1.Echo with lib/grpc_server
 *                                  (the unit tests' handlers), prints "ready PORT"
 *                                  once listening, stops cleanly on SIGTERM/SIGINT
 *   grpc_test_peer call ADDRESS    calls a python Echo server with lib/grpc_client,
 *                                  one line "ok WHAT" per check, exit 0 if all passed
 *   grpc_test_peer bench ADDRESS [CALLS [THREADS]]
 *                                  unary latency against a server (C or python):
 *                                  p50/p99 with 1 call in flight, then calls/s
 *                                  with THREADS callers (default 4)
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grpc_client.h"
#include "grpc_server.h"
#include "grpc_test.pb-c.h"
#include "grpc_test.pb-rpc.h"
#include "grpc_test_service.h"

#define METHOD(name) (&berth_test_v1_echo_methods[BERTH_TEST_V1_ECHO_##name])

static int serve(const char *address)
{
    static struct echo_service service;
    struct rpc_server *server;
    struct berr err;
    sigset_t signals;
    int signal_number;

    /* Before gRPC starts its threads, so that they inherit the mask. */
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    if (rpc_server_create(address, &server, &err) ||
        echo_service_register(server, &service, &err) || rpc_server_start(server, &err)) {
        fprintf(stderr, "grpc_test_peer: %s\n", err.message);
        return 1;
    }
    printf("ready %d\n", rpc_server_port(server));
    fflush(stdout);
    sigwait(&signals, &signal_number);
    rpc_server_shutdown(server);
    printf("stopped, %d cancellations seen\n", service.cancellations_seen);
    return 0;
}

static int check(int passed, const char *what, const struct berr *err)
{
    if (passed)
        printf("ok %s\n", what);
    else
        printf("FAILED %s: %s\n", what, err->message);
    return passed ? 0 : 1;
}

static int call_unary(struct rpc_client *client)
{
    Berth__Test__V1__EchoRequest request = BERTH__TEST__V1__ECHO_REQUEST__INIT;
    Berth__Test__V1__EchoResponse *response;
    uint8_t payload[3000];
    struct berr err;
    int failures = 0, rc;

    memset(payload, 'x', sizeof(payload));
    request.text = "hello from the C client, longer than 23 bytes";
    request.payload.data = payload;
    request.payload.len = sizeof(payload);
    rc = rpc_client_unary(client, METHOD(UNARY), "ns-c", &request.base,
                          (ProtobufCMessage **)&response, 5000, &err);
    failures += check(rc == 0 && strcmp(response->text, request.text) == 0 &&
                          response->payload.len == sizeof(payload) &&
                          strcmp(response->namespace_, "ns-c") == 0,
                      "unary", &err);
    if (rc == 0)
        protobuf_c_message_free_unpacked(&response->base, NULL);
    request.fail_code = BERR_NOT_FOUND;
    request.fail_message = "no such thing";
    rc = rpc_client_unary(client, METHOD(UNARY), NULL, &request.base,
                          (ProtobufCMessage **)&response, 5000, &err);
    failures += check(rc == BERR_NOT_FOUND && strcmp(err.message, "no such thing") == 0,
                      "unary error status", &err);
    return failures;
}

static int call_server_stream(struct rpc_client *client)
{
    Berth__Test__V1__StreamRequest request = BERTH__TEST__V1__STREAM_REQUEST__INIT;
    Berth__Test__V1__EchoResponse *response;
    struct rpc_stream *stream;
    struct berr err;
    int rc, received = 0;

    request.count = 1000;
    request.payload_size = 100;
    rc = rpc_stream_open(client, METHOD(SERVER_STREAM), NULL, 10000, &stream, &err);
    if (rc == 0)
        rc = rpc_stream_send(stream, &request.base, &err);
    while (rc == 0 &&
           (rc = rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err)) == 0) {
        if (response->index == received)
            received++;
        protobuf_c_message_free_unpacked(&response->base, NULL);
    }
    rpc_stream_free(stream);
    return check(rc == RPC_END_OF_STREAM && received == 1000, "server stream", &err);
}

static int call_client_stream(struct rpc_client *client)
{
    Berth__Test__V1__EchoRequest request = BERTH__TEST__V1__ECHO_REQUEST__INIT;
    Berth__Test__V1__CountResponse *response = NULL;
    struct rpc_stream *stream;
    uint8_t payload[500] = {0};
    struct berr err;
    int rc;

    request.payload.data = payload;
    request.payload.len = sizeof(payload);
    rc = rpc_stream_open(client, METHOD(CLIENT_STREAM), NULL, 10000, &stream, &err);
    for (int i = 0; i < 50 && rc == 0; i++)
        rc = rpc_stream_send(stream, &request.base, &err);
    if (rc == 0)
        rc = rpc_stream_close_send(stream, &err);
    if (rc == 0)
        rc = rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err);
    rc = check(rc == 0 && response->count == 50 && response->bytes == 50 * 500, "client stream",
               &err);
    if (response)
        protobuf_c_message_free_unpacked(&response->base, NULL);
    rpc_stream_free(stream);
    return rc;
}

static int call_bidi(struct rpc_client *client)
{
    Berth__Test__V1__EchoRequest request = BERTH__TEST__V1__ECHO_REQUEST__INIT;
    Berth__Test__V1__EchoResponse *response;
    struct rpc_stream *stream;
    struct berr err;
    int rc, matched = 0;

    request.text = "ping pong over a bidirectional stream";
    rc = rpc_stream_open(client, METHOD(BIDI), "ns-bidi", 10000, &stream, &err);
    for (int i = 0; i < 20 && rc == 0; i++) {
        rc = rpc_stream_send(stream, &request.base, &err);
        if (rc == 0)
            rc = rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err);
        if (rc == 0) {
            matched += strcmp(response->text, request.text) == 0 &&
                       strcmp(response->namespace_, "ns-bidi") == 0;
            protobuf_c_message_free_unpacked(&response->base, NULL);
        }
    }
    if (rc == 0)
        rc = rpc_stream_close_send(stream, &err);
    if (rc == 0)
        rc = rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err);
    rpc_stream_free(stream);
    return check(rc == RPC_END_OF_STREAM && matched == 20, "bidi", &err);
}

static int call(const char *address)
{
    struct rpc_client *client;
    struct berr err;
    int failures = 0;

    if (rpc_client_open(address, &client, &err)) {
        fprintf(stderr, "grpc_test_peer: %s\n", err.message);
        return 1;
    }
    failures += call_unary(client);
    failures += call_server_stream(client);
    failures += call_client_stream(client);
    failures += call_bidi(client);
    rpc_client_close(client);
    return failures ? 1 : 0;
}

struct bench {
    struct rpc_client *client;
    int calls;
    long *micros; /* per call, or NULL */
    int failures;
};

static long micros_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000000 + (now.tv_nsec - start->tv_nsec) / 1000;
}

static void *bench_calls(void *argument)
{
    struct bench *bench = argument;
    Berth__Test__V1__EchoRequest request = BERTH__TEST__V1__ECHO_REQUEST__INIT;
    ProtobufCMessage *response;
    struct timespec start;
    struct berr err;

    request.text = "0123456789abcdef";
    for (int i = 0; i < bench->calls; i++) {
        clock_gettime(CLOCK_MONOTONIC, &start);
        if (rpc_client_unary(bench->client, METHOD(UNARY), "default", &request.base, &response,
                             5000, &err) != 0) {
            bench->failures++;
            continue;
        }
        if (bench->micros)
            bench->micros[i] = micros_since(&start);
        protobuf_c_message_free_unpacked(response, NULL);
    }
    return NULL;
}

static int compare_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int bench(const char *address, int calls, int thread_count)
{
    struct bench sequential = {.calls = calls}, parallel[64];
    pthread_t threads[64];
    struct timespec start;
    struct berr err;
    long total;
    int failures = 0;

    if (calls <= 0 || thread_count <= 0 || thread_count > 64)
        return 2;
    if (rpc_client_open(address, &sequential.client, &err)) {
        fprintf(stderr, "grpc_test_peer: %s\n", err.message);
        return 1;
    }
    sequential.micros = calloc((size_t)calls, sizeof(long));
    bench_calls(&(struct bench){.client = sequential.client, .calls = 200}); /* warm up */
    clock_gettime(CLOCK_MONOTONIC, &start);
    bench_calls(&sequential);
    total = micros_since(&start);
    qsort(sequential.micros, (size_t)calls, sizeof(long), compare_long);
    printf("1 in flight: %d calls, p50 %ld us, p99 %ld us, %.0f calls/s\n", calls,
           sequential.micros[calls / 2], sequential.micros[calls * 99 / 100],
           calls * 1e6 / (double)total);
    free(sequential.micros);

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < thread_count; i++) {
        parallel[i] = (struct bench){.client = sequential.client, .calls = calls / thread_count};
        pthread_create(&threads[i], NULL, bench_calls, &parallel[i]);
    }
    for (int i = 0; i < thread_count; i++) {
        pthread_join(threads[i], NULL);
        failures += parallel[i].failures;
    }
    total = micros_since(&start);
    printf("%d in flight: %d calls, %.0f calls/s\n", thread_count,
           calls / thread_count * thread_count,
           calls / thread_count * thread_count * 1e6 / (double)total);
    rpc_client_close(sequential.client);
    return failures + sequential.failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && argc <= 5 && strcmp(argv[1], "bench") == 0)
        return bench(argv[2], argc > 3 ? atoi(argv[3]) : 5000, argc > 4 ? atoi(argv[4]) : 4);
    if (argc == 3 && strcmp(argv[1], "serve") == 0)
        return serve(argv[2]);
    if (argc == 3 && strcmp(argv[1], "call") == 0)
        return call(argv[2]);
    fprintf(stderr, "usage: %s serve|call ADDRESS | bench ADDRESS [CALLS [THREADS]]\n", argv[0]);
    return 2;
}
