/*
 * units: go-units and Go time formatting, reproduced digit for digit because
 * scripts compare these strings (see units.h).
 */
#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_SECOND ((int64_t)1000000000)

/* Go's %.*g is C's %.*g for the values sizes take. */
static void custom_size(double size, double base, const char *const *units, size_t count,
                        const char *format, int precision, char *out, size_t out_size)
{
    size_t i = 0;

    while (size >= base && i < count - 1) {
        size /= base;
        i++;
    }
    snprintf(out, out_size, format, precision, size, units[i]);
}

void units_human_size(double size, int precision, char *out, size_t out_size)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};

    custom_size(size, 1000.0, units, 9, "%.*g%s", precision, out, out_size);
}

void units_bytes_size(double size, char *out, size_t out_size)
{
    static const char *const units[] = {"B",   "KiB", "MiB", "GiB", "TiB",
                                        "PiB", "EiB", "ZiB", "YiB"};

    custom_size(size, 1024.0, units, 9, "%.*g%s", 4, out, out_size);
}

void units_human_duration(int64_t ns, char *out, size_t out_size)
{
    int64_t seconds = ns / NS_PER_SECOND;
    int64_t minutes = seconds / 60;
    int64_t hours = (ns + 30 * 60 * NS_PER_SECOND) / (3600 * NS_PER_SECOND); /* d.Round(Hour) */

    if (seconds < 1)
        snprintf(out, out_size, "Less than a second");
    else if (seconds == 1)
        snprintf(out, out_size, "1 second");
    else if (seconds < 60)
        snprintf(out, out_size, "%" PRId64 " seconds", seconds);
    else if (minutes == 1)
        snprintf(out, out_size, "About a minute");
    else if (minutes < 60)
        snprintf(out, out_size, "%" PRId64 " minutes", minutes);
    else if (hours == 1)
        snprintf(out, out_size, "About an hour");
    else if (hours < 48)
        snprintf(out, out_size, "%" PRId64 " hours", hours);
    else if (hours < 24 * 7 * 2)
        snprintf(out, out_size, "%" PRId64 " days", hours / 24);
    else if (hours < 24 * 30 * 2)
        snprintf(out, out_size, "%" PRId64 " weeks", hours / 24 / 7);
    else if (hours < 24 * 365 * 2)
        snprintf(out, out_size, "%" PRId64 " months", hours / 24 / 30);
    else
        snprintf(out, out_size, "%" PRId64 " years", ns / (3600 * NS_PER_SECOND) / 24 / 365);
}

int units_ram_in_bytes(const char *text, int64_t *out, struct berr *err)
{
    const char *p = text;
    char *end;
    double number;
    double multiplier = 1;

    if (!isdigit((unsigned char)*p))
        return berr_set(err, BERR_INVALID, "invalid size: '%s'", text);
    number = strtod(p, &end);
    p = end;
    if (*p == ' ')
        p++;
    switch (tolower((unsigned char)*p)) {
    case 'k':
        multiplier = 1024.0, p++;
        break;
    case 'm':
        multiplier = 1024.0 * 1024, p++;
        break;
    case 'g':
        multiplier = 1024.0 * 1024 * 1024, p++;
        break;
    case 't':
        multiplier = 1024.0 * 1024 * 1024 * 1024, p++;
        break;
    case 'p':
        multiplier = 1024.0 * 1024 * 1024 * 1024 * 1024, p++;
        break;
    }
    if (*p == 'i' || *p == 'I')
        p++;
    if (*p == 'b' || *p == 'B')
        p++;
    if (*p)
        return berr_set(err, BERR_INVALID, "invalid suffix: '%s'", end);
    *out = (int64_t)(number * multiplier);
    return 0;
}

static int64_t unit_nanos(const char *unit, size_t len)
{
    static const struct {
        const char *name;
        int64_t nanos;
    } units[] = {{"ns", 1},
                 {"us", 1000},
                 {"\xc2\xb5s", 1000},
                 {"\xce\xbcs", 1000},
                 {"ms", 1000000},
                 {"s", NS_PER_SECOND},
                 {"m", 60 * NS_PER_SECOND},
                 {"h", 3600 * NS_PER_SECOND}};

    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strlen(units[i].name) == len && strncmp(units[i].name, unit, len) == 0)
            return units[i].nanos;
    }
    return 0;
}

int units_parse_duration(const char *text, int64_t *out, struct berr *err)
{
    const char *p = text;
    double total = 0;
    int sign = 1;

    if (*p == '-' || *p == '+')
        sign = *p++ == '-' ? -1 : 1;
    if (strcmp(p, "0") == 0) {
        *out = 0;
        return 0;
    }
    if (!*p)
        return berr_set(err, BERR_INVALID, "time: invalid duration \"%s\"", text);
    while (*p) {
        char *end;
        double value;
        const char *unit;
        int64_t nanos;

        if (!isdigit((unsigned char)*p) && *p != '.')
            return berr_set(err, BERR_INVALID, "time: invalid duration \"%s\"", text);
        value = strtod(p, &end);
        if (end == p)
            return berr_set(err, BERR_INVALID, "time: invalid duration \"%s\"", text);
        unit = end;
        while (*end && !isdigit((unsigned char)*end) && *end != '.')
            end++;
        if (end == unit)
            return berr_set(err, BERR_INVALID, "time: missing unit in duration \"%s\"", text);
        nanos = unit_nanos(unit, (size_t)(end - unit));
        if (!nanos)
            return berr_set(err, BERR_INVALID, "time: unknown unit \"%.*s\" in duration \"%s\"",
                            (int)(end - unit), unit, text);
        total += value * (double)nanos;
        p = end;
    }
    *out = (int64_t)llround(total) * sign;
    return 0;
}

static bool parse_digits(const char **p, int count, int *out)
{
    int value = 0;

    for (int i = 0; i < count; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        value = value * 10 + ((*p)[i] - '0');
    }
    *p += count;
    *out = value;
    return true;
}

/* "2006-01-02", "2006-01-02T15:04:05[.frac][Z|±hh:mm]"; no zone means local time. */
static bool parse_date_time(const char *text, int64_t *unix_nanos, bool require_zone)
{
    const char *p = text;
    struct tm tm = {0};
    int year, month, day, offset = 0;
    int64_t frac = 0;
    bool zoned = false;
    time_t seconds;

    if (!parse_digits(&p, 4, &year) || *p++ != '-' || !parse_digits(&p, 2, &month) || *p++ != '-' ||
        !parse_digits(&p, 2, &day))
        return false;
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    if (*p == 'T') {
        p++;
        if (!parse_digits(&p, 2, &tm.tm_hour) || *p++ != ':' || !parse_digits(&p, 2, &tm.tm_min))
            return false;
        if (*p == ':') {
            p++;
            if (!parse_digits(&p, 2, &tm.tm_sec))
                return false;
        }
        if (*p == '.') {
            int64_t scale = NS_PER_SECOND;

            for (p++; isdigit((unsigned char)*p); p++) {
                scale /= 10;
                frac += (*p - '0') * scale;
            }
        }
        if (*p == 'Z') {
            zoned = true;
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, hours, minutes;

            if (!parse_digits(&p, 2, &hours) || *p++ != ':' || !parse_digits(&p, 2, &minutes))
                return false;
            offset = sign * (hours * 3600 + minutes * 60);
            zoned = true;
        }
    }
    if (*p || (require_zone && !zoned))
        return false;
    if (zoned) {
        seconds = timegm(&tm) - offset;
    } else {
        tm.tm_isdst = -1;
        seconds = mktime(&tm);
    }
    *unix_nanos = (int64_t)seconds * NS_PER_SECOND + frac;
    return true;
}

bool units_parse_rfc3339(const char *text, int64_t *unix_nanos)
{
    return parse_date_time(text, unix_nanos, true);
}

int units_api_timestamp(const char *value, struct timespec now, char *out, size_t out_size,
                        struct berr *err)
{
    int64_t nanos;
    struct berr ignored;

    if (!*value) {
        snprintf(out, out_size, "%s", value);
        return 0;
    }
    if (strcmp(value, "0") != 0 && units_parse_duration(value, &nanos, &ignored) == 0) {
        int64_t t = (int64_t)now.tv_sec * NS_PER_SECOND + now.tv_nsec - nanos;

        snprintf(out, out_size, "%" PRId64 ".%09" PRId64, t / NS_PER_SECOND, t % NS_PER_SECOND);
        return 0;
    }
    if (!strchr(value, '-') || strspn(value, "0123456789.") == strlen(value)) {
        snprintf(out, out_size, "%s", value); /* a unix timestamp, as the daemon takes it */
        return 0;
    }
    if (!parse_date_time(value, &nanos, false))
        return berr_set(err, BERR_INVALID, "failed to parse value as time or duration: \"%s\"",
                        value);
    snprintf(out, out_size, "%" PRId64 ".%09" PRId64, nanos / NS_PER_SECOND, nanos % NS_PER_SECOND);
    return 0;
}

static void zone_suffix(const struct tm *tm, char *out, size_t out_size)
{
    long offset = tm->tm_gmtoff;

    if (offset == 0) {
        snprintf(out, out_size, "Z");
        return;
    }
    snprintf(out, out_size, "%c%02ld:%02ld", offset < 0 ? '-' : '+', labs(offset) / 3600,
             (labs(offset) % 3600) / 60);
}

static void rfc3339(int64_t unix_nanos, bool fixed, char *out, size_t out_size)
{
    time_t seconds = (time_t)(unix_nanos / NS_PER_SECOND);
    int64_t frac = unix_nanos % NS_PER_SECOND;
    struct tm tm;
    char date[64], fraction[16] = "", zone[16];

    localtime_r(&seconds, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac || fixed) {
        int len;

        snprintf(fraction, sizeof(fraction), ".%09" PRId64, frac);
        len = (int)strlen(fraction);
        while (!fixed && len > 1 && fraction[len - 1] == '0')
            fraction[--len] = '\0';
    }
    zone_suffix(&tm, zone, sizeof(zone));
    snprintf(out, out_size, "%s%s%s", date, fraction, zone);
}

void units_rfc3339_nano(int64_t unix_nanos, char *out, size_t out_size)
{
    rfc3339(unix_nanos, false, out, out_size);
}

void units_rfc3339_nano_fixed(int64_t unix_nanos, char *out, size_t out_size)
{
    rfc3339(unix_nanos, true, out, out_size);
}

void units_go_time_string(int64_t unix_seconds, char *out, size_t out_size)
{
    time_t seconds = (time_t)unix_seconds;
    struct tm tm;

    localtime_r(&seconds, &tm);
    strftime(out, out_size, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
}
