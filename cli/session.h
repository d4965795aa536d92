/*
 * session: an interactive connection to a container or an exec, shared by
 * run, start -a, attach and exec.
 *
 * The order is what makes `run` lose no output: attach (hijacked) and wait
 * (its response headers received) are both in place before start. The wait
 * request blocks until the container exits, so it runs on its own thread
 * with its own connection; everything else (stdin, output, resize, signal
 * forwarding) runs in the pump's poll loop on the main thread. The
 * terminal is raw only between session_run's start and end.
 */
#ifndef BERTH_CLI_SESSION_H
#define BERTH_CLI_SESSION_H

#include <pthread.h>
#include <stdbool.h>

#include "api.h"
#include "berr.h"
#include "cli.h"
#include "http_client.h"

struct session_opts {
    const char *id;    /* container or exec id */
    bool is_exec;      /* resize /exec/ID/resize instead of /containers/ID/resize */
    bool in, out, err; /* attached streams */
    bool tty;
    bool sig_proxy;          /* forward signals with POST /containers/ID/kill */
    const char *detach_keys; /* NULL: the default (ctrl-p,ctrl-q) */
    const char *kill_target; /* container to forward signals to (exec: its container) */
};

/* POST /containers/ID/attach?stream=1&stdin=..., hijacked. */
int session_attach(struct api *api, const struct session_opts *opts, struct http_conn *conn,
                   struct berr *err);

/*
 * Runs the stream: raw terminal (tty with stdin on a terminal), SIGWINCH
 * resizes, forwarded signals, until the engine ends the stream.
 * *detached: the user typed the detach keys.
 */
int session_pump(struct api *api, const struct session_opts *opts, struct http_conn *conn,
                 bool *detached, struct berr *err);

/* Sends the terminal's size (retrying briefly while the process starts). */
void session_resize(struct api *api, const struct session_opts *opts, bool retry);

struct waiter {
    pthread_t thread;
    struct api api;
    char *path;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool ready; /* response headers arrived, or the request failed */
    bool done;
    int rc;
    struct berr err;
    long status_code;
    char error[512];
    int fd; /* the wait request's socket, for waiter_cancel */
    bool cancelled;
};

/* POST /containers/ID/wait?condition=CONDITION on a thread; returns once the daemon
 * has answered with headers (so the wait is registered). */
int waiter_start(struct waiter *waiter, struct cli *cli, const char *id, const char *condition,
                 struct berr *err);
/* Waits for the exit; *status_code is the container's exit code. */
int waiter_join(struct waiter *waiter, long *status_code, struct berr *err);
/* Ends the wait early (the container did not start, or the user detached) and joins. */
void waiter_cancel(struct waiter *waiter);

/* 127 "executable file not found" / "no such file or directory", 126 "permission
 * denied" / "is a directory", else 125: how run reports a failed start. */
int session_start_status(const char *message);

#endif
