/*
 * daemon: see daemon.h.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int daemon_make_directories(const char *path, mode_t mode, unsigned flags, struct berr *err)
{
    mode_t parents = flags & DAEMON_PRIVATE_PARENTS ? 0711 : 0755;
    char partial[PATH_MAX];
    size_t length = strlen(path);

    if (length == 0 || length >= sizeof(partial))
        return berr_set(err, BERR_INVALID, "bad directory name \"%s\"", path);
    memcpy(partial, path, length + 1);
    for (size_t i = 1; i <= length; i++) {
        if (partial[i] != '/' && partial[i] != '\0')
            continue;
        partial[i] = '\0';
        if (mkdir(partial, i == length ? mode : parents) < 0 && errno != EEXIST)
            return berr_errno(err, errno, "mkdir %s", partial);
        partial[i] = path[i];
    }
    return 0;
}

int daemon_lock(const char *directory, const char *name, const char *who, int *fd, struct berr *err)
{
    char path[PATH_MAX];
    int rc;

    snprintf(path, sizeof(path), "%s/%s", directory, name);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0)
        return berr_errno(err, errno, "open %s", path);
    if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    rc = errno == EWOULDBLOCK ? berr_set(err, BERR_EXISTS, "another %s uses %s", who, directory)
                              : berr_errno(err, errno, "lock %s", path);
    close(*fd);
    *fd = -1;
    return rc;
}
