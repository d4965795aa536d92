/*
 * dirtree: see dirtree.h. Both walks recurse one level per directory and
 * hold that directory's stream open, so their depth is bounded by the fd
 * limit (a daemon raises RLIMIT_NOFILE at startup), not by PATH_MAX.
 */
#include "dirtree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_dot_or_dotdot(const char *name)
{
    return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* Empties the directory open at directory_fd (the fd stays the caller's). */
static int remove_contents(int directory_fd, const char *what, struct berr *err)
{
    int pass;

    /* Removing entries while reading the stream is fine on Linux, but POSIX
     * leaves it unspecified, so read again until a pass finds nothing. */
    for (pass = 0; pass < 8; pass++) {
        int stream_fd = openat(directory_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *entry;
        bool removed_any = false;
        int rc;
        DIR *directory;

        if (stream_fd < 0)
            return berr_errno(err, errno, "remove %s: open", what);
        directory = fdopendir(stream_fd);
        if (!directory) {
            close(stream_fd);
            return berr_errno(err, errno, "remove %s: read", what);
        }
        while ((errno = 0, entry = readdir(directory)) != NULL) {
            const char *name = entry->d_name;
            if (is_dot_or_dotdot(name))
                continue;
            removed_any = true;
            if (entry->d_type != DT_DIR && unlinkat(directory_fd, name, 0) == 0)
                continue;
            if (entry->d_type != DT_DIR && errno == ENOENT)
                continue;
            if (entry->d_type != DT_DIR && errno != EISDIR) {
                rc = berr_errno(err, errno, "remove %s/%s", what, name);
                closedir(directory);
                return rc;
            }
            if ((rc = dirtree_remove_at(directory_fd, name, err))) {
                closedir(directory);
                if (err)
                    berr_prefix(err, "remove %s", what);
                return rc;
            }
        }
        if (errno) {
            rc = berr_errno(err, errno, "remove %s: read", what);
            closedir(directory);
            return rc;
        }
        closedir(directory);
        if (!removed_any)
            return 0;
    }
    return berr_set(err, BERR_CONFLICT, "remove %s: entries keep appearing", what);
}

int dirtree_remove_at(int directory_fd, const char *name, struct berr *err)
{
    int child, rc;

    if (unlinkat(directory_fd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return berr_errno(err, errno, "remove %s", name);
    child = openat(directory_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child < 0) {
        if (errno == ENOENT)
            return 0;
        return berr_errno(err, errno, "remove %s", name);
    }
    rc = remove_contents(child, name, err);
    close(child);
    if (rc)
        return rc;
    if (unlinkat(directory_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return berr_errno(err, errno, "remove %s", name);
    return 0;
}

int dirtree_remove(const char *path, struct berr *err)
{
    char *copy = strdup(path), *slash;
    const char *parent, *name;
    int parent_fd, rc;

    if (!copy)
        return berr_set(err, BERR_NOMEM, "remove %s: out of memory", path);
    slash = strrchr(copy, '/');
    if (slash == copy) {
        parent = "/";
        name = copy + 1;
    } else if (slash) {
        *slash = '\0';
        parent = copy;
        name = slash + 1;
    } else {
        parent = ".";
        name = copy;
    }
    if (!name[0] || is_dot_or_dotdot(name)) {
        free(copy);
        return berr_set(err, BERR_INVALID, "remove %s: not a removable path", path);
    }
    parent_fd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (parent_fd < 0) {
        rc = errno == ENOENT ? 0 : berr_errno(err, errno, "remove %s", path);
        free(copy);
        return rc;
    }
    rc = dirtree_remove_at(parent_fd, name, err);
    close(parent_fd);
    if (rc && err)
        berr_prefix(err, "remove %s", path);
    free(copy);
    return rc;
}

/* ---- usage ---- */

/* The (device, inode) pairs of files with more than one link seen so far:
 * an open-addressing hash set, so each is counted once. */
struct inode_set {
    uint64_t *slots; /* pairs: device, inode + 1 (0 marks an empty slot) */
    size_t capacity, count;
};

static uint64_t hash_pair(uint64_t device, uint64_t inode)
{
    uint64_t h = device * 0x9e3779b97f4a7c15ULL ^ inode;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* Adds the pair; *fresh says whether it was new. */
static int inode_set_add(struct inode_set *set, uint64_t device, uint64_t inode, bool *fresh)
{
    size_t i;

    if ((set->count + 1) * 2 > set->capacity) {
        size_t capacity = set->capacity ? set->capacity * 2 : 64, j;
        uint64_t *slots = calloc(capacity * 2, sizeof(uint64_t));
        if (!slots)
            return -1;
        for (j = 0; j < set->capacity; j++) {
            uint64_t d = set->slots[2 * j], n = set->slots[2 * j + 1];
            if (!n)
                continue;
            i = hash_pair(d, n) & (capacity - 1);
            while (slots[2 * i + 1])
                i = (i + 1) & (capacity - 1);
            slots[2 * i] = d;
            slots[2 * i + 1] = n;
        }
        free(set->slots);
        set->slots = slots;
        set->capacity = capacity;
    }
    inode += 1;
    i = hash_pair(device, inode) & (set->capacity - 1);
    while (set->slots[2 * i + 1]) {
        if (set->slots[2 * i] == device && set->slots[2 * i + 1] == inode) {
            *fresh = false;
            return 0;
        }
        i = (i + 1) & (set->capacity - 1);
    }
    set->slots[2 * i] = device;
    set->slots[2 * i + 1] = inode;
    set->count++;
    *fresh = true;
    return 0;
}

struct usage_walk {
    struct inode_set hard_links;
    int64_t size, inodes;
};

static int count_inode(struct usage_walk *walk, const struct stat *info, struct berr *err)
{
    if (!S_ISDIR(info->st_mode) && info->st_nlink > 1) {
        bool fresh;
        if (inode_set_add(&walk->hard_links, info->st_dev, info->st_ino, &fresh) < 0)
            return berr_set(err, BERR_NOMEM, "usage: out of memory");
        if (!fresh)
            return 0;
    }
    walk->size += (int64_t)info->st_blocks * 512;
    walk->inodes++;
    return 0;
}

static int usage_directory(struct usage_walk *walk, int directory_fd, struct berr *err)
{
    int stream_fd = openat(directory_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct dirent *entry;
    DIR *directory;
    int rc = 0;

    if (stream_fd < 0)
        return berr_errno(err, errno, "usage: open directory");
    directory = fdopendir(stream_fd);
    if (!directory) {
        close(stream_fd);
        return berr_errno(err, errno, "usage: read directory");
    }
    while ((errno = 0, entry = readdir(directory)) != NULL) {
        struct stat info;
        int child;

        if (is_dot_or_dotdot(entry->d_name))
            continue;
        if (fstatat(directory_fd, entry->d_name, &info, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue; /* removed while we walked */
            rc = berr_errno(err, errno, "usage: stat %s", entry->d_name);
            break;
        }
        if ((rc = count_inode(walk, &info, err)))
            break;
        if (!S_ISDIR(info.st_mode))
            continue;
        child =
            openat(directory_fd, entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0) {
            if (errno == ENOENT)
                continue;
            rc = berr_errno(err, errno, "usage: open %s", entry->d_name);
            break;
        }
        rc = usage_directory(walk, child, err);
        close(child);
        if (rc) {
            if (err)
                berr_prefix(err, "%s", entry->d_name);
            break;
        }
    }
    if (!rc && errno)
        rc = berr_errno(err, errno, "usage: read directory");
    closedir(directory);
    return rc;
}

int dirtree_usage(int directory_fd, int64_t *size_out, int64_t *inodes_out, struct berr *err)
{
    struct usage_walk walk;
    struct stat info;
    int rc;

    memset(&walk, 0, sizeof(walk));
    if (fstat(directory_fd, &info) < 0)
        return berr_errno(err, errno, "usage: stat");
    rc = count_inode(&walk, &info, err);
    if (!rc)
        rc = usage_directory(&walk, directory_fd, err);
    free(walk.hard_links.slots);
    if (rc)
        return rc;
    *size_out = walk.size;
    *inodes_out = walk.inodes;
    return 0;
}
