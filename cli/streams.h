/*
 * streams: the engine's byte streams, as attach, exec and logs deliver them.
 *
 * Without a TTY the engine multiplexes stdout and stderr into frames (an
 * 8-byte header: stream type, three zero bytes, big-endian payload size);
 * with a TTY the stream is raw. The demuxer is a small state machine fed
 * arbitrary pieces (curl and sockets split frames anywhere), so the same
 * code serves a buffered logs body, a followed one and a hijacked socket.
 * The pump moves bytes both ways on a hijacked connection: stdin to the
 * engine (half-closing on EOF, as the docker CLI does), the engine to
 * stdout/stderr, and signals (resize, forwarding) in the same poll loop, so
 * there are no threads to stop when the stream ends.
 */
#ifndef BERTH_CLI_STREAMS_H
#define BERTH_CLI_STREAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berr.h"
#include "buf.h"
#include "http_client.h"
#include <yajl/yajl_tree.h>

enum stream_type {
    STREAM_STDIN = 0,
    STREAM_STDOUT = 1,
    STREAM_STDERR = 2,
    STREAM_SYSTEMERR = 3,
};

/* Receives a frame's payload, possibly in several pieces. Non-zero stops the stream. */
typedef int (*frame_sink_fn)(void *ctx, enum stream_type stream, const char *data, size_t len,
                             struct berr *err);

struct demux {
    unsigned char header[8];
    size_t header_len;  /* header bytes gathered so far */
    uint32_t remaining; /* payload bytes still to come in the current frame */
    enum stream_type stream;
};

void demux_init(struct demux *demux);
int demux_feed(struct demux *demux, const char *data, size_t len, frame_sink_fn sink, void *ctx,
               struct berr *err);
/* True between frames (a stream that ends elsewhere was cut). */
bool demux_at_boundary(const struct demux *demux);

/* The usual sink: stdout and stdin frames to out_fd, stderr to err_fd; a system error fails. */
struct output_sink {
    int out_fd;
    int err_fd;
    struct strbuf system_error;
};
int output_sink_write(void *ctx, enum stream_type stream, const char *data, size_t len,
                      struct berr *err);
/* write(2) all of it, retrying on EINTR; EPIPE and friends are errors. */
int write_all_fd(int fd, const char *data, size_t len, struct berr *err);

/* "ctrl-p,ctrl-q" → bytes. */
int detach_keys_parse(const char *spec, char *out, size_t out_size, size_t *len, struct berr *err);

struct pump {
    struct http_conn *conn;
    bool tty;      /* raw stream (else demultiplexed) */
    int in_fd;     /* -1: stdin not attached */
    int out_fd;    /* -1: drop */
    int err_fd;    /* -1: drop */
    int signal_fd; /* -1: none; readable when a signal arrived (signals.h) */
    /* called with each signal; non-zero ends the pump with that error */
    int (*on_signal)(void *ctx, int signo, struct berr *err);
    void *ctx;
    char detach_keys[16];
    size_t detach_len;
    /* out */
    bool detached; /* the user typed the detach keys */
};

/* Runs until the engine ends the stream. */
int pump_run(struct pump *pump, struct berr *err);

/*
 * JSON-lines bodies (events, pull and load progress): pieces in, one parsed
 * object per line out. Usable directly as an http sink.
 */
typedef int (*jsonlines_fn)(void *ctx, yajl_val message, struct berr *err);
struct jsonlines {
    struct strbuf partial;
    jsonlines_fn on_message;
    void *ctx;
};
int jsonlines_feed(void *ctx, const char *data, size_t len, struct berr *err);
/* Handles a last line without a newline; frees the buffer. */
int jsonlines_finish(struct jsonlines *lines, struct berr *err);

#endif
