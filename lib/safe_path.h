/*
 * safe_path: resolve a path found in untrusted data (a mount destination in
 * a config.json, a name in a layer tarball) inside a root directory, so that
 * neither ".." nor a symlink planted in the root can lead outside it.
 *
 * Two policies:
 *  - SAFE_PATH_IN_ROOT resolves as the kernel would if root were "/": ".."
 *    at the top stays at the top, an absolute symlink starts again from the
 *    root. This is what a container sees, so mount targets use it.
 *  - SAFE_PATH_BENEATH refuses any walk that would leave the root: ".."
 *    above it, an absolute symlink, a symlink leading out. Layer unpacking
 *    uses it: such an entry is hostile, not something to reinterpret.
 * Symlink loops (more than 40 links followed) fail with ELOOP in both.
 *
 * The string functions are for building paths and error messages; whatever
 * opens or creates something under a root the container controls should use
 * the fd functions, which the kernel resolves atomically (openat2).
 */
#ifndef BERTH_SAFE_PATH_H
#define BERTH_SAFE_PATH_H

#include <sys/types.h>

#include "berr.h"

enum safe_path_mode {
    SAFE_PATH_IN_ROOT,
    SAFE_PATH_BENEATH,
};

/* Resolves unsafe_path inside the directory root_fd. *relative_out (malloc'ed)
 * is relative to the root: "" for the root itself, otherwise components with
 * no ".", "..", or symlink among those that exist. Missing trailing components
 * are kept, so callers can create them. */
int safe_path_resolve(int root_fd, const char *unsafe_path, enum safe_path_mode mode,
                      char **relative_out, struct berr *err);

/* root + "/" + the resolved path, malloc'ed. */
int safe_path_join(const char *root, const char *unsafe_path, enum safe_path_mode mode, char **out,
                   struct berr *err);

/* Opens unsafe_path inside root_fd with the kernel doing the resolution
 * (openat2 RESOLVE_IN_ROOT or RESOLVE_BENEATH, never through /proc magic links). */
int safe_path_open(int root_fd, const char *unsafe_path, int flags, mode_t create_mode,
                   enum safe_path_mode mode, int *fd_out, struct berr *err);

/* Creates the missing directories of unsafe_path inside root_fd with
 * directory_mode and returns an O_PATH fd of the last one. A component that
 * is a symlink or a file where a directory is needed is an error. */
int safe_path_mkdir_all(int root_fd, const char *unsafe_path, mode_t directory_mode,
                        enum safe_path_mode mode, int *fd_out, struct berr *err);

#endif
