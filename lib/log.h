/*
 * log: leveled log lines, as text or as JSON lines.
 *
 * One process-wide destination (an fd), set once at startup. The JSON form is
 * the one runc writes with --log-format json ({"level","msg","time"}), which
 * containerd-style supervisors read back to report a runtime's errors; the
 * text form is logrus-like. Each line goes out in a single write(2), so
 * several processes may append to one log file without tearing lines.
 */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H

#include <stdbool.h>

enum log_level {
    LOG_LEVEL_DEBUG,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR,
};

enum log_format {
    LOG_FORMAT_TEXT,
    LOG_FORMAT_JSON,
};

/* fd: where lines go (-1: nowhere). The fd stays the caller's. */
void log_setup(int fd, enum log_level minimum, enum log_format format);
int log_parse_level(const char *name, enum log_level *out);
int log_parse_format(const char *name, enum log_format *out);
bool log_enabled(enum log_level level);
int log_fd(void);

void log_message(enum log_level level, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_enabled(LOG_LEVEL_DEBUG))                                                          \
            log_message(LOG_LEVEL_DEBUG, __VA_ARGS__);                                             \
    } while (0)
#define log_info(...)  log_message(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)  log_message(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_message(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
