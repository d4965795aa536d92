/*
 * timefmt: the container times Docker shows, on top of docker_time.h.
 *
 * Why beside docker_time: containers have two more spellings. Go's zero
 * time "0001-01-01T00:00:00Z" means "never" (StartedAt of a container
 * that never ran), and `docker ps` says how long ago in go-units'
 * HumanDuration wording ("Up 3 minutes", "Exited (0) About an hour ago").
 * Engine code keeps times as int64 nanoseconds since the epoch, 0 meaning
 * never.
 */
#ifndef BERTH_ENGINED_TIMEFMT_H
#define BERTH_ENGINED_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#include "berr.h"
#include "docker_time.h"

#define TIMEFMT_SIZE 40
#define TIMEFMT_ZERO "0001-01-01T00:00:00Z"

/* RFC 3339 with nanoseconds (docker_time_format); 0 gives TIMEFMT_ZERO.
 * Returns out. */
char *timefmt_rfc3339(int64_t ns, char out[TIMEFMT_SIZE]);

/* Its inverse: TIMEFMT_ZERO and "" give 0. */
int timefmt_parse_rfc3339(const char *text, int64_t *ns, struct berr *err);

/* go-units' HumanDuration: "Less than a second", "5 seconds", "About a
 * minute", "3 hours", "2 weeks"... */
void timefmt_human_duration(int64_t ns, char *out, size_t size);

#endif
