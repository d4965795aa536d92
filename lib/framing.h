/*
 * framing: length-prefixed frames on a byte stream, the wire format between
 * berth-supervisord and each berth-shim.
 *
 * A frame is a 4-byte big-endian payload length followed by the payload (one
 * protobuf message; this module does not look inside). The length is checked
 * against a limit before anything is allocated, because the other end may be
 * broken or hostile and a 4 GiB allocation is a denial of service.
 *
 * framing_read and framing_write are for blocking descriptors (the
 * supervisor's shim client): they retry on EINTR and short transfers. The
 * shim's event loop reads non-blocking sockets incrementally and only uses
 * the header helpers.
 */
#ifndef BERTH_FRAMING_H
#define BERTH_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#include "berr.h"

#define FRAMING_HEADER_SIZE 4
/* The default limit on a payload: the largest message either side sends is a
 * stats or state response, far below this. */
#define FRAMING_DEFAULT_MAX_SIZE (4u << 20)

void framing_encode_header(uint8_t header[FRAMING_HEADER_SIZE], uint32_t length);
uint32_t framing_decode_header(const uint8_t header[FRAMING_HEADER_SIZE]);

/* Writes one frame (header and payload) to a blocking fd. A peer that went
 * away is BERR_UNAVAILABLE; SIGPIPE is not raised for sockets. */
int framing_write(int fd, const void *payload, size_t size, struct berr *err);

/* Reads one frame from a blocking fd into a malloc'ed buffer (*payload, free
 * it; NULL for an empty payload). End of stream before the first byte is
 * BERR_UNAVAILABLE ("connection closed"), inside a frame BERR_IO; a length
 * above max_size is BERR_INVALID, and the stream is then out of sync. */
int framing_read(int fd, size_t max_size, uint8_t **payload, size_t *size, struct berr *err);

#endif
