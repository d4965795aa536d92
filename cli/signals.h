/*
 * signals: signals turned into bytes on a pipe (the self-pipe trick), so the
 * stream pump sees them in its poll loop, next to the socket and stdin, and
 * acts on them (resize on SIGWINCH, forward with --sig-proxy) outside any
 * signal handler. The handler also restores the terminal and re-raises
 * when the signal is not being forwarded and would end the CLI.
 */
#ifndef BERTH_CLI_SIGNALS_H
#define BERTH_CLI_SIGNALS_H

#include <stdbool.h>

#include "berr.h"

/*
 * Catches SIGWINCH and, when forward is true, the signals docker forwards
 * to a container (HUP INT QUIT USR1 USR2 TERM ALRM). Returns the read end
 * of the pipe in *fd.
 */
int signals_start(bool forward, int *fd, struct berr *err);
/* Restores the default actions and closes the pipe. */
void signals_stop(void);
/* The next pending signal number, or 0 when none (non-blocking). */
int signals_read(int fd);
/* A signal's name without "SIG" ("TERM"), or NULL. */
const char *signals_name(int signo);
/* "TERM", "SIGTERM", "15" → 15; 0 when unknown. */
int signals_parse(const char *text);

#endif
