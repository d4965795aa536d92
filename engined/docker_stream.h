/*
 * docker_stream: the byte-level conventions of Docker's stdio streams,
 * shared by attach, exec start and logs.
 *
 * Why one module: the three endpoints must agree on them exactly, and the
 * docker CLI's stdcopy rejects anything else:
 *  - a process without a terminal has its output multiplexed: each chunk
 *    goes out behind an 8-byte header [stream, 0, 0, 0, size as a
 *    big-endian uint32] (stream 1 stdout, 2 stderr, 3 an engine error);
 *    with a terminal the bytes go out raw;
 *  - the Content-Type says which (API 1.42 and later; older clients get
 *    the raw-stream type whatever the framing, as dockerd sends);
 *  - detach keys (default ctrl-p,ctrl-q; "a", "ctrl-x", "ctrl-@",
 *    "ctrl-[", ...) end an attach to a terminal without stopping the
 *    process; they are swallowed, and bytes that started to look like the
 *    sequence but were not it are passed on.
 */
#ifndef BERTH_ENGINED_DOCKER_STREAM_H
#define BERTH_ENGINED_DOCKER_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berr.h"

enum docker_stream_id {
    DOCKER_STREAM_STDIN = 0,
    DOCKER_STREAM_STDOUT = 1,
    DOCKER_STREAM_STDERR = 2,
    DOCKER_STREAM_SYSTEMERR = 3,
};

#define DOCKER_STREAM_HEADER 8
#define DOCKER_RAW_STREAM    "application/vnd.docker.raw-stream"
#define DOCKER_MUX_STREAM    "application/vnd.docker.multiplexed-stream"

/* The Content-Type of a stream: multiplexed when the process has no
 * terminal and the client speaks API 1.42 or later. */
const char *docker_stream_content_type(bool multiplexed, int api_version);

/* The frame header of `length` bytes of `stream`. */
void docker_stream_header(unsigned char header[DOCKER_STREAM_HEADER], int stream, uint32_t length);

#define DETACH_KEYS_MAX     16
#define DETACH_KEYS_DEFAULT "ctrl-p,ctrl-q"

struct detach_keys {
    unsigned char keys[DETACH_KEYS_MAX];
    size_t length;  /* 0: no detaching */
    size_t matched; /* how much of the sequence the bytes so far ended with */
};

/* Parses a detachKeys value (NULL or "": the default). BERR_INVALID with
 * dockerd's message for an unknown key. */
int detach_keys_parse(const char *text, struct detach_keys *out, struct berr *err);

/*
 * Passes `length` bytes of stdin through the detector: what is to be sent
 * on goes to out (which needs length + DETACH_KEYS_MAX bytes: bytes held
 * back from an earlier call may come out again), *out_length says how
 * much. True when the sequence is complete: out then holds what came
 * before it, and the rest of data is to be dropped.
 */
bool detach_keys_scan(struct detach_keys *keys, const unsigned char *data, size_t length,
                      unsigned char *out, size_t *out_length);

#endif
