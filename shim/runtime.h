/*
 * runtime: running the OCI runtime (berth-runtime, runc, crun), one command
 * at a time, without blocking the event loop.
 *
 * A request that needs the runtime becomes a job: its command line, the
 * stdio to give it, and a function to call with the outcome. Jobs run one
 * after the other, in the order they came (the runtime takes a lock per
 * container anyway, and ordering them keeps "start" after "create" whatever
 * connections they came on), while the loop keeps serving output, attach,
 * waits and state. The job's process is reaped like every other child of the
 * shim; its stdout and stderr are captured through pipes when the command
 * does not pass them on to a container process. The runtime's errors are
 * read back from `--log FILE --log-format json` (as containerd does with
 * runc), falling back to what it wrote on stderr.
 */
#ifndef BERTH_SHIM_RUNTIME_H
#define BERTH_SHIM_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "berr.h"
#include "buffer.h"
#include "loop.h"

/* A runtime command that takes longer is killed and its request fails. */
#define RUNTIME_TIMEOUT_MS 120000
/* Captured output beyond this is dropped (stats and ps are far smaller). */
#define RUNTIME_CAPTURE_MAX (8u << 20)

struct runtime_job;
struct connection;
struct process;

/* rc is 0 when the runtime exited 0; otherwise err says why it failed. */
typedef void (*runtime_done)(struct runtime_job *job, int rc, struct berr *err);

struct runtime_capture {
    struct watch watch;
    struct buffer data;
    struct runtime_job *job;
};

struct runtime_job {
    struct runtime_job *next;
    char *command; /* "create", for messages */
    char **argv;
    size_t argc, argv_capacity;
    bool failed_to_build; /* out of memory while adding arguments */

    /* The runtime's stdin, stdout, stderr: fds the job owns (closed once
     * the runtime runs), or -1: /dev/null for stdin, a capture pipe for
     * stdout and stderr. */
    int stdio[3];
    bool starts_process; /* create or exec: see process_set_pid */
    struct runtime_capture out, err;
    int console_listener; /* -1, or the console socket the pty master comes on */
    char *temporary_file; /* bundle-relative; removed when the job ends */

    pid_t pid;
    bool exited;
    int wait_status;
    bool timed_out;
    int64_t deadline_ms;

    runtime_done done;
    struct connection *connection; /* who waits for the answer; NULL if gone */
    uint64_t request_id;
    struct process *process;
};

/* A job for `RUNTIME [--root R] --log F --log-format json COMMAND`; add the
 * command's own arguments with runtime_job_arg. NULL when out of memory. */
struct runtime_job *runtime_job_new(const char *command);
void runtime_job_arg(struct runtime_job *job, const char *arg);
/* Listens on the console socket and adds --console-socket PATH. */
int runtime_job_console_socket(struct runtime_job *job, struct berr *err);
/* After the runtime returned: the pty master it sent on the console socket. */
int runtime_job_take_master(struct runtime_job *job, int *master, struct berr *err);
/* Queues the job; it runs when those before it have finished. On failure
 * to even start it, done is called with the error (from the loop). */
void runtime_submit(struct runtime_job *job);
/* Frees a job that was never submitted (submitted ones free themselves). */
void runtime_job_free(struct runtime_job *job);

/* From the reaper: whether pid was the running job's runtime. */
bool runtime_reaped(pid_t pid, int wait_status);
/* Whether the running job is one that starts a process (create, exec). */
bool runtime_starts_process(void);
int64_t runtime_next_deadline(void);
void runtime_check_deadline(int64_t now_ms);
/* Whether any job is running or queued. */
bool runtime_busy(void);

#endif
