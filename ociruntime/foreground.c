/*
 * foreground: see foreground.h.
 */
#include "foreground.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "terminal.h"

/* Forwards signals to the container and waits for its exit (and copies the
 * terminal, when there is one). */
int foreground_wait(pid_t pid, int pidfd, int master_fd, int *exit_status, struct berr *err)
{
    sigset_t forwarded, previous;
    int signal_fd, status = 0;

    sigemptyset(&forwarded);
    sigaddset(&forwarded, SIGINT);
    sigaddset(&forwarded, SIGTERM);
    sigaddset(&forwarded, SIGHUP);
    sigaddset(&forwarded, SIGQUIT);
    sigaddset(&forwarded, SIGUSR1);
    sigaddset(&forwarded, SIGUSR2);
    sigprocmask(SIG_BLOCK, &forwarded, &previous);
    signal_fd = signalfd(-1, &forwarded, SFD_CLOEXEC);
    if (signal_fd < 0) {
        sigprocmask(SIG_SETMASK, &previous, NULL);
        return berr_errno(err, errno, "signalfd");
    }
    if (master_fd >= 0) {
        /* The terminal proxy returns when the container closes its terminal. */
        terminal_proxy(master_fd, err);
        close(master_fd);
    }
    for (;;) {
        struct pollfd fds[2] = {{pidfd, POLLIN, 0}, {signal_fd, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[1].revents & POLLIN) {
            struct signalfd_siginfo info;
            if (read(signal_fd, &info, sizeof(info)) == sizeof(info))
                kill(pid, (int)info.ssi_signo);
        }
        if (fds[0].revents & POLLIN)
            break;
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    close(signal_fd);
    sigprocmask(SIG_SETMASK, &previous, NULL);
    *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return 0;
}
