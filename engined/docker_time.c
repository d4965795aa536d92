/*
 * docker_time: see docker_time.h. Hand-written parsers: the grammars are
 * small, strptime cannot read fractions or "Z07:00" zones, and errors
 * should name what was wrong.
 */
#include "docker_time.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct duration_unit {
    const char *name;
    int64_t nanoseconds;
};

static const struct duration_unit duration_units[] = {
    {"ns", 1LL},
    {"us", 1000LL},
    {"\xc2\xb5s", 1000LL}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000LL}, /* U+03BC Greek mu */
    {"ms", 1000000LL},
    {"s", DOCKER_TIME_NANO},
    {"m", 60 * DOCKER_TIME_NANO},
    {"h", 3600 * DOCKER_TIME_NANO},
};

/* The unit at *cursor (longest name first, so "ms" is not "m"). */
static const struct duration_unit *duration_unit_at(const char **cursor)
{
    const struct duration_unit *best = NULL;
    size_t best_length = 0;

    for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
        size_t length = strlen(duration_units[i].name);
        if (length > best_length && strncmp(*cursor, duration_units[i].name, length) == 0) {
            best = &duration_units[i];
            best_length = length;
        }
    }
    if (best)
        *cursor += best_length;
    return best;
}

static int bad_duration(struct berr *err, const char *text)
{
    return berr_set(err, BERR_INVALID, "time: invalid duration \"%.100s\"", text);
}

/* One "1.5h" segment added to *total (as a double for the fraction, then
 * checked against int64's range). */
static int duration_segment(const char **cursor, double *total)
{
    const char *start = *cursor;
    double whole = 0, fraction = 0, scale = 1;
    const struct duration_unit *unit;
    bool digits = false;

    while (isdigit((unsigned char)**cursor)) {
        whole = whole * 10 + (**cursor - '0');
        (*cursor)++;
        digits = true;
    }
    if (**cursor == '.') {
        (*cursor)++;
        while (isdigit((unsigned char)**cursor)) {
            scale /= 10;
            fraction += (**cursor - '0') * scale;
            (*cursor)++;
            digits = true;
        }
    }
    if (!digits || !(unit = duration_unit_at(cursor))) {
        *cursor = start;
        return -1;
    }
    *total += (whole + fraction) * (double)unit->nanoseconds;
    return 0;
}

int docker_duration_parse(const char *text, int64_t *nanoseconds, struct berr *err)
{
    const char *cursor = text;
    bool negative = false;
    double total = 0;

    if (*cursor == '-' || *cursor == '+')
        negative = *cursor++ == '-';
    if (strcmp(cursor, "0") == 0) {
        *nanoseconds = 0;
        return 0;
    }
    if (!*cursor)
        return bad_duration(err, text);
    while (*cursor)
        if (duration_segment(&cursor, &total) < 0)
            return bad_duration(err, text);
    if (total > 9.2e18)
        return berr_set(err, BERR_INVALID, "time: invalid duration \"%.100s\": too long", text);
    *nanoseconds = negative ? -(int64_t)total : (int64_t)total;
    return 0;
}

/* Exactly count digits at *cursor as a number. */
static bool fixed_digits(const char **cursor, int count, int *value)
{
    *value = 0;
    for (int i = 0; i < count; i++) {
        if (!isdigit((unsigned char)(*cursor)[i]))
            return false;
        *value = *value * 10 + ((*cursor)[i] - '0');
    }
    *cursor += count;
    return true;
}

/* Up to nine digits of a fraction as nanoseconds (more are ignored). */
static int64_t fraction_nanoseconds(const char **cursor)
{
    int64_t value = 0;
    int count = 0;

    while (isdigit((unsigned char)**cursor)) {
        if (count < 9) {
            value = value * 10 + (**cursor - '0');
            count++;
        }
        (*cursor)++;
    }
    while (count++ < 9)
        value *= 10;
    return value;
}

/* "Z", "z" or "+HH:MM"/"-HH:MM" at *cursor: *offset in seconds east. */
static bool parse_zone(const char **cursor, bool *has_zone, long *offset)
{
    int hours, minutes;
    int sign;

    *has_zone = false;
    *offset = 0;
    if (**cursor == 'Z' || **cursor == 'z') {
        (*cursor)++;
        *has_zone = true;
        return true;
    }
    if (**cursor != '+' && **cursor != '-')
        return true;
    sign = **cursor == '-' ? -1 : 1;
    (*cursor)++;
    if (!fixed_digits(cursor, 2, &hours) || **cursor != ':')
        return false;
    (*cursor)++;
    if (!fixed_digits(cursor, 2, &minutes) || hours > 23 || minutes > 59)
        return false;
    *has_zone = true;
    *offset = sign * (hours * 3600L + minutes * 60L);
    return true;
}

/* The part after 'T': HH[:MM[:SS[.fraction]]]. */
static bool parse_clock(const char **cursor, struct tm *tm, int64_t *nanos)
{
    if (!fixed_digits(cursor, 2, &tm->tm_hour) || tm->tm_hour > 23)
        return false;
    if (**cursor != ':')
        return true;
    (*cursor)++;
    if (!fixed_digits(cursor, 2, &tm->tm_min) || tm->tm_min > 59)
        return false;
    if (**cursor != ':')
        return true;
    (*cursor)++;
    if (!fixed_digits(cursor, 2, &tm->tm_sec) || tm->tm_sec > 60)
        return false;
    if (**cursor == '.' || **cursor == ',') {
        (*cursor)++;
        if (!isdigit((unsigned char)**cursor))
            return false;
        *nanos = fraction_nanoseconds(cursor);
    }
    return true;
}

static bool date_valid(const struct tm *tm)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return tm->tm_mon >= 0 && tm->tm_mon < 12 && tm->tm_mday >= 1 &&
           tm->tm_mday <= days[tm->tm_mon];
}

/* RFC 3339 and its shortenings; false when text is not one. */
static bool parse_rfc3339(const char *text, int64_t now_nano, int64_t *out)
{
    const char *cursor = text;
    struct tm tm = {0}, local;
    int64_t nanos = 0;
    bool has_zone;
    long offset;
    time_t now = (time_t)(now_nano / DOCKER_TIME_NANO), seconds;

    if (!fixed_digits(&cursor, 4, &tm.tm_year) || *cursor++ != '-' ||
        !fixed_digits(&cursor, 2, &tm.tm_mon) || *cursor++ != '-' ||
        !fixed_digits(&cursor, 2, &tm.tm_mday))
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    if (!date_valid(&tm))
        return false;
    if (*cursor == 'T' || *cursor == 't') {
        cursor++;
        if (!parse_clock(&cursor, &tm, &nanos))
            return false;
    }
    if (!parse_zone(&cursor, &has_zone, &offset) || *cursor)
        return false;
    if (!has_zone) {
        /* Go's FixedZone(now.Zone()): the local offset at the reference time. */
        localtime_r(&now, &local);
        offset = local.tm_gmtoff;
    }
    seconds = timegm(&tm) - offset;
    *out = (int64_t)seconds * DOCKER_TIME_NANO + nanos;
    return true;
}

/* "SECONDS" or "SECONDS.FRACTION". */
static bool parse_unix(const char *text, int64_t *out)
{
    const char *cursor = text;
    int64_t seconds = 0, nanos = 0;

    if (!isdigit((unsigned char)*cursor))
        return false;
    while (isdigit((unsigned char)*cursor)) {
        if (seconds > 9000000000LL)
            return false;
        seconds = seconds * 10 + (*cursor++ - '0');
    }
    if (*cursor == '.') {
        cursor++;
        if (!isdigit((unsigned char)*cursor))
            return false;
        nanos = fraction_nanoseconds(&cursor);
    }
    if (*cursor)
        return false;
    *out = seconds * DOCKER_TIME_NANO + nanos;
    return true;
}

int docker_time_parse(const char *text, int64_t now_nano, int64_t *out_nano, struct berr *err)
{
    int64_t duration;

    if (strcmp(text, "0") != 0 && docker_duration_parse(text, &duration, NULL) == 0) {
        *out_nano = now_nano - duration;
        return 0;
    }
    if (parse_rfc3339(text, now_nano, out_nano))
        return 0;
    if (strchr(text, '-'))
        return berr_set(err, BERR_INVALID,
                        "parsing time \"%.100s\": not an RFC 3339 time (2006-01-02T15:04:05Z07:00)",
                        text);
    if (parse_unix(text, out_nano))
        return 0;
    return berr_set(err, BERR_INVALID, "failed to parse value as time or duration: \"%.100s\"",
                    text);
}

void docker_time_format(int64_t nano, char *out, size_t size)
{
    time_t seconds = (time_t)(nano / DOCKER_TIME_NANO);
    int64_t fraction = nano % DOCKER_TIME_NANO;
    char digits[16];
    struct tm tm;
    size_t length;

    if (fraction < 0) {
        fraction += DOCKER_TIME_NANO;
        seconds--;
    }
    gmtime_r(&seconds, &tm);
    length = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    if (fraction) {
        int end = snprintf(digits, sizeof(digits), ".%09lld", (long long)fraction);
        while (end > 1 && digits[end - 1] == '0')
            digits[--end] = '\0';
        snprintf(out + length, size - length, "%sZ", digits);
    } else {
        snprintf(out + length, size - length, "Z");
    }
}

int64_t docker_time_now(void)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * DOCKER_TIME_NANO + now.tv_nsec;
}
