/*
 * json_log: see json_log.h.
 *
 * Entries are encoded into one small static buffer shared by every log (the
 * shim has one thread and writes one log at a time) and written out when it
 * fills or at json_log_flush, which the caller does after each read from the
 * container: one write(2) for all the lines of a read, no per-log memory.
 * The text is escaped as dockerd's encoder does it: quotes, backslashes and
 * control characters, <, > and & as \u003c \u003e \u0026, U+2028/2029, and
 * every byte that is not valid UTF-8 as \ufffd, so the file is always valid
 * JSON whatever a container prints.
 */
#include "json_log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "log.h"

#define ENCODE_BUFFER_SIZE 8192

static char encoded[ENCODE_BUFFER_SIZE];
static size_t encoded_length;
static struct json_log *encoded_owner; /* whose entries the buffer holds */

void json_log_init(struct json_log *log)
{
    log->fd = -1;
    log->path = NULL;
    log->size = 0;
    log->max_size = 0;
    log->max_files = 0;
}

int json_log_open(struct json_log *log, const char *path, int64_t max_size, int max_files,
                  struct berr *err)
{
    struct stat info;
    int fd;

    json_log_close(log);
    if (!path || !*path)
        return 0;
    if (max_size < 0 || max_files < 0)
        return berr_set(err, BERR_INVALID, "log %s: negative log_max_size or log_max_files", path);
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return berr_errno(err, errno, "open log %s", path);
    log->path = strdup(path);
    if (!log->path) {
        close(fd);
        return berr_set(err, BERR_NOMEM, "open log %s: out of memory", path);
    }
    log->fd = fd;
    log->size = fstat(fd, &info) == 0 ? info.st_size : 0;
    log->max_size = max_size;
    log->max_files = max_files;
    return 0;
}

static void write_out(struct json_log *log)
{
    if (encoded_length && log->fd >= 0 && write_all(log->fd, encoded, encoded_length) < 0)
        log_warn("write log %s: %m (%zu bytes lost)", log->path, encoded_length);
    encoded_length = 0;
    encoded_owner = NULL;
}

void json_log_flush(struct json_log *log)
{
    if (encoded_owner == log)
        write_out(log);
}

/* Appends to the buffer, writing it out whenever it fills. */
static void put(struct json_log *log, const char *data, size_t length)
{
    log->size += (int64_t)length;
    while (length > 0) {
        size_t room = sizeof(encoded) - encoded_length;
        size_t take = length < room ? length : room;
        memcpy(encoded + encoded_length, data, take);
        encoded_length += take;
        data += take;
        length -= take;
        if (encoded_length == sizeof(encoded)) {
            write_out(log);
            encoded_owner = log;
        }
    }
}

static void rotate(struct json_log *log)
{
    char from[PATH_MAX], to[PATH_MAX];
    int fd, i;

    write_out(log);
    if (log->max_files <= 1) {
        if (ftruncate(log->fd, 0) < 0)
            log_warn("truncate log %s: %m", log->path);
        log->size = 0;
        return;
    }
    for (i = log->max_files - 1; i >= 1; i--) {
        if (i == 1)
            snprintf(from, sizeof(from), "%s", log->path);
        else
            snprintf(from, sizeof(from), "%s.%d", log->path, i - 1);
        snprintf(to, sizeof(to), "%s.%d", log->path, i);
        if (rename(from, to) < 0 && errno != ENOENT)
            log_warn("rotate log: rename %s to %s: %m", from, to);
    }
    fd = open(log->path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        /* Keep writing to the renamed file rather than losing lines. */
        log_warn("rotate log: open %s: %m", log->path);
        return;
    }
    close(log->fd);
    log->fd = fd;
    log->size = 0;
}

/* Length of the valid UTF-8 sequence at text (at most length bytes), or 0. */
static size_t utf8_sequence(const unsigned char *text, size_t length, unsigned *codepoint)
{
    unsigned c = text[0], value;
    size_t count, i;

    if (c < 0xc2 || c > 0xf4)
        return 0;
    count = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    if (length < count)
        return 0;
    value = c & (0x7f >> count);
    for (i = 1; i < count; i++) {
        if ((text[i] & 0xc0) != 0x80)
            return 0;
        value = value << 6 | (text[i] & 0x3f);
    }
    /* Overlong forms, surrogates and values above U+10FFFF are invalid. */
    if ((count == 3 && value < 0x800) || (count == 4 && (value < 0x10000 || value > 0x10ffff)) ||
        (value >= 0xd800 && value <= 0xdfff))
        return 0;
    *codepoint = value;
    return count;
}

static void put_escaped(struct json_log *log, const unsigned char *text, size_t length)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, plain = 0;

    while (i < length) {
        unsigned c = text[i];
        char escape[8];
        size_t escape_length = 0, advance = 1;
        unsigned codepoint;

        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
            i++;
            continue;
        }
        if (c >= 0x80) {
            advance = utf8_sequence(text + i, length - i, &codepoint);
            if (advance && codepoint != 0x2028 && codepoint != 0x2029) {
                i += advance;
                continue;
            }
            if (advance)
                escape_length = (size_t)snprintf(escape, sizeof(escape), "\\u%04x", codepoint);
            else {
                advance = 1;
                memcpy(escape, "\\ufffd", 6);
                escape_length = 6;
            }
        } else if (c == '"' || c == '\\') {
            escape[0] = '\\';
            escape[1] = (char)c;
            escape_length = 2;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            escape[0] = '\\';
            escape[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            escape_length = 2;
        } else {
            memcpy(escape, "\\u00", 4);
            escape[4] = hex[c >> 4];
            escape[5] = hex[c & 15];
            escape_length = 6;
        }
        put(log, (const char *)text + plain, i - plain);
        put(log, escape, escape_length);
        i += advance;
        plain = i;
    }
    put(log, (const char *)text + plain, length - plain);
}

size_t json_log_format_time(char *out, size_t size, const struct timespec *when)
{
    struct tm utc;
    size_t used;
    long nanos = when->tv_nsec;
    int digits = 9;

    gmtime_r(&when->tv_sec, &utc);
    used = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &utc);
    if (nanos) {
        while (nanos % 10 == 0) {
            nanos /= 10;
            digits--;
        }
        used += (size_t)snprintf(out + used, size - used, ".%0*ld", digits, nanos);
    }
    used += (size_t)snprintf(out + used, size - used, "Z");
    return used;
}

void json_log_entry(struct json_log *log, const char *stream, const void *first,
                    size_t first_length, const void *second, size_t second_length,
                    const struct timespec *when)
{
    char tail[96];
    char timestamp[48];
    size_t tail_length;

    if (log->fd < 0)
        return;
    if (encoded_owner != log) {
        if (encoded_owner)
            write_out(encoded_owner);
        encoded_owner = log;
    }
    if (log->max_size > 0 && log->size >= log->max_size) {
        rotate(log);
        encoded_owner = log;
    }
    put(log, "{\"log\":\"", 8);
    put_escaped(log, first, first_length);
    put_escaped(log, second, second_length);
    json_log_format_time(timestamp, sizeof(timestamp), when);
    tail_length = (size_t)snprintf(tail, sizeof(tail), "\",\"stream\":\"%s\",\"time\":\"%s\"}\n",
                                   stream, timestamp);
    put(log, tail, tail_length);
}

void json_log_close(struct json_log *log)
{
    if (encoded_owner == log)
        write_out(log);
    if (log->fd >= 0)
        close(log->fd);
    free(log->path);
    json_log_init(log);
}
