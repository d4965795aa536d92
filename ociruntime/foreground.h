/*
 * foreground: what the runtime does while a process it started in the
 * foreground (`run`, `exec` without --detach) runs: forward the signals it
 * receives to that process, copy the terminal when there is one, and wait
 * for the exit status.
 */
#ifndef BERTH_RUNTIME_FOREGROUND_H
#define BERTH_RUNTIME_FOREGROUND_H

#include <sys/types.h>

#include "berr.h"

/* master_fd: the process's pty master, or -1. *exit_status is the exit
 * code, or 128 + the signal that killed it. */
int foreground_wait(pid_t pid, int pidfd, int master_fd, int *exit_status, struct berr *err);

#endif
