/*
 * loop: the shim's one event loop, over epoll.
 *
 * The shim has no threads: sockets, pipes, the signalfd and the runtime's
 * output are all watches in one epoll set, level-triggered. A watch is
 * embedded in the object that owns the fd (a connection, a process stream)
 * and names the function to call. An object closed while a batch of events
 * is being handled may still be named by a later event of the same batch, so
 * closing a watch marks it (fd -1, and its events are skipped) and objects
 * are freed with loop_defer_free, after the batch.
 */
#ifndef BERTH_SHIM_LOOP_H
#define BERTH_SHIM_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "berr.h"

struct watch;
typedef void (*watch_handler)(struct watch *watch, uint32_t events);

struct watch {
    int fd; /* -1: not open */
    uint32_t events;
    bool registered;
    watch_handler handler;
};

int loop_init(struct berr *err);

/* Starts watching fd (which the watch then owns) for events. */
int loop_add(struct watch *watch, int fd, uint32_t events, watch_handler handler, struct berr *err);
/* Changes the events watched (a no-op when they are the same). */
void loop_set_events(struct watch *watch, uint32_t events);
/* Stops watching and closes the fd. Safe on a watch that is not open. */
void loop_close(struct watch *watch);
/* The object a watch is embedded in: watch_owner(watch, struct connection, watch). */
#define watch_owner(pointer, type, member) ((type *)((char *)(pointer)-offsetof(type, member)))

static inline bool watch_open(const struct watch *watch)
{
    return watch->fd >= 0;
}
static inline void watch_init(struct watch *watch)
{
    watch->fd = -1;
    watch->events = 0;
    watch->registered = false;
    watch->handler = 0;
}

/* Frees object with destroy once the current batch of events is handled. */
void loop_defer_free(void *object, void (*destroy)(void *object));

/* Milliseconds on CLOCK_MONOTONIC, for deadlines. */
int64_t loop_now_ms(void);

/* Runs until loop_stop. Before each wait it asks next_deadline_ms for the
 * earliest deadline (-1: none); after each batch of events, while there is a
 * deadline, it calls on_deadline, which acts on those that have passed. */
void loop_run(int64_t (*next_deadline_ms)(void), void (*on_deadline)(int64_t now_ms));
void loop_stop(void);

#endif
