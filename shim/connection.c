/*
 * connection: see connection.h.
 */
#include "connection.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "framing.h"
#include "log.h"
#include "runtime.h"
#include "service.h"
#include "shim.h"

/* Frames handled per wake-up of one connection, so that one busy client
 * does not starve the others (epoll is level-triggered: the rest waits). */
#define FRAMES_PER_WAKE 32

static bool can_read(const struct connection *connection)
{
    return connection->mode != CONNECTION_CLOSING && !connection->busy &&
           !connection->stdin_blocked;
}

static void connection_destroy(void *object)
{
    free(object);
    malloc_trim(0); /* give back what a burst (a large answer) took */
}

void connection_close(struct connection *connection)
{
    struct connection **link;

    if (!watch_open(&connection->watch))
        return;
    loop_close(&connection->watch);
    if (connection->job)
        connection->job->connection = NULL;
    for (link = &shim.connections; *link; link = &(*link)->next)
        if (*link == connection) {
            *link = connection->next;
            break;
        }
    free(connection->payload);
    connection->payload = NULL;
    buffer_free(&connection->output);
    connection->attached = NULL;
    connection->waiting_on = NULL;
    connection->job = NULL;
    loop_defer_free(connection, connection_destroy);
}

void connection_update(struct connection *connection)
{
    uint32_t events;

    if (!watch_open(&connection->watch))
        return;
    if (connection->mode == CONNECTION_CLOSING) {
        if (buffer_empty(&connection->output)) {
            connection_close(connection);
            return;
        }
        events = EPOLLOUT;
    } else {
        events = EPOLLRDHUP;
        if (can_read(connection))
            events |= EPOLLIN;
        if (!buffer_empty(&connection->output))
            events |= EPOLLOUT;
    }
    loop_set_events(&connection->watch, events);
}

void connection_flush(struct connection *connection)
{
    while (watch_open(&connection->watch) && !buffer_empty(&connection->output)) {
        ssize_t sent = send(connection->watch.fd, buffer_head(&connection->output),
                            connection->output.length, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            log_debug("write to client: %m");
            connection_close(connection);
            return;
        }
        buffer_consume(&connection->output, (size_t)sent);
    }
    connection_update(connection);
}

void connection_send(struct connection *connection, const ProtobufCMessage *message)
{
    size_t size;
    uint8_t *room;
    bool was_empty = buffer_empty(&connection->output);

    if (!watch_open(&connection->watch))
        return;
    size = protobuf_c_message_get_packed_size(message);
    room = buffer_reserve(&connection->output, FRAMING_HEADER_SIZE + size);
    if (!room) {
        log_error("out of memory for a %zu-byte message; dropping the client", size);
        connection_close(connection);
        return;
    }
    framing_encode_header(room, (uint32_t)size);
    protobuf_c_message_pack(message, room + FRAMING_HEADER_SIZE);
    buffer_commit(&connection->output, FRAMING_HEADER_SIZE + size);
    if ((connection->mode == CONNECTION_EVENTS || connection->mode == CONNECTION_ATTACH) &&
        connection->output.length > CONNECTION_STREAM_BACKLOG) {
        log_warn("a %s client is %zu bytes behind; dropping it",
                 connection->mode == CONNECTION_ATTACH ? "attach" : "event",
                 connection->output.length);
        connection_close(connection);
        return;
    }
    if (was_empty)
        connection_flush(connection);
    else
        connection_update(connection);
}

void connection_respond(struct connection *connection, uint64_t id, Response *response)
{
    response->id = id;
    connection->busy = false;
    connection->wait = WAIT_NONE;
    connection->waiting_on = NULL;
    connection->job = NULL;
    connection_send(connection, &response->base);
    connection_update(connection);
}

void connection_respond_error(struct connection *connection, uint64_t id, const struct berr *err)
{
    Response response = RESPONSE_INIT;

    response.error_code = err->code ? (int32_t)err->code : BERR_INTERNAL;
    response.error = (char *)err->message;
    connection_respond(connection, id, &response);
}

void connection_set_busy(struct connection *connection, uint64_t id, enum connection_wait wait)
{
    connection->busy = true;
    connection->request_id = id;
    connection->wait = wait;
    connection_update(connection);
}

void connection_set_mode(struct connection *connection, enum connection_mode mode)
{
    connection->mode = mode;
    connection_update(connection);
}

static void dispatch(struct connection *connection, const uint8_t *payload, size_t size)
{
    struct berr err;

    if (connection->mode == CONNECTION_REQUESTS) {
        Request *request = berth__shim__v1__request__unpack(NULL, size, payload);
        if (!request) {
            berr_set(&err, BERR_INVALID, "malformed frame: %zu bytes that are not a Request", size);
            connection_respond_error(connection, 0, &err);
            return;
        }
        service_handle_request(connection, request);
        berth__shim__v1__request__free_unpacked(request, NULL);
    } else if (connection->mode == CONNECTION_ATTACH) {
        AttachFrame *frame = berth__shim__v1__attach_frame__unpack(NULL, size, payload);
        if (!frame) {
            log_warn("attach: a malformed frame of %zu bytes; ignored", size);
            return;
        }
        service_handle_attach_frame(connection, frame);
        berth__shim__v1__attach_frame__free_unpacked(frame, NULL);
    }
    /* CONNECTION_EVENTS: what a subscriber sends is ignored. */
}

static void too_large(struct connection *connection, uint32_t size)
{
    struct berr err;

    log_warn("a client sent a frame of %u bytes (limit %u); closing it", size,
             CONNECTION_FRAME_MAX);
    if (connection->mode != CONNECTION_REQUESTS) {
        connection_close(connection);
        return;
    }
    berr_set(&err, BERR_INVALID, "frame of %u bytes is above the limit of %u; closing", size,
             CONNECTION_FRAME_MAX);
    connection_respond_error(connection, 0, &err);
    connection_set_mode(connection, CONNECTION_CLOSING);
}

/* recv into buffer; false when the connection is done for now (EAGAIN) or closed. */
static bool receive(struct connection *connection, void *buffer, size_t size, size_t *got)
{
    ssize_t count;

    do
        count = recv(connection->watch.fd, buffer, size, MSG_DONTWAIT);
    while (count < 0 && errno == EINTR);
    if (count > 0) {
        *got = (size_t)count;
        return true;
    }
    if (count < 0 && errno == EAGAIN)
        return false;
    if (count < 0)
        log_debug("read from client: %m");
    connection_close(connection);
    return false;
}

static void read_frames(struct connection *connection)
{
    int frames = 0;

    while (frames < FRAMES_PER_WAKE && watch_open(&connection->watch) && can_read(connection)) {
        size_t got;
        if (!connection->in_payload) {
            if (!receive(connection, connection->header + connection->header_got,
                         FRAMING_HEADER_SIZE - connection->header_got, &got))
                return;
            connection->header_got += got;
            if (connection->header_got < FRAMING_HEADER_SIZE)
                continue;
            connection->payload_size = framing_decode_header(connection->header);
            connection->header_got = 0;
            if (connection->payload_size > CONNECTION_FRAME_MAX) {
                too_large(connection, connection->payload_size);
                return;
            }
            connection->payload = malloc(connection->payload_size ? connection->payload_size : 1);
            if (!connection->payload) {
                log_error("out of memory for a %u-byte frame", connection->payload_size);
                connection_close(connection);
                return;
            }
            connection->in_payload = true;
            connection->payload_got = 0;
        }
        if (connection->payload_got < connection->payload_size) {
            if (!receive(connection, connection->payload + connection->payload_got,
                         connection->payload_size - connection->payload_got, &got))
                return;
            connection->payload_got += got;
            if (connection->payload_got < connection->payload_size)
                continue;
        }
        {
            uint8_t *payload = connection->payload;
            connection->payload = NULL;
            connection->in_payload = false;
            dispatch(connection, payload, connection->payload_size);
            free(payload);
        }
        frames++;
    }
}

static void on_connection(struct watch *watch, uint32_t events)
{
    struct connection *connection = watch_owner(watch, struct connection, watch);

    if (events & EPOLLERR) {
        connection_close(connection);
        return;
    }
    if (events & EPOLLOUT)
        connection_flush(connection);
    if (!watch_open(&connection->watch))
        return;
    if (can_read(connection)) {
        if (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
            read_frames(connection);
    } else if (events & (EPOLLHUP | EPOLLRDHUP)) {
        /* Gone while its request waited, or while we had things to say. */
        connection_close(connection);
    }
}

void connection_accept(struct watch *listener, uint32_t events)
{
    (void)events;
    for (;;) {
        struct connection *connection;
        struct berr err;
        int fd = accept4(listener->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                log_warn("accept: %m");
            return;
        }
        connection = calloc(1, sizeof(*connection));
        if (!connection) {
            log_error("out of memory for a connection");
            close(fd);
            continue;
        }
        watch_init(&connection->watch);
        if (loop_add(&connection->watch, fd, EPOLLIN | EPOLLRDHUP, on_connection, &err)) {
            log_error("%s", err.message);
            close(fd);
            free(connection);
            continue;
        }
        connection->next = shim.connections;
        shim.connections = connection;
    }
}
