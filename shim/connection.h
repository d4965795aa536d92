/*
 * connection: one client of the shim's socket (the supervisor, a waiter, an
 * attach, a test).
 *
 * Frames are read one at a time into a buffer of the frame's size (checked
 * against a limit first) and handled in order: while a request waits (for
 * the runtime, or for a process to exit) the connection is not read any
 * further, but every other connection is served. Answers are written at once
 * when the socket takes them, else queued and written as it drains. A
 * connection that subscribed or attached becomes a stream; a stream client
 * that falls more than CONNECTION_STREAM_BACKLOG behind is dropped, so that
 * nobody slow can hold the container's output or the shim's memory.
 */
#ifndef BERTH_SHIM_CONNECTION_H
#define BERTH_SHIM_CONNECTION_H

#include <stdbool.h>
#include <stdint.h>

#include "berr.h"
#include "buffer.h"
#include "loop.h"
#include "protocol.h"

#define CONNECTION_FRAME_MAX      (4u << 20)
#define CONNECTION_STREAM_BACKLOG (1u << 20)

enum connection_mode {
    CONNECTION_REQUESTS,
    CONNECTION_EVENTS,  /* after SubscribeRequest: Event messages go out */
    CONNECTION_ATTACH,  /* after AttachRequest: AttachFrame both ways */
    CONNECTION_CLOSING, /* write what is queued, then close */
};

enum connection_wait {
    WAIT_NONE,
    WAIT_RUNTIME,     /* job says which */
    WAIT_EXIT,        /* WaitRequest */
    WAIT_DELETE_EXIT, /* DeleteRequest, once the process is gone */
};

struct process;
struct runtime_job;

struct connection {
    struct connection *next;
    struct watch watch;
    enum connection_mode mode;

    /* the frame being read */
    uint8_t header[4];
    size_t header_got;
    bool in_payload;
    uint8_t *payload;
    uint32_t payload_size;
    size_t payload_got;

    struct buffer output;

    /* a request that is not answered yet */
    bool busy;
    uint64_t request_id;
    enum connection_wait wait;
    struct process *waiting_on;
    struct runtime_job *job;

    /* attach */
    struct process *attached;
    bool attach_stdin, attach_stdout, attach_stderr;
    bool stdin_blocked; /* not read while the process's stdin is backlogged */
};

/* The listener's handler: accepts the pending connections. */
void connection_accept(struct watch *listener, uint32_t events);

/* Queues one framed message. */
void connection_send(struct connection *connection, const ProtobufCMessage *message);
/* Answers the request the connection is on (response->id is set here) and
 * goes on reading. */
void connection_respond(struct connection *connection, uint64_t id, Response *response);
void connection_respond_error(struct connection *connection, uint64_t id, const struct berr *err);
/* The request stays unanswered until connection_respond. */
void connection_set_busy(struct connection *connection, uint64_t id, enum connection_wait wait);
void connection_set_mode(struct connection *connection, enum connection_mode mode);
/* Reads again after stdin_blocked or busy changed. */
void connection_update(struct connection *connection);
void connection_close(struct connection *connection);
/* Writes whatever is queued right now (best effort, without waiting). */
void connection_flush(struct connection *connection);

#endif
