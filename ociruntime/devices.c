/*
 * devices: see devices.h.
 */
#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "init.h"
#include "rootfs.h"

struct default_device {
    const char *path;
    unsigned major;
    unsigned minor;
};

static const struct default_device default_devices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

static const struct {
    const char *target;
    const char *path;
} default_links[] = {
    {"/proc/self/fd", "/dev/fd"},
    {"/proc/self/fd/0", "/dev/stdin"},
    {"/proc/self/fd/1", "/dev/stdout"},
    {"/proc/self/fd/2", "/dev/stderr"},
};

/* When /dev is the host's (a bind mount), the container sees its devices. */
static bool dev_is_bind_mounted(const struct spec *spec)
{
    size_t i;

    for (i = 0; i < spec->mount_count; i++)
        if (spec->mounts[i].bind && strcmp(spec->mounts[i].destination, "/dev") == 0)
            return true;
    return false;
}

static bool in_user_namespace(const struct init_context *context)
{
    return context->spec->namespaces[NS_USER].wanted;
}

/* Splits "/dev/a/b" into the directory fd (created inside the root) and "b". */
static int open_parent(int root_fd, const char *path, int *parent_fd, const char **name,
                       struct berr *err)
{
    char directory[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t length = slash ? (size_t)(slash - path) : 0;

    if (!slash || !slash[1] || length >= sizeof(directory))
        return berr_set(err, BERR_INVALID, "bad device path %s", path);
    memcpy(directory, path, length);
    directory[length] = '\0';
    *name = slash + 1;
    return rootfs_make_in_root(root_fd, length ? directory : "/", true, parent_fd, err);
}

static int bind_host_device(int root_fd, const char *path, const char *host_path, struct berr *err)
{
    char target[64];
    int fd, rc = rootfs_make_in_root(root_fd, path, false, &fd, err);

    if (rc)
        return rc;
    snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
    if (mount(host_path, target, NULL, MS_BIND, NULL) < 0)
        rc = berr_errno(err, errno, "bind mount %s on %s", host_path, path);
    close(fd);
    return rc;
}

static int make_node(struct init_context *context, int root_fd, const char *path, mode_t type,
                     unsigned major, unsigned minor, mode_t permissions, uid_t uid, gid_t gid,
                     struct berr *err)
{
    const char *name;
    int parent_fd, rc;

    if (in_user_namespace(context)) {
        /* No mknod in a user namespace: show the host's node, if it is one. */
        char host_path[PATH_MAX];
        struct stat info;
        snprintf(host_path, sizeof(host_path), "%s", path);
        if (type == S_IFIFO)
            return berr_set(err, BERR_UNSUPPORTED,
                            "device %s: fifos cannot be created in a user namespace", path);
        if (stat(host_path, &info) < 0 || (info.st_mode & S_IFMT) != type ||
            info.st_rdev != makedev(major, minor))
            return berr_set(err, BERR_UNSUPPORTED,
                            "device %s (%u:%u): a user namespace cannot create device nodes and "
                            "the host has no such node to share",
                            path, major, minor);
        return bind_host_device(root_fd, path, host_path, err);
    }
    if ((rc = open_parent(root_fd, path, &parent_fd, &name, err)))
        return rc;
    /* A file already there (from the image) is replaced, as runc does. */
    if (unlinkat(parent_fd, name, 0) < 0 && errno != ENOENT && errno != EISDIR)
        rc = berr_errno(err, errno, "remove %s", path);
    else if (mknodat(parent_fd, name, type | permissions, makedev(major, minor)) < 0)
        rc = berr_errno(err, errno, "mknod %s", path);
    else if (fchmodat(parent_fd, name, permissions, 0) < 0)
        rc = berr_errno(err, errno, "chmod %s", path);
    else if (fchownat(parent_fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        rc = berr_errno(err, errno, "chown %s", path);
    close(parent_fd);
    return rc;
}

static int make_link(int root_fd, const char *target, const char *path, struct berr *err)
{
    const char *name;
    int parent_fd, rc = open_parent(root_fd, path, &parent_fd, &name, err);

    if (rc)
        return rc;
    if (symlinkat(target, parent_fd, name) < 0 && errno != EEXIST)
        rc = berr_errno(err, errno, "symlink %s -> %s", path, target);
    close(parent_fd);
    return rc;
}

static mode_t device_type(char type)
{
    switch (type) {
    case 'b':
        return S_IFBLK;
    case 'p':
        return S_IFIFO;
    default: /* 'c' and 'u' */
        return S_IFCHR;
    }
}

int devices_create(struct init_context *context, struct berr *err)
{
    const struct spec *spec = context->spec;
    const char *name;
    size_t i;
    int root_fd, parent_fd, rc = 0;

    if (dev_is_bind_mounted(spec))
        return 0;
    root_fd = open(spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        return berr_errno(err, errno, "open %s", spec->root_path);
    for (i = 0; !rc && i < sizeof(default_devices) / sizeof(default_devices[0]); i++) {
        const struct default_device *device = &default_devices[i];
        rc = make_node(context, root_fd, device->path, S_IFCHR, device->major, device->minor, 0666,
                       0, 0, err);
    }
    for (i = 0; !rc && i < spec->device_count; i++) {
        const struct spec_device *device = &spec->devices[i];
        rc = make_node(context, root_fd, device->path, device_type(device->type),
                       (unsigned)device->major, (unsigned)device->minor,
                       device->has_file_mode ? device->file_mode : 0666,
                       device->has_uid ? device->uid : 0, device->has_gid ? device->gid : 0, err);
    }
    for (i = 0; !rc && i < sizeof(default_links) / sizeof(default_links[0]); i++)
        rc = make_link(root_fd, default_links[i].target, default_links[i].path, err);
    if (!rc && access("/proc/kcore", F_OK) == 0)
        rc = make_link(root_fd, "/proc/kcore", "/dev/core", err);
    /* /dev/ptmx must be the container's devpts instance's. */
    if (!rc && (rc = open_parent(root_fd, "/dev/ptmx", &parent_fd, &name, err)) == 0) {
        if (unlinkat(parent_fd, name, 0) < 0 && errno != ENOENT)
            rc = berr_errno(err, errno, "remove /dev/ptmx");
        else if (symlinkat("pts/ptmx", parent_fd, name) < 0)
            rc = berr_errno(err, errno, "symlink /dev/ptmx");
        close(parent_fd);
    }
    close(root_fd);
    return rc;
}
