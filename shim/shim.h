/*
 * shim: the state of one berth-shim, which serves one container.
 *
 * The shim is the parent (as child subreaper) of the container's init and
 * of every exec, owns their stdio, writes their output to the logs, and
 * remembers how each ended, so the daemons above it can restart at any time
 * without losing a line of output or an exit status. Everything lives in the
 * one global `shim` (Redis's `server` style): the program has one thread,
 * one event loop, one container.
 */
#ifndef BERTH_SHIM_SHIM_H
#define BERTH_SHIM_SHIM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "buffer.h"
#include "json_log.h"
#include "loop.h"

#define EXEC_ID_MAX 64

enum process_status {
    PROCESS_NEW,     /* init: being created; exec: registered, not started */
    PROCESS_CREATED, /* init: `runtime create` done, waiting for start */
    PROCESS_RUNNING,
    PROCESS_PAUSED,  /* init only */
    PROCESS_STOPPED, /* reaped, and its output drained */
};

struct process;

/* The read side of a process's stdout or stderr (or its pty master). */
struct output_stream {
    struct watch watch;
    struct process *process;
    int stream;    /* STREAM_STDOUT or STREAM_STDERR */
    char *partial; /* the last line so far, not ended by "\n" yet */
    size_t partial_length;
};

struct process {
    struct process *next;
    char exec_id[EXEC_ID_MAX + 1]; /* "" for the init */
    bool is_init;
    enum process_status status;
    bool busy;    /* a runtime command for it is queued or running */
    bool deleted; /* init: `runtime delete` done */
    pid_t pid;    /* 0 until known */

    /* The exit: recorded on disk when reaped; reported (status STOPPED)
     * once the output is drained too, or at drain_deadline_ms. */
    bool reaped;
    int exit_status; /* the exit code, or 128 + the signal */
    struct timespec exited_at;
    int64_t drain_deadline_ms;

    /* stdio, from the request's IO */
    bool terminal;
    bool keep_stdin;
    uint32_t console_width, console_height;
    struct json_log log;
    struct output_stream out, err; /* terminal: out is the pty master */
    struct watch stdin_watch;      /* the write side of stdin (or a dup of the master) */
    struct buffer stdin_pending;   /* bytes stdin did not take yet */
    bool stdin_close_requested;

    char *process_json; /* exec: the OCI process object, until started */
    size_t process_json_length;
};

struct connection;
struct runtime_job;

struct shim {
    const char *namespace_name;
    const char *id;
    const char *bundle; /* absolute */
    const char *runtime;
    const char *runtime_root; /* NULL: the runtime's default */
    const char *socket_path;
    int bundle_fd; /* O_PATH directory: *at() calls, and /proc/PID/fd/N paths */
    int devnull_fd;
    pid_t pid;
    struct watch listener;
    struct process *processes; /* the init first, then execs in creation order */
    struct connection *connections;
    bool shutting_down;
};

extern struct shim shim;

/* Stops the event loop: the shim exits once main has cleaned up. */
void shim_exit_soon(void);

#endif
