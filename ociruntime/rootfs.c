/*
 * rootfs: see rootfs.h. The container process runs this between the clone
 * and pivot_root (and a little after), without allocating memory.
 */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"

#define MAX_SYMLINKS 40

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

struct mount_attr_argument {
    unsigned long long attr_set;
    unsigned long long attr_clr;
    unsigned long long propagation;
    unsigned long long userns_fd;
};

/* ---- paths inside the root ---- */

int rootfs_open_in_root(int root_fd, const char *path, int flags)
{
    struct open_how how;
    int attempt, fd;

    memset(&how, 0, sizeof(how));
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    while (*path == '/')
        path++;
    if (!*path)
        path = ".";
    for (attempt = 0; attempt < 16; attempt++) {
        fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
        if (fd >= 0 || errno != EAGAIN)
            break;
    }
    return fd >= 0 ? fd : -errno;
}

/* Opens (creating as needed) every directory of path inside root_fd. */
static int make_directories(int root_fd, const char *path, int *out, struct berr *err)
{
    char prefix[PATH_MAX];
    size_t length = strlen(path), position = 0;
    int directory_fd = dup(root_fd);

    if (directory_fd < 0)
        return berr_errno(err, errno, "dup root");
    if (length >= sizeof(prefix)) {
        close(directory_fd);
        return berr_set(err, BERR_INVALID, "path too long: %s", path);
    }
    while (position < length) {
        size_t start, end;
        int next;
        while (path[position] == '/')
            position++;
        if (position >= length)
            break;
        start = position;
        while (position < length && path[position] != '/')
            position++;
        end = position;
        memcpy(prefix, path, end);
        prefix[end] = '\0';
        next = rootfs_open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY);
        if (next == -ENOENT) {
            char name[NAME_MAX + 1];
            if (end - start > NAME_MAX) {
                close(directory_fd);
                return berr_set(err, BERR_INVALID, "name too long in %s", path);
            }
            memcpy(name, path + start, end - start);
            name[end - start] = '\0';
            if (mkdirat(directory_fd, name, 0755) < 0 && errno != EEXIST) {
                int rc = berr_errno(err, errno, "mkdir %s in the container", prefix);
                close(directory_fd);
                return rc;
            }
            next = rootfs_open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY);
        }
        if (next < 0) {
            close(directory_fd);
            return berr_errno(err, -next, "open %s in the container", prefix);
        }
        close(directory_fd);
        directory_fd = next;
    }
    *out = directory_fd;
    return 0;
}

int rootfs_make_in_root(int root_fd, const char *path, bool directory, int *fd, struct berr *err)
{
    char current[PATH_MAX], link[PATH_MAX];
    int attempt, rc;

    if (strlen(path) >= sizeof(current))
        return berr_set(err, BERR_INVALID, "path too long: %s", path);
    strcpy(current, path);
    for (attempt = 0; attempt < MAX_SYMLINKS; attempt++) {
        struct stat info;
        char *slash, parent[PATH_MAX];
        const char *name;
        int parent_fd = -1, opened;
        ssize_t link_length;

        opened = rootfs_open_in_root(root_fd, current, O_PATH);
        if (opened >= 0) {
            if (fstat(opened, &info) < 0) {
                rc = berr_errno(err, errno, "stat %s in the container", current);
                close(opened);
                return rc;
            }
            if (directory && !S_ISDIR(info.st_mode)) {
                close(opened);
                return berr_errno(err, ENOTDIR, "mount target %s", path);
            }
            if (!directory && S_ISDIR(info.st_mode)) {
                close(opened);
                return berr_errno(err, EISDIR, "mount target %s (the source is a file)", path);
            }
            *fd = opened;
            return 0;
        }
        if (opened != -ENOENT)
            return berr_errno(err, -opened, "open %s in the container", current);

        /* Missing: make the parents, then the last component. */
        strcpy(parent, current);
        while (strlen(parent) > 1 && parent[strlen(parent) - 1] == '/')
            parent[strlen(parent) - 1] = '\0';
        slash = strrchr(parent, '/');
        if (slash) {
            *slash = '\0';
            name = slash + 1;
        } else {
            name = parent;
            parent[0] = '\0';
        }
        name = current + (name - parent);
        if ((rc = make_directories(root_fd, parent, &parent_fd, err)))
            return rc;
        /* A dangling symlink: follow it, inside the root. */
        link_length = readlinkat(parent_fd, name, link, sizeof(link) - 1);
        if (link_length >= 0) {
            char next[PATH_MAX];
            link[link_length] = '\0';
            if (link[0] == '/')
                snprintf(next, sizeof(next), "%s", link);
            else if ((size_t)snprintf(next, sizeof(next), "%s/%s", parent, link) >= sizeof(next)) {
                close(parent_fd);
                return berr_set(err, BERR_INVALID, "path too long following %s", current);
            }
            close(parent_fd);
            strcpy(current, next);
            continue;
        }
        if (directory)
            rc = mkdirat(parent_fd, name, 0755) < 0 && errno != EEXIST ? -errno : 0;
        else {
            int created = openat(parent_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            rc = created < 0 && errno != EEXIST ? -errno : 0;
            if (created >= 0)
                close(created);
        }
        close(parent_fd);
        if (rc < 0)
            return berr_errno(err, -rc, "create mount target %s", path);
    }
    return berr_errno(err, ELOOP, "mount target %s", path);
}

static void fd_path(char *out, size_t size, int fd)
{
    snprintf(out, size, "/proc/self/fd/%d", fd);
}

/* ---- mounting ---- */

static int root_fd_of(struct init_context *context, int *fd, struct berr *err)
{
    int opened = open(context->spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);

    if (opened < 0)
        return berr_errno(err, errno, "open root filesystem %s", context->spec->root_path);
    *fd = opened;
    return 0;
}

int rootfs_prepare(struct init_context *context, struct berr *err)
{
    const struct spec *spec = context->spec;

    /* Whatever was asked: nothing we mount may propagate back to the host,
     * through any shared mount (the rootfs itself may be one). The
     * propagation asked for applies to the container's root, after
     * pivot_root (rootfs_pivot), which refuses a shared parent mount. */
    if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return berr_errno(err, errno, "make / a slave mount");
    if (mount(spec->root_path, spec->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
        return berr_errno(err, errno, "bind mount the root filesystem %s", spec->root_path);
    return 0;
}

static bool is_directory(const char *path)
{
    struct stat info;

    return stat(path, &info) == 0 && S_ISDIR(info.st_mode);
}

/* The per-mount flags a path's mount has now, as MS_* flags. */
static unsigned long current_flags(const char *target)
{
    struct statfs info;
    unsigned long flags = 0;

    if (statfs(target, &info) < 0)
        return 0;
    if (info.f_flags & ST_NOSUID)
        flags |= MS_NOSUID;
    if (info.f_flags & ST_NODEV)
        flags |= MS_NODEV;
    if (info.f_flags & ST_NOEXEC)
        flags |= MS_NOEXEC;
    if (info.f_flags & ST_RDONLY)
        flags |= MS_RDONLY;
    if (info.f_flags & ST_NOATIME)
        flags |= MS_NOATIME;
    if (info.f_flags & ST_NODIRATIME)
        flags |= MS_NODIRATIME;
    if (info.f_flags & ST_RELATIME)
        flags |= MS_RELATIME;
    return flags;
}

/* A bind remount replaces all per-mount flags: start from the current ones
 * so that only what is asked changes (and locked flags stay, as the kernel
 * demands in user namespaces). */
static int remount_bind(const char *target, unsigned long set, unsigned long clear,
                        const char *what, struct berr *err)
{
    const unsigned long atime = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
    unsigned long flags = current_flags(target);

    if (set & atime)
        flags &= ~atime;
    flags = (flags | set) & ~clear;
    if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
        return berr_errno(err, errno, "remount %s", what);
    return 0;
}

static const unsigned long bind_remount_flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
                                                MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
                                                MS_STRICTATIME | 256 /* MS_NOSYMFOLLOW */;

/* Mounting onto /proc/self/fd/N leaves N naming the directory underneath;
 * everything done to the new mount afterwards goes through a fresh fd. */
struct mounted_target {
    int fd;
    char path[64];
};

static int reopen_target(int root_fd, const char *destination, struct mounted_target *target,
                         struct berr *err)
{
    target->fd = rootfs_open_in_root(root_fd, destination, O_PATH);
    if (target->fd < 0)
        return berr_errno(err, -target->fd, "open %s after mounting", destination);
    fd_path(target->path, sizeof(target->path), target->fd);
    return 0;
}

static int apply_mount_attributes(const struct spec_mount *entry,
                                  const struct mounted_target *target, struct berr *err)
{
    if (entry->propagation && mount(NULL, target->path, NULL, entry->propagation, NULL) < 0)
        return berr_errno(err, errno, "set propagation of %s", entry->destination);
    if (entry->attr_set || entry->attr_clear) {
        struct mount_attr_argument attributes = {entry->attr_set, entry->attr_clear, 0, 0};
        if (syscall(SYS_mount_setattr, target->fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attributes,
                    sizeof(attributes)) < 0)
            return berr_errno(err, errno, "set recursive attributes of %s", entry->destination);
    }
    return 0;
}

/* The first step of a mount, onto the target's fd path. *bound tells
 * whether the result is a bind mount (whose flags need a remount). */
static int mount_primary(struct init_context *context, const struct spec_mount *entry,
                         const char *source, const char *target, bool *bound, struct berr *err)
{
    unsigned long flags = entry->flags & ~(MS_REC | MS_BIND | MS_REMOUNT);

    *bound = false;
    if (entry->bind) {
        *bound = true;
        if (mount(source, target, NULL, MS_BIND | (entry->recursive ? MS_REC : 0), NULL) < 0)
            return berr_errno(err, errno, "bind mount %s on %s", source, entry->destination);
        return 0;
    }
    if (strcmp(entry->type, "cgroup") == 0) {
        const struct cgroup *cgroup = context->cgroup;
        size_t i;
        if (cgroup->layout != CGROUP_LAYOUT_V2) {
            /* v1: a tmpfs to hold one directory per hierarchy (populate_cgroups). */
            flags &= MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME;
            if (mount("tmpfs", target, "tmpfs", flags, "mode=755") < 0)
                return berr_errno(err, errno, "mount tmpfs on %s", entry->destination);
            return 0;
        }
        if (context->namespaces.new_cgroup_namespace) {
            if (mount("cgroup2", target, "cgroup2", flags, NULL) < 0)
                return berr_errno(err, errno, "mount cgroup2 on %s", entry->destination);
            return 0;
        }
        for (i = 0; i < cgroup->count; i++) {
            if (!cgroup->hierarchies[i].is_v2)
                continue;
            *bound = true;
            if (mount(cgroup->hierarchies[i].path, target, NULL, MS_BIND, NULL) < 0)
                return berr_errno(err, errno, "bind mount %s on %s", cgroup->hierarchies[i].path,
                                  entry->destination);
            return 0;
        }
        return berr_set(err, BERR_INTERNAL, "no v2 cgroup directory to mount");
    }
    if (mount(entry->source, target, entry->type, flags, entry->data) == 0)
        return 0;
    /* Without their own network or IPC namespace, sysfs and mqueue cannot
     * be mounted afresh: show the host's, as runc does. */
    if (errno == EPERM && strcmp(entry->type, "sysfs") == 0) {
        *bound = true;
        if (mount("/sys", target, NULL, MS_BIND | MS_REC, NULL) < 0)
            return berr_errno(err, errno, "bind mount /sys on %s", entry->destination);
        return 0;
    }
    if (errno == EPERM && strcmp(entry->type, "mqueue") == 0) {
        *bound = true;
        if (mount("/dev/mqueue", target, NULL, MS_BIND, NULL) < 0)
            return berr_errno(err, errno, "bind mount /dev/mqueue on %s", entry->destination);
        return 0;
    }
    return berr_errno(err, errno, "mount %s (%s) on %s", entry->source, entry->type,
                      entry->destination);
}

/* v1 cgroups, as runc shows them: in the tmpfs, one bind mount of the
 * container's directory per hierarchy, "cpu,cpuacct" also as "cpu" and
 * "cpuacct", then the whole thing read-only if asked. */
static int populate_cgroups(struct init_context *context, const struct spec_mount *entry,
                            int root_fd, const struct mounted_target *tmpfs, struct berr *err)
{
    const struct cgroup *cgroup = context->cgroup;
    unsigned long flags = entry->flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
    bool readonly = entry->flags & MS_RDONLY;
    size_t i;
    int rc;

    for (i = 0; i < cgroup->count; i++) {
        const struct cgroup_hierarchy *hierarchy = &cgroup->hierarchies[i];
        const char *name = hierarchy->is_v2 ? "unified" : hierarchy->controllers;
        struct mounted_target directory;
        char inside[PATH_MAX];
        int directory_fd;
        if (strncmp(name, "name=", 5) == 0)
            name += 5;
        if (mkdirat(tmpfs->fd, name, 0755) < 0 && errno != EEXIST)
            return berr_errno(err, errno, "mkdir %s/%s", entry->destination, name);
        snprintf(inside, sizeof(inside), "%s/%s", entry->destination, name);
        if ((rc = rootfs_make_in_root(root_fd, inside, true, &directory_fd, err)))
            return rc;
        fd_path(directory.path, sizeof(directory.path), directory_fd);
        rc = 0;
        if (mount(hierarchy->path, directory.path, NULL, MS_BIND, NULL) < 0)
            rc = berr_errno(err, errno, "bind mount %s on %s", hierarchy->path, inside);
        close(directory_fd);
        if (rc || (rc = reopen_target(root_fd, inside, &directory, err)))
            return rc;
        rc = remount_bind(directory.path, flags | (readonly ? MS_RDONLY : 0), 0, inside, err);
        close(directory.fd);
        if (rc)
            return rc;
        if (strchr(name, ',')) {
            char copy[256], *item, *save = NULL;
            snprintf(copy, sizeof(copy), "%s", name);
            for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save))
                if (symlinkat(name, tmpfs->fd, item) < 0 && errno != EEXIST)
                    return berr_errno(err, errno, "symlink %s/%s", entry->destination, item);
        }
    }
    if (readonly && mount(NULL, tmpfs->path, NULL, MS_REMOUNT | MS_RDONLY | flags | MS_RELATIME,
                          "mode=755") < 0)
        return berr_errno(err, errno, "remount %s read-only", entry->destination);
    return 0;
}

static int mount_one(struct init_context *context, const struct spec_mount *entry, int root_fd,
                     int (*ensure_cgroup)(struct init_context *, struct berr *), struct berr *err)
{
    char source[PATH_MAX], target[64];
    struct mounted_target mounted;
    bool directory = true, bound = false;
    int target_fd, rc;

    source[0] = '\0';
    if (entry->bind) {
        if (entry->source[0] == '/')
            snprintf(source, sizeof(source), "%s", entry->source);
        else
            snprintf(source, sizeof(source), "%s/%s", context->spec->bundle, entry->source);
        if (access(source, F_OK) < 0)
            return berr_errno(err, errno, "mount source %s of %s", source, entry->destination);
        directory = is_directory(source);
    }
    /* A fresh cgroup2 mount shows the cgroup namespace's root, which must be
     * the container's cgroup: only then wait to be in it. (v1 and a v2
     * without namespace are bind mounts of the directories, ready already.) */
    if (entry->type && strcmp(entry->type, "cgroup") == 0 &&
        context->cgroup->layout == CGROUP_LAYOUT_V2 && context->namespaces.new_cgroup_namespace &&
        (rc = ensure_cgroup(context, err)))
        return rc;
    if ((rc = rootfs_make_in_root(root_fd, entry->destination, directory, &target_fd, err)))
        return rc;
    fd_path(target, sizeof(target), target_fd);
    rc = mount_primary(context, entry, source, target, &bound, err);
    close(target_fd);
    if (rc || (rc = reopen_target(root_fd, entry->destination, &mounted, err)))
        return rc;
    if (bound) {
        unsigned long set = entry->flags & bind_remount_flags;
        unsigned long clear = entry->clear_flags & bind_remount_flags;
        if (set || clear)
            rc = remount_bind(mounted.path, set, clear, entry->destination, err);
    } else if (entry->type && strcmp(entry->type, "cgroup") == 0 &&
               context->cgroup->layout != CGROUP_LAYOUT_V2) {
        rc = populate_cgroups(context, entry, root_fd, &mounted, err);
    }
    if (rc == 0)
        rc = apply_mount_attributes(entry, &mounted, err);
    close(mounted.fd);
    return rc;
}

int rootfs_mount_all(struct init_context *context,
                     int (*ensure_cgroup)(struct init_context *, struct berr *), struct berr *err)
{
    const struct spec *spec = context->spec;
    size_t i;
    int root_fd = -1, rc = root_fd_of(context, &root_fd, err);

    if (rc)
        return rc;
    for (i = 0; i < spec->mount_count; i++)
        if ((rc = mount_one(context, &spec->mounts[i], root_fd, ensure_cgroup, err)))
            break;
    close(root_fd);
    return rc;
}

/* ---- pivot ---- */

int rootfs_pivot(struct init_context *context, struct berr *err)
{
    const char *root = context->spec->root_path;
    int old_root, new_root, rc = 0;

    if (context->no_pivot) {
        /* For roots pivot_root refuses (ramfs): move it over / and chroot. */
        if (chdir(root) < 0)
            return berr_errno(err, errno, "chdir %s", root);
        if (mount(root, "/", NULL, MS_MOVE, NULL) < 0)
            return berr_errno(err, errno, "move %s to /", root);
        if (chroot(".") < 0)
            return berr_errno(err, errno, "chroot");
        if (chdir("/") < 0)
            return berr_errno(err, errno, "chdir /");
        return 0;
    }
    old_root = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (old_root < 0)
        return berr_errno(err, errno, "open /");
    new_root = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (new_root < 0) {
        rc = berr_errno(err, errno, "open %s", root);
        close(old_root);
        return rc;
    }
    /* pivot_root(".", ".") stacks the old root on top of the new one; we
     * then detach it from under us, leaving only the container's root. */
    if (fchdir(new_root) < 0)
        rc = berr_errno(err, errno, "chdir %s", root);
    else if (syscall(SYS_pivot_root, ".", ".") < 0)
        rc = berr_errno(err, errno, "pivot_root %s", root);
    else if (fchdir(old_root) < 0)
        rc = berr_errno(err, errno, "chdir to the old root");
    else if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        rc = berr_errno(err, errno, "make the old root a slave");
    else if (umount2(".", MNT_DETACH) < 0)
        rc = berr_errno(err, errno, "detach the old root");
    else if (chdir("/") < 0)
        rc = berr_errno(err, errno, "chdir /");
    close(old_root);
    close(new_root);
    if (rc == 0 && context->spec->rootfs_propagation &&
        mount(NULL, "/", NULL, context->spec->rootfs_propagation, NULL) < 0)
        rc = berr_errno(err, errno, "set the propagation of the container's /");
    return rc;
}

/* ---- masked and read-only paths (before the pivot, with the host's /proc) ---- */

static int mask_path(int root_fd, const char *path, struct berr *err)
{
    char target[64];
    struct stat info;
    int fd = rootfs_open_in_root(root_fd, path, O_PATH), rc = 0;

    if (fd == -ENOENT || fd == -ENOTDIR)
        return 0;
    if (fd < 0)
        return berr_errno(err, -fd, "masked path %s", path);
    fd_path(target, sizeof(target), fd);
    if (fstat(fd, &info) < 0)
        rc = berr_errno(err, errno, "masked path %s", path);
    else if (S_ISDIR(info.st_mode)) {
        if (mount("tmpfs", target, "tmpfs", MS_RDONLY, NULL) < 0)
            rc = berr_errno(err, errno, "mask %s", path);
    } else if (mount("/dev/null", target, NULL, MS_BIND, NULL) < 0) {
        rc = berr_errno(err, errno, "mask %s", path);
    }
    close(fd);
    return rc;
}

static int readonly_path(int root_fd, const char *path, struct berr *err)
{
    struct mounted_target mounted;
    char target[64];
    int fd = rootfs_open_in_root(root_fd, path, O_PATH), rc;

    if (fd == -ENOENT || fd == -ENOTDIR)
        return 0;
    if (fd < 0)
        return berr_errno(err, -fd, "read-only path %s", path);
    fd_path(target, sizeof(target), fd);
    rc = mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0
             ? berr_errno(err, errno, "bind mount %s", path)
             : 0;
    close(fd);
    if (rc || (rc = reopen_target(root_fd, path, &mounted, err)))
        return rc;
    rc = remount_bind(mounted.path, MS_RDONLY, 0, path, err);
    close(mounted.fd);
    return rc;
}

int rootfs_finish(struct init_context *context, struct berr *err)
{
    const struct spec *spec = context->spec;
    char **path;
    int root_fd = -1, rc = root_fd_of(context, &root_fd, err);

    if (rc)
        return rc;
    for (path = spec->masked_paths; !rc && path && *path; path++)
        rc = mask_path(root_fd, *path, err);
    for (path = spec->readonly_paths; !rc && path && *path; path++)
        rc = readonly_path(root_fd, *path, err);
    close(root_fd);
    if (rc == 0 && spec->root_readonly)
        rc = remount_bind(spec->root_path, MS_RDONLY, 0, "the root filesystem read-only", err);
    return rc;
}
