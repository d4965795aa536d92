/*
 * json_log_reader: see json_log_reader.h. A reader holds one descriptor
 * per file (oldest first, LOG last) and a buffer of unread bytes of the
 * current one; entries are cut at newlines and decoded in place.
 */
#include "json_log_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "docker_stream.h"
#include "log.h"

#define BLOCK     65536
#define FILES_MAX 64
/* Refreshes that may not find the file we were reading (mid-rotation)
 * before we give up on it and go on in LOG. */
#define LOST_RETRIES 5

/* ---- decoding one line ---- */

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* p at an opening quote: the closing quote's position, or NULL. */
static const char *string_end(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p;
    }
    return NULL;
}

static int hex4(const char *p, const char *end)
{
    int value = 0;

    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        value <<= 4;
        if (c >= '0' && c <= '9')
            value |= c - '0';
        else if (c >= 'a' && c <= 'f')
            value |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            value |= c - 'A' + 10;
        else
            return -1;
    }
    return value;
}

static size_t put_utf8(char *out, unsigned code)
{
    if (code < 0x80) {
        out[0] = (char)code;
        return 1;
    }
    if (code < 0x800) {
        out[0] = (char)(0xC0 | code >> 6);
        out[1] = (char)(0x80 | (code & 0x3F));
        return 2;
    }
    if (code < 0x10000) {
        out[0] = (char)(0xE0 | code >> 12);
        out[1] = (char)(0x80 | (code >> 6 & 0x3F));
        out[2] = (char)(0x80 | (code & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | code >> 18);
    out[1] = (char)(0x80 | (code >> 12 & 0x3F));
    out[2] = (char)(0x80 | (code >> 6 & 0x3F));
    out[3] = (char)(0x80 | (code & 0x3F));
    return 4;
}

/* A \u escape at p (after the backslash and 'u'), with a following low
 * surrogate if it is a high one; *p moves past it. */
static unsigned unicode_escape(const char **p, const char *end)
{
    int high = hex4(*p, end), low;

    if (high < 0)
        return 0xFFFD;
    *p += 4;
    if (high < 0xD800 || high > 0xDFFF)
        return (unsigned)high;
    if (high > 0xDBFF || end - *p < 6 || (*p)[0] != '\\' || (*p)[1] != 'u' ||
        (low = hex4(*p + 2, end)) < 0xDC00 || low > 0xDFFF)
        return 0xFFFD;
    *p += 6;
    return 0x10000 + (((unsigned)high - 0xD800) << 10) + ((unsigned)low - 0xDC00);
}

/* Decodes the string between quotes [begin, close) into out (which holds
 * close - begin bytes: decoding never lengthens). */
static size_t decode_string(const char *begin, const char *close, char *out)
{
    const char *p = begin;
    size_t n = 0;

    while (p < close) {
        const char *backslash = memchr(p, '\\', (size_t)(close - p));
        size_t plain = backslash ? (size_t)(backslash - p) : (size_t)(close - p);
        memcpy(out + n, p, plain);
        n += plain;
        p += plain;
        if (!backslash)
            break;
        p++; /* the backslash */
        if (p >= close)
            break;
        switch (*p++) {
        case 'n':
            out[n++] = '\n';
            break;
        case 't':
            out[n++] = '\t';
            break;
        case 'r':
            out[n++] = '\r';
            break;
        case 'b':
            out[n++] = '\b';
            break;
        case 'f':
            out[n++] = '\f';
            break;
        case 'u':
            n += put_utf8(out + n, unicode_escape(&p, close));
            break;
        default:
            out[n++] = p[-1];
            break; /* \" \\ \/ */
        }
    }
    return n;
}

/* Skips any JSON value at p; NULL if malformed. */
static const char *skip_value(const char *p, const char *end)
{
    int depth = 0;

    if (p < end && *p == '"') {
        p = string_end(p, end);
        return p ? p + 1 : NULL;
    }
    for (; p < end; p++) {
        if (*p == '"') {
            if (!(p = string_end(p, end)))
                return NULL;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            if (depth-- == 0)
                return p;
            if (depth == 0)
                return p + 1;
        } else if (depth == 0 && (*p == ',' || *p == ' ')) {
            return p;
        }
    }
    return depth == 0 ? p : NULL;
}

static int grow_scratch(struct json_log_scratch *scratch, size_t size)
{
    char *bigger;

    if (size <= scratch->capacity)
        return 0;
    if (!(bigger = realloc(scratch->data, size)))
        return -1;
    scratch->data = bigger;
    scratch->capacity = size;
    return 0;
}

/* Looks at one member's string value [begin, close). */
static int take_member(const char *key, size_t key_length, const char *begin, const char *close,
                       struct json_log_scratch *scratch, struct json_log_entry *entry)
{
    size_t length = (size_t)(close - begin);
    char small[64];

    if (key_length == 3 && memcmp(key, "log", 3) == 0) {
        if (grow_scratch(scratch, length + 1))
            return -1;
        entry->text = scratch->data;
        entry->length = decode_string(begin, close, scratch->data);
    } else if (key_length == 6 && memcmp(key, "stream", 6) == 0 && length < sizeof(small)) {
        size_t n = decode_string(begin, close, small);
        entry->stream =
            n == 6 && memcmp(small, "stderr", 6) == 0 ? DOCKER_STREAM_STDERR : DOCKER_STREAM_STDOUT;
    } else if (key_length == 4 && memcmp(key, "time", 4) == 0 && length < sizeof(small)) {
        size_t n = decode_string(begin, close, small);
        if (json_log_parse_time(small, n, &entry->time))
            entry->time = 0;
    }
    return 0;
}

int json_log_decode(const char *line, size_t length, struct json_log_scratch *scratch,
                    struct json_log_entry *entry, struct berr *err)
{
    const char *p = line, *end = line + length;
    bool has_log = false;

    memset(entry, 0, sizeof(*entry));
    entry->stream = DOCKER_STREAM_STDOUT;
    p = skip_space(p, end);
    if (p == end || *p++ != '{')
        return berr_set(err, BERR_INVALID, "log entry: not an object");
    for (;;) {
        const char *key, *key_end, *value_end;
        p = skip_space(p, end);
        if (p < end && *p == '}')
            break;
        if (p == end || *p != '"' || !(key_end = string_end(p, end)))
            return berr_set(err, BERR_INVALID, "log entry: malformed key");
        key = p + 1;
        p = skip_space(key_end + 1, end);
        if (p == end || *p++ != ':')
            return berr_set(err, BERR_INVALID, "log entry: malformed member");
        p = skip_space(p, end);
        if (p < end && *p == '"') {
            if (!(value_end = string_end(p, end)))
                return berr_set(err, BERR_INVALID, "log entry: unterminated string");
            if (take_member(key, (size_t)(key_end - key), p + 1, value_end, scratch, entry))
                return berr_set(err, BERR_NOMEM, "out of memory");
            has_log |= (key_end - key) == 3 && memcmp(key, "log", 3) == 0;
            p = value_end + 1;
        } else if (!(p = skip_value(p, end))) {
            return berr_set(err, BERR_INVALID, "log entry: malformed value");
        }
        p = skip_space(p, end);
        if (p < end && *p == ',')
            p++;
        else if (p < end && *p == '}')
            break;
        else
            return berr_set(err, BERR_INVALID, "log entry: expected , or }");
    }
    if (!has_log)
        return berr_set(err, BERR_INVALID, "log entry: no \"log\"");
    return 0;
}

void json_log_scratch_free(struct json_log_scratch *scratch)
{
    free(scratch->data);
    scratch->data = NULL;
    scratch->capacity = 0;
}

/* ---- time ---- */

static bool digits(const char *p, int count, int *value)
{
    *value = 0;
    for (int i = 0; i < count; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        *value = *value * 10 + (p[i] - '0');
    }
    return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int json_log_parse_time(const char *text, size_t length, int64_t *ns)
{
    int year, month, day, hour, minute, second, offset_h, offset_m;
    const char *p = text + 19, *end = text + length;
    int64_t fraction = 0, seconds;
    int scale = 0;

    if (length < 20 || !digits(text, 4, &year) || text[4] != '-' || !digits(text + 5, 2, &month) ||
        text[7] != '-' || !digits(text + 8, 2, &day) || (text[10] != 'T' && text[10] != 't') ||
        !digits(text + 11, 2, &hour) || text[13] != ':' || !digits(text + 14, 2, &minute) ||
        text[16] != ':' || !digits(text + 17, 2, &second) || month < 1 || month > 12 || day < 1 ||
        day > 31)
        return -1;
    if (*p == '.') {
        for (p++; p < end && *p >= '0' && *p <= '9'; p++)
            if (scale < 9) {
                fraction = fraction * 10 + (*p - '0');
                scale++;
            }
        for (; scale < 9; scale++)
            fraction *= 10;
    }
    seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    if (p < end && (*p == 'Z' || *p == 'z')) {
        p++;
    } else if (end - p >= 6 && (*p == '+' || *p == '-') && digits(p + 1, 2, &offset_h) &&
               p[3] == ':' && digits(p + 4, 2, &offset_m)) {
        int64_t offset = offset_h * 3600 + offset_m * 60;
        seconds += *p == '+' ? -offset : offset;
        p += 6;
    } else {
        return -1;
    }
    if (p != end)
        return -1;
    *ns = seconds * 1000000000LL + fraction;
    return 0;
}

/* ---- the files ---- */

struct log_file {
    int fd; /* -1: not there */
    dev_t device;
    ino_t inode;
};

struct json_log_reader {
    char *path;
    int max_files;
    struct log_file files[FILES_MAX]; /* oldest first; the last is path itself */
    size_t count, current;
    off_t offset; /* of the current file: where the buffer's bytes end */
    char *buffer;
    size_t capacity, start, end; /* unread bytes: buffer[start, end) */
    struct json_log_scratch scratch;
    int lost; /* refreshes that did not find the file we read (LOST_RETRIES) */
};

static void open_file(struct log_file *file, const char *path)
{
    struct stat status;

    file->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (file->fd >= 0 && fstat(file->fd, &status) == 0) {
        file->device = status.st_dev;
        file->inode = status.st_ino;
    }
}

int json_log_reader_open(const char *path, int max_files, struct json_log_reader **out,
                         struct berr *err)
{
    struct json_log_reader *reader = calloc(1, sizeof(*reader));
    char name[4096];

    if (!reader || !(reader->path = strdup(path)) || !(reader->buffer = malloc(BLOCK))) {
        if (reader)
            free(reader->path);
        free(reader);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    reader->capacity = BLOCK;
    reader->max_files = max_files < 1 ? 1 : max_files > FILES_MAX ? FILES_MAX : max_files;
    for (int i = reader->max_files - 1; i >= 1; i--) {
        struct log_file file = {.fd = -1};
        snprintf(name, sizeof(name), "%s.%d", path, i);
        open_file(&file, name);
        if (file.fd >= 0)
            reader->files[reader->count++] = file;
    }
    reader->files[reader->count].fd = -1;
    open_file(&reader->files[reader->count++], path);
    *out = reader;
    return 0;
}

void json_log_reader_close(struct json_log_reader *reader)
{
    if (!reader)
        return;
    for (size_t i = 0; i < reader->count; i++)
        if (reader->files[i].fd >= 0)
            close(reader->files[i].fd);
    json_log_scratch_free(&reader->scratch);
    free(reader->buffer);
    free(reader->path);
    free(reader);
}

static void position(struct json_log_reader *reader, size_t index, off_t offset)
{
    reader->current = index;
    reader->offset = offset;
    reader->start = reader->end = 0;
    if (reader->files[index].fd >= 0)
        lseek(reader->files[index].fd, offset, SEEK_SET);
}

/* Walks file i backwards from its end, counting line starts against
 * *remaining; true (and the reader placed) once it reached 0. */
static int tail_file(struct json_log_reader *reader, size_t i, int64_t *remaining, bool *placed,
                     struct berr *err)
{
    int fd = reader->files[i].fd;
    struct stat status;
    off_t size, block_start, pos;

    *placed = false;
    if (fd < 0 || fstat(fd, &status) < 0 || status.st_size == 0)
        return 0;
    size = status.st_size;
    for (pos = size; pos > 0; pos = block_start) {
        ssize_t got;
        block_start = pos > BLOCK ? pos - BLOCK : 0;
        got = pread(fd, reader->buffer, (size_t)(pos - block_start), block_start);
        if (got < 0)
            return berr_errno(err, errno, "read %s", reader->path);
        for (ssize_t j = got - 1; j >= 0; j--) {
            off_t at = block_start + j;
            if (reader->buffer[j] != '\n' || at == size - 1)
                continue; /* the last line's own newline starts nothing */
            if (--*remaining == 0) {
                position(reader, i, at + 1);
                *placed = true;
                return 0;
            }
        }
    }
    if (--*remaining == 0) { /* the file's first line */
        position(reader, i, 0);
        *placed = true;
    }
    return 0;
}

int json_log_reader_tail(struct json_log_reader *reader, int64_t lines, struct berr *err)
{
    size_t last = reader->count - 1;
    int64_t remaining = lines;
    bool placed = false;
    int rc;

    if (lines < 0)
        return 0;
    if (lines == 0) {
        off_t end = reader->files[last].fd >= 0 ? lseek(reader->files[last].fd, 0, SEEK_END) : 0;
        position(reader, last, end < 0 ? 0 : end);
        return 0;
    }
    for (size_t i = reader->count; i-- > 0;) {
        if ((rc = tail_file(reader, i, &remaining, &placed, err)))
            return rc;
        if (placed)
            return 0;
    }
    position(reader, 0, 0);
    return 0;
}

/* Makes room at the buffer's end (moving unread bytes down, or growing). */
static int make_room(struct json_log_reader *reader)
{
    char *bigger;

    if (reader->start > 0) {
        memmove(reader->buffer, reader->buffer + reader->start, reader->end - reader->start);
        reader->end -= reader->start;
        reader->start = 0;
    }
    if (reader->end < reader->capacity)
        return 0;
    if (!(bigger = realloc(reader->buffer, reader->capacity * 2)))
        return -1;
    reader->buffer = bigger;
    reader->capacity *= 2;
    return 0;
}

/* Reads more of the current file: >0 bytes, 0 at its end, <0 error. */
static ssize_t fill(struct json_log_reader *reader, struct berr *err)
{
    int fd = reader->files[reader->current].fd;
    ssize_t got;

    if (fd < 0)
        return 0;
    if (make_room(reader)) {
        berr_set(err, BERR_NOMEM, "out of memory");
        return -1;
    }
    do
        got = read(fd, reader->buffer + reader->end, reader->capacity - reader->end);
    while (got < 0 && errno == EINTR);
    if (got < 0) {
        berr_errno(err, errno, "read %s", reader->path);
        return -1;
    }
    reader->end += (size_t)got;
    reader->offset += got;
    return got;
}

int json_log_reader_next(struct json_log_reader *reader, struct json_log_entry *entry,
                         struct berr *err)
{
    for (;;) {
        char *line = reader->buffer + reader->start;
        char *newline = memchr(line, '\n', reader->end - reader->start);
        ssize_t got;
        if (newline) {
            struct berr ignored;
            reader->start = (size_t)(newline + 1 - reader->buffer);
            if (json_log_decode(line, (size_t)(newline - line), &reader->scratch, entry,
                                &ignored) == 0)
                return 0;
            continue; /* not an entry: skipped */
        }
        if ((got = fill(reader, err)) < 0)
            return err->code ? err->code : BERR_IO;
        if (got > 0)
            continue;
        if (reader->current + 1 >= reader->count)
            return JSON_LOG_AGAIN;
        /* The next newer file; a rotated file ends with a whole line. */
        position(reader, reader->current + 1, 0);
    }
}

/* ---- following ---- */

/* The rotated file (path.K) that holds device/inode, or 0 when none. */
static int rotated_index(const struct json_log_reader *reader, dev_t device, ino_t inode)
{
    char name[4096];
    struct stat status;

    for (int k = 1; k < reader->max_files; k++) {
        snprintf(name, sizeof(name), "%s.%d", reader->path, k);
        if (stat(name, &status) == 0 && status.st_dev == device && status.st_ino == inode)
            return k;
    }
    return 0;
}

/* Replaces the current (last) file with the one at name. */
static bool switch_to(struct json_log_reader *reader, const char *name)
{
    struct log_file *file = &reader->files[reader->count - 1];
    struct log_file next = {.fd = -1};

    open_file(&next, name);
    if (next.fd < 0)
        return false;
    if (file->fd >= 0)
        close(file->fd);
    *file = next;
    reader->lost = 0;
    position(reader, reader->count - 1, 0);
    return true;
}

bool json_log_reader_refresh(struct json_log_reader *reader)
{
    struct log_file *file = &reader->files[reader->count - 1];
    struct stat status, own;
    char name[4096];
    int k;

    if (reader->current + 1 < reader->count)
        return true;
    if (file->fd < 0)
        return switch_to(reader, reader->path);
    if (fstat(file->fd, &own) == 0 && own.st_size > reader->offset)
        return true; /* more came meanwhile */
    if (stat(reader->path, &status) < 0)
        return false; /* mid-rotation: look again later */
    if (status.st_dev == file->device && status.st_ino == file->inode) {
        if (status.st_size >= reader->offset)
            return false;
        position(reader, reader->count - 1, 0); /* truncated (max-file 1) */
        return true;
    }
    /* Rotated away, and drained: go on in the next newer file. */
    k = rotated_index(reader, file->device, file->inode);
    if (k > 1) {
        snprintf(name, sizeof(name), "%s.%d", reader->path, k - 1);
        return switch_to(reader, name);
    }
    if (k == 0 && ++reader->lost < LOST_RETRIES)
        return false; /* maybe mid-rename; else it was deleted */
    return switch_to(reader, reader->path);
}
