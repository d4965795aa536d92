/*
 * signals: see signals.h; the names are lib/signal_names.c's, the wording
 * of the errors Docker's.
 */
#include "signals.h"

#include "signal_names.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int signal_parse(const char *text, int *number, struct berr *err)
{
    if (signal_names_parse(text, number) != 0)
        return berr_set(err, BERR_INVALID, "Invalid signal: %s", text ? text : "");
    return 0;
}

const char *signal_name(int number, char *buffer, unsigned size)
{
    const char *short_name = signal_names_short(number);

    if (short_name) {
        snprintf(buffer, size, "SIG%s", short_name);
        return buffer;
    }
    if (number >= SIGRTMIN && number <= SIGRTMAX) {
        snprintf(buffer, size, "SIGRTMIN+%d", number - SIGRTMIN);
        return buffer;
    }
    return NULL;
}
