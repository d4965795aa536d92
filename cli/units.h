/*
 * units: the docker CLI's number, size, duration and time conventions
 * (go-units and Go's time package), because users read and script against
 * them: "1.98MB", "324KiB / 23.54GiB", "Up 3 minutes", "512m", "1h30m",
 * "--since 10m" and RFC 3339 timestamps with nanoseconds.
 */
#ifndef BERTH_CLI_UNITS_H
#define BERTH_CLI_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "berr.h"

/* go-units HumanSizeWithPrecision(size, precision): decimal units ("1.98MB"). */
void units_human_size(double size, int precision, char *out, size_t out_size);
/* go-units BytesSize: binary units with 4 significant digits ("23.54GiB"). */
void units_bytes_size(double size, char *out, size_t out_size);
/* go-units HumanDuration ("Less than a second", "2 minutes", "About an hour"). */
void units_human_duration(int64_t nanoseconds, char *out, size_t out_size);
/* go-units RAMInBytes ("512m", "1.5g", "1024"): binary multipliers. */
int units_ram_in_bytes(const char *text, int64_t *out, struct berr *err);
/* Go's time.ParseDuration ("1h30m", "1.5s", "300ms"), in nanoseconds. */
int units_parse_duration(const char *text, int64_t *out, struct berr *err);
/*
 * The docker CLI's GetTimestamp: a Go duration is "that long before now"; a
 * number is a unix timestamp passed as is; else an RFC 3339 date or date-time
 * (local time when it has no zone). Out: "SECONDS.NANOSECONDS" or the number.
 */
int units_api_timestamp(const char *value, struct timespec now, char *out, size_t out_size,
                        struct berr *err);
/* Go's time.RFC3339Nano in local time ("2026-11-29T21:39:40.1998601Z"); fixed: always nine
 * digits (jsonmessage.RFC3339NanoFixed, what `events` prints). */
void units_rfc3339_nano(int64_t unix_nanos, char *out, size_t out_size);
void units_rfc3339_nano_fixed(int64_t unix_nanos, char *out, size_t out_size);
/* Go's time.Time.String() for whole seconds ("2026-11-29 21:39:44 +0000 UTC"). */
void units_go_time_string(int64_t unix_seconds, char *out, size_t out_size);
/* Parses an RFC 3339 time with optional fraction into unix nanoseconds. */
bool units_parse_rfc3339(const char *text, int64_t *unix_nanos);

#endif
