/*
 * dirtree: the two whole-tree walks the snapshotter needs, done with *at
 * system calls relative to directory fds, never by path strings.
 *
 * Why not nftw or fts: they build path strings (so a tree deeper than
 * PATH_MAX, which a container can make in its writable layer, cannot be
 * walked or removed) and fts changes the process's working directory,
 * which a threaded daemon cannot afford. Symlinks are never followed and
 * the walk never crosses into another mounted filesystem's directories by
 * following a link; it holds one fd per directory level.
 */
#ifndef BERTH_SUPERVISOR_DIRTREE_H
#define BERTH_SUPERVISOR_DIRTREE_H

#include <stdint.h>

#include "berr.h"

/* Removes name (inside directory_fd) and everything under it, like rm -rf.
 * A missing name is not an error. */
int dirtree_remove_at(int directory_fd, const char *name, struct berr *err);

/* rm -rf of an absolute or relative path. */
int dirtree_remove(const char *path, struct berr *err);

/* Disk usage of the tree at directory_fd, like du: size is the allocated
 * bytes (st_blocks * 512) and inodes the number of inodes, the directory
 * itself included; a file with several hard links in the tree counts once. */
int dirtree_usage(int directory_fd, int64_t *size_out, int64_t *inodes_out, struct berr *err);

#endif
