/*
 * buffer: a growable byte queue (append at the end, consume from the front).
 *
 * The shim keeps one per connection (frames not yet written), per process
 * stdin (bytes the process has not read yet) and per runtime command
 * (captured output). An idle shim must stay small, so a buffer owns no
 * memory while empty and gives it back as soon as it drains.
 */
#ifndef BERTH_SHIM_BUFFER_H
#define BERTH_SHIM_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buffer {
    uint8_t *data;
    size_t start;  /* first byte not consumed yet */
    size_t length; /* bytes from start */
    size_t capacity;
};

/* Room for size more bytes at the end; NULL when out of memory. Commit what
 * was written there with buffer_commit. */
uint8_t *buffer_reserve(struct buffer *buffer, size_t size);
void buffer_commit(struct buffer *buffer, size_t size);
/* 0, or -1 when out of memory. */
int buffer_append(struct buffer *buffer, const void *data, size_t size);
static inline const uint8_t *buffer_head(const struct buffer *buffer)
{
    return buffer->data + buffer->start;
}
/* Drops size bytes from the front; frees the memory once empty. */
void buffer_consume(struct buffer *buffer, size_t size);
static inline bool buffer_empty(const struct buffer *buffer)
{
    return buffer->length == 0;
}
void buffer_free(struct buffer *buffer);

#endif
