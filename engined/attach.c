/*
 * attach: see attach.h. Two threads per session: the caller's reads the
 * client (stdin, hang-ups) and owns the call's sending side; an output
 * thread receives from the supervisor and writes to the client. They meet
 * through a small state under a mutex and an eventfd that wakes the
 * caller's poll.
 */
#include "attach.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "berth/supervisor/v1/tasks.pb-c.h"
#include "berth/supervisor/v1/tasks.pb-rpc.h"
#include "engine.h"
#include "grpc_client.h"
#include "log.h"

#define STDIN_CHUNK 32768
#define SMALL_FRAME 16384

struct attach_stream {
    struct rpc_stream *rpc;
};

/* ---- opening ---- */

int attach_open(struct engine *engine, const struct attach_target *target,
                struct attach_stream **out, struct berr *err)
{
    Berth__Supervisor__V1__AttachRequest first = BERTH__SUPERVISOR__V1__ATTACH_REQUEST__INIT;
    struct attach_stream *stream = calloc(1, sizeof(*stream));
    int rc;

    if (!stream)
        return berr_set(err, BERR_NOMEM, "out of memory");
    if ((rc = rpc_stream_open(engine->supervisor,
                              &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_ATTACH],
                              ENGINE_NAMESPACE, 0, &stream->rpc, err))) {
        free(stream);
        return berr_prefix(err, "attach");
    }
    first.container_id = (char *)target->container_id;
    first.exec_id = (char *)(target->exec_id ? target->exec_id : "");
    first.stdout = target->stdout;
    first.stderr = target->stderr;
    first.attach_stdin = target->stdin;
    /* The headers come once the supervisor has attached (or with its
     * error, which the first receive then gives). */
    if ((rc = rpc_stream_send(stream->rpc, &first.base, err)) ||
        (rc = rpc_stream_receive_headers(stream->rpc, err))) {
        attach_close(stream);
        return berr_prefix(err, "attach");
    }
    *out = stream;
    return 0;
}

void attach_close(struct attach_stream *stream)
{
    if (!stream)
        return;
    rpc_stream_free(stream->rpc);
    free(stream);
}

/* ---- writing to the client ---- */

int attach_client_write(const struct attach_client *client, const void *data, size_t length,
                        struct berr *err)
{
    if (client->hijack)
        return http_hijack_write(client->hijack, data, length, err);
    return http_stream_write(client->stream, data, length, err);
}

int attach_client_write_output(const struct attach_client *client, bool tty, int stream,
                               const void *data, size_t length, struct berr *err)
{
    unsigned char small[DOCKER_STREAM_HEADER + SMALL_FRAME];
    int rc;

    if (tty)
        return attach_client_write(client, data, length, err);
    docker_stream_header(small, stream, (uint32_t)length);
    if (length <= SMALL_FRAME) {
        memcpy(small + DOCKER_STREAM_HEADER, data, length);
        return attach_client_write(client, small, DOCKER_STREAM_HEADER + length, err);
    }
    if ((rc = attach_client_write(client, small, DOCKER_STREAM_HEADER, err)))
        return rc;
    return attach_client_write(client, data, length, err);
}

/* ---- the session ---- */

struct session {
    struct rpc_stream *rpc;
    const struct attach_client *client;
    const struct attach_options *options;
    struct detach_keys keys; /* options' with the matching state */
    int wake_fd;

    pthread_mutex_t lock; /* guards what follows */
    bool exited;
    uint32_t exit_status;
    bool output_done; /* the call ended */
    int output_rc;    /* 0 or the call's error */
    struct berr output_err;
    bool client_gone; /* a write to the client failed */
};

static void wake(struct session *session)
{
    uint64_t one = 1;

    if (write(session->wake_fd, &one, sizeof(one)) < 0)
        log_warn("attach: wake the session: %s", strerror(errno));
}

static void output_message(struct session *session,
                           const Berth__Supervisor__V1__AttachResponse *message)
{
    struct berr err;
    bool gone;

    pthread_mutex_lock(&session->lock);
    gone = session->client_gone;
    pthread_mutex_unlock(&session->lock);
    if (message->data.len && !gone &&
        attach_client_write_output(session->client, session->options->tty,
                                   message->stream == 2 ? DOCKER_STREAM_STDERR
                                                        : DOCKER_STREAM_STDOUT,
                                   message->data.data, message->data.len, &err)) {
        pthread_mutex_lock(&session->lock);
        session->client_gone = true;
        pthread_mutex_unlock(&session->lock);
        wake(session);
    }
    if (message->exited) {
        pthread_mutex_lock(&session->lock);
        session->exited = true;
        session->exit_status = message->exit_status;
        pthread_mutex_unlock(&session->lock);
        wake(session);
    }
}

/* Supervisor → client, until the call ends. */
static void *carry_output(void *argument)
{
    struct session *session = argument;

    for (;;) {
        Berth__Supervisor__V1__AttachResponse *message = NULL;
        struct berr err;
        int rc = rpc_stream_receive(session->rpc, (ProtobufCMessage **)&message, &err);
        if (rc) {
            pthread_mutex_lock(&session->lock);
            session->output_done = true;
            session->output_rc = rc == RPC_END_OF_STREAM ? 0 : rc;
            if (rc != RPC_END_OF_STREAM)
                session->output_err = err;
            pthread_mutex_unlock(&session->lock);
            wake(session);
            return NULL;
        }
        output_message(session, message);
        protobuf_c_message_free_unpacked(&message->base, NULL);
    }
}

/* What the caller's thread knows about the session. */
struct input_state {
    bool reading;        /* stdin still comes (or a hang-up is still to see) */
    bool send_closed;    /* our side of the call is closed */
    bool cancelled;      /* we gave up on the call */
    enum attach_end why; /* when cancelled */
};

static void cancel(struct session *session, struct input_state *state, enum attach_end why)
{
    if (state->cancelled)
        return;
    state->cancelled = true;
    state->why = why;
    rpc_stream_cancel(session->rpc);
}

static int send_request(struct session *session,
                        const Berth__Supervisor__V1__AttachRequest *request)
{
    struct berr err;

    /* A failure means the call is over: the output thread reports it. */
    return rpc_stream_send(session->rpc, &request->base, &err);
}

static void send_stdin(struct session *session, struct input_state *state,
                       const unsigned char *data, size_t length)
{
    Berth__Supervisor__V1__AttachRequest request = BERTH__SUPERVISOR__V1__ATTACH_REQUEST__INIT;
    unsigned char out[STDIN_CHUNK + DETACH_KEYS_MAX];
    size_t out_length = 0;
    bool detach = false;

    if (state->send_closed || state->cancelled)
        return;
    if (session->options->tty)
        detach = detach_keys_scan(&session->keys, data, length, out, &out_length);
    else
        memcpy(out, data, out_length = length);
    if (out_length) {
        request.stdin.data = out;
        request.stdin.len = out_length;
        send_request(session, &request);
    }
    if (detach)
        cancel(session, state, ATTACH_DETACHED);
}

/* The client's stdin ended (it half-closed its connection). */
static void stdin_ended(struct session *session, struct input_state *state, bool with_stdin)
{
    Berth__Supervisor__V1__AttachRequest request = BERTH__SUPERVISOR__V1__ATTACH_REQUEST__INIT;

    state->reading = false;
    if (!with_stdin || state->send_closed || state->cancelled)
        return; /* it sent no stdin: its end means nothing */
    if (session->options->close_stdin && !session->options->tty) {
        request.close_stdin = true;
        send_request(session, &request);
        return;
    }
    cancel(session, state, ATTACH_CLIENT_DONE);
}

/* Reads what the client sent; false once it is gone. */
static bool read_client(struct session *session, struct input_state *state, bool with_stdin)
{
    unsigned char buffer[STDIN_CHUNK];
    ssize_t got = http_hijack_read(session->client->hijack, buffer, sizeof(buffer));

    if (got > 0) {
        if (with_stdin)
            send_stdin(session, state, buffer, (size_t)got);
        return true;
    }
    if (got == 0) {
        stdin_ended(session, state, with_stdin);
        return true;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Looks at what the output thread said; true once the call has ended. */
static bool check_output(struct session *session, struct input_state *state)
{
    struct berr err;
    bool exited, done, gone;
    uint64_t count;

    if (read(session->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
        log_warn("attach: read the wake-up: %s", strerror(errno));
    pthread_mutex_lock(&session->lock);
    exited = session->exited;
    done = session->output_done;
    gone = session->client_gone;
    pthread_mutex_unlock(&session->lock);
    if (gone)
        cancel(session, state, ATTACH_CLIENT_DONE);
    if (exited && !state->send_closed && !state->cancelled) {
        /* The supervisor ends the call once our side is closed too. */
        state->send_closed = true;
        if (rpc_stream_close_send(session->rpc, &err))
            cancel(session, state, ATTACH_FAILED);
    }
    return done;
}

static void session_loop(struct session *session, struct input_state *state, bool with_stdin)
{
    const struct attach_client *client = session->client;

    /* Bytes that came with the request, before the upgrade. */
    while (client->hijack && http_hijack_pending(client->hijack) && state->reading)
        if (!read_client(session, state, with_stdin))
            cancel(session, state, ATTACH_CLIENT_DONE);
    for (;;) {
        struct pollfd fds[3] = {
            {client->hijack ? http_hijack_fd(client->hijack) : http_stream_poll_fd(client->stream),
             0, 0},
            {session->wake_fd, POLLIN, 0},
            {client->hijack ? http_hijack_stop_fd(client->hijack) : -1, POLLIN, 0},
        };
        if (!client->hijack || (state->reading && !state->cancelled))
            fds[0].events = POLLIN;
        if (state->cancelled)
            fds[0].fd = fds[2].fd = -1; /* only the end of the call matters now */
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_warn("attach: poll: %s", strerror(errno));
            cancel(session, state, ATTACH_FAILED);
            return; /* the output thread ends with the call */
        }
        if (fds[1].revents && check_output(session, state))
            return;
        if (fds[2].revents)
            cancel(session, state, ATTACH_STOPPED);
        if (!fds[0].revents)
            continue;
        if (!client->hijack ||
            ((fds[0].revents & (POLLHUP | POLLERR)) && !(fds[0].revents & POLLIN)))
            cancel(session, state, ATTACH_CLIENT_DONE);
        else if (!read_client(session, state, with_stdin))
            cancel(session, state, ATTACH_CLIENT_DONE);
    }
}

static void finish(struct session *session, const struct input_state *state,
                   struct attach_result *result)
{
    memset(result, 0, sizeof(*result));
    if (session->exited) {
        result->end = ATTACH_EXITED;
        result->exit_status = session->exit_status;
    } else if (state->cancelled && state->why != ATTACH_FAILED) {
        result->end = state->why;
    } else {
        result->end = ATTACH_FAILED;
        if (session->output_rc)
            result->err = session->output_err;
        else
            berr_set(&result->err, BERR_UNAVAILABLE,
                     "attach: the stream ended before the process exited");
    }
}

void attach_run(struct attach_stream *stream, const struct attach_client *client,
                const struct attach_options *options, struct attach_result *result)
{
    struct session session = {
        .rpc = stream->rpc, .client = client, .options = options, .keys = options->detach_keys};
    struct input_state state = {.reading = client->hijack != NULL};
    pthread_t thread;
    int rc;

    memset(result, 0, sizeof(*result));
    session.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (session.wake_fd < 0) {
        result->end = ATTACH_FAILED;
        berr_errno(&result->err, errno, "attach: eventfd");
        return;
    }
    pthread_mutex_init(&session.lock, NULL);
    if ((rc = pthread_create(&thread, NULL, carry_output, &session))) {
        result->end = ATTACH_FAILED;
        berr_errno(&result->err, rc, "attach: start a thread");
    } else {
        session_loop(&session, &state, options->stdin);
        pthread_join(thread, NULL);
        finish(&session, &state, result);
    }
    pthread_mutex_destroy(&session.lock);
    close(session.wake_fd);
}
