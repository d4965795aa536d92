/*
 * signal_names: see signal_names.h. Linux's classic signals plus the
 * aliases glibc knows (CLD, IOT, POLL); real-time signals are RTMIN+N or
 * RTMAX-N.
 */
#include "signal_names.h"

#include <ctype.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    int number;
} table[] = {
    /* Preferred names first: signal_names_short gives the first match. */
    {"HUP", SIGHUP},
    {"INT", SIGINT},
    {"QUIT", SIGQUIT},
    {"ILL", SIGILL},
    {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT},
    {"BUS", SIGBUS},
    {"FPE", SIGFPE},
    {"KILL", SIGKILL},
    {"USR1", SIGUSR1},
    {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},
    {"ALRM", SIGALRM},
    {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT},
    {"CHLD", SIGCHLD},
    {"CONT", SIGCONT},
    {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},
    {"URG", SIGURG},
    {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},
    {"IO", SIGIO},
    {"PWR", SIGPWR},
    {"SYS", SIGSYS},
    /* Aliases. */
    {"IOT", SIGIOT},
    {"CLD", SIGCHLD},
    {"POLL", SIGPOLL},
};

#define COUNT (sizeof(table) / sizeof(table[0]))

/* "RTMIN", "RTMIN+3", "RTMAX-2" (after any "SIG"). */
static int parse_realtime(const char *name, int *number)
{
    int minimum = strncasecmp(name, "RTMIN", 5) == 0, offset = 0;
    const char *rest = name + 5;
    char *end;

    if (*rest) {
        if (*rest != (minimum ? '+' : '-') || !isdigit((unsigned char)rest[1]))
            return -1;
        offset = (int)strtol(rest + 1, &end, 10);
        if (*end)
            return -1;
    }
    *number = minimum ? SIGRTMIN + offset : SIGRTMAX - offset;
    return *number >= SIGRTMIN && *number <= SIGRTMAX ? 0 : -1;
}

int signal_names_parse(const char *text, int *number)
{
    const char *name = text;
    char *end;
    long value;

    if (!text || !*text)
        return -1;
    if (isdigit((unsigned char)*text)) {
        value = strtol(text, &end, 10);
        if (*end || value <= 0 || value > SIGRTMAX)
            return -1;
        *number = (int)value;
        return 0;
    }
    if (strncasecmp(name, "SIG", 3) == 0)
        name += 3;
    for (size_t i = 0; i < COUNT; i++) {
        if (strcasecmp(name, table[i].name) == 0) {
            *number = table[i].number;
            return 0;
        }
    }
    if (strncasecmp(name, "RTMIN", 5) == 0 || strncasecmp(name, "RTMAX", 5) == 0)
        return parse_realtime(name, number);
    return -1;
}

const char *signal_names_short(int number)
{
    for (size_t i = 0; i < COUNT; i++)
        if (table[i].number == number)
            return table[i].name;
    return NULL;
}
