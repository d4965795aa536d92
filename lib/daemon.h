/*
 * daemon: what both daemons (berth-supervisord, berth-engined) do before
 * they serve: make their directories and take the lock that keeps a second
 * daemon off the same state.
 */
#ifndef BERTH_DAEMON_H
#define BERTH_DAEMON_H

#include <sys/types.h>

#include "berr.h"

/* mkdir -p: missing parents 0755 (0711 with DAEMON_PRIVATE_PARENTS),
 * the last component with mode. Existing directories are left as they are. */
#define DAEMON_PRIVATE_PARENTS 0x1
int daemon_make_directories(const char *path, mode_t mode, unsigned flags, struct berr *err);

/* An exclusive flock on DIRECTORY/NAME (created 0600), held as long as *fd
 * is open. BERR_EXISTS "another WHO uses DIRECTORY" when someone holds it. */
int daemon_lock(const char *directory, const char *name, const char *who, int *fd,
                struct berr *err);

#endif
