/*
 * rootfs: the container's filesystem view, built inside its new mount
 * namespace: mount propagation, the root bind mount, every mount of the
 * spec, pivot_root, then masked and read-only paths and a read-only root.
 *
 * Runs in the container process (see the rules in init.h). Every target is
 * resolved inside the root filesystem by the kernel (openat2
 * RESOLVE_IN_ROOT) and mounted through its O_PATH fd, so a symlink in the
 * image can never redirect a mount onto the host.
 */
#ifndef BERTH_RUNTIME_ROOTFS_H
#define BERTH_RUNTIME_ROOTFS_H

#include <stdbool.h>

#include "berr.h"

struct init_context;

/* Makes the mount tree private/slave and the root filesystem a mount point. */
int rootfs_prepare(struct init_context *context, struct berr *err);

/* Mounts every entry of spec->mounts. */
int rootfs_mount_all(struct init_context *context, struct berr *err);

/* Masked paths, read-only paths and the read-only root (still before the
 * pivot, while the host's /proc can reach the new mounts through fds). */
int rootfs_finish(struct init_context *context, struct berr *err);

/* pivot_root into the root filesystem (or move + chroot with --no-pivot),
 * then the propagation asked for the container's root. */
int rootfs_pivot(struct init_context *context, struct berr *err);

/* Opens PATH inside the directory root_fd as the kernel would with root_fd
 * as "/". Returns an fd or -errno. */
int rootfs_open_in_root(int root_fd, const char *path, int flags);

/* Creates PATH inside root_fd (its missing parents as directories, the
 * last one as a directory or an empty file), following symlinks inside the
 * root, and returns an O_PATH fd of it in *fd. */
int rootfs_make_in_root(int root_fd, const char *path, bool directory, int *fd, struct berr *err);

#endif
