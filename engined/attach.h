/*
 * attach: a client's connection joined to a process's stdio, through the
 * supervisor's Tasks.Attach. Container attach and exec start both use it.
 *
 * Why its own module: the copying both ways is the same for a container's
 * init and an exec, and it is where the care goes:
 *  - attach_open returns once the supervisor has attached (its response
 *    headers), so a caller that starts the process afterwards loses none
 *    of its output;
 *  - attach_run copies until the process exits, the client detaches (the
 *    detach keys, on a terminal), leaves, or the engine stops. Output
 *    comes on a thread of its own (framed unless the process has a
 *    terminal) while the caller's thread carries stdin; after the
 *    `exited` message it closes its side of the call, as the supervisor
 *    asks. It returns only when everything the process wrote has been
 *    written to the client, so the caller can record an exit before the
 *    connection closes (exec inspect must see it at once).
 *  - client stdin ending: with close_stdin (a container's StdinOnce, an
 *    exec) and no terminal the process's stdin is closed and output goes
 *    on; otherwise the attach ends there, as dockerd's stream copier does.
 */
#ifndef BERTH_ENGINED_ATTACH_H
#define BERTH_ENGINED_ATTACH_H

#include <stdbool.h>
#include <stdint.h>

#include "berr.h"
#include "docker_stream.h"
#include "http_server.h"

struct engine;
struct attach_stream;

struct attach_target {
    const char *container_id;
    const char *exec_id; /* NULL or "": the init */
    bool stdin, stdout, stderr;
};

/* Opens Tasks.Attach and waits until the supervisor has attached. */
int attach_open(struct engine *engine, const struct attach_target *target,
                struct attach_stream **out, struct berr *err);
void attach_close(struct attach_stream *stream);

/* Where the output goes: a hijacked connection (stdin too), or a plain
 * streamed response (output only, for clients that did not ask for an
 * upgrade). */
struct attach_client {
    struct http_hijack *hijack;
    struct http_stream *stream;
};

/* Writes to the client, whichever kind. */
int attach_client_write(const struct attach_client *client, const void *data, size_t length,
                        struct berr *err);
/* One frame (or raw bytes with tty). */
int attach_client_write_output(const struct attach_client *client, bool tty, int stream,
                               const void *data, size_t length, struct berr *err);

struct attach_options {
    bool stdin;       /* the client's bytes are the process's stdin */
    bool tty;         /* raw output and detach keys; else frames */
    bool close_stdin; /* the client's stdin ending closes the process's */
    struct detach_keys detach_keys;
};

enum attach_end {
    ATTACH_EXITED,      /* the process exited: exit_status */
    ATTACH_DETACHED,    /* the detach keys */
    ATTACH_CLIENT_DONE, /* the client left, or its stdin ended the attach */
    ATTACH_STOPPED,     /* the engine stops */
    ATTACH_FAILED,      /* the supervisor's side failed: err */
};

struct attach_result {
    enum attach_end end;
    uint32_t exit_status;
    struct berr err;
};

/* Runs the session; the stream is the caller's to close afterwards. */
void attach_run(struct attach_stream *stream, const struct attach_client *client,
                const struct attach_options *options, struct attach_result *result);

#endif
