/*
 * arena: a bump allocator in its own anonymous mapping.
 *
 * Why: the container's first process is cloned with CLONE_VM, so it shares
 * the runtime's memory until it execs (no copy-on-write faults, which cost
 * tens of microseconds each on a VM). Everything that process reads must
 * stay valid and unchanged while the parent goes on, and the parent's
 * malloc/free must never touch it. So the parsed spec and every plan the
 * child follows live in an arena that is only ever released at exit.
 */
#ifndef BERTH_RUNTIME_ARENA_H
#define BERTH_RUNTIME_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
    struct arena_chunk *chunks;
    char *cursor;
    char *end;
};

void arena_init(struct arena *arena);
/* Unmaps everything. Only when no cloned child can still read the arena. */
void arena_release(struct arena *arena);

/* Zeroed memory, aligned for any type; NULL only when mmap fails. */
void *arena_alloc(struct arena *arena, size_t size);
char *arena_strdup(struct arena *arena, const char *text);
char *arena_strndup(struct arena *arena, const char *text, size_t length);
char *arena_printf(struct arena *arena, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

#endif
