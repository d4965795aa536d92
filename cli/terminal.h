/*
 * terminal: raw mode and window size for `run -it`, `exec -it`, `attach`.
 *
 * Raw mode is process-wide state that must be undone on every way out:
 * normal return, error paths, exit(), and signals. The saved state lives in
 * one static place, term_restore is idempotent and async-signal-safe, and
 * term_make_raw registers it with atexit, so callers only pair it where
 * they can and signals.c covers the rest.
 */
#ifndef BERTH_CLI_TERMINAL_H
#define BERTH_CLI_TERMINAL_H

#include <stdbool.h>

#include "berr.h"

bool term_is_tty(int fd);
/* Puts fd (stdin) in raw mode, saving its state for term_restore. */
int term_make_raw(int fd, struct berr *err);
void term_restore(void);
/* The window size of fd; false when fd is not a terminal. */
bool term_size(int fd, unsigned *rows, unsigned *cols);

#endif
