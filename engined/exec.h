/*
 * exec: running docker exec's processes through the supervisor.
 *
 * The process is dockerd's: the container's own OCI process (as the
 * supervisor holds its spec: rlimits, noNewPrivileges, oomScoreAdj, the
 * user unless the exec names one) with the exec's args, an environment of
 * PATH, HOSTNAME, TERM (with a terminal), the container's Env and the
 * exec's, the exec's WorkingDir (else the container's, else /), its user
 * looked up in the image's passwd and group files, and every capability
 * when privileged. Tasks.Exec adds it, Tasks.Attach joins it to the
 * client (before it starts, so no output is lost), Tasks.Start runs it.
 *
 * Exits: an attached start records the exit from the attach's `exited`
 * message before the connection closes, so the docker CLI's inspect right
 * after sees the exit code; a detached one from the monitor's exec-exit
 * hook. Whichever comes first publishes exec_die and deletes the process
 * in the supervisor (Tasks.DeleteProcess).
 */
#ifndef BERTH_ENGINED_EXEC_H
#define BERTH_ENGINED_EXEC_H

#include <stdbool.h>

#include "attach.h"
#include "berr.h"
#include "container_store.h"
#include "exec_store.h"
#include "json.h"

struct engine;

/* POST /containers/{id}/exec's body into a record (400s and 409s with
 * dockerd's messages). *out carries a reference. */
int exec_create(struct engine *engine, struct container *container, yajl_val body,
                struct exec_record **out, struct berr *err);

/* Before a start answers anything: the exec has not run, the container
 * runs and is not paused. Claims the start. */
int exec_claim_start(struct engine *engine, struct exec_record *record, struct berr *err);

/* {"Detach": true}: runs it and returns. */
int exec_start_detached(struct engine *engine, struct exec_record *record, struct berr *err);

/* Runs it joined to the client until it exits or the client detaches or
 * leaves. tty: raw output (the start request's Tty), else frames. A
 * failure goes to the client as text, as dockerd writes it. */
void exec_start_attached(struct engine *engine, struct exec_record *record,
                         const struct attach_client *client, bool tty, uint32_t height,
                         uint32_t width);

/* Installs the monitor's exec-exit hook. */
void exec_setup(struct engine *engine);

#endif
