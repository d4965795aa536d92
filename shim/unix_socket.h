/*
 * unix_socket: unix socket paths of any length, and receiving a descriptor.
 *
 * sun_path holds 107 bytes, and a bundle under /run/berth/supervisor/NS/ID
 * with a 64-character id is already close to that. A path too long is
 * reached through its directory instead: /proc/self/fd/N/NAME to bind, and
 * /proc/SHIM-PID/fd/N/NAME for another process (the runtime, which connects
 * to the console socket) while the shim holds N open.
 */
#ifndef BERTH_SHIM_UNIX_SOCKET_H
#define BERTH_SHIM_UNIX_SOCKET_H

#include <stddef.h>

#include "berr.h"

/* A non-blocking listening socket on path (owner-only permissions). */
int unix_listen(const char *path, int *fd, struct berr *err);
/* The path another process uses for NAME in the bundle. */
void unix_bundle_path(const char *name, char *out, size_t size);
/* The descriptor that the first client of listener sent with SCM_RIGHTS,
 * already queued (the sender is done): does not wait. */
int unix_receive_fd(int listener, int *fd, struct berr *err);

#endif
