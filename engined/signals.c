/*
 * signals: see signals.h. The table is Linux's numbering of the classic
 * signals; real-time ones go by SIGRTMIN+N / SIGRTMAX-N as Docker names them.
 */
#include "signals.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    int number;
} table[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},       {"CHLD", SIGCHLD},
    {"CLD", SIGCHLD},  {"CONT", SIGCONT}, {"FPE", SIGFPE},       {"HUP", SIGHUP},
    {"ILL", SIGILL},   {"INT", SIGINT},   {"IO", SIGIO},         {"IOT", SIGIOT},
    {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},     {"PROF", SIGPROF},
    {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},     {"STKFLT", SIGSTKFLT},
    {"STOP", SIGSTOP}, {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

#define COUNT (sizeof(table) / sizeof(table[0]))

static int invalid(const char *text, struct berr *err)
{
    return berr_set(err, BERR_INVALID, "Invalid signal: %s", text);
}

static int parse_realtime(const char *name, const char *text, int *number, struct berr *err)
{
    const char *rest;
    int base, sign, offset = 0;
    char *end;

    if (strncasecmp(name, "RTMIN", 5) == 0) {
        base = SIGRTMIN;
        sign = 1;
    } else {
        base = SIGRTMAX;
        sign = -1;
    }
    rest = name + 5;
    if (*rest) {
        if ((sign > 0 && *rest != '+') || (sign < 0 && *rest != '-'))
            return invalid(text, err);
        offset = (int)strtol(rest + 1, &end, 10);
        if (end == rest + 1 || *end)
            return invalid(text, err);
    }
    *number = base + sign * offset;
    if (*number < SIGRTMIN || *number > SIGRTMAX)
        return invalid(text, err);
    return 0;
}

int signal_parse(const char *text, int *number, struct berr *err)
{
    const char *name = text;
    char *end;
    long value;

    if (!text || !*text)
        return invalid(text ? text : "", err);
    if (isdigit((unsigned char)*text)) {
        value = strtol(text, &end, 10);
        if (*end || value <= 0 || value > SIGRTMAX)
            return invalid(text, err);
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
        return parse_realtime(name, text, number, err);
    return invalid(text, err);
}

const char *signal_name(int number, char *buffer, unsigned size)
{
    for (size_t i = 0; i < COUNT; i++) {
        if (table[i].number == number && strcmp(table[i].name, "CLD") != 0 &&
            strcmp(table[i].name, "IOT") != 0 && strcmp(table[i].name, "POLL") != 0) {
            snprintf(buffer, size, "SIG%s", table[i].name);
            return buffer;
        }
    }
    if (number >= SIGRTMIN && number <= SIGRTMAX) {
        snprintf(buffer, size, "SIGRTMIN+%d", number - SIGRTMIN);
        return buffer;
    }
    return NULL;
}
