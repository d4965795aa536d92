/*
 * timefmt: times as the Docker API writes and reads them.
 *
 * Why: the API mixes three forms, and clients compare them as strings or
 * parse them with Go's rules: RFC 3339 with nanoseconds ("Created",
 * "StartedAt"; Go's zero time "0001-01-01T00:00:00Z" for never), Unix
 * seconds ("Created" in /containers/json), and the human durations of
 * `docker ps` ("Up 3 minutes", Go's go-units HumanDuration wording).
 * Engine code keeps times as int64 nanoseconds since the epoch, 0 meaning
 * never, and converts at the edges with these.
 */
#ifndef BERTH_ENGINED_TIMEFMT_H
#define BERTH_ENGINED_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#include "berr.h"

#define TIMEFMT_SIZE 40
#define TIMEFMT_ZERO "0001-01-01T00:00:00Z"

/* Now, in ns since the epoch (CLOCK_REALTIME). */
int64_t timefmt_now(void);

/* "2015-01-06T15:47:31.485331387Z" (trailing fraction zeros dropped, as
 * Go's RFC3339Nano); 0 gives TIMEFMT_ZERO. Returns out. */
char *timefmt_rfc3339(int64_t ns, char out[TIMEFMT_SIZE]);

/* RFC 3339 (Z or ±hh:mm, optional fraction); TIMEFMT_ZERO and "" give 0. */
int timefmt_parse_rfc3339(const char *text, int64_t *ns, struct berr *err);

/* go-units' HumanDuration: "Less than a second", "5 seconds", "About a
 * minute", "3 hours", "2 weeks"... */
void timefmt_human_duration(int64_t ns, char *out, size_t size);

/* A time a filter or query gives (dockerd's GetTimestamp): Unix seconds
 * with an optional fraction, an RFC 3339 date and time, a date
 * (YYYY-MM-DD, UTC), or a Go duration ("10m", "1h30m") counted back from
 * now. */
int timefmt_parse_filter_time(const char *text, int64_t now, int64_t *ns, struct berr *err);

/* A Go duration ("300ms", "1h30m", "10s") in ns. */
int timefmt_parse_duration(const char *text, int64_t *ns, struct berr *err);

#endif
