/*
 * json_log_reader: reads the json-file logs the shim writes, as the
 * logs and attach (logs=1) endpoints need them.
 *
 * The format is dockerd's json-file: one JSON object per line,
 * {"log":"text\n","stream":"stdout","time":"2024-01-02T15:04:05.123456789Z"},
 * rotated (max-size/max-file) by renaming LOG to LOG.1, LOG.1 to LOG.2...
 *
 * Why hand-written decoding: `docker logs` of a 100k-line log must be fast,
 * and a tree parse per line costs more than the rest of the work together.
 * The decoder takes any key order and every JSON escape, and skips keys it
 * does not know (dockerd adds "attrs" with --log-opt labels=...).
 *
 * Why every file is opened up front: the shim may rotate while we read; an
 * open descriptor keeps reading the file it was opened on, so the entries
 * come out in order, oldest file first, with none twice. Following (logs
 * -f) goes on in LOG; when LOG is renamed away the reader drains the file
 * it has, then goes on in the next newer one (found by inode, so two
 * rotations in a row lose nothing), and a truncated LOG (max-file 1) is
 * read again from its start.
 */
#ifndef BERTH_ENGINED_JSON_LOG_READER_H
#define BERTH_ENGINED_JSON_LOG_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berr.h"

/* json_log_reader_next: nothing more for now (not an error). */
#define JSON_LOG_AGAIN (-1)

struct json_log_entry {
    int stream;       /* 1 stdout, 2 stderr (docker_stream.h) */
    const char *text; /* the "log" text, decoded; not NUL-terminated */
    size_t length;
    int64_t time; /* ns since the epoch; 0 when absent or malformed */
};

/* A growing buffer for decoded text, reused from line to line. */
struct json_log_scratch {
    char *data;
    size_t capacity;
};

/* Decodes one line (without its newline) into entry; the text lives in
 * scratch until the next call. BERR_INVALID if it is not a log entry. */
int json_log_decode(const char *line, size_t length, struct json_log_scratch *scratch,
                    struct json_log_entry *entry, struct berr *err);
void json_log_scratch_free(struct json_log_scratch *scratch);

/* RFC 3339 ("2024-01-02T15:04:05.123456789Z", or an offset) into ns. */
int json_log_parse_time(const char *text, size_t length, int64_t *ns);

struct json_log_reader;

/* Opens path and its rotated files path.1 ... path.(max_files - 1) that
 * exist. A missing path is an empty log (the container never ran). */
int json_log_reader_open(const char *path, int max_files, struct json_log_reader **out,
                         struct berr *err);
void json_log_reader_close(struct json_log_reader *reader);

/* Positions the reader at the last `lines` entries (lines of the files)
 * instead of the first; reads blocks backwards from the end. */
int json_log_reader_tail(struct json_log_reader *reader, int64_t lines, struct berr *err);

/* The next entry (valid until the next call), JSON_LOG_AGAIN at the end of
 * what is there now, or an error reading. Lines that do not decode are
 * skipped. */
int json_log_reader_next(struct json_log_reader *reader, struct json_log_entry *entry,
                         struct berr *err);

/* For following, after JSON_LOG_AGAIN: notices a rotation or truncation of
 * the log and moves on (see above). True when there may be more to read. */
bool json_log_reader_refresh(struct json_log_reader *reader);

#endif
