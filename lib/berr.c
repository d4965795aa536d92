/*
 * berr: error values with context. See berr.h for the convention.
 * Messages are fixed-size so that reporting an error never allocates (the
 * error may be that memory ran out) and never fails.
 */
#include "berr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum berr_code berr_code_from_errno(int errnum)
{
    switch (errnum) {
    case 0:
        return BERR_OK;
    case ENOENT:
    case ESRCH:
    case ENXIO:
        return BERR_NOT_FOUND;
    case EEXIST:
        return BERR_EXISTS;
    case EBUSY:
        return BERR_CONFLICT;
    case EPERM:
    case EACCES:
    case EROFS:
        return BERR_PERMISSION;
    case EINVAL:
    case ENAMETOOLONG:
    case ELOOP:
    case ENOTDIR:
    case EISDIR:
    case EXDEV:
        return BERR_INVALID;
    case ENOSYS:
    case EOPNOTSUPP:
    case EAFNOSUPPORT:
    case EPROTONOSUPPORT:
        return BERR_UNSUPPORTED;
    case ENOMEM:
        return BERR_NOMEM;
    case ENOSPC:
    case EDQUOT:
        return BERR_NOSPACE;
    case ETIMEDOUT:
        return BERR_TIMEOUT;
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE:
    case ENOTCONN:
        return BERR_UNAVAILABLE;
    case ECANCELED:
        return BERR_CANCELLED;
    default:
        return BERR_IO;
    }
}

const char *berr_code_name(enum berr_code code)
{
    static const char *const names[] = {
        [BERR_OK] = "ok",
        [BERR_INVALID] = "invalid argument",
        [BERR_NOT_FOUND] = "not found",
        [BERR_EXISTS] = "already exists",
        [BERR_CONFLICT] = "conflict",
        [BERR_PERMISSION] = "permission denied",
        [BERR_UNSUPPORTED] = "not supported",
        [BERR_IO] = "i/o error",
        [BERR_NOMEM] = "out of memory",
        [BERR_NOSPACE] = "no space left",
        [BERR_TIMEOUT] = "timed out",
        [BERR_UNAVAILABLE] = "unavailable",
        [BERR_CANCELLED] = "cancelled",
        [BERR_INTERNAL] = "internal error",
    };
    if ((size_t)code < sizeof(names) / sizeof(names[0]) && names[code])
        return names[code];
    return "unknown error";
}

int berr_set(struct berr *err, enum berr_code code, const char *format, ...)
{
    if (err) {
        va_list args;
        err->code = code;
        err->sys_errno = 0;
        va_start(args, format);
        vsnprintf(err->message, sizeof(err->message), format, args);
        va_end(args);
    }
    return code;
}

int berr_errno(struct berr *err, int errnum, const char *format, ...)
{
    enum berr_code code = berr_code_from_errno(errnum);
    if (code == BERR_OK)
        code = BERR_IO;
    if (err) {
        va_list args;
        size_t used;
        err->code = code;
        err->sys_errno = errnum;
        va_start(args, format);
        vsnprintf(err->message, sizeof(err->message), format, args);
        va_end(args);
        used = strlen(err->message);
        snprintf(err->message + used, sizeof(err->message) - used, ": %s", strerror(errnum));
    }
    return code;
}

int berr_prefix(struct berr *err, const char *format, ...)
{
    char old[BERR_MESSAGE_MAX];
    va_list args;
    size_t used;

    if (!err)
        return BERR_INTERNAL;
    memcpy(old, err->message, sizeof(old));
    va_start(args, format);
    vsnprintf(err->message, sizeof(err->message), format, args);
    va_end(args);
    used = strlen(err->message);
    /* Append ": old", truncating at the buffer's end. */
    if (used + 2 < sizeof(err->message)) {
        size_t room = sizeof(err->message) - used - 2 - 1;
        size_t old_length = strnlen(old, sizeof(old) - 1);
        if (old_length > room)
            old_length = room;
        err->message[used] = ':';
        err->message[used + 1] = ' ';
        memcpy(err->message + used + 2, old, old_length);
        err->message[used + 2 + old_length] = '\0';
    }
    return err->code;
}

void berr_clear(struct berr *err)
{
    if (err) {
        err->code = BERR_OK;
        err->sys_errno = 0;
        err->message[0] = '\0';
    }
}
