/*
 * berr: how every berth function reports failure.
 *
 * A function that can fail returns 0 on success or a berr_code, and fills the
 * caller's struct berr with a message that says what failed and on what
 * ("open /run/x/config.json: No such file or directory"). Callers add context
 * as the error travels up ("create container abc: ...") and only the top
 * level (a CLI's main, a daemon's request handler) prints or sends it, once.
 * The code is coarse on purpose: it is what the engine maps to an HTTP status
 * and the supervisor to a gRPC status, so it names the kind of failure, not
 * the place.
 */
#ifndef BERTH_BERR_H
#define BERTH_BERR_H

#include <stdarg.h>
#include <stddef.h>

enum berr_code {
    BERR_OK = 0,
    BERR_INVALID,     /* bad input: malformed JSON, wrong flag, bad value */
    BERR_NOT_FOUND,   /* no such container, image, file, ... */
    BERR_EXISTS,      /* already exists: duplicate id or name */
    BERR_CONFLICT,    /* the object is in the wrong state for the request */
    BERR_PERMISSION,  /* the kernel or a policy refused */
    BERR_UNSUPPORTED, /* valid, but this build or host cannot do it */
    BERR_IO,          /* a system call failed for another reason */
    BERR_NOMEM,       /* out of memory */
    BERR_NOSPACE,     /* disk full or quota exceeded */
    BERR_TIMEOUT,     /* a deadline passed */
    BERR_UNAVAILABLE, /* a peer (daemon, shim, socket) is not there */
    BERR_CANCELLED,   /* the caller gave up */
    BERR_INTERNAL,    /* a bug: an invariant did not hold */
};

#define BERR_MESSAGE_MAX 1024

struct berr {
    enum berr_code code;
    int sys_errno; /* errno behind the failure, 0 if none */
    char message[BERR_MESSAGE_MAX];
};

/* Fills err (if not NULL) and returns code, so callers can `return berr_set(...)`. */
int berr_set(struct berr *err, enum berr_code code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Like berr_set for a failed system call: appends ": strerror(errnum)" and
 * picks the code from errnum (ENOENT → BERR_NOT_FOUND, ENOSPC → BERR_NOSPACE, ...). */
int berr_errno(struct berr *err, int errnum, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends context to an error already set: "context: old message". Returns its code. */
int berr_prefix(struct berr *err, const char *format, ...) __attribute__((format(printf, 2, 3)));

void berr_clear(struct berr *err);

/* The code a given errno maps to. */
enum berr_code berr_code_from_errno(int errnum);

/* A short name for a code ("not found"), for logs and tests. */
const char *berr_code_name(enum berr_code code);

#endif
