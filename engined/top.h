/*
 * top: GET /containers/{id}/top, a `ps` of the container's processes.
 *
 * The default (ps_args "-ef" or none) is read from /proc directly, in
 * `ps -ef`'s columns (UID PID PPID C STIME TTY TIME CMD), so the engine
 * needs no ps binary. Other ps_args run the host's ps with them and keep
 * the lines whose PID column is one of the container's, as dockerd does.
 */
#ifndef BERTH_ENGINED_TOP_H
#define BERTH_ENGINED_TOP_H

#include <stddef.h>
#include <stdint.h>

#include "berr.h"
#include "json.h"

/* Writes {"Titles": [...], "Processes": [[...], ...]}. */
int top_write(const uint32_t *pids, size_t count, const char *ps_args, struct json_writer *writer,
              struct berr *err);

#endif
