/*
 * json_log: a container's output as Docker's json-file log.
 *
 * One JSON object per line, as dockerd's json-file driver writes it, so the
 * engine (and anything that reads Docker's logs) can serve it unchanged:
 *   {"log":"text\n","stream":"stdout","time":"2026-11-29T20:05:56.123456789Z"}
 * The shim writes the file itself, whether or not anybody is attached or the
 * daemons are up: that is how no line is lost. Rotation is by size, the way
 * dockerd does it (max-size, max-file): before an entry, if the live file has
 * reached max_size, LOG.(n-1) is dropped, LOG.i becomes LOG.(i+1) and a new
 * LOG starts; with max_files 0 or 1 the live file is truncated instead.
 */
#ifndef BERTH_SHIM_JSON_LOG_H
#define BERTH_SHIM_JSON_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "berr.h"

/* Text of one entry at most: longer lines are split into several entries,
 * the earlier ones without "\n" (dockerd's 16 KiB partial messages). */
#define JSON_LOG_LINE_MAX 16384

struct json_log {
    int fd; /* -1: no log */
    char *path;
    int64_t size; /* of the live file, entries not yet written included */
    int64_t max_size;
    int max_files;
};

void json_log_init(struct json_log *log);
/* Opens (appends to) path. An empty path means no log: entries are dropped. */
int json_log_open(struct json_log *log, const char *path, int64_t max_size, int max_files,
                  struct berr *err);
/* Adds one entry whose text is first followed by second (either may be
 * empty): the two pieces spare a copy when a line spans two reads. stream is
 * "stdout" or "stderr". Entries are buffered until json_log_flush. */
void json_log_entry(struct json_log *log, const char *stream, const void *first,
                    size_t first_length, const void *second, size_t second_length,
                    const struct timespec *when);
/* Writes the buffered entries out. */
void json_log_flush(struct json_log *log);
void json_log_close(struct json_log *log);

/* RFC 3339 in UTC with the nanoseconds Go's RFC3339Nano prints (trailing
 * zeros dropped), into out (at least 40 bytes). Returns the length. */
size_t json_log_format_time(char *out, size_t size, const struct timespec *when);

#endif
