/*
 * log: see log.h. Formatting happens into a stack buffer and leaves in one
 * write so that concurrent writers never interleave within a line.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

static int log_destination = 2;
static enum log_level log_minimum = LOG_LEVEL_INFO;
static enum log_format log_output_format = LOG_FORMAT_TEXT;

static const char *const level_names[] = {"debug", "info", "warning", "error"};

void log_setup(int fd, enum log_level minimum, enum log_format format)
{
    log_destination = fd;
    log_minimum = minimum;
    log_output_format = format;
}

int log_parse_level(const char *name, enum log_level *out)
{
    static const struct {
        const char *name;
        enum log_level level;
    } names[] = {{"debug", LOG_LEVEL_DEBUG},
                 {"info", LOG_LEVEL_INFO},
                 {"warn", LOG_LEVEL_WARN},
                 {"warning", LOG_LEVEL_WARN},
                 {"error", LOG_LEVEL_ERROR}};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    }
    return -1;
}

int log_parse_format(const char *name, enum log_format *out)
{
    if (strcmp(name, "text") == 0)
        *out = LOG_FORMAT_TEXT;
    else if (strcmp(name, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return -1;
    return 0;
}

bool log_enabled(enum log_level level)
{
    return log_destination >= 0 && level >= log_minimum;
}

int log_fd(void)
{
    return log_destination;
}

/* RFC 3339 with nanoseconds in UTC, as Go's time.RFC3339Nano prints it. */
static void format_time(char *out, size_t size)
{
    struct timespec now;
    struct tm utc;
    size_t used;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &utc);
    used = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(out + used, size - used, ".%09ldZ", now.tv_nsec);
}

void log_message(enum log_level level, const char *format, ...)
{
    char message[2048];
    char line[2048 * 6 + 256]; /* room for the message with every byte escaped */
    char timestamp[48];
    va_list args;
    size_t length;
    int saved_errno = errno;

    if (!log_enabled(level))
        return;
    va_start(args, format);
    vsnprintf(message, sizeof(message), format, args);
    va_end(args);
    format_time(timestamp, sizeof(timestamp));

    if (log_output_format == LOG_FORMAT_JSON) {
        length =
            (size_t)snprintf(line, sizeof(line), "{\"level\":\"%s\",\"msg\":", level_names[level]);
        length += json_quote(line + length, sizeof(line) - length, message);
        if (length < sizeof(line))
            length += (size_t)snprintf(line + length, sizeof(line) - length, ",\"time\":\"%s\"}\n",
                                       timestamp);
    } else {
        length = (size_t)snprintf(line, sizeof(line), "time=\"%s\" level=%s msg=", timestamp,
                                  level_names[level]);
        length += json_quote(line + length, sizeof(line) - length, message);
        if (length < sizeof(line))
            length += (size_t)snprintf(line + length, sizeof(line) - length, "\n");
    }
    while (write(log_destination, line, length) < 0 && errno == EINTR)
        ;
    errno = saved_errno;
}
