/*
 * timefmt: see timefmt.h.
 */
#include "timefmt.h"

#include <stdio.h>
#include <string.h>

#define NS_PER_S 1000000000LL

char *timefmt_rfc3339(int64_t ns, char out[TIMEFMT_SIZE])
{
    if (ns == 0)
        snprintf(out, TIMEFMT_SIZE, "%s", TIMEFMT_ZERO);
    else
        docker_time_format(ns, out, TIMEFMT_SIZE);
    return out;
}

int timefmt_parse_rfc3339(const char *text, int64_t *ns, struct berr *err)
{
    if (!text || !*text || strcmp(text, TIMEFMT_ZERO) == 0) {
        *ns = 0;
        return 0;
    }
    return docker_time_parse(text, 0, ns, err);
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
