/*
 * cgroup_file: control file I/O for the cgroup drivers. See cgroup_file.h.
 */
#include "cgroup_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int join(const char *dir, const char *name, char *path, size_t size, struct berr *err)
{
    int length = snprintf(path, size, "%s/%s", dir, name);

    if (length < 0 || (size_t)length >= size)
        return berr_set(err, BERR_INVALID, "%s/%s: path too long", dir, name);
    return 0;
}

static bool is_directory(const char *dir)
{
    struct stat info;

    return stat(dir, &info) == 0 && S_ISDIR(info.st_mode);
}

/* ENOENT on a control file: the cgroup is gone, or the kernel lacks the file. */
static int missing(const char *dir, const char *name, struct berr *err)
{
    if (!is_directory(dir))
        return berr_set(err, BERR_NOT_FOUND, "%s: no such cgroup %s", name, dir);
    return berr_set(err, BERR_UNSUPPORTED, "%s: not supported by this kernel (no such file in %s)",
                    name, dir);
}

int cgroup_file_open(const char *dir, const char *name, int *fd, struct berr *err)
{
    char path[PATH_MAX];
    int rc = join(dir, name, path, sizeof(path), err);

    if (rc)
        return rc;
    *fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (*fd < 0) {
        if (errno == ENOENT)
            return missing(dir, name, err);
        return berr_errno(err, errno, "%s: open %s", name, path);
    }
    return 0;
}

int cgroup_file_write_fd(int fd, const char *name, const char *value, struct berr *err)
{
    size_t length = strlen(value);
    ssize_t written;

    do
        written = write(fd, value, length);
    while (written < 0 && errno == EINTR);
    if (written < 0)
        return berr_errno(err, errno, "%s: write %s", name, value);
    if ((size_t)written != length)
        return berr_set(err, BERR_IO, "%s: write %s: short write (%zd of %zu bytes)", name, value,
                        written, length);
    return 0;
}

int cgroup_file_write(const char *dir, const char *name, const char *value, struct berr *err)
{
    int fd, rc = cgroup_file_open(dir, name, &fd, err);

    if (rc)
        return rc;
    rc = cgroup_file_write_fd(fd, name, value, err);
    close(fd);
    return rc;
}

int cgroup_file_write_u64(const char *dir, const char *name, uint64_t value, struct berr *err)
{
    char text[32];

    snprintf(text, sizeof(text), "%" PRIu64, value);
    return cgroup_file_write(dir, name, text, err);
}

int cgroup_file_write_i64(const char *dir, const char *name, int64_t value, struct berr *err)
{
    char text[32];

    snprintf(text, sizeof(text), "%" PRId64, value);
    return cgroup_file_write(dir, name, text, err);
}

bool cgroup_file_exists(const char *dir, const char *name)
{
    char path[PATH_MAX];

    if (join(dir, name, path, sizeof(path), NULL))
        return false;
    return access(path, F_OK) == 0;
}

static int open_for_reading(const char *dir, const char *name, int *fd, struct berr *err)
{
    char path[PATH_MAX];
    int rc = join(dir, name, path, sizeof(path), err);

    if (rc)
        return rc;
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return berr_errno(err, errno, "%s: open %s", name, path);
    return 0;
}

static void trim_end(char *text, size_t length)
{
    while (length > 0 &&
           (text[length - 1] == '\n' || text[length - 1] == ' ' || text[length - 1] == '\t'))
        length--;
    text[length] = '\0';
}

int cgroup_file_read(const char *dir, const char *name, char *buffer, size_t size, struct berr *err)
{
    size_t used = 0;
    ssize_t got;
    int fd, rc = open_for_reading(dir, name, &fd, err);

    if (rc)
        return rc;
    for (;;) {
        if (used + 1 >= size) {
            close(fd);
            return berr_set(err, BERR_INVALID, "%s: more than %zu bytes", name, size - 1);
        }
        got = read(fd, buffer + used, size - 1 - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = berr_errno(err, errno, "%s: read", name);
            close(fd);
            return rc;
        }
        if (got == 0)
            break;
        used += (size_t)got;
    }
    close(fd);
    trim_end(buffer, used);
    return 0;
}

int cgroup_file_read_all(const char *dir, const char *name, char **text, struct berr *err)
{
    size_t used = 0, capacity = 4096;
    char *buffer = malloc(capacity);
    ssize_t got;
    int fd, rc;

    if (!buffer)
        return berr_set(err, BERR_NOMEM, "out of memory");
    if ((rc = open_for_reading(dir, name, &fd, err))) {
        free(buffer);
        return rc;
    }
    for (;;) {
        if (used + 1 >= capacity) {
            char *bigger = realloc(buffer, capacity * 2);
            if (!bigger) {
                rc = berr_set(err, BERR_NOMEM, "out of memory");
                break;
            }
            buffer = bigger;
            capacity *= 2;
        }
        got = read(fd, buffer + used, capacity - 1 - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = berr_errno(err, errno, "%s: read", name);
            break;
        }
        if (got == 0)
            break;
        used += (size_t)got;
    }
    close(fd);
    if (rc) {
        free(buffer);
        return rc;
    }
    buffer[used] = '\0';
    *text = buffer;
    return 0;
}

int cgroup_file_parse_u64(const char *text, uint64_t *out)
{
    char *end;

    if (strcmp(text, "max") == 0) {
        *out = UINT64_MAX;
        return 0;
    }
    errno = 0;
    if (text[0] == '-') {
        long long negative = strtoll(text, &end, 10);
        if (end == text || *end || (errno && errno != ERANGE) || negative >= 0)
            return -1;
        *out = 0;
        return 0;
    }
    *out = strtoull(text, &end, 10);
    if (end == text || *end || errno)
        return -1;
    return 0;
}

int cgroup_file_read_u64(const char *dir, const char *name, uint64_t *out, struct berr *err)
{
    char text[64];
    int rc = cgroup_file_read(dir, name, text, sizeof(text), err);

    if (rc)
        return rc;
    if (cgroup_file_parse_u64(text, out) < 0)
        return berr_set(err, BERR_INVALID, "%s: not a number: %s", name, text);
    return 0;
}
