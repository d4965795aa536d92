/*
 * framing: see framing.h. Kept free of protobuf-c so that any program can
 * link it; the message packing is the caller's.
 */
#include "framing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

void framing_encode_header(uint8_t header[FRAMING_HEADER_SIZE], uint32_t length)
{
    header[0] = (uint8_t)(length >> 24);
    header[1] = (uint8_t)(length >> 16);
    header[2] = (uint8_t)(length >> 8);
    header[3] = (uint8_t)length;
}

uint32_t framing_decode_header(const uint8_t header[FRAMING_HEADER_SIZE])
{
    return (uint32_t)header[0] << 24 | (uint32_t)header[1] << 16 | (uint32_t)header[2] << 8 |
           (uint32_t)header[3];
}

/* sendmsg with MSG_NOSIGNAL on sockets (a dead peer must not kill the
 * caller), writev on anything else. */
static ssize_t write_vector(int fd, struct iovec *vector, int count, int is_socket)
{
    if (is_socket) {
        struct msghdr message;
        memset(&message, 0, sizeof(message));
        message.msg_iov = vector;
        message.msg_iovlen = (size_t)count;
        return sendmsg(fd, &message, MSG_NOSIGNAL);
    }
    return writev(fd, vector, count);
}

int framing_write(int fd, const void *payload, size_t size, struct berr *err)
{
    uint8_t header[FRAMING_HEADER_SIZE];
    struct iovec vector[2];
    struct stat info;
    int count = 2, is_socket, first = 0;

    if (size > UINT32_MAX)
        return berr_set(err, BERR_INVALID, "write frame: %zu bytes is too large", size);
    is_socket = fstat(fd, &info) == 0 && S_ISSOCK(info.st_mode);
    framing_encode_header(header, (uint32_t)size);
    vector[0].iov_base = header;
    vector[0].iov_len = sizeof(header);
    vector[1].iov_base = (void *)payload;
    vector[1].iov_len = size;
    if (size == 0)
        count = 1;
    while (first < count) {
        ssize_t written = write_vector(fd, vector + first, count - first, is_socket);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return berr_errno(err, errno, "write frame");
        }
        while (first < count && (size_t)written >= vector[first].iov_len) {
            written -= (ssize_t)vector[first].iov_len;
            first++;
        }
        if (first < count) {
            vector[first].iov_base = (char *)vector[first].iov_base + written;
            vector[first].iov_len -= (size_t)written;
        }
    }
    return 0;
}

/* Reads exactly size bytes. Returns the number read before end of stream
 * (size when complete), or -1 with errno. */
static ssize_t read_exactly(int fd, void *buffer, size_t size)
{
    size_t done = 0;

    while (done < size) {
        ssize_t got = read(fd, (char *)buffer + done, size - done);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (got == 0)
            break;
        done += (size_t)got;
    }
    return (ssize_t)done;
}

int framing_read(int fd, size_t max_size, uint8_t **payload, size_t *size, struct berr *err)
{
    uint8_t header[FRAMING_HEADER_SIZE];
    uint32_t length;
    uint8_t *buffer = NULL;
    ssize_t got;

    *payload = NULL;
    *size = 0;
    got = read_exactly(fd, header, sizeof(header));
    if (got < 0)
        return berr_errno(err, errno, "read frame");
    if (got == 0)
        return berr_set(err, BERR_UNAVAILABLE, "read frame: connection closed");
    if ((size_t)got < sizeof(header))
        return berr_set(err, BERR_IO, "read frame: connection closed inside a frame header");
    length = framing_decode_header(header);
    if (length > max_size)
        return berr_set(err, BERR_INVALID, "read frame: %u bytes is above the limit of %zu", length,
                        max_size);
    if (length > 0) {
        buffer = malloc(length);
        if (!buffer)
            return berr_set(err, BERR_NOMEM, "read frame: out of memory for %u bytes", length);
        got = read_exactly(fd, buffer, length);
        if (got < 0 || (size_t)got < length) {
            int rc = got < 0 ? berr_errno(err, errno, "read frame")
                             : berr_set(err, BERR_IO,
                                        "read frame: connection closed after %zd "
                                        "of %u bytes",
                                        got, length);
            free(buffer);
            return rc;
        }
    }
    *payload = buffer;
    *size = length;
    return 0;
}
