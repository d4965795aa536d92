/*
 * atomic_file: see atomic_file.h for the protocol. Every daemon's state and
 * every runtime state.json goes through here: "nothing lost on a crash" is
 * only as good as this function.
 */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int write_all(int fd, const void *data, size_t size)
{
    const char *cursor = data;

    while (size > 0) {
        ssize_t written = write(fd, cursor, size);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        cursor += written;
        size -= (size_t)written;
    }
    return 0;
}

/* An unnamed file in the directory; -1 if the filesystem cannot do O_TMPFILE. */
static int open_unnamed(int directory_fd, mode_t mode)
{
    return openat(directory_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
}

/* Gives the unnamed file fd the name temporary_name in the directory. */
static int name_unnamed(int fd, int directory_fd, const char *temporary_name)
{
    char proc_path[64];

    snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, proc_path, directory_fd, temporary_name, AT_SYMLINK_FOLLOW);
}

/* display: how messages name the file (the full path when the caller has it). */
static int write_replace(int directory_fd, const char *name, const char *display, const void *data,
                         size_t size, mode_t mode, bool durable, struct berr *err)
{
    static unsigned counter;
    char temporary_name[NAME_MAX + 1];
    int fd, rc, named = 0;

    if (strlen(name) > NAME_MAX - 32)
        return berr_set(err, BERR_INVALID, "write %s: name too long", display);
    snprintf(temporary_name, sizeof(temporary_name), ".%s.tmp-%d-%u", name, (int)getpid(),
             __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));

    fd = open_unnamed(directory_fd, mode);
    if (fd < 0) {
        fd = openat(directory_fd, temporary_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0)
            return berr_errno(err, errno, "write %s: create temporary file", display);
        named = 1;
    }
    /* The mode must not depend on the umask: state files are read by other programs. */
    if (fchmod(fd, mode) < 0 || write_all(fd, data, size) < 0 || (durable && fsync(fd) < 0)) {
        rc = berr_errno(err, errno, "write %s", display);
        goto fail;
    }
    if (!named) {
        if (name_unnamed(fd, directory_fd, temporary_name) < 0) {
            rc = berr_errno(err, errno, "write %s: link temporary file", display);
            goto fail;
        }
        named = 1;
    }
    if (renameat(directory_fd, temporary_name, directory_fd, name) < 0) {
        rc = berr_errno(err, errno, "write %s: rename", display);
        goto fail;
    }
    close(fd);
    if (durable && fsync(directory_fd) < 0)
        return berr_errno(err, errno, "write %s: sync directory", display);
    return 0;

fail:
    close(fd);
    if (named)
        unlinkat(directory_fd, temporary_name, 0);
    return rc;
}

int atomic_write_file_at(int directory_fd, const char *name, const void *data, size_t size,
                         mode_t mode, struct berr *err)
{
    return write_replace(directory_fd, name, name, data, size, mode, true, err);
}

int atomic_write_file_at_no_sync(int directory_fd, const char *name, const void *data, size_t size,
                                 mode_t mode, struct berr *err)
{
    return write_replace(directory_fd, name, name, data, size, mode, false, err);
}

int atomic_write_file(const char *path, const void *data, size_t size, mode_t mode,
                      struct berr *err)
{
    char directory[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    int directory_fd, rc;

    if (!*name)
        return berr_set(err, BERR_INVALID, "write %s: not a file name", path);
    if (!slash) {
        strcpy(directory, ".");
    } else if (slash == path) {
        strcpy(directory, "/");
    } else {
        size_t length = (size_t)(slash - path);
        if (length >= sizeof(directory))
            return berr_set(err, BERR_INVALID, "write %s: path too long", path);
        memcpy(directory, path, length);
        directory[length] = '\0';
    }
    directory_fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory_fd < 0)
        return berr_errno(err, errno, "write %s: open directory", path);
    rc = write_replace(directory_fd, name, path, data, size, mode, true, err);
    close(directory_fd);
    return rc;
}
