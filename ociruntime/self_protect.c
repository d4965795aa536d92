/*
 * self_protect: see self_protect.h.
 */
#include "self_protect.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

extern char **environ;

struct mount_attributes {
    unsigned long long attr_set;
    unsigned long long attr_clr;
    unsigned long long propagation;
    unsigned long long userns_fd;
};

/* Read-only mount, or a memfd sealed against writes. */
static int is_protected(int fd)
{
    struct statvfs info;
    int seals;

    if (fstatvfs(fd, &info) == 0 && (info.f_flag & ST_RDONLY))
        return 1;
    seals = fcntl(fd, F_GET_SEALS);
    return seals >= 0 && (seals & F_SEAL_WRITE);
}

/* A read-only detached bind mount of the binary: no copy, no mount table entry. */
static int read_only_view(void)
{
    struct mount_attributes attributes = {MOUNT_ATTR_RDONLY, 0, 0, 0};
    int fd = (int)syscall(SYS_open_tree, AT_FDCWD, "/proc/self/exe",
                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

    if (fd < 0)
        return -1;
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attributes, sizeof(attributes)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A sealed memfd copy, for when the mount API is not allowed (user namespaces). */
static int sealed_copy(int source)
{
    struct stat info;
    off_t offset = 0;
    int fd;

    if (fstat(source, &info) < 0)
        return -1;
    fd = (int)syscall(SYS_memfd_create, "berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -1;
    while (offset < info.st_size) {
        ssize_t sent = sendfile(fd, source, &offset, (size_t)(info.st_size - offset));
        if (sent <= 0) {
            close(fd);
            return -1;
        }
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int self_protect(char **argv, struct berr *err)
{
    int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), view;

    if (self < 0)
        return berr_errno(err, errno, "open /proc/self/exe");
    if (is_protected(self)) {
        close(self);
        return 0;
    }
    view = read_only_view();
    if (view < 0)
        view = sealed_copy(self);
    close(self);
    if (view < 0)
        return berr_errno(err, errno, "make a protected copy of the runtime binary");
    syscall(SYS_execveat, view, "", argv, environ, AT_EMPTY_PATH);
    close(view);
    return berr_errno(err, errno, "re-execute the runtime from its protected copy");
}
