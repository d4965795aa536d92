/*
 * signal_names: signal names and numbers as users write them ("SIGTERM",
 * "TERM", "term", "15", "SIGRTMIN+3", "RTMAX-2"), for the runtime's kill,
 * the engine's StopSignal/kill/stop and the CLI's --signal and forwarding.
 * Each program words its own errors.
 */
#ifndef BERTH_SIGNAL_NAMES_H
#define BERTH_SIGNAL_NAMES_H

/* 0 with *number, -1 when text names no signal. */
int signal_names_parse(const char *text, int *number);

/* "TERM" for 15 (no "SIG"); NULL for real-time signals and non-signals. */
const char *signal_names_short(int number);

#endif
