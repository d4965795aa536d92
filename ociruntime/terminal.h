/*
 * terminal: the container's pseudo-terminal when process.terminal is set.
 *
 * The container process opens the pty in its own devpts instance, makes the
 * slave its stdio and controlling terminal and /dev/console, and sends the
 * master over the console socket (SCM_RIGHTS, with the slave's name as the
 * message, as runc does) to whoever asked for it: the caller's
 * --console-socket, or the runtime itself for a foreground `run`/`exec`,
 * which then copies between its own terminal and the master.
 */
#ifndef BERTH_RUNTIME_TERMINAL_H
#define BERTH_RUNTIME_TERMINAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "berr.h"

/* Connects to a --console-socket path (runtime side, before the clone). */
int terminal_connect(const char *path, int *fd, struct berr *err);

/* In the container process, after pivot_root: creates the pty, sends the
 * master over socket_fd, becomes its session's controlling terminal.
 * make_console: also bind the slave over /dev/console (not for exec). */
int terminal_setup(int socket_fd, unsigned height, unsigned width, bool make_console,
                   struct berr *err);

/* Receives a pty master sent by terminal_setup. */
int terminal_receive(int socket_fd, int *master_fd, struct berr *err);

/* Runtime side of a foreground run/exec with a terminal: copies the
 * runtime's stdin to the master and the master to its stdout (with the
 * runtime's terminal in raw mode, window size forwarded) until the master
 * hangs up. */
int terminal_proxy(int master_fd, struct berr *err);

#endif
