/*
 * devices: the container's /dev: the devices every container gets (null,
 * zero, full, random, urandom, tty), those listed in linux.devices, and the
 * usual links (fd, stdin, stdout, stderr, ptmx → pts/ptmx, core).
 *
 * Runs in the container process before pivot_root (rules in init.h). Inside
 * a user namespace mknod is not allowed, so each device is bind-mounted
 * from the host's /dev instead, as runc does.
 */
#ifndef BERTH_RUNTIME_DEVICES_H
#define BERTH_RUNTIME_DEVICES_H

#include "berr.h"

struct init_context;

int devices_create(struct init_context *context, struct berr *err);

#endif
