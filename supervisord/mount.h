/*
 * mount: the mounts a snapshot is made of, and the helper that mounts them.
 *
 * A snapshot's mounts are data (type, source, options), as containerd's
 * snapshotters return them and as the gRPC Mount message carries them, so a
 * client may mount them itself or hand them to an OCI runtime. Whoever
 * mounts them inside berth calls snapshot_mount, which also copes with what
 * mount(2) alone cannot: an overlay whose options are longer than a page.
 *
 * Why a helper: mount(2) takes the options as one page (4096 bytes). An
 * image of many layers has a lowerdir option longer than that (200 layers of
 * "/var/lib/berth/supervisor/snapshots/123/fs" are 9 KB). snapshot_mount
 * then, in order:
 *  1. passes each lower layer on its own through the new mount API
 *     (fsopen/fsconfig "lowerdir+", Linux 6.8+): no length limit at all;
 *  2. on older kernels, does what containerd does: rewrites the lowerdirs
 *     relative to their common parent directory and mounts from a child
 *     process whose working directory is that parent ("12/fs:11/fs:..."),
 *     which fits about 450 layers (5-digit ids) in a page.
 * The mounts themselves always carry absolute paths.
 */
#ifndef BERTH_SUPERVISOR_MOUNT_H
#define BERTH_SUPERVISOR_MOUNT_H

#include <stddef.h>

#include "berr.h"

/* One mount, as proto Mount (berth.supervisor.v1.Mount) without target. */
struct mount_spec {
    char *type;   /* "overlay" or "bind" */
    char *source; /* "overlay", or the directory to bind */
    char **options;
    size_t option_count;
};

/* The mounts of a snapshot, applied in order on the same target. */
struct mount_list {
    struct mount_spec *mounts;
    size_t count;
};

void mount_list_free(struct mount_list *list);

/* Appends a mount with copies of the strings; options ends with NULL. */
int mount_list_add(struct mount_list *list, const char *type, const char *source,
                   const char *const *options, struct berr *err);

/* How snapshot_mount_with passes overlay options that do not fit in a page. */
enum mount_long_options {
    MOUNT_LONG_OPTIONS_AUTO,     /* the new mount API, else relative paths */
    MOUNT_LONG_OPTIONS_FSCONFIG, /* only the new mount API ("lowerdir+") */
    MOUNT_LONG_OPTIONS_RELATIVE, /* only relative lowerdirs from a child process */
};

/* Mounts list on target (an existing directory). Options understood:
 * ro, rw, bind, rbind, nosuid, nodev, noexec, relatime, noatime, and for
 * overlay anything else is passed to the filesystem. On failure nothing
 * stays mounted on target. */
int snapshot_mount(const struct mount_list *list, const char *target, struct berr *err);
int snapshot_mount_with(const struct mount_list *list, const char *target,
                        enum mount_long_options long_options, struct berr *err);

/* Unmounts everything mounted on target (mounts may be stacked). Nothing
 * mounted, or a missing target, is success. A busy mount is retried for
 * about a second, then BERR_CONFLICT. */
int snapshot_unmount(const char *target, struct berr *err);

#endif
