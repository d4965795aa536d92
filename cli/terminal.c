/*
 * terminal: raw mode (cfmakeraw, what Go's term.MakeRaw sets) with one saved
 * state restored on every exit path (see terminal.h).
 */
#include "terminal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static int saved_fd = -1;

bool term_is_tty(int fd)
{
    return isatty(fd) == 1;
}

void term_restore(void)
{
    if (saved_fd >= 0) {
        tcsetattr(saved_fd, TCSADRAIN, &saved);
        saved_fd = -1;
    }
}

int term_make_raw(int fd, struct berr *err)
{
    static bool registered;
    struct termios raw;

    if (tcgetattr(fd, &saved) < 0)
        return berr_errno(err, errno, "tcgetattr");
    raw = saved;
    cfmakeraw(&raw);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSADRAIN, &raw) < 0)
        return berr_errno(err, errno, "tcsetattr");
    saved_fd = fd;
    if (!registered) {
        atexit(term_restore);
        registered = true;
    }
    return 0;
}

bool term_size(int fd, unsigned *rows, unsigned *cols)
{
    struct winsize ws;

    if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
        return false;
    *rows = ws.ws_row;
    *cols = ws.ws_col;
    return true;
}
