/*
 * unix_socket: see unix_socket.h.
 */
#include "unix_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim.h"

#define SUN_PATH_SIZE sizeof(((struct sockaddr_un *)0)->sun_path)

int unix_listen(const char *path, int *out, struct berr *err)
{
    struct sockaddr_un address;
    char directory[PATH_MAX];
    const char *slash;
    int directory_fd = -1, sock, rc = 0;
    mode_t old_umask;

    memset(&address, 0, sizeof(address));
    address.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(address.sun_path)) {
        slash = strrchr(path, '/');
        if (!slash || strlen(slash + 1) + 32 >= sizeof(address.sun_path) ||
            (size_t)(slash - path) >= sizeof(directory))
            return berr_set(err, BERR_INVALID, "socket path %s: too long", path);
        memcpy(directory, path, (size_t)(slash - path));
        directory[slash - path] = '\0';
        directory_fd = open(slash == path ? "/" : directory, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (directory_fd < 0)
            return berr_errno(err, errno, "socket %s: open its directory", path);
        snprintf(address.sun_path, sizeof(address.sun_path), "/proc/self/fd/%d/%s", directory_fd,
                 slash + 1);
    } else {
        memcpy(address.sun_path, path, strlen(path) + 1);
    }
    sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (sock < 0) {
        rc = berr_errno(err, errno, "socket");
        goto out;
    }
    old_umask = umask(0177);
    if (bind(sock, (struct sockaddr *)&address, sizeof(address)) < 0) {
        rc = berr_errno(err, errno, "bind %s", path);
        umask(old_umask);
        close(sock);
        goto out;
    }
    umask(old_umask);
    if (listen(sock, 64) < 0) {
        rc = berr_errno(err, errno, "listen %s", path);
        close(sock);
        unlink(path);
        goto out;
    }
    *out = sock;
out:
    if (directory_fd >= 0)
        close(directory_fd);
    return rc;
}

void unix_bundle_path(const char *name, char *out, size_t size)
{
    if (strlen(shim.bundle) + 1 + strlen(name) < SUN_PATH_SIZE)
        snprintf(out, size, "%s/%s", shim.bundle, name);
    else
        snprintf(out, size, "/proc/%d/fd/%d/%s", (int)shim.pid, shim.bundle_fd, name);
}

int unix_receive_fd(int listener, int *fd, struct berr *err)
{
    char control[CMSG_SPACE(sizeof(int))], name[256];
    struct iovec data = {name, sizeof(name)};
    struct msghdr message;
    struct cmsghdr *header;
    ssize_t got;
    int connection = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (connection < 0)
        return errno == EAGAIN ? berr_set(err, BERR_UNAVAILABLE,
                                          "the runtime did not connect to the console socket")
                               : berr_errno(err, errno, "accept on the console socket");
    memset(&message, 0, sizeof(message));
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    do
        got = recvmsg(connection, &message, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    while (got < 0 && errno == EINTR);
    close(connection);
    if (got < 0)
        return berr_errno(err, errno, "receive the pty master");
    header = CMSG_FIRSTHDR(&message);
    if (!header || header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS ||
        header->cmsg_len != CMSG_LEN(sizeof(int)))
        return berr_set(err, BERR_UNAVAILABLE, "the runtime did not send the pty master");
    memcpy(fd, CMSG_DATA(header), sizeof(int));
    return 0;
}
