/*
 * commands: helpers every command uses (signal names, the container-id
 * argument, numbers). See commands.h.
 */
#include "commands.h"

#include "signal_names.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>

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
    if (signal_names_parse(text, signal_number) != 0)
        return berr_set(err, BERR_INVALID, "unknown signal %s", text);
    return 0;
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
