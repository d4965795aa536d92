/*
 * process_io: a process's stdio, seen from the shim.
 *
 * Without a terminal, the shim makes pipes: the process gets one end as its
 * stdout and stderr (and stdin, when the request keeps stdin), the shim keeps
 * the other, non-blocking, in its event loop. With a terminal the runtime
 * sends the pty master over a console socket and it serves as stdout, and
 * (a dup of it) as stdin. Every byte the process writes goes, as read, to the
 * attached clients, and, split into lines, to the json-file log. Bytes for
 * stdin that the process does not take yet wait in a buffer; while it is
 * full, the clients that send them are not read (they wait, the container
 * does not).
 */
#ifndef BERTH_SHIM_PROCESS_IO_H
#define BERTH_SHIM_PROCESS_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berr.h"
#include "protocol.h"
#include "shim.h"

/* Above this many pending stdin bytes, attach clients stop being read. */
#define PROCESS_STDIN_BACKLOG (64u << 10)

void process_io_init(struct process *process);
/* Takes the request's IO (NULL: no stdin, no terminal, no log) and opens the log. */
int process_io_configure(struct process *process, const ProcessIO *io, struct berr *err);
/* Pipes for a process without a terminal: child[0..2] are the ends for the
 * runtime to pass on (the caller owns and closes them). */
int process_io_open_pipes(struct process *process, int child[3], struct berr *err);
/* The pty master the runtime sent (taken over, closed on failure). */
int process_io_set_master(struct process *process, int master, struct berr *err);
/* Closes the shim's ends of the stdio (the log stays open). */
void process_io_close_stdio(struct process *process);
/* Closes the shim's ends of the stdio and the log. */
void process_io_close(struct process *process);

/* Reads whatever output is there now, without waiting. */
void process_io_drain(struct process *process);
/* Whether every output stream has ended. */
bool process_io_output_ended(const struct process *process);
/* Writes the unfinished last lines to the log (without "\n"). */
void process_io_flush_partial_lines(struct process *process);

bool process_io_has_stdin(const struct process *process);
void process_io_write_stdin(struct process *process, const void *data, size_t length);
bool process_io_stdin_backlogged(const struct process *process);
/* Closes stdin once what is pending is written (a terminal gets ^D). */
void process_io_close_stdin(struct process *process);
int process_io_resize(struct process *process, uint32_t width, uint32_t height, struct berr *err);

#endif
