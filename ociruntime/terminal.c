/*
 * terminal: see terminal.h.
 */
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "rootfs.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int terminal_connect(const char *path, int *fd, struct berr *err)
{
    struct sockaddr_un address;
    int sock;

    if (strlen(path) >= sizeof(address.sun_path))
        return berr_set(err, BERR_INVALID, "--console-socket %s: path too long", path);
    sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        return berr_errno(err, errno, "console socket");
    memset(&address, 0, sizeof(address));
    address.sun_family = AF_UNIX;
    strcpy(address.sun_path, path);
    if (connect(sock, (struct sockaddr *)&address, sizeof(address)) < 0) {
        int rc = berr_errno(err, errno, "connect to console socket %s", path);
        close(sock);
        return rc;
    }
    *fd = sock;
    return 0;
}

static int send_fd(int socket_fd, int fd, const char *name)
{
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec data = {(void *)name, strlen(name)};
    struct msghdr message;
    struct cmsghdr *header;

    memset(&message, 0, sizeof(message));
    memset(control, 0, sizeof(control));
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &fd, sizeof(int));
    while (sendmsg(socket_fd, &message, MSG_NOSIGNAL) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

static int bind_console(int slave_fd, struct berr *err)
{
    char slave[64], target[64];
    int root_fd, console_fd, rc;

    snprintf(slave, sizeof(slave), "/proc/self/fd/%d", slave_fd);
    root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        return berr_errno(err, errno, "open /");
    rc = rootfs_make_in_root(root_fd, "/dev/console", false, &console_fd, err);
    close(root_fd);
    if (rc)
        return rc;
    snprintf(target, sizeof(target), "/proc/self/fd/%d", console_fd);
    if (mount(slave, target, NULL, MS_BIND, NULL) < 0)
        rc = berr_errno(err, errno, "bind mount the console on /dev/console");
    close(console_fd);
    return rc;
}

int terminal_setup(int socket_fd, unsigned height, unsigned width, bool make_console,
                   struct berr *err)
{
    struct winsize size = {(unsigned short)height, (unsigned short)width, 0, 0};
    char name[64];
    unsigned number = 0;
    int unlock = 0, master, slave, rc, i;

    master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return berr_errno(err, errno, "open /dev/ptmx in the container");
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &number) < 0) {
        rc = berr_errno(err, errno, "unlock the pty");
        close(master);
        return rc;
    }
    slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) {
        rc = berr_errno(err, errno, "open the pty slave");
        close(master);
        return rc;
    }
    if ((height || width) && ioctl(slave, TIOCSWINSZ, &size) < 0) {
        rc = berr_errno(err, errno, "set the console size");
        goto out;
    }
    snprintf(name, sizeof(name), "/dev/pts/%u", number);
    rc = send_fd(socket_fd, master, name);
    if (rc < 0) {
        rc = berr_errno(err, -rc, "send the pty master over the console socket");
        goto out;
    }
    if (make_console && (rc = bind_console(slave, err)))
        goto out;
    for (i = 0; i < 3; i++)
        if (dup3(slave, i, 0) < 0) {
            rc = berr_errno(err, errno, "make the pty the process's stdio");
            goto out;
        }
    if (ioctl(0, TIOCSCTTY, 0) < 0)
        rc = berr_errno(err, errno, "make the pty the controlling terminal");
out:
    close(master);
    close(slave);
    return rc;
}

int terminal_receive(int socket_fd, int *master_fd, struct berr *err)
{
    char control[CMSG_SPACE(sizeof(int))], name[256];
    struct iovec data = {name, sizeof(name)};
    struct msghdr message;
    struct cmsghdr *header;
    ssize_t got;

    memset(&message, 0, sizeof(message));
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    do
        got = recvmsg(socket_fd, &message, MSG_CMSG_CLOEXEC);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return berr_errno(err, errno, "receive the pty master");
    header = CMSG_FIRSTHDR(&message);
    if (!header || header->cmsg_type != SCM_RIGHTS || header->cmsg_len != CMSG_LEN(sizeof(int)))
        return berr_set(err, BERR_UNAVAILABLE, "the container did not send its pty");
    memcpy(master_fd, CMSG_DATA(header), sizeof(int));
    return 0;
}

static volatile sig_atomic_t window_changed;

static void note_window_change(int signal_number)
{
    (void)signal_number;
    window_changed = 1;
}

static void copy_window_size(int master_fd)
{
    struct winsize size;

    if (ioctl(0, TIOCGWINSZ, &size) == 0)
        ioctl(master_fd, TIOCSWINSZ, &size);
}

int terminal_proxy(int master_fd, struct berr *err)
{
    struct termios original, raw;
    bool restore = false, input_open = true;
    struct sigaction action;
    char buffer[8192];

    if (isatty(0) && tcgetattr(0, &original) == 0) {
        raw = original;
        cfmakeraw(&raw);
        if (tcsetattr(0, TCSANOW, &raw) == 0)
            restore = true;
        memset(&action, 0, sizeof(action));
        action.sa_handler = note_window_change;
        sigaction(SIGWINCH, &action, NULL);
        copy_window_size(master_fd);
    }
    for (;;) {
        struct pollfd fds[2] = {{master_fd, POLLIN, 0}, {0, POLLIN, 0}};
        int rc = poll(fds, input_open ? 2 : 1, -1);
        ssize_t got;
        if (window_changed) {
            window_changed = 0;
            copy_window_size(master_fd);
        }
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            got = read(master_fd, buffer, sizeof(buffer));
            if (got <= 0)
                break; /* EIO: every slave is closed, the process is gone */
            if (write(1, buffer, (size_t)got) < 0 && errno != EAGAIN)
                break;
        }
        if (input_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            got = read(0, buffer, sizeof(buffer));
            if (got <= 0) {
                /* End of input: pass it on as the terminal's end-of-file character. */
                input_open = false;
                if (write(master_fd, "\004", 1) < 0)
                    break;
            } else if (write(master_fd, buffer, (size_t)got) < 0) {
                break;
            }
        }
    }
    if (restore)
        tcsetattr(0, TCSANOW, &original);
    (void)err;
    return 0;
}
