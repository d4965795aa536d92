/*
 * docker_time: the time values the Docker API takes and gives.
 *
 * Why one module: /events (since, until), the images list and prune
 * (until), and later logs and container prune all accept the same
 * spellings, and they should all accept the same ones:
 *  - Unix seconds, with an optional fraction: "1700000000",
 *    "1700000000.123456789" (what the docker CLI sends, after it converted
 *    what its user typed);
 *  - RFC 3339 and its shortenings: "2024-01-02", "2024-01-02T15",
 *    "2024-01-02T15:04", "2024-01-02T15:04:05.5Z", with "Z" or a "+01:00"
 *    offset; without one the time is in the daemon's local zone;
 *  - Go durations relative to now: "10m", "1h30m", "1.5s", "-2h" (a
 *    negative duration is in the future). "0" is the Unix epoch, as in
 *    Docker.
 * A fraction is read as a decimal fraction ("1.5" is 1.5 s). dockerd takes
 * the digits after the dot as nanoseconds, which agrees for the
 * nine-digit fractions clients send.
 *
 * Times are Unix nanoseconds (int64_t: good until 2262).
 */
#ifndef BERTH_ENGINED_DOCKER_TIME_H
#define BERTH_ENGINED_DOCKER_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "berr.h"

#define DOCKER_TIME_NANO 1000000000LL

/* A Go duration ("1h30m", "300ms", "-1.5h") in nanoseconds. BERR_INVALID if
 * malformed. A bare "0" is a duration too (Go accepts it). */
int docker_duration_parse(const char *text, int64_t *nanoseconds, struct berr *err);

/* Any of the spellings above, relative to now_nano for durations.
 * BERR_INVALID with Docker's wording if none fits. */
int docker_time_parse(const char *text, int64_t now_nano, int64_t *out_nano, struct berr *err);

/* RFC 3339 with nanoseconds in UTC, as Docker writes times:
 * "2024-01-02T15:04:05.123456789Z" (trailing zeros of the fraction
 * dropped, no fraction when it is zero). out needs 40 bytes. */
void docker_time_format(int64_t nano, char *out, size_t size);

/* The current time in Unix nanoseconds. */
int64_t docker_time_now(void);

#endif
