/*
 * service: what each request of proto/berth/shim/v1/shim.proto does, and how
 * the shim tells its clients about output and exits.
 *
 * Requests that need the runtime queue a job (runtime.h) and answer from its
 * completion; requests that wait for an exit park their connection until
 * process.c reports it. State checks happen here, before the runtime runs,
 * so the common mistakes (start twice, kill an exited process, an unknown
 * exec id) get a clear error without a runtime round trip.
 */
#ifndef BERTH_SHIM_SERVICE_H
#define BERTH_SHIM_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

struct connection;
struct process;

void service_handle_request(struct connection *connection, const Request *request);
void service_handle_attach_frame(struct connection *connection, const AttachFrame *frame);

/* From process_io: output of a process, as read, for the attached clients. */
void service_output(struct process *process, int stream, const uint8_t *data, size_t length);
/* From process_io: stdin took what was pending (or closed): read the
 * attached clients again. */
void service_stdin_drained(struct process *process);
/* From process: the exit is recorded and the output drained. */
void service_process_exited(struct process *process);
/* From oom: the container's memory cgroup counted an OOM kill. */
void service_oom(void);

#endif
