/*
 * spec_mounts: the mounts part of spec.h (see spec_mounts.c). spec.h
 * declares the public functions it also defines (spec_prepare_binds,
 * spec_write_mount_points); these two are spec.c's.
 */
#ifndef BERTH_ENGINED_SPEC_MOUNTS_H
#define BERTH_ENGINED_SPEC_MOUNTS_H

#include <stdbool.h>

#include "berr.h"
#include "json.h"
#include "spec.h"

/* Writes "mounts": [...] of the spec. */
int spec_mounts_write(struct json_writer *writer, const struct spec_input *input, yajl_val host,
                      bool privileged, struct berr *err);

/* Create's checks of Binds (named volumes refused), Mounts (bind sources
 * must exist, volume refused) and Tmpfs. */
int spec_mounts_check(yajl_val host, struct berr *err);

#endif
