/*
 * process: the container's init and its execs, as the shim tracks them.
 *
 * The shim is every process's reaper (PR_SET_CHILD_SUBREAPER): the runtime
 * starts a process and exits, the process is reparented to the shim, and the
 * shim's SIGCHLD handler collects its status. An exit is recorded on disk
 * first (BUNDLE/exit.json, BUNDLE/exec-ID.exit.json, atomically), then,
 * once the process's output has been drained into the log, reported: the
 * waiters answered, the subscribers told, the attached clients closed. So
 * nobody is told of an exit the disk does not know, and nobody reads a log
 * that misses the last lines of a process said to have exited.
 */
#ifndef BERTH_SHIM_PROCESS_H
#define BERTH_SHIM_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "berr.h"
#include "protocol.h"
#include "shim.h"

/* How long an exit waits for the last output: a writer that outlives the
 * process (a daemonized child holding its stdout) must not hold the exit. */
#define PROCESS_DRAIN_TIMEOUT_MS 500

/* A new process, linked into the table (the init at its head). */
struct process *process_new(const char *exec_id, bool is_init, struct berr *err);
/* By exec id; "" is the init. NULL when unknown. */
struct process *process_find(const char *exec_id);
/* Unlinks the process, closes its stdio and log; freed after the batch. */
void process_remove(struct process *process);

/* exec ids become file names: 1-64 of [A-Za-z0-9_.-], not starting with a dot. */
int process_check_exec_id(const char *exec_id, struct berr *err);
/* BUNDLE-relative file of a process: "exit.json" for the init's exit,
 * "exec-ID.exit.json" for an exec's, and so on. */
void process_file_name(const struct process *process, const char *suffix, char *out, size_t size);

/* The pid of a process the runtime just started; takes any exit seen for
 * that pid while the runtime ran (a process may end before its runtime
 * command returns). */
void process_set_pid(struct process *process, pid_t pid);
/* Reads a pid file the runtime wrote into the bundle. */
int process_read_pid_file(const char *name, pid_t *pid, struct berr *err);

/* Exits seen while no known process has the pid are kept only while a
 * runtime command that starts a process runs: call this when one starts. */
void process_forget_early_exits(void);

/* On SIGCHLD: reaps every child that exited. */
void process_reap_children(void);

/* Reports the exit once the output is drained: called when a stream ends. */
void process_check_finished(struct process *process);

/* For the event loop: the earliest drain deadline (-1: none), and acting on
 * those that passed. */
int64_t process_next_deadline(void);
void process_check_deadlines(int64_t now_ms);

/* The status as the protocol names it. */
int process_protocol_status(const struct process *process);
void process_fill_timestamp(Timestamp *timestamp, const struct timespec *when);

#endif
