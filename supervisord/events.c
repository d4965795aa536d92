/*
 * events: see events.h. One mutex guards the subscriber list; each
 * subscription has its own queue, mutex and condition variable.
 */
#include "events.h"

#include "filter.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_LIMIT 4096

struct packed_event {
    int references;
    char *namespace;
    char *topic;
    size_t size;
    unsigned char data[];
};

struct event_subscription {
    struct event_bus *bus;
    struct event_subscription *next; /* in the bus's list */
    pthread_mutex_t lock;
    pthread_cond_t ready;
    struct packed_event **queue; /* ring */
    size_t head, count;
    bool overflowed;
    bool closed;
    struct filter *filter; /* NULL: every event */
};

struct event_bus {
    pthread_mutex_t lock;
    struct event_subscription *subscriptions;
    bool closing;
};

int event_bus_create(struct event_bus **out, struct berr *err)
{
    struct event_bus *bus = calloc(1, sizeof(*bus));

    if (!bus)
        return berr_set(err, BERR_NOMEM, "event bus: out of memory");
    pthread_mutex_init(&bus->lock, NULL);
    *out = bus;
    return 0;
}

static void release(struct packed_event *event)
{
    if (__atomic_sub_fetch(&event->references, 1, __ATOMIC_ACQ_REL) == 0) {
        free(event->namespace);
        free(event->topic);
        free(event);
    }
}

static void wake(struct event_subscription *subscription, bool close)
{
    pthread_mutex_lock(&subscription->lock);
    if (close)
        subscription->closed = true;
    pthread_cond_broadcast(&subscription->ready);
    pthread_mutex_unlock(&subscription->lock);
}

void event_bus_destroy(struct event_bus *bus)
{
    struct event_subscription *subscription;

    if (!bus)
        return;
    pthread_mutex_lock(&bus->lock);
    bus->closing = true;
    for (subscription = bus->subscriptions; subscription; subscription = subscription->next)
        wake(subscription, true);
    pthread_mutex_unlock(&bus->lock);
    /* Subscriptions are freed by their owners (event_subscription_close),
     * which unlink themselves; wait for them to go. */
    for (;;) {
        struct timespec delay = {0, 1000000};
        bool empty;
        pthread_mutex_lock(&bus->lock);
        empty = bus->subscriptions == NULL;
        pthread_mutex_unlock(&bus->lock);
        if (empty)
            break;
        nanosleep(&delay, NULL);
    }
    pthread_mutex_destroy(&bus->lock);
    free(bus);
}

struct event_fields {
    const char *namespace;
    const char *topic;
};

static const char *event_field(const char *field, void *object)
{
    const struct event_fields *fields = object;

    if (strcmp(field, "topic") == 0)
        return fields->topic;
    if (strcmp(field, "namespace") == 0)
        return fields->namespace;
    return NULL;
}

static bool matches(const struct event_subscription *subscription, const char *namespace,
                    const char *topic)
{
    struct event_fields fields = {namespace, topic};

    return filter_match(subscription->filter, event_field, &fields);
}

static void deliver(struct event_subscription *subscription, struct packed_event *event)
{
    pthread_mutex_lock(&subscription->lock);
    if (!subscription->closed && !subscription->overflowed) {
        if (subscription->count == QUEUE_LIMIT) {
            subscription->overflowed = true;
        } else {
            __atomic_add_fetch(&event->references, 1, __ATOMIC_ACQ_REL);
            subscription->queue[(subscription->head + subscription->count) % QUEUE_LIMIT] = event;
            subscription->count++;
        }
        pthread_cond_signal(&subscription->ready);
    }
    pthread_mutex_unlock(&subscription->lock);
}

void event_bus_publish(struct event_bus *bus, const char *namespace, const char *topic,
                       Berth__Supervisor__V1__Envelope *envelope)
{
    Berth__Supervisor__V1__Timestamp stamp = BERTH__SUPERVISOR__V1__TIMESTAMP__INIT;
    struct event_subscription *subscription;
    struct packed_event *event;
    struct timespec now;
    size_t size;

    clock_gettime(CLOCK_REALTIME, &now);
    stamp.seconds = now.tv_sec;
    stamp.nanos = (int32_t)now.tv_nsec;
    envelope->timestamp = &stamp;
    envelope->namespace_ = (char *)namespace;
    envelope->topic = (char *)topic;
    size = protobuf_c_message_get_packed_size(&envelope->base);
    event = malloc(sizeof(*event) + size);
    if (!event)
        goto out;
    event->references = 1;
    event->namespace = strdup(namespace);
    event->topic = strdup(topic);
    event->size = size;
    if (!event->namespace || !event->topic) {
        event->references = 1;
        release(event);
        goto out;
    }
    protobuf_c_message_pack(&envelope->base, event->data);
    pthread_mutex_lock(&bus->lock);
    for (subscription = bus->subscriptions; subscription; subscription = subscription->next)
        if (matches(subscription, namespace, topic))
            deliver(subscription, event);
    pthread_mutex_unlock(&bus->lock);
    release(event);
out:
    envelope->timestamp = NULL;
    envelope->namespace_ = (char *)protobuf_c_empty_string;
    envelope->topic = (char *)protobuf_c_empty_string;
}

static void free_subscription(struct event_subscription *subscription)
{
    size_t i;

    for (i = 0; i < subscription->count; i++)
        release(subscription->queue[(subscription->head + i) % QUEUE_LIMIT]);
    filter_free(subscription->filter);
    free(subscription->queue);
    pthread_mutex_destroy(&subscription->lock);
    pthread_cond_destroy(&subscription->ready);
    free(subscription);
}

int event_bus_subscribe(struct event_bus *bus, char **filters, size_t filter_count,
                        struct event_subscription **out, struct berr *err)
{
    struct event_subscription *subscription = calloc(1, sizeof(*subscription));
    pthread_condattr_t attributes;
    int rc;

    if (!subscription)
        return berr_set(err, BERR_NOMEM, "out of memory");
    subscription->bus = bus;
    pthread_mutex_init(&subscription->lock, NULL);
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&subscription->ready, &attributes);
    pthread_condattr_destroy(&attributes);
    subscription->queue = calloc(QUEUE_LIMIT, sizeof(*subscription->queue));
    if (!subscription->queue) {
        free_subscription(subscription);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    if ((rc = filter_parse((const char *const *)filters, filter_count, &subscription->filter,
                           err))) {
        free_subscription(subscription);
        return berr_prefix(err, "event filter");
    }
    pthread_mutex_lock(&bus->lock);
    if (bus->closing) {
        pthread_mutex_unlock(&bus->lock);
        free_subscription(subscription);
        return berr_set(err, BERR_CANCELLED, "the supervisor is shutting down");
    }
    subscription->next = bus->subscriptions;
    bus->subscriptions = subscription;
    pthread_mutex_unlock(&bus->lock);
    *out = subscription;
    return 0;
}

int event_subscription_next(struct event_subscription *subscription, int timeout_ms,
                            Berth__Supervisor__V1__Envelope **envelope, struct berr *err)
{
    struct packed_event *event = NULL;
    struct timespec deadline;
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    if (timeout_ms > 0) {
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&subscription->lock);
    while (!subscription->count && !subscription->closed && !subscription->overflowed) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&subscription->ready, &subscription->lock);
        } else if (timeout_ms == 0 ||
                   pthread_cond_timedwait(&subscription->ready, &subscription->lock, &deadline) ==
                       ETIMEDOUT) {
            rc = BERR_TIMEOUT;
            break;
        }
    }
    if (subscription->count) {
        event = subscription->queue[subscription->head];
        subscription->head = (subscription->head + 1) % QUEUE_LIMIT;
        subscription->count--;
    } else if (subscription->overflowed) {
        rc = berr_set(err, BERR_NOSPACE, "the event subscriber fell behind and was cut off");
    } else if (subscription->closed) {
        rc = berr_set(err, BERR_CANCELLED, "the supervisor is shutting down");
    } else if (rc == BERR_TIMEOUT) {
        berr_set(err, BERR_TIMEOUT, "no event");
    }
    pthread_mutex_unlock(&subscription->lock);
    if (!event)
        return rc;
    *envelope = berth__supervisor__v1__envelope__unpack(NULL, event->size, event->data);
    release(event);
    if (!*envelope)
        return berr_set(err, BERR_NOMEM, "unpack event: out of memory");
    return 0;
}

void event_subscription_close(struct event_subscription *subscription)
{
    struct event_bus *bus = subscription->bus;
    struct event_subscription **link;

    pthread_mutex_lock(&bus->lock);
    for (link = &bus->subscriptions; *link; link = &(*link)->next) {
        if (*link == subscription) {
            *link = subscription->next;
            break;
        }
    }
    pthread_mutex_unlock(&bus->lock);
    free_subscription(subscription);
}
