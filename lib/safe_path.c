/*
 * safe_path: see safe_path.h. The resolver walks one component at a time,
 * lstat-ing what it has resolved so far relative to the root fd, and splices
 * symlink targets in front of what remains, the way the kernel's own path
 * walk does, with the root as the walk's "/".
 */
#include "safe_path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_SYMLINKS 40 /* the kernel's own limit */

/* Replaces *pending (from offset) by target + "/" + the rest. */
static int splice_symlink(char **pending, size_t offset, const char *target)
{
    const char *rest = *pending + offset;
    size_t target_length = strlen(target), rest_length = strlen(rest);
    char *joined;

    if (target_length + rest_length + 2 > 4 * PATH_MAX)
        return ENAMETOOLONG;
    joined = malloc(target_length + rest_length + 2);
    if (!joined)
        return ENOMEM;
    memcpy(joined, target, target_length);
    joined[target_length] = '/';
    memcpy(joined + target_length + 1, rest, rest_length + 1);
    free(*pending);
    *pending = joined;
    return 0;
}

static void drop_last_component(char *resolved, size_t *length)
{
    char *slash = strrchr(resolved, '/');

    *length = slash ? (size_t)(slash - resolved) : 0;
    resolved[*length] = '\0';
}

int safe_path_resolve(int root_fd, const char *unsafe_path, enum safe_path_mode mode,
                      char **relative_out, struct berr *err)
{
    char resolved[PATH_MAX];
    size_t resolved_length = 0;
    size_t missing_from = SIZE_MAX; /* resolved_length where the first missing component began */
    size_t position = 0;
    char *pending = strdup(unsafe_path);
    int links = 0, rc;

    if (!pending)
        return berr_set(err, BERR_NOMEM, "resolve %s: out of memory", unsafe_path);
    resolved[0] = '\0';
    for (;;) {
        size_t start, length, before;
        struct stat info;
        char target[PATH_MAX];
        ssize_t target_length;

        while (pending[position] == '/')
            position++;
        if (!pending[position])
            break;
        start = position;
        while (pending[position] && pending[position] != '/')
            position++;
        length = position - start;

        if (length == 1 && pending[start] == '.')
            continue;
        if (length == 2 && pending[start] == '.' && pending[start + 1] == '.') {
            if (resolved_length == 0) {
                if (mode == SAFE_PATH_BENEATH) {
                    rc = berr_set(err, BERR_INVALID, "path %s escapes its root through \"..\"",
                                  unsafe_path);
                    goto out;
                }
                continue;
            }
            drop_last_component(resolved, &resolved_length);
            if (resolved_length <= missing_from)
                missing_from = SIZE_MAX;
            continue;
        }

        before = resolved_length;
        if (resolved_length + 1 + length >= sizeof(resolved)) {
            rc = berr_set(err, BERR_INVALID, "resolve %s: path too long", unsafe_path);
            goto out;
        }
        if (resolved_length)
            resolved[resolved_length++] = '/';
        memcpy(resolved + resolved_length, pending + start, length);
        resolved_length += length;
        resolved[resolved_length] = '\0';
        if (missing_from != SIZE_MAX)
            continue; /* under a missing directory: nothing more can be a symlink */

        if (fstatat(root_fd, resolved, &info, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT || errno == ENOTDIR) {
                missing_from = before;
                continue;
            }
            rc = berr_errno(err, errno, "resolve %s: stat %s", unsafe_path, resolved);
            goto out;
        }
        if (!S_ISLNK(info.st_mode))
            continue;

        if (++links > MAX_SYMLINKS) {
            rc = berr_errno(err, ELOOP, "resolve %s", unsafe_path);
            goto out;
        }
        target_length = readlinkat(root_fd, resolved, target, sizeof(target) - 1);
        if (target_length < 0) {
            rc = berr_errno(err, errno, "resolve %s: readlink %s", unsafe_path, resolved);
            goto out;
        }
        target[target_length] = '\0';
        if (target[0] == '/' && mode == SAFE_PATH_BENEATH) {
            /* Named before the link is dropped from what was resolved. */
            rc = berr_set(err, BERR_INVALID,
                          "path %s escapes its root through the absolute symlink %s -> %s",
                          unsafe_path, resolved, target);
            goto out;
        }
        resolved_length = before;
        resolved[resolved_length] = '\0';
        if (target[0] == '/') {
            resolved_length = 0;
            resolved[0] = '\0';
        }
        rc = splice_symlink(&pending, position, target);
        if (rc) {
            rc = berr_errno(err, rc, "resolve %s", unsafe_path);
            goto out;
        }
        position = 0;
    }

    *relative_out = strdup(resolved);
    rc = *relative_out ? 0 : berr_set(err, BERR_NOMEM, "resolve %s: out of memory", unsafe_path);
out:
    free(pending);
    return rc;
}

int safe_path_join(const char *root, const char *unsafe_path, enum safe_path_mode mode, char **out,
                   struct berr *err)
{
    char *relative = NULL;
    size_t root_length = strlen(root);
    int rc, root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

    if (root_fd < 0)
        return berr_errno(err, errno, "open root %s", root);
    rc = safe_path_resolve(root_fd, unsafe_path, mode, &relative, err);
    close(root_fd);
    if (rc)
        return rc;
    while (root_length > 1 && root[root_length - 1] == '/')
        root_length--;
    *out = malloc(root_length + strlen(relative) + 2);
    if (!*out) {
        free(relative);
        return berr_set(err, BERR_NOMEM, "resolve %s: out of memory", unsafe_path);
    }
    memcpy(*out, root, root_length);
    if (relative[0]) {
        (*out)[root_length] = '/';
        strcpy(*out + root_length + 1, relative);
    } else {
        (*out)[root_length] = '\0';
    }
    free(relative);
    return 0;
}

int safe_path_open(int root_fd, const char *unsafe_path, int flags, mode_t create_mode,
                   enum safe_path_mode mode, int *fd_out, struct berr *err)
{
    struct open_how how;
    char *relative = NULL;
    int fd, attempt;

    memset(&how, 0, sizeof(how));
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    if (flags & (O_CREAT | __O_TMPFILE))
        how.mode = create_mode;
    how.resolve =
        RESOLVE_NO_MAGICLINKS | (mode == SAFE_PATH_IN_ROOT ? RESOLVE_IN_ROOT : RESOLVE_BENEATH);
    /* An empty path means the root itself, which openat2 spells ".". */
    if (!unsafe_path[0])
        unsafe_path = ".";
    for (attempt = 0; attempt < 16; attempt++) {
        fd = (int)syscall(SYS_openat2, root_fd, unsafe_path, &how, sizeof(how));
        if (fd >= 0) {
            *fd_out = fd;
            return 0;
        }
        /* EAGAIN: a concurrent rename raced the walk; the kernel asks us to retry. */
        if (errno != EAGAIN)
            break;
    }
    if (errno != ENOSYS) {
        if (errno == EXDEV)
            return berr_set(err, BERR_INVALID, "open %s: path escapes its root", unsafe_path);
        return berr_errno(err, errno, "open %s", unsafe_path);
    }

    /* Kernels before 5.6: resolve in user space, refuse a symlink swapped in at the end. */
    if (safe_path_resolve(root_fd, unsafe_path, mode, &relative, err))
        return err ? err->code : BERR_INVALID;
    fd = openat(root_fd, relative[0] ? relative : ".", flags | O_NOFOLLOW | O_CLOEXEC, create_mode);
    free(relative);
    if (fd < 0)
        return berr_errno(err, errno, "open %s", unsafe_path);
    *fd_out = fd;
    return 0;
}

int safe_path_mkdir_all(int root_fd, const char *unsafe_path, mode_t directory_mode,
                        enum safe_path_mode mode, int *fd_out, struct berr *err)
{
    char *relative = NULL, *component, *save = NULL;
    int rc, directory_fd;

    rc = safe_path_resolve(root_fd, unsafe_path, mode, &relative, err);
    if (rc)
        return rc;
    directory_fd = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (directory_fd < 0) {
        rc = berr_errno(err, errno, "mkdir %s: open root", unsafe_path);
        goto out;
    }
    for (component = strtok_r(relative, "/", &save); component;
         component = strtok_r(NULL, "/", &save)) {
        int next = openat(directory_fd, component, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT) {
            if (mkdirat(directory_fd, component, directory_mode) < 0 && errno != EEXIST) {
                rc = berr_errno(err, errno, "mkdir %s: create %s", unsafe_path, component);
                goto out;
            }
            next = openat(directory_fd, component, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            /* ELOOP: a symlink appeared after resolution; ENOTDIR: a file is in the way. */
            rc = berr_errno(err, errno == ELOOP ? ENOTDIR : errno, "mkdir %s: open %s", unsafe_path,
                            component);
            goto out;
        }
        close(directory_fd);
        directory_fd = next;
    }
    *fd_out = directory_fd;
    directory_fd = -1;
    rc = 0;
out:
    if (directory_fd >= 0)
        close(directory_fd);
    free(relative);
    return rc;
}
