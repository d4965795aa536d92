/*
 * signals: signal names as the Docker API takes them ("SIGTERM", "TERM",
 * "term", "15", "SIGRTMIN+3"), for StopSignal, kill and stop.
 */
#ifndef BERTH_ENGINED_SIGNALS_H
#define BERTH_ENGINED_SIGNALS_H

#include "berr.h"

/* The signal's number; BERR_INVALID with Docker's "Invalid signal: X". */
int signal_parse(const char *text, int *number, struct berr *err);

/* "SIGTERM" for 15; "SIGRTMIN+3"; NULL for a number that is no signal. */
const char *signal_name(int number, char *buffer, unsigned size);

#endif
