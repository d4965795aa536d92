/*
 * buffer: see buffer.h. Growth doubles, starting small (most frames are a
 * few dozen bytes); consumed space at the front is reused by moving the
 * rest down before growing.
 */
#include "buffer.h"

#include <stdlib.h>
#include <string.h>

#define BUFFER_MIN_CAPACITY 256

uint8_t *buffer_reserve(struct buffer *buffer, size_t size)
{
    size_t needed = buffer->length + size, capacity;
    uint8_t *data;

    if (buffer->start + needed <= buffer->capacity)
        return buffer->data + buffer->start + buffer->length;
    if (needed <= buffer->capacity) {
        memmove(buffer->data, buffer->data + buffer->start, buffer->length);
        buffer->start = 0;
        return buffer->data + buffer->length;
    }
    capacity = buffer->capacity ? buffer->capacity : BUFFER_MIN_CAPACITY;
    while (capacity < needed)
        capacity *= 2;
    data = malloc(capacity);
    if (!data)
        return NULL;
    if (buffer->length)
        memcpy(data, buffer->data + buffer->start, buffer->length);
    free(buffer->data);
    buffer->data = data;
    buffer->start = 0;
    buffer->capacity = capacity;
    return data + buffer->length;
}

void buffer_commit(struct buffer *buffer, size_t size)
{
    buffer->length += size;
}

int buffer_append(struct buffer *buffer, const void *data, size_t size)
{
    uint8_t *room;

    if (size == 0)
        return 0;
    room = buffer_reserve(buffer, size);
    if (!room)
        return -1;
    memcpy(room, data, size);
    buffer->length += size;
    return 0;
}

void buffer_consume(struct buffer *buffer, size_t size)
{
    if (size >= buffer->length) {
        buffer_free(buffer);
        return;
    }
    buffer->start += size;
    buffer->length -= size;
}

void buffer_free(struct buffer *buffer)
{
    free(buffer->data);
    buffer->data = NULL;
    buffer->start = buffer->length = buffer->capacity = 0;
}
