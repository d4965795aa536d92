/*
 * process_io: see process_io.h.
 *
 * Output is read 8 KiB at a time into one static buffer (the shim has one
 * thread), handed as is to the attached clients, and cut into log entries
 * at each "\n"; only the unfinished last line of a stream is kept, in a
 * heap block of exactly its size, so an idle process costs no buffer.
 */
#include "process_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "process.h"
#include "service.h"

static uint8_t read_buffer[8192];

static const char *stream_name(const struct output_stream *stream)
{
    return stream->stream == STREAM_STDERR ? "stderr" : "stdout";
}

void process_io_init(struct process *process)
{
    watch_init(&process->out.watch);
    watch_init(&process->err.watch);
    watch_init(&process->stdin_watch);
    process->out.process = process->err.process = process;
    process->out.stream = STREAM_STDOUT;
    process->err.stream = STREAM_STDERR;
    json_log_init(&process->log);
}

int process_io_configure(struct process *process, const ProcessIO *io, struct berr *err)
{
    if (!io)
        return 0;
    process->terminal = io->terminal;
    process->keep_stdin = io->stdin;
    process->console_width = io->console_width;
    process->console_height = io->console_height;
    if (io->log_max_size < 0 || io->log_max_files < 0)
        return berr_set(err, BERR_INVALID,
                        "io: log_max_size and log_max_files must not be "
                        "negative");
    if (io->log_path && *io->log_path && io->log_path[0] != '/')
        return berr_set(err, BERR_INVALID, "io: log_path %s is not absolute", io->log_path);
    return json_log_open(&process->log, io->log_path, io->log_max_size, io->log_max_files, err);
}

/* Appends the text of one log entry: the stream's partial line, then data. */
static void log_line(struct output_stream *stream, const uint8_t *data, size_t length,
                     const struct timespec *when)
{
    json_log_entry(&stream->process->log, stream_name(stream), stream->partial,
                   stream->partial_length, data, length, when);
    free(stream->partial);
    stream->partial = NULL;
    stream->partial_length = 0;
}

/* Splits output into log entries: one per line, none longer than
 * JSON_LOG_LINE_MAX bytes of text (plus its "\n"). */
static void log_output(struct output_stream *stream, const uint8_t *data, size_t length,
                       const struct timespec *when)
{
    if (stream->process->log.fd < 0)
        return;
    while (length > 0) {
        const uint8_t *newline = memchr(data, '\n', length);
        size_t text = newline ? (size_t)(newline - data) : length;

        if (stream->partial_length + text > JSON_LOG_LINE_MAX) {
            size_t room = JSON_LOG_LINE_MAX - stream->partial_length;
            log_line(stream, data, room, when);
            data += room;
            length -= room;
            continue;
        }
        if (newline) {
            log_line(stream, data, text + 1, when);
            data += text + 1;
            length -= text + 1;
        } else {
            char *grown = realloc(stream->partial, stream->partial_length + length);
            if (!grown) {
                log_line(stream, data, length, when); /* out of memory: an early entry */
                return;
            }
            memcpy(grown + stream->partial_length, data, length);
            stream->partial = grown;
            stream->partial_length += length;
            return;
        }
    }
}

static void flush_partial(struct output_stream *stream)
{
    struct timespec now;

    if (stream->partial_length == 0)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    log_line(stream, NULL, 0, &now);
    json_log_flush(&stream->process->log);
}

static void end_stream(struct output_stream *stream)
{
    flush_partial(stream);
    loop_close(&stream->watch);
    process_check_finished(stream->process);
}

/* Reads once. Returns false when nothing more is there for now. */
static bool read_output(struct output_stream *stream)
{
    struct process *process = stream->process;
    struct timespec now;
    ssize_t got = read(stream->watch.fd, read_buffer, sizeof(read_buffer));

    if (got > 0) {
        clock_gettime(CLOCK_REALTIME, &now);
        service_output(process, stream->stream, read_buffer, (size_t)got);
        log_output(stream, read_buffer, (size_t)got, &now);
        json_log_flush(&process->log);
        return true;
    }
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return false;
    /* End of file; EIO is how a pty master says the last slave closed. */
    if (got < 0 && errno != EIO)
        log_warn("read %s of %s: %m", stream_name(stream),
                 process->is_init ? "init" : process->exec_id);
    end_stream(stream);
    return false;
}

static void on_output(struct watch *watch, uint32_t events)
{
    struct output_stream *stream = watch_owner(watch, struct output_stream, watch);

    (void)events;
    read_output(stream);
}

void process_io_drain(struct process *process)
{
    struct output_stream *streams[2] = {&process->out, &process->err};
    int i, rounds;

    /* Bounded: a writer that keeps writing must not hold the loop. */
    for (i = 0; i < 2; i++)
        for (rounds = 0; rounds < 64 && watch_open(&streams[i]->watch); rounds++)
            if (!read_output(streams[i]))
                break;
}

bool process_io_output_ended(const struct process *process)
{
    return !watch_open(&process->out.watch) && !watch_open(&process->err.watch);
}

void process_io_flush_partial_lines(struct process *process)
{
    flush_partial(&process->out);
    flush_partial(&process->err);
}

static void stdin_closed(struct process *process)
{
    loop_close(&process->stdin_watch);
    buffer_free(&process->stdin_pending);
    service_stdin_drained(process);
}

static void finish_close_stdin(struct process *process)
{
    if (process->terminal) {
        /* Closing a dup of the master tells the pty nothing: send the EOF
         * character, as a user would type it. */
        static const char end_of_file = 4;
        if (write(process->stdin_watch.fd, &end_of_file, 1) < 0 && errno != EAGAIN)
            log_debug("write ^D to the terminal: %m");
    }
    stdin_closed(process);
}

/* Writes what stdin takes now. */
static void write_pending(struct process *process)
{
    while (!buffer_empty(&process->stdin_pending)) {
        ssize_t written = write(process->stdin_watch.fd, buffer_head(&process->stdin_pending),
                                process->stdin_pending.length);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            /* EPIPE: the process closed its stdin or is gone. */
            log_debug("write stdin: %m");
            stdin_closed(process);
            return;
        }
        buffer_consume(&process->stdin_pending, (size_t)written);
    }
    if (buffer_empty(&process->stdin_pending)) {
        loop_set_events(&process->stdin_watch, 0);
        if (process->stdin_close_requested)
            finish_close_stdin(process);
        else
            service_stdin_drained(process);
    } else {
        loop_set_events(&process->stdin_watch, EPOLLOUT);
    }
}

static void on_stdin(struct watch *watch, uint32_t events)
{
    struct process *process = watch_owner(watch, struct process, stdin_watch);

    if (!buffer_empty(&process->stdin_pending) && (events & EPOLLOUT)) {
        write_pending(process);
        return;
    }
    if (events & (EPOLLERR | EPOLLHUP)) /* the read side is gone */
        stdin_closed(process);
}

static int set_nonblocking(int fd, struct berr *err)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return berr_errno(err, errno, "fcntl O_NONBLOCK");
    return 0;
}

int process_io_open_pipes(struct process *process, int child[3], struct berr *err)
{
    int stdin_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    int rc;

    child[0] = child[1] = child[2] = -1;
    if ((process->keep_stdin && pipe2(stdin_pipe, O_CLOEXEC) < 0) ||
        pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
        rc = berr_errno(err, errno, "pipe");
        goto fail;
    }
    if ((process->keep_stdin && set_nonblocking(stdin_pipe[1], err)) ||
        set_nonblocking(out_pipe[0], err) || set_nonblocking(err_pipe[0], err)) {
        rc = err->code;
        goto fail;
    }
    if ((rc = loop_add(&process->out.watch, out_pipe[0], EPOLLIN, on_output, err)))
        goto fail;
    out_pipe[0] = -1;
    if ((rc = loop_add(&process->err.watch, err_pipe[0], EPOLLIN, on_output, err)))
        goto fail;
    err_pipe[0] = -1;
    if (process->keep_stdin) {
        if ((rc = loop_add(&process->stdin_watch, stdin_pipe[1], 0, on_stdin, err)))
            goto fail;
        stdin_pipe[1] = -1;
    }
    child[0] = process->keep_stdin ? stdin_pipe[0] : -1;
    child[1] = out_pipe[1];
    child[2] = err_pipe[1];
    return 0;

fail:
    for (int i = 0; i < 2; i++) {
        if (stdin_pipe[i] >= 0)
            close(stdin_pipe[i]);
        if (out_pipe[i] >= 0)
            close(out_pipe[i]);
        if (err_pipe[i] >= 0)
            close(err_pipe[i]);
    }
    loop_close(&process->out.watch);
    loop_close(&process->err.watch);
    loop_close(&process->stdin_watch);
    return rc;
}

int process_io_set_master(struct process *process, int master, struct berr *err)
{
    int rc, input;

    if ((rc = set_nonblocking(master, err))) {
        close(master);
        return rc;
    }
    if ((rc = loop_add(&process->out.watch, master, EPOLLIN, on_output, err))) {
        close(master);
        return rc;
    }
    if (process->console_width || process->console_height)
        process_io_resize(process, process->console_width, process->console_height, NULL);
    if (!process->keep_stdin)
        return 0;
    input = fcntl(master, F_DUPFD_CLOEXEC, 3);
    if (input < 0) {
        rc = berr_errno(err, errno, "dup the pty master");
        loop_close(&process->out.watch);
        return rc;
    }
    if ((rc = loop_add(&process->stdin_watch, input, 0, on_stdin, err))) {
        close(input);
        loop_close(&process->out.watch);
    }
    return rc;
}

void process_io_close_stdio(struct process *process)
{
    process_io_flush_partial_lines(process);
    loop_close(&process->out.watch);
    loop_close(&process->err.watch);
    loop_close(&process->stdin_watch);
    buffer_free(&process->stdin_pending);
}

void process_io_close(struct process *process)
{
    process_io_close_stdio(process);
    json_log_close(&process->log);
}

bool process_io_has_stdin(const struct process *process)
{
    return watch_open(&process->stdin_watch) && !process->stdin_close_requested;
}

void process_io_write_stdin(struct process *process, const void *data, size_t length)
{
    if (!process_io_has_stdin(process) || length == 0)
        return;
    if (buffer_append(&process->stdin_pending, data, length) < 0) {
        log_error("stdin of %s: out of memory; %zu bytes lost",
                  process->is_init ? "init" : process->exec_id, length);
        return;
    }
    write_pending(process);
}

bool process_io_stdin_backlogged(const struct process *process)
{
    return process->stdin_pending.length > PROCESS_STDIN_BACKLOG;
}

void process_io_close_stdin(struct process *process)
{
    if (!watch_open(&process->stdin_watch))
        return;
    process->stdin_close_requested = true;
    if (buffer_empty(&process->stdin_pending))
        finish_close_stdin(process);
}

int process_io_resize(struct process *process, uint32_t width, uint32_t height, struct berr *err)
{
    struct winsize size;

    if (!process->terminal || !watch_open(&process->out.watch))
        return 0; /* as containerd: nothing to resize without a terminal */
    if (width > 0xffff || height > 0xffff)
        return berr_set(err, BERR_INVALID, "resize to %ux%u: too large", width, height);
    memset(&size, 0, sizeof(size));
    size.ws_col = (unsigned short)width;
    size.ws_row = (unsigned short)height;
    if (ioctl(process->out.watch.fd, TIOCSWINSZ, &size) < 0)
        return berr_errno(err, errno, "resize the terminal");
    process->console_width = width;
    process->console_height = height;
    return 0;
}
