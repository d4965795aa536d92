/*
 * timefmt: see timefmt.h. Plain libc: timegm/gmtime_r do the calendar.
 */
#include "timefmt.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_S 1000000000LL

int64_t timefmt_now(void)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * NS_PER_S + now.tv_nsec;
}

char *timefmt_rfc3339(int64_t ns, char out[TIMEFMT_SIZE])
{
    time_t seconds;
    struct tm tm;
    long fraction;
    size_t length;

    if (ns == 0) {
        snprintf(out, TIMEFMT_SIZE, "%s", TIMEFMT_ZERO);
        return out;
    }
    seconds = (time_t)(ns / NS_PER_S);
    fraction = (long)(ns % NS_PER_S);
    if (fraction < 0) {
        fraction += NS_PER_S;
        seconds--;
    }
    gmtime_r(&seconds, &tm);
    length = strftime(out, TIMEFMT_SIZE, "%Y-%m-%dT%H:%M:%S", &tm);
    if (fraction) {
        char digits[16];
        int end = 9;
        snprintf(digits, sizeof(digits), "%09ld", fraction);
        while (end > 0 && digits[end - 1] == '0')
            end--;
        digits[end] = '\0';
        length += (size_t)snprintf(out + length, TIMEFMT_SIZE - length, ".%s", digits);
    }
    snprintf(out + length, TIMEFMT_SIZE - length, "Z");
    return out;
}

/* Reads exactly count digits. */
static bool digits(const char **cursor, int count, int *value)
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

/* "YYYY-MM-DD" then optionally "THH:MM:SS[.frac]" and a zone. */
static bool parse_date_time(const char *text, bool need_time, int64_t *ns)
{
    const char *cursor = text;
    struct tm tm = {0};
    int year, month, day, hour = 0, minute = 0, second = 0, offset = 0;
    long fraction = 0;

    if (!digits(&cursor, 4, &year) || *cursor++ != '-' || !digits(&cursor, 2, &month) ||
        *cursor++ != '-' || !digits(&cursor, 2, &day))
        return false;
    if (*cursor == 'T' || *cursor == 't' || *cursor == ' ') {
        cursor++;
        if (!digits(&cursor, 2, &hour) || *cursor++ != ':' || !digits(&cursor, 2, &minute) ||
            *cursor++ != ':' || !digits(&cursor, 2, &second))
            return false;
        if (*cursor == '.') {
            int places = 0;
            cursor++;
            while (isdigit((unsigned char)*cursor)) {
                if (places++ < 9)
                    fraction = fraction * 10 + (*cursor - '0');
                cursor++;
            }
            if (!places)
                return false;
            for (; places < 9; places++)
                fraction *= 10;
        }
        if (*cursor == 'Z' || *cursor == 'z') {
            cursor++;
        } else if (*cursor == '+' || *cursor == '-') {
            int sign = *cursor++ == '-' ? -1 : 1, hours, minutes;
            if (!digits(&cursor, 2, &hours) || *cursor++ != ':' || !digits(&cursor, 2, &minutes))
                return false;
            offset = sign * (hours * 3600 + minutes * 60);
        }
    } else if (need_time) {
        return false;
    }
    if (*cursor)
        return false;
    if (year == 1 && month == 1 && day == 1 && !hour && !minute && !second && !fraction) {
        *ns = 0;
        return true;
    }
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    *ns = ((int64_t)timegm(&tm) - offset) * NS_PER_S + fraction;
    return true;
}

int timefmt_parse_rfc3339(const char *text, int64_t *ns, struct berr *err)
{
    if (!text || !*text) {
        *ns = 0;
        return 0;
    }
    if (!parse_date_time(text, true, ns))
        return berr_set(err, BERR_INVALID, "\"%s\" is not an RFC 3339 time", text);
    return 0;
}

void timefmt_human_duration(int64_t ns, char *out, size_t size)
{
    int64_t seconds = ns / NS_PER_S, minutes = seconds / 60;
    int64_t hours = (ns + NS_PER_S * 1800) / (NS_PER_S * 3600); /* rounded */

    if (seconds < 1)
        snprintf(out, size, "Less than a second");
    else if (seconds == 1)
        snprintf(out, size, "1 second");
    else if (seconds < 60)
        snprintf(out, size, "%lld seconds", (long long)seconds);
    else if (minutes == 1)
        snprintf(out, size, "About a minute");
    else if (minutes < 60)
        snprintf(out, size, "%lld minutes", (long long)minutes);
    else if (hours == 1)
        snprintf(out, size, "About an hour");
    else if (hours < 48)
        snprintf(out, size, "%lld hours", (long long)hours);
    else if (hours < 24 * 7 * 2)
        snprintf(out, size, "%lld days", (long long)(hours / 24));
    else if (hours < 24 * 30 * 2)
        snprintf(out, size, "%lld weeks", (long long)(hours / 24 / 7));
    else if (hours < 24 * 365 * 2)
        snprintf(out, size, "%lld months", (long long)(hours / 24 / 30));
    else
        snprintf(out, size, "%lld years", (long long)(hours / 24 / 365));
}

int timefmt_parse_duration(const char *text, int64_t *ns, struct berr *err)
{
    static const struct {
        const char *unit;
        int64_t ns;
    } units[] = {
        {"ns", 1},       {"us", 1000},         {"µs", 1000},           {"ms", 1000000},
        {"s", NS_PER_S}, {"m", 60 * NS_PER_S}, {"h", 3600 * NS_PER_S},
    };
    const char *cursor = text;
    double total = 0;
    bool negative = false;

    if (*cursor == '-' || *cursor == '+')
        negative = *cursor++ == '-';
    if (!*cursor)
        return berr_set(err, BERR_INVALID, "invalid duration \"%s\"", text);
    if (strcmp(cursor, "0") == 0) {
        *ns = 0;
        return 0;
    }
    while (*cursor) {
        char *end;
        double value = strtod(cursor, &end);
        size_t best = 0, i, which = 0;
        if (end == cursor || *cursor == '-' || *cursor == '+')
            return berr_set(err, BERR_INVALID, "invalid duration \"%s\"", text);
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t length = strlen(units[i].unit);
            if (strncmp(end, units[i].unit, length) == 0 && length > best) {
                best = length;
                which = i;
            }
        }
        if (!best)
            return berr_set(err, BERR_INVALID, "invalid duration \"%s\": missing unit", text);
        total += value * (double)units[which].ns;
        cursor = end + best;
    }
    *ns = (int64_t)(negative ? -total : total);
    return 0;
}

int timefmt_parse_filter_time(const char *text, int64_t now, int64_t *ns, struct berr *err)
{
    char *end;
    double seconds;
    int64_t duration;
    struct berr ignored;

    if (!text || !*text)
        return berr_set(err, BERR_INVALID, "empty timestamp");
    if (timefmt_parse_duration(text, &duration, &ignored) == 0 &&
        !isdigit((unsigned char)text[strlen(text) - 1])) {
        *ns = now - duration;
        return 0;
    }
    seconds = strtod(text, &end);
    if (end != text && !*end && text[0] != '+') {
        *ns = (int64_t)(seconds * (double)NS_PER_S);
        return 0;
    }
    if (parse_date_time(text, false, ns))
        return 0;
    return berr_set(err, BERR_INVALID, "failed to parse value as time or duration: \"%s\"", text);
}
