/*
 * loop: see loop.h.
 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOOP_BATCH 16

static int epoll_fd = -1;
static bool stopping;

struct deferred_free {
    void *object;
    void (*destroy)(void *object);
};
static struct deferred_free *deferred;
static size_t deferred_count, deferred_capacity;

int loop_init(struct berr *err)
{
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0)
        return berr_errno(err, errno, "epoll_create1");
    return 0;
}

int loop_add(struct watch *watch, int fd, uint32_t events, watch_handler handler, struct berr *err)
{
    struct epoll_event event = {.events = events, .data.ptr = watch};

    watch->fd = fd;
    watch->events = events;
    watch->handler = handler;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0) {
        int rc = berr_errno(err, errno, "epoll_ctl add fd %d", fd);
        watch->registered = false;
        return rc;
    }
    watch->registered = true;
    return 0;
}

void loop_set_events(struct watch *watch, uint32_t events)
{
    struct epoll_event event = {.events = events, .data.ptr = watch};

    if (!watch->registered || watch->events == events)
        return;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, watch->fd, &event) < 0)
        log_error("epoll_ctl modify fd %d: %m", watch->fd);
    else
        watch->events = events;
}

void loop_close(struct watch *watch)
{
    if (watch->fd < 0)
        return;
    if (watch->registered)
        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, watch->fd, NULL);
    close(watch->fd);
    watch->fd = -1;
    watch->registered = false;
    watch->events = 0;
}

static void run_deferred(void)
{
    size_t i;

    for (i = 0; i < deferred_count; i++)
        deferred[i].destroy(deferred[i].object);
    deferred_count = 0;
    free(deferred);
    deferred = NULL;
    deferred_capacity = 0;
}

void loop_defer_free(void *object, void (*destroy)(void *object))
{
    if (deferred_count == deferred_capacity) {
        size_t capacity = deferred_capacity ? deferred_capacity * 2 : 8;
        struct deferred_free *grown = realloc(deferred, capacity * sizeof(*grown));
        if (!grown) {
            log_error("out of memory: leaking an object instead of freeing it");
            return;
        }
        deferred = grown;
        deferred_capacity = capacity;
    }
    deferred[deferred_count].object = object;
    deferred[deferred_count].destroy = destroy;
    deferred_count++;
}

int64_t loop_now_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void loop_stop(void)
{
    stopping = true;
}

void loop_run(int64_t (*next_deadline_ms)(void), void (*on_deadline)(int64_t now_ms))
{
    struct epoll_event events[LOOP_BATCH];

    while (!stopping) {
        int64_t deadline = next_deadline_ms(), now;
        int timeout = -1, count, i;

        if (deadline >= 0) {
            now = loop_now_ms();
            timeout = deadline <= now ? 0 : (int)(deadline - now > 60000 ? 60000 : deadline - now);
        }
        count = epoll_wait(epoll_fd, events, LOOP_BATCH, timeout);
        if (count < 0) {
            if (errno != EINTR)
                log_error("epoll_wait: %m");
            count = 0;
        }
        for (i = 0; i < count && !stopping; i++) {
            struct watch *watch = events[i].data.ptr;
            if (watch->fd >= 0 && watch->handler)
                watch->handler(watch, events[i].events);
        }
        run_deferred();
        if (!stopping && next_deadline_ms() >= 0) {
            on_deadline(loop_now_ms());
            run_deferred();
        }
    }
    run_deferred();
}
