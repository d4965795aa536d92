/*
 * Unit tests of lib/grpc_server and lib/grpc_client, against each other on a
 * unix socket in a temporary directory, serving berth.test.v1.Echo
 * (grpc_test_service.c). They cover each kind of call, large messages (over
 * 23 bytes, where a missed slice unref starts to leak, and over gRPC's 4 MiB
 * default), statuses, metadata, cancellation from both sides, unknown
 * methods, malformed requests, the socket lock, restarts and shutdown with
 * a stream open. test_unary_latency prints a rough measurement.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "grpc_client.h"
#include "grpc_server.h"
#include "grpc_test.pb-c.h"
#include "grpc_test.pb-rpc.h"
#include "grpc_test_service.h"

#define METHOD(name) (&berth_test_v1_echo_methods[BERTH_TEST_V1_ECHO_##name])
#define LONG_TEXT    "a text longer than twenty-three bytes, so slices are not inlined"

typedef Berth__Test__V1__EchoRequest EchoRequest;
typedef Berth__Test__V1__EchoResponse EchoResponse;
typedef Berth__Test__V1__StreamRequest StreamRequest;
typedef Berth__Test__V1__CountResponse CountResponse;

static char directory[64];
static char socket_path[128];
static char address[160];
static struct rpc_server *server;
static struct rpc_client *client;
static struct echo_service service;

static long elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec pause = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    nanosleep(&pause, NULL);
}

static int start_server(struct rpc_server **out, const char *where)
{
    struct berr err;
    int rc = rpc_server_create(where, out, &err);
    if (rc == 0)
        rc = echo_service_register(*out, &service, &err);
    if (rc == 0)
        rc = rpc_server_start(*out, &err);
    if (rc)
        fprintf(stderr, "start server on %s: %s\n", where, err.message);
    return rc;
}

static int setup(void **state)
{
    struct berr err;
    (void)state;
    strcpy(directory, "/tmp/berth-test-grpc-XXXXXX");
    if (!mkdtemp(directory))
        return -1;
    snprintf(socket_path, sizeof(socket_path), "%s/echo.sock", directory);
    snprintf(address, sizeof(address), "unix:%s", socket_path);
    memset(&service, 0, sizeof(service));
    if (start_server(&server, address))
        return -1;
    return rpc_client_open(address, &client, &err) ? -1 : 0;
}

static int teardown(void **state)
{
    char path[200];
    (void)state;
    rpc_client_close(client);
    rpc_server_shutdown(server);
    client = NULL;
    server = NULL;
    unlink(socket_path);
    snprintf(path, sizeof(path), "%s.lock", socket_path);
    unlink(path);
    snprintf(path, sizeof(path), "%s/other.sock", directory);
    unlink(path);
    snprintf(path, sizeof(path), "%s/other.sock.lock", directory);
    unlink(path);
    rmdir(directory);
    return 0;
}

/* Waits up to 5 s for *counter to reach value. */
static void wait_for_count(int *counter, int value)
{
    for (int i = 0; i < 5000 && __atomic_load_n(counter, __ATOMIC_SEQ_CST) < value; i++)
        sleep_ms(1);
    assert_int_equal(__atomic_load_n(counter, __ATOMIC_SEQ_CST), value);
}

static int echo_call(const char *namespace, const char *text, const uint8_t *payload, size_t size,
                     EchoResponse **response, int timeout_ms, struct berr *err)
{
    EchoRequest request = BERTH__TEST__V1__ECHO_REQUEST__INIT;
    request.text = (char *)text;
    request.payload.data = (uint8_t *)payload;
    request.payload.len = size;
    return rpc_client_unary(client, METHOD(UNARY), namespace, &request.base,
                            (ProtobufCMessage **)response, timeout_ms, err);
}

/* --- unary --------------------------------------------------------------- */

static void test_unary_echo(void **state)
{
    uint8_t payload[1000];
    EchoResponse *response;
    struct berr err;
    (void)state;

    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7);
    /* Enough calls that a leak per call would show in valgrind. */
    for (int i = 0; i < 200; i++) {
        assert_int_equal(
            echo_call("ns-one", LONG_TEXT, payload, sizeof(payload), &response, 5000, &err), 0);
        assert_string_equal(response->text, LONG_TEXT);
        assert_int_equal(response->payload.len, sizeof(payload));
        assert_memory_equal(response->payload.data, payload, sizeof(payload));
        assert_string_equal(response->namespace_, "ns-one");
        protobuf_c_message_free_unpacked(&response->base, NULL);
    }
    /* No namespace, no deadline. */
    assert_int_equal(echo_call(NULL, "short", NULL, 0, &response, 0, &err), 0);
    assert_string_equal(response->text, "short");
    assert_string_equal(response->namespace_, "");
    protobuf_c_message_free_unpacked(&response->base, NULL);
}

static void test_unary_large(void **state)
{
    size_t size = 5 * 1024 * 1024;
    uint8_t *payload = malloc(17 * 1024 * 1024);
    EchoResponse *response;
    struct berr err;
    (void)state;

    assert_non_null(payload);
    for (size_t i = 0; i < 17 * 1024 * 1024; i++)
        payload[i] = (uint8_t)(i ^ (i >> 8));
    assert_int_equal(echo_call("default", "big", payload, size, &response, 20000, &err), 0);
    assert_int_equal(response->payload.len, size);
    assert_memory_equal(response->payload.data, payload, size);
    protobuf_c_message_free_unpacked(&response->base, NULL);
    /* Past the 16 MiB limit. */
    assert_int_equal(
        echo_call("default", "too big", payload, 17 * 1024 * 1024, &response, 20000, &err),
        BERR_NOSPACE);
    assert_null(response);
    free(payload);
}

static void test_error_status(void **state)
{
    static const struct {
        enum berr_code sent, received;
    } cases[] = {
        {BERR_INVALID, BERR_INVALID},
        {BERR_NOT_FOUND, BERR_NOT_FOUND},
        {BERR_EXISTS, BERR_EXISTS},
        {BERR_CONFLICT, BERR_CONFLICT},
        {BERR_PERMISSION, BERR_PERMISSION},
        {BERR_UNSUPPORTED, BERR_UNSUPPORTED},
        {BERR_IO, BERR_INTERNAL},
        {BERR_NOMEM, BERR_NOSPACE},
        {BERR_NOSPACE, BERR_NOSPACE},
        {BERR_TIMEOUT, BERR_TIMEOUT},
        {BERR_UNAVAILABLE, BERR_UNAVAILABLE},
        {BERR_CANCELLED, BERR_CANCELLED},
        {BERR_INTERNAL, BERR_INTERNAL},
    };
    EchoRequest request = BERTH__TEST__V1__ECHO_REQUEST__INIT;
    ProtobufCMessage *response;
    struct berr err;
    (void)state;

    request.fail_code = BERR_NOT_FOUND;
    request.fail_message = "no such container: abc";
    assert_int_equal(
        rpc_client_unary(client, METHOD(UNARY), "default", &request.base, &response, 5000, &err),
        BERR_NOT_FOUND);
    assert_null(response);
    assert_string_equal(err.message, "no such container: abc");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        request.fail_code = cases[i].sent;
        request.fail_message = (char *)berr_code_name(cases[i].sent);
        assert_int_equal(
            rpc_client_unary(client, METHOD(UNARY), NULL, &request.base, &response, 5000, &err),
            cases[i].received);
        assert_string_equal(err.message, berr_code_name(cases[i].sent));
    }
}

/* A handler that returns 0 without sending: the client gets INTERNAL. */
static int silent_handler(struct rpc_call *call, void *data, struct berr *err)
{
    ProtobufCMessage *request;
    int rc = rpc_call_receive(call, &request, err);
    (void)data;
    if (rc == 0)
        protobuf_c_message_free_unpacked(request, NULL);
    return rc == RPC_END_OF_STREAM ? 0 : rc;
}

static void test_handler_without_response(void **state)
{
    char other_socket[200], other_address[210];
    struct rpc_server *other;
    struct rpc_client *other_client;
    EchoRequest request = BERTH__TEST__V1__ECHO_REQUEST__INIT;
    ProtobufCMessage *response;
    struct berr err;
    (void)state;

    snprintf(other_socket, sizeof(other_socket), "%s/other.sock", directory);
    snprintf(other_address, sizeof(other_address), "unix:%s", other_socket);
    assert_int_equal(rpc_server_create(other_address, &other, &err), 0);
    assert_int_equal(rpc_server_register(other, METHOD(UNARY), silent_handler, NULL, &err), 0);
    assert_int_equal(rpc_server_register(other, METHOD(UNARY), silent_handler, NULL, &err),
                     BERR_EXISTS);
    assert_int_equal(rpc_server_start(other, &err), 0);
    assert_int_equal(rpc_server_register(other, METHOD(BIDI), silent_handler, NULL, &err),
                     BERR_CONFLICT);
    assert_int_equal(rpc_client_open(other_address, &other_client, &err), 0);
    request.text = LONG_TEXT;
    assert_int_equal(
        rpc_client_unary(other_client, METHOD(UNARY), NULL, &request.base, &response, 5000, &err),
        BERR_INTERNAL);
    assert_non_null(strstr(err.message, "sent no response"));
    rpc_client_close(other_client);
    rpc_server_shutdown(other);
}

static void test_unknown_method(void **state)
{
    static const struct rpc_method unknown_method = {
        .path = "/berth.test.v1.Echo/Nope",
        .input = &berth__test__v1__echo_request__descriptor,
        .output = &berth__test__v1__echo_response__descriptor,
    };
    static const struct rpc_method unknown_service = {
        .path = "/berth.test.v1.Nope/Unary",
        .input = &berth__test__v1__echo_request__descriptor,
        .output = &berth__test__v1__echo_response__descriptor,
    };
    EchoRequest request = BERTH__TEST__V1__ECHO_REQUEST__INIT;
    ProtobufCMessage *response;
    struct timespec start;
    struct berr err;
    (void)state;

    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_int_equal(
        rpc_client_unary(client, &unknown_method, NULL, &request.base, &response, 5000, &err),
        BERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "/berth.test.v1.Echo/Nope"));
    assert_int_equal(
        rpc_client_unary(client, &unknown_service, NULL, &request.base, &response, 5000, &err),
        BERR_UNSUPPORTED);
    assert_true(elapsed_ms(&start) < 1000);
}

static void test_malformed_request(void **state)
{
    /* The right path, with a request that does not parse as an EchoRequest. */
    static const struct rpc_method garbage_method = {
        .path = "/berth.test.v1.Echo/Unary",
        .input = &berth__test__v1__garbage__descriptor,
        .output = &berth__test__v1__echo_response__descriptor,
    };
    Berth__Test__V1__Garbage garbage = BERTH__TEST__V1__GARBAGE__INIT;
    ProtobufCMessage *response;
    struct berr err;
    (void)state;

    garbage.text = 42;
    assert_int_equal(
        rpc_client_unary(client, &garbage_method, NULL, &garbage.base, &response, 5000, &err),
        BERR_INVALID);
    assert_non_null(strstr(err.message, "malformed"));
    /* And the client refuses to send a message the method does not take. */
    assert_int_equal(
        rpc_client_unary(client, METHOD(UNARY), NULL, &garbage.base, &response, 5000, &err),
        BERR_INVALID);
}

/* --- streams ------------------------------------------------------------- */

static void test_server_stream(void **state)
{
    StreamRequest request = BERTH__TEST__V1__STREAM_REQUEST__INIT;
    struct rpc_stream *stream;
    EchoResponse *response;
    struct berr err;
    (void)state;

    request.count = 10000;
    request.payload_size = 64;
    assert_int_equal(
        rpc_stream_open(client, METHOD(SERVER_STREAM), "default", 60000, &stream, &err), 0);
    assert_int_equal(rpc_stream_send(stream, &request.base, &err), 0);
    /* A single-request method: that send closed the sending side. */
    assert_int_equal(rpc_stream_send(stream, &request.base, &err), BERR_CONFLICT);
    assert_int_equal(rpc_stream_close_send(stream, &err), 0);
    for (int64_t i = 0; i < request.count; i++) {
        assert_int_equal(rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err), 0);
        assert_int_equal(response->index, i);
        assert_int_equal(response->payload.len, 64);
        protobuf_c_message_free_unpacked(&response->base, NULL);
    }
    assert_int_equal(rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err),
                     RPC_END_OF_STREAM);
    assert_int_equal(rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err),
                     RPC_END_OF_STREAM);
    rpc_stream_free(stream);

    /* Freed half-way: the call is cancelled, nothing hangs or leaks. */
    assert_int_equal(rpc_stream_open(client, METHOD(SERVER_STREAM), NULL, 0, &stream, &err), 0);
    assert_int_equal(rpc_stream_send(stream, &request.base, &err), 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err), 0);
        protobuf_c_message_free_unpacked(&response->base, NULL);
    }
    rpc_stream_free(stream);
}

static void test_client_stream(void **state)
{
    EchoRequest request = BERTH__TEST__V1__ECHO_REQUEST__INIT;
    uint8_t payload[1000] = {1};
    struct rpc_stream *stream;
    CountResponse *response;
    struct berr err;
    (void)state;

    request.payload.data = payload;
    request.payload.len = sizeof(payload);
    assert_int_equal(rpc_stream_open(client, METHOD(CLIENT_STREAM), NULL, 30000, &stream, &err), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(rpc_stream_send(stream, &request.base, &err), 0);
    assert_int_equal(rpc_stream_close_send(stream, &err), 0);
    assert_int_equal(rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err), 0);
    assert_int_equal(response->count, 100);
    assert_int_equal(response->bytes, 100 * sizeof(payload));
    protobuf_c_message_free_unpacked(&response->base, NULL);
    assert_int_equal(rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err),
                     RPC_END_OF_STREAM);
    rpc_stream_free(stream);

    /* The server fails on the third message: the status reaches the client. */
    assert_int_equal(rpc_stream_open(client, METHOD(CLIENT_STREAM), NULL, 30000, &stream, &err), 0);
    for (int i = 0; i < 3; i++) {
        if (i == 2) {
            request.fail_code = BERR_PERMISSION;
            request.fail_message = "third message refused";
        }
        assert_int_equal(rpc_stream_send(stream, &request.base, &err), 0);
    }
    rpc_stream_close_send(stream, &err); /* may fail: the server is done */
    assert_int_equal(rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err),
                     BERR_PERMISSION);
    assert_string_equal(err.message, "third message refused");
    rpc_stream_free(stream);
}

struct sender {
    struct rpc_stream *stream;
    int count;
    int rc;
};

static void *send_many(void *argument)
{
    struct sender *sender = argument;
    EchoRequest request = BERTH__TEST__V1__ECHO_REQUEST__INIT;
    struct berr err;

    request.text = LONG_TEXT;
    for (int i = 0; i < sender->count && sender->rc == 0; i++)
        sender->rc = rpc_stream_send(sender->stream, &request.base, &err);
    if (sender->rc == 0)
        sender->rc = rpc_stream_close_send(sender->stream, &err);
    return NULL;
}

static void test_bidi(void **state)
{
    EchoRequest request = BERTH__TEST__V1__ECHO_REQUEST__INIT;
    struct sender sender = {.count = 1000};
    struct rpc_stream *stream;
    EchoResponse *response;
    pthread_t thread;
    char text[64];
    struct berr err;
    (void)state;

    /* Ping-pong. */
    assert_int_equal(rpc_stream_open(client, METHOD(BIDI), "ns-two", 30000, &stream, &err), 0);
    for (int i = 0; i < 100; i++) {
        snprintf(text, sizeof(text), "ping %d of a bidirectional stream", i);
        request.text = text;
        assert_int_equal(rpc_stream_send(stream, &request.base, &err), 0);
        assert_int_equal(rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err), 0);
        assert_string_equal(response->text, text);
        assert_string_equal(response->namespace_, "ns-two");
        assert_int_equal(response->index, i);
        protobuf_c_message_free_unpacked(&response->base, NULL);
    }
    assert_int_equal(rpc_stream_close_send(stream, &err), 0);
    assert_int_equal(rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err),
                     RPC_END_OF_STREAM);
    rpc_stream_free(stream);

    /* One thread sends while this one receives. */
    assert_int_equal(rpc_stream_open(client, METHOD(BIDI), NULL, 30000, &stream, &err), 0);
    sender.stream = stream;
    assert_int_equal(pthread_create(&thread, NULL, send_many, &sender), 0);
    for (int i = 0; i < sender.count; i++) {
        assert_int_equal(rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err), 0);
        assert_int_equal(response->index, i);
        protobuf_c_message_free_unpacked(&response->base, NULL);
    }
    assert_int_equal(rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err),
                     RPC_END_OF_STREAM);
    pthread_join(thread, NULL);
    assert_int_equal(sender.rc, 0);
    rpc_stream_free(stream);
}

/* --- cancellation, deadlines, shutdown ----------------------------------- */

static void *cancel_later(void *argument)
{
    sleep_ms(100);
    rpc_stream_cancel(argument);
    return NULL;
}

static void test_cancel_by_client(void **state)
{
    StreamRequest request = BERTH__TEST__V1__STREAM_REQUEST__INIT;
    struct rpc_stream *stream;
    EchoResponse *response;
    pthread_t thread;
    struct berr err;
    (void)state;

    request.count = 1;
    request.wait_for_cancel = true;
    assert_int_equal(rpc_stream_open(client, METHOD(SERVER_STREAM), NULL, 0, &stream, &err), 0);
    assert_int_equal(rpc_stream_send(stream, &request.base, &err), 0);
    assert_int_equal(rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err), 0);
    protobuf_c_message_free_unpacked(&response->base, NULL);
    /* Blocked in receive; another thread cancels. */
    assert_int_equal(pthread_create(&thread, NULL, cancel_later, stream), 0);
    assert_int_equal(rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err),
                     BERR_CANCELLED);
    pthread_join(thread, NULL);
    rpc_stream_free(stream);
    wait_for_count(&service.cancellations_seen, 1);
}

static void test_deadline(void **state)
{
    EchoRequest request = BERTH__TEST__V1__ECHO_REQUEST__INIT;
    ProtobufCMessage *response;
    struct timespec start;
    struct berr err;
    long elapsed;
    (void)state;

    request.wait_for_cancel = true;
    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_int_equal(
        rpc_client_unary(client, METHOD(UNARY), NULL, &request.base, &response, 200, &err),
        BERR_TIMEOUT);
    elapsed = elapsed_ms(&start);
    assert_true(elapsed >= 190);
    assert_true(elapsed < 3000);
    /* gRPC does not stop the handler: it sees the deadline and returns. */
    wait_for_count(&service.cancellations_seen, 1);
}

static void test_shutdown_with_open_stream(void **state)
{
    StreamRequest request = BERTH__TEST__V1__STREAM_REQUEST__INIT;
    struct rpc_stream *stream;
    EchoResponse *response;
    struct berr err;
    int rc;
    (void)state;

    request.count = 3;
    request.wait_for_cancel = true;
    assert_int_equal(rpc_stream_open(client, METHOD(SERVER_STREAM), NULL, 0, &stream, &err), 0);
    assert_int_equal(rpc_stream_send(stream, &request.base, &err), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err), 0);
        protobuf_c_message_free_unpacked(&response->base, NULL);
    }
    rpc_server_shutdown(server);
    server = NULL;
    /* The handler was cancelled and had returned before shutdown did. */
    assert_int_equal(__atomic_load_n(&service.cancellations_seen, __ATOMIC_SEQ_CST), 1);
    rc = rpc_stream_receive(stream, (ProtobufCMessage **)&response, &err);
    assert_true(rc == BERR_UNAVAILABLE || rc == BERR_CANCELLED);
    rpc_stream_free(stream);
}

/* --- the socket ---------------------------------------------------------- */

static void test_second_server_refused(void **state)
{
    struct rpc_server *second = (struct rpc_server *)1;
    EchoResponse *response;
    struct stat info;
    struct berr err;
    (void)state;

    assert_int_equal(stat(socket_path, &info), 0);
    assert_true(S_ISSOCK(info.st_mode));
    assert_int_equal(info.st_mode & 0777, 0660);
    assert_int_equal(rpc_server_create(address, &second, &err), BERR_EXISTS);
    assert_null(second);
    assert_non_null(strstr(err.message, "another server"));
    /* The first one still answers. */
    assert_int_equal(echo_call(NULL, LONG_TEXT, NULL, 0, &response, 5000, &err), 0);
    protobuf_c_message_free_unpacked(&response->base, NULL);
}

struct delayed_start {
    long delay_ms;
    int rc;
};

static void *start_server_later(void *argument)
{
    struct delayed_start *start = argument;
    sleep_ms(start->delay_ms);
    start->rc = start_server(&server, address);
    return NULL;
}

static void test_server_restart(void **state)
{
    struct delayed_start later = {.delay_ms = 300};
    EchoResponse *response;
    struct timespec start;
    pthread_t thread;
    struct berr err;
    (void)state;

    assert_int_equal(echo_call(NULL, LONG_TEXT, NULL, 0, &response, 5000, &err), 0);
    protobuf_c_message_free_unpacked(&response->base, NULL);
    rpc_server_shutdown(server);
    server = NULL;
    /* Without a deadline, a call fails at once while nobody listens. */
    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_int_equal(echo_call(NULL, LONG_TEXT, NULL, 0, &response, 0, &err), BERR_UNAVAILABLE);
    assert_true(elapsed_ms(&start) < 2000);
    /* With one, it waits for the server to come back. */
    assert_int_equal(pthread_create(&thread, NULL, start_server_later, &later), 0);
    assert_int_equal(echo_call(NULL, LONG_TEXT, NULL, 0, &response, 15000, &err), 0);
    protobuf_c_message_free_unpacked(&response->base, NULL);
    pthread_join(thread, NULL);
    assert_int_equal(later.rc, 0);
}

static void test_tcp_and_unstarted(void **state)
{
    struct rpc_server *tcp_server, *unstarted;
    struct rpc_client *tcp_client;
    char tcp_address[64], other_address[200];
    ProtobufCMessage *response;
    EchoRequest request = BERTH__TEST__V1__ECHO_REQUEST__INIT;
    struct berr err;
    (void)state;

    assert_int_equal(start_server(&tcp_server, "127.0.0.1:0"), 0);
    assert_true(rpc_server_port(tcp_server) > 0);
    snprintf(tcp_address, sizeof(tcp_address), "127.0.0.1:%d", rpc_server_port(tcp_server));
    assert_int_equal(rpc_client_open(tcp_address, &tcp_client, &err), 0);
    request.text = LONG_TEXT;
    assert_int_equal(
        rpc_client_unary(tcp_client, METHOD(UNARY), NULL, &request.base, &response, 5000, &err), 0);
    protobuf_c_message_free_unpacked(response, NULL);
    rpc_client_close(tcp_client);
    rpc_server_shutdown(tcp_server);

    /* Created, never started, shut down. */
    snprintf(other_address, sizeof(other_address), "unix:%s/other.sock", directory);
    assert_int_equal(rpc_server_create(other_address, &unstarted, &err), 0);
    rpc_server_shutdown(unstarted);
    /* A directory that does not exist. */
    snprintf(other_address, sizeof(other_address), "unix:%s/missing/x.sock", directory);
    assert_int_not_equal(rpc_server_create(other_address, &unstarted, &err), 0);
}

/* --- many threads, latency ----------------------------------------------- */

struct caller {
    int id;
    int calls;
    int failures;
};

static void *call_many(void *argument)
{
    struct caller *caller = argument;
    char text[64];
    EchoResponse *response;
    struct berr err;

    snprintf(text, sizeof(text), "caller %d says something longer", caller->id);
    for (int i = 0; i < caller->calls; i++) {
        if (echo_call(NULL, text, NULL, 0, &response, 10000, &err) != 0) {
            caller->failures++;
            continue;
        }
        if (strcmp(response->text, text) != 0)
            caller->failures++;
        protobuf_c_message_free_unpacked(&response->base, NULL);
    }
    return NULL;
}

static void test_concurrent_callers(void **state)
{
    struct caller callers[4];
    pthread_t threads[4];
    (void)state;

    for (int i = 0; i < 4; i++) {
        callers[i] = (struct caller){.id = i, .calls = 250};
        assert_int_equal(pthread_create(&threads[i], NULL, call_many, &callers[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(callers[i].failures, 0);
    }
}

static int compare_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Sequential unary calls, 16-byte text: prints p50/p99 and calls per second.
 * BERTH_GRPC_BENCH_CALLS sets the number of calls (default 2000). */
static void test_unary_latency(void **state)
{
    const char *env = getenv("BERTH_GRPC_BENCH_CALLS");
    int calls = env ? atoi(env) : 2000;
    long *micros = calloc((size_t)calls, sizeof(long));
    struct timespec start, begin, end;
    EchoResponse *response;
    struct berr err;
    (void)state;

    assert_non_null(micros);
    for (int i = 0; i < 100; i++) { /* warm up */
        assert_int_equal(echo_call(NULL, "0123456789abcdef", NULL, 0, &response, 5000, &err), 0);
        protobuf_c_message_free_unpacked(&response->base, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &begin);
    for (int i = 0; i < calls; i++) {
        clock_gettime(CLOCK_MONOTONIC, &start);
        assert_int_equal(echo_call(NULL, "0123456789abcdef", NULL, 0, &response, 5000, &err), 0);
        clock_gettime(CLOCK_MONOTONIC, &end);
        micros[i] = (end.tv_sec - start.tv_sec) * 1000000 + (end.tv_nsec - start.tv_nsec) / 1000;
        protobuf_c_message_free_unpacked(&response->base, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    qsort(micros, (size_t)calls, sizeof(long), compare_long);
    print_message("unary over a unix socket, %d calls, 1 in flight: p50 %ld us, p99 %ld us, "
                  "%.0f calls/s\n",
                  calls, micros[calls / 2], micros[calls * 99 / 100],
                  calls / ((end.tv_sec - begin.tv_sec) + (end.tv_nsec - begin.tv_nsec) / 1e9));
    free(micros);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unary_echo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unary_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handler_without_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_method, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bidi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_by_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_with_open_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_server_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_and_unstarted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_callers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unary_latency, setup, teardown),
    };
    /* BERTH_TEST_FILTER=test_unary_latency runs only the matching tests. */
    if (getenv("BERTH_TEST_FILTER"))
        cmocka_set_test_filter(getenv("BERTH_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
