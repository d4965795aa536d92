/*
 * streams: frame demultiplexing and the hijacked-stream pump (see
 * streams.h). The demuxer never buffers a payload: each piece is passed on
 * as soon as it arrives, so `logs -f` and interactive output are not held
 * back until a frame completes.
 */
#include "streams.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "signals.h"

void demux_init(struct demux *demux)
{
    memset(demux, 0, sizeof(*demux));
}

bool demux_at_boundary(const struct demux *demux)
{
    return demux->header_len == 0 && demux->remaining == 0;
}

int demux_feed(struct demux *demux, const char *data, size_t len, frame_sink_fn sink, void *ctx,
               struct berr *err)
{
    while (len) {
        if (demux->remaining == 0) {
            size_t want = sizeof(demux->header) - demux->header_len;
            size_t take = len < want ? len : want;
            const unsigned char *h = demux->header;

            memcpy(demux->header + demux->header_len, data, take);
            demux->header_len += take;
            data += take;
            len -= take;
            if (demux->header_len < sizeof(demux->header))
                break;
            demux->header_len = 0;
            if (h[0] > STREAM_SYSTEMERR)
                return berr_set(err, BERR_IO, "Unrecognized input header: %d", h[0]);
            demux->stream = (enum stream_type)h[0];
            demux->remaining =
                (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | (uint32_t)h[7];
            continue;
        }
        {
            size_t take = len < demux->remaining ? len : demux->remaining;
            int rc = sink(ctx, demux->stream, data, take, err);

            if (rc)
                return rc;
            demux->remaining -= (uint32_t)take;
            data += take;
            len -= take;
        }
    }
    return 0;
}

int write_all_fd(int fd, const char *data, size_t len, struct berr *err)
{
    while (len) {
        ssize_t n = write(fd, data, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd pfd = {fd, POLLOUT, 0};

            poll(&pfd, 1, -1);
            continue;
        }
        if (n < 0 && errno == EPIPE) /* Go's words, which docker prints */
            return berr_set(err, BERR_UNAVAILABLE, "write %s: broken pipe",
                            fd == 1   ? "/dev/stdout"
                            : fd == 2 ? "/dev/stderr"
                                      : "pipe");
        if (n < 0)
            return berr_errno(err, errno, "write");
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int output_sink_write(void *ctx, enum stream_type stream, const char *data, size_t len,
                      struct berr *err)
{
    struct output_sink *sink = ctx;
    int fd;

    switch (stream) {
    case STREAM_STDIN:
    case STREAM_STDOUT:
        fd = sink->out_fd;
        break;
    case STREAM_STDERR:
        fd = sink->err_fd;
        break;
    default:
        sb_append(&sink->system_error, data, len);
        return 0;
    }
    if (fd < 0)
        return 0;
    return write_all_fd(fd, data, len, err);
}

int detach_keys_parse(const char *spec, char *out, size_t out_size, size_t *len, struct berr *err)
{
    const char *p = spec;

    *len = 0;
    while (*p) {
        size_t n = strcspn(p, ",");
        char key;

        if (n == 1) {
            key = *p;
        } else if (n == 6 && strncmp(p, "ctrl-", 5) == 0) {
            char c = p[5];

            if (c >= 'a' && c <= 'z')
                key = (char)(c - 'a' + 1);
            else if (c == '@')
                key = 0;
            else if (c >= '[' && c <= '_')
                key = (char)(c - '[' + 27);
            else
                return berr_set(err, BERR_INVALID, "Invalid escape keys (%s) provided", spec);
        } else {
            return berr_set(err, BERR_INVALID, "Invalid escape keys (%s) provided", spec);
        }
        if (*len >= out_size)
            return berr_set(err, BERR_INVALID, "Invalid escape keys (%s) provided", spec);
        out[(*len)++] = key;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* Follows the detach sequence through stdin bytes; true when it completed. */
static bool watch_detach(struct pump *pump, size_t *matched, const char *data, size_t len)
{
    for (size_t i = 0; i < len && pump->detach_len; i++) {
        if (data[i] == pump->detach_keys[*matched])
            (*matched)++;
        else
            *matched = data[i] == pump->detach_keys[0] ? 1 : 0;
        if (*matched == pump->detach_len)
            return true;
    }
    return false;
}

static int deliver(struct pump *pump, struct demux *demux, struct output_sink *sink,
                   const char *data, size_t len, struct berr *err)
{
    if (pump->tty)
        return pump->out_fd >= 0 ? write_all_fd(pump->out_fd, data, len, err) : 0;
    return demux_feed(demux, data, len, output_sink_write, sink, err);
}

/* One read from the engine: 1 data handled, 0 end of stream, <0 error (-2: nothing). */
static int pump_from_engine(struct pump *pump, struct demux *demux, struct output_sink *sink,
                            struct berr *err)
{
    char buf[32768];
    ssize_t n = http_conn_read(pump->conn, buf, sizeof(buf), err);

    if (n == -2)
        return -2;
    if (n < 0)
        return -1;
    if (n == 0)
        return 0;
    return deliver(pump, demux, sink, buf, (size_t)n, err) ? -1 : 1;
}

/* One read from stdin: 1 forwarded, 0 EOF (write side closed), -1 error. */
static int pump_from_stdin(struct pump *pump, size_t *matched, struct berr *err)
{
    char buf[4096];
    ssize_t n = read(pump->in_fd, buf, sizeof(buf));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 1;
    if (n <= 0) {
        http_conn_close_write(pump->conn);
        return 0;
    }
    if (watch_detach(pump, matched, buf, (size_t)n))
        pump->detached = true;
    if (http_conn_write_all(pump->conn, buf, (size_t)n, err)) {
        /* the engine closed its side; what it sent is still to be read */
        return 0;
    }
    return 1;
}

static int pump_signals(struct pump *pump, struct berr *err)
{
    int signo;

    while ((signo = signals_read(pump->signal_fd)) > 0) {
        if (pump->on_signal && pump->on_signal(pump->ctx, signo, err))
            return -1;
    }
    return 0;
}

int pump_run(struct pump *pump, struct berr *err)
{
    struct demux demux;
    struct output_sink sink = {pump->out_fd, pump->err_fd, STRBUF_INIT};
    bool stdin_open = pump->in_fd >= 0;
    size_t matched = 0;
    int rc = 0;

    demux_init(&demux);
    for (;;) {
        struct pollfd fds[3] = {{pump->conn->fd, POLLIN, 0},
                                {stdin_open ? pump->in_fd : -1, POLLIN, 0},
                                {pump->signal_fd, POLLIN, 0}};
        int got;

        if (pump->conn->pending_off < pump->conn->pending.len) {
            got = pump_from_engine(pump, &demux, &sink, err);
            if (got < 0) {
                rc = err->code;
                break;
            }
            continue;
        }
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            rc = berr_errno(err, errno, "poll");
            break;
        }
        if (fds[2].revents && pump_signals(pump, err)) {
            rc = err->code;
            break;
        }
        if (fds[1].revents) {
            got = pump_from_stdin(pump, &matched, err);
            if (got < 0) {
                rc = err->code;
                break;
            }
            stdin_open = got > 0;
        }
        if (fds[0].revents) {
            got = pump_from_engine(pump, &demux, &sink, err);
            if (got == 0)
                break;
            if (got == -1) {
                rc = err->code;
                break;
            }
        }
    }
    if (rc == 0 && sink.system_error.len)
        rc = berr_set(err, BERR_IO, "%s", sb_str(&sink.system_error));
    sb_free(&sink.system_error);
    return rc;
}

static int jsonlines_line(struct jsonlines *lines, const char *line, size_t len, struct berr *err)
{
    char *text;
    yajl_val message;
    int rc;

    while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (!len)
        return 0;
    text = xstrndup(line, len);
    rc = json_parse(text, &message, err);
    free(text);
    if (rc)
        return berr_prefix(err, "the daemon sent a malformed message");
    rc = lines->on_message(lines->ctx, message, err);
    yajl_tree_free(message);
    return rc;
}

int jsonlines_feed(void *ctx, const char *data, size_t len, struct berr *err)
{
    struct jsonlines *lines = ctx;

    while (len) {
        const char *newline = memchr(data, '\n', len);
        size_t take = newline ? (size_t)(newline - data) : len;
        int rc;

        sb_append(&lines->partial, data, take);
        if (!newline)
            break;
        rc = jsonlines_line(lines, sb_str(&lines->partial), lines->partial.len, err);
        sb_reset(&lines->partial);
        if (rc)
            return rc;
        data += take + 1;
        len -= take + 1;
    }
    return 0;
}

int jsonlines_finish(struct jsonlines *lines, struct berr *err)
{
    int rc = jsonlines_line(lines, sb_str(&lines->partial), lines->partial.len, err);

    sb_free(&lines->partial);
    return rc;
}
