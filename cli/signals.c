/*
 * signals: the self-pipe (see signals.h). While the terminal is raw, a
 * fatal signal (TERM, HUP) that is not forwarded restores it before the
 * default action ends the process, so the user's shell never stays raw.
 */
#include "signals.h"

#include "signal_names.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "terminal.h"

static int pipe_fds[2] = {-1, -1};
static bool forwarding;

static const int forwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGALRM};

const char *signals_name(int signo)
{
    return signal_names_short(signo);
}

int signals_parse(const char *text)
{
    int number;

    return signal_names_parse(text, &number) == 0 ? number : 0;
}

static void on_signal(int signo)
{
    unsigned char byte = (unsigned char)signo;
    int saved = errno;

    if (!forwarding && signo != SIGWINCH) {
        /* not forwarded: the CLI ends, as it would without a handler */
        term_restore();
        signal(signo, SIG_DFL);
        raise(signo);
        errno = saved;
        return;
    }
    (void)!write(pipe_fds[1], &byte, 1);
    errno = saved;
}

int signals_start(bool forward, int *fd, struct berr *err)
{
    struct sigaction action;

    if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
        return berr_errno(err, errno, "pipe");
    forwarding = forward;
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGWINCH, &action, NULL);
    for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
        sigaction(forwarded[i], &action, NULL);
    *fd = pipe_fds[0];
    return 0;
}

void signals_stop(void)
{
    signal(SIGWINCH, SIG_DFL);
    for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
        signal(forwarded[i], SIG_DFL);
    if (pipe_fds[0] >= 0) {
        close(pipe_fds[0]);
        close(pipe_fds[1]);
    }
    pipe_fds[0] = pipe_fds[1] = -1;
}

int signals_read(int fd)
{
    unsigned char byte;

    if (fd < 0 || read(fd, &byte, 1) != 1)
        return 0;
    return byte;
}
