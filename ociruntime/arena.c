/*
 * arena: see arena.h. Chunks come from mmap directly (not malloc) so that
 * no allocator metadata is shared with the cloned child.
 */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA_CHUNK_SIZE (64 * 1024)
#define ARENA_ALIGN      16

struct arena_chunk {
    struct arena_chunk *next;
    size_t size;
};

void arena_init(struct arena *arena)
{
    arena->chunks = NULL;
    arena->cursor = arena->end = NULL;
}

void arena_release(struct arena *arena)
{
    struct arena_chunk *chunk = arena->chunks;

    while (chunk) {
        struct arena_chunk *next = chunk->next;
        munmap(chunk, chunk->size);
        chunk = next;
    }
    arena_init(arena);
}

static int add_chunk(struct arena *arena, size_t at_least)
{
    size_t size = ARENA_CHUNK_SIZE;
    struct arena_chunk *chunk;

    while (size < at_least + sizeof(struct arena_chunk) + ARENA_ALIGN)
        size *= 2;
    chunk = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (chunk == MAP_FAILED)
        return -1;
    chunk->next = arena->chunks;
    chunk->size = size;
    arena->chunks = chunk;
    arena->cursor = (char *)chunk + sizeof(struct arena_chunk);
    arena->end = (char *)chunk + size;
    return 0;
}

void *arena_alloc(struct arena *arena, size_t size)
{
    uintptr_t aligned;
    void *memory;

    if (size == 0)
        size = 1;
    aligned = ((uintptr_t)arena->cursor + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1);
    if (!arena->cursor || aligned + size > (uintptr_t)arena->end) {
        if (add_chunk(arena, size) < 0)
            return NULL;
        aligned = ((uintptr_t)arena->cursor + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1);
    }
    memory = (void *)aligned;
    arena->cursor = (char *)aligned + size;
    /* Fresh mmap pages are zero, and the arena never reuses memory. */
    return memory;
}

char *arena_strndup(struct arena *arena, const char *text, size_t length)
{
    char *copy = arena_alloc(arena, length + 1);

    if (copy)
        memcpy(copy, text, length);
    return copy;
}

char *arena_strdup(struct arena *arena, const char *text)
{
    return text ? arena_strndup(arena, text, strlen(text)) : NULL;
}

char *arena_printf(struct arena *arena, const char *format, ...)
{
    va_list args;
    int length;
    char *out;

    va_start(args, format);
    length = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (length < 0)
        return NULL;
    out = arena_alloc(arena, (size_t)length + 1);
    if (!out)
        return NULL;
    va_start(args, format);
    vsnprintf(out, (size_t)length + 1, format, args);
    va_end(args);
    return out;
}
