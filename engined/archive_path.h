/*
 * archive_path: the filesystem side of `docker cp`: stat a path inside a
 * container, tar it, extract a tar into a directory of it. (Not
 * "archive.h": that would shadow libarchive's header.)
 *
 * Every function takes the container's root filesystem as a directory fd
 * (the container's own view: /proc/PID/root of a running one, a private
 * mount of a stopped one's snapshot) and resolves every path inside it,
 * never outside: the client's path with RESOLVE_IN_ROOT (a symlink to
 * /etc/shadow means the container's /etc/shadow), everything below it one
 * openat2 at a time with RESOLVE_BENEATH and no symlink followed, so a
 * container that swaps a directory for a symlink while we walk gets an
 * error, never the host's files. The container's own symlinks are kept as
 * symlinks in the tar.
 *
 * Paths are read as dockerd reads them (daemon/archive.go): the path is
 * absolute in the container; a trailing "/" or "/." is kept; the directory
 * part is resolved (symlinks followed in the container), the last element
 * is not (so a symlink is copied as one). The tar's entries are named
 * after the path's last element ("/etc/" → "etc/...", "/etc/." →
 * "./...", "/" → "/bin/...").
 *
 * Extraction follows dockerd's Untar: entries replace what is there
 * (a directory over a directory merges), missing parents are made 0755,
 * ownership is the entry's (or one given owner), directory times are set
 * last. What dockerd calls a breakout is refused with BERR_INVALID, and so
 * are absolute names: an entry whose name leaves the destination through
 * "..", a symlink whose relative target leaves it, a hard link to
 * something outside it, and any entry reached through a symlink (one in
 * the archive or one already in the container) that leads outside the
 * destination. Nothing is written outside the destination directory.
 */
#ifndef BERTH_ENGINED_ARCHIVE_PATH_H
#define BERTH_ENGINED_ARCHIVE_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "berr.h"

/* ContainerPathStat: the X-Docker-Container-Path-Stat header's content. */
struct archive_path_stat {
    char *name; /* the path's last element ("/" for the root) */
    int64_t size;
    uint32_t mode;     /* Go's os.FileMode: permissions | ModeDir, ModeSymlink, ... */
    int64_t mtime;     /* ns since the epoch */
    char *link_target; /* a symlink's target resolved in the container, absolute; else "" */
};

/* HEAD: BERR_NOT_FOUND when the path (or a directory on the way) does not
 * exist. */
int archive_path_stat(int root_fd, const char *path, struct archive_path_stat *out,
                      struct berr *err);
void archive_path_stat_free(struct archive_path_stat *stat);
/* The header's value: base64 of {"name","size","mode","mtime","linkTarget"}
 * (malloc'ed; NULL: out of memory). */
char *archive_path_stat_header(const struct archive_path_stat *stat);

/* GET: a tar of the path, written through write(context, data, length)
 * (non-zero: stop, BERR_CANCELLED). Files that vanish or change type
 * while the walk runs are left out, as dockerd leaves them. */
typedef int (*archive_path_write)(void *context, const void *data, size_t length);
int archive_path_tar(int root_fd, const char *path, archive_path_write write, void *context,
                     struct berr *err);

/* PUT, first step: the directory to extract into (the last element
 * followed too). *fd: O_PATH; *container_path (malloc'ed): where it
 * resolved in the container, for the caller's read-only checks.
 * BERR_NOT_FOUND; BERR_INVALID "extraction point is not a directory". */
int archive_path_destination(int root_fd, const char *path, int *fd, char **container_path,
                             struct berr *err);

struct archive_path_extract_options {
    bool no_overwrite_dir_non_dir; /* a directory never replaces a file, nor the reverse */
    bool chown;                    /* every entry owned by uid:gid, not by the entry's ids */
    uid_t uid;
    gid_t gid;
};

/* PUT: the tar (plain, gzip, bzip2 or xz) that read(context, buffer, size,
 * err) gives (0 at its end, negative with err set on failure) extracted
 * into the directory dest_fd. */
typedef ssize_t (*archive_path_read)(void *context, void *buffer, size_t size, struct berr *err);
int archive_path_extract(int dest_fd, archive_path_read read, void *context,
                         const struct archive_path_extract_options *options, struct berr *err);

#endif
