/*
 * rootfs: what the engine reads of a container's root filesystem itself,
 * from the mounts of its snapshot (Snapshots.Mounts).
 *
 * Why not always mount it: the engine reads two small files at every
 * start (the image's /etc/passwd and /etc/group, for the user), and a
 * mount costs more than looking through the layers, top first, the way
 * overlayfs would (a whiteout hides a file, an opaque directory hides the
 * layers below). Exporting a whole filesystem does need the merged view:
 * rootfs_view mounts a read-only overlay of every layer (the writable one
 * included, as a lower layer, so nothing touches the running container's
 * upper and work directories) under STATE/mounts/.
 *
 * Limit: the view's options must fit in a page (mount(2)); an image of
 * many layers whose paths are longer than that cannot be exported yet.
 */
#ifndef BERTH_ENGINED_ROOTFS_H
#define BERTH_ENGINED_ROOTFS_H

#include <stddef.h>

#include "berr.h"
#include "berth/supervisor/v1/snapshots.pb-c.h"

/* The layer directories of a snapshot's mounts, top first (NULL-terminated,
 * free with json_free_string_array). */
int rootfs_layers(const Berth__Supervisor__V1__MountsResponse *mounts, char ***layers,
                  struct berr *err);

/* The file at path (absolute, in the container) as the merged view would
 * show it; BERR_NOT_FOUND if absent. *out is NUL-terminated, at most max
 * bytes. */
int rootfs_read_file(char *const *layers, const char *path, size_t max, char **out,
                     struct berr *err);

/* Up to max bytes of fd, NUL-terminated in *out; the buffer grows with
 * what is read rather than being max bytes from the start. */
int rootfs_read_fd(int fd, size_t max, char **out, struct berr *err);

/* A read-only merged view mounted at a new directory under
 * state_dir/mounts (*target, malloc'ed). */
int rootfs_view(const char *state_dir, const char *name, char *const *layers, char **target,
                struct berr *err);
/* Unmounts and removes a view. */
void rootfs_view_release(const char *target);
/* At engine start: views a crashed engine left behind. */
void rootfs_views_cleanup(const char *state_dir);

/* Changes of the top layer against the ones below (GET .../changes):
 * visit(path, kind) in path order, kind 0 modified, 1 added, 2 deleted
 * (Docker's FilesystemChange kinds). */
typedef int (*rootfs_change_visit)(const char *path, int kind, void *context);
int rootfs_changes(char *const *layers, rootfs_change_visit visit, void *context, struct berr *err);

/* A tar (pax) of the directory `root` written through write(context,
 * data, length) (non-zero return: stop). For export, of a view. */
typedef int (*rootfs_write)(void *context, const void *data, size_t length);
int rootfs_tar(const char *root, rootfs_write write, void *context, struct berr *err);

#endif
