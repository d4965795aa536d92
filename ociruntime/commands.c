/*
 * commands: helpers every command uses (signal names, the container-id
 * argument, numbers). See commands.h.
 */
#include "commands.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>

static const struct {
    const char *name;
    int number;
} signal_names[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

int command_parse_int(const char *text, const char *what, long long minimum, long long maximum,
                      long long *out, struct berr *err)
{
    char *end;
    long long value;

    errno = 0;
    value = strtoll(text, &end, 10);
    if (errno || end == text || *end || value < minimum || value > maximum)
        return berr_set(err, BERR_INVALID, "%s: %s is not a number between %lld and %lld", what,
                        text, minimum, maximum);
    *out = value;
    return 0;
}

int command_parse_signal(const char *text, int *signal_number, struct berr *err)
{
    const char *name = text;
    long long number;
    size_t i;

    if (isdigit((unsigned char)text[0])) {
        if (command_parse_int(text, "signal", 1, SIGRTMAX, &number, err))
            return err->code;
        *signal_number = (int)number;
        return 0;
    }
    if (strncasecmp(name, "SIG", 3) == 0)
        name += 3;
    if (strncasecmp(name, "RTMIN", 5) == 0 || strncasecmp(name, "RTMAX", 5) == 0) {
        long long offset = 0;
        bool minimum = strncasecmp(name, "RTMIN", 5) == 0;
        if (name[5] && command_parse_int(name + 5, "signal", -32, 32, &offset, err))
            return err->code;
        *signal_number = (minimum ? SIGRTMIN : SIGRTMAX) + (int)offset;
        if (*signal_number < SIGRTMIN || *signal_number > SIGRTMAX)
            return berr_set(err, BERR_INVALID, "unknown signal %s", text);
        return 0;
    }
    for (i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++) {
        if (strcasecmp(name, signal_names[i].name) == 0) {
            *signal_number = signal_names[i].number;
            return 0;
        }
    }
    return berr_set(err, BERR_INVALID, "unknown signal %s", text);
}

int command_container_id(int argc, char **argv, const char *command, const char **id,
                         struct berr *err)
{
    if (argc < 1 || !argv[0][0])
        return berr_set(err, BERR_INVALID, "%s: a container id is required", command);
    if (argc > 1)
        return berr_set(err, BERR_INVALID, "%s: unexpected argument %s", command, argv[1]);
    *id = argv[0];
    return 0;
}

int command_parse_duration(const char *text, const char *what, long long *milliseconds,
                           struct berr *err)
{
    static const struct {
        const char *unit;
        double milliseconds;
    } units[] = {{"ns", 1e-6},  {"us", 1e-3},   {"µs", 1e-3},    {"ms", 1.0},
                 {"s", 1000.0}, {"m", 60000.0}, {"h", 3600000.0}};
    const char *cursor = text;
    double total = 0;

    if (!*text)
        return berr_set(err, BERR_INVALID, "%s: empty duration", what);
    while (*cursor) {
        char *end;
        double value = strtod(cursor, &end);
        size_t i, best = 0, best_length = 0;
        if (end == cursor || value < 0)
            return berr_set(err, BERR_INVALID, "%s: %s is not a duration", what, text);
        cursor = end;
        if (!*cursor && cursor == text + strlen(text) && total == 0) {
            total = value * 1000.0; /* a bare number: seconds */
            break;
        }
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t length = strlen(units[i].unit);
            if (strncmp(cursor, units[i].unit, length) == 0 && length > best_length) {
                best = i;
                best_length = length;
            }
        }
        if (!best_length)
            return berr_set(err, BERR_INVALID, "%s: %s is not a duration", what, text);
        total += value * units[best].milliseconds;
        cursor += best_length;
    }
    *milliseconds = (long long)total;
    return 0;
}
