/*
 * events: see events.h. One mutex guards the ring of kept events and the
 * subscribers' queues; publishing appends to each subscriber's queue and
 * signals it, so a publisher never waits for a reader.
 */
#include "events.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUBSCRIBER_QUEUE 4096

struct engine_event_subscription {
    struct engine_events *events;
    struct engine_event_subscription *next;
    struct engine_event **queue; /* ring */
    size_t head, count;
    bool overflowed;
    bool closed;
    bool woken; /* engine_event_wake: the next wait without an event ends at once */
    pthread_cond_t ready;
};

struct engine_events {
    pthread_mutex_t lock;
    struct engine_event *kept[EVENTS_KEPT]; /* ring */
    size_t kept_head, kept_count;
    struct engine_event_subscription *subscriptions;
    bool closing;
};

int engine_events_create(struct engine_events **out, struct berr *err)
{
    struct engine_events *events = calloc(1, sizeof(*events));

    if (!events)
        return berr_set(err, BERR_NOMEM, "out of memory");
    pthread_mutex_init(&events->lock, NULL);
    *out = events;
    return 0;
}

void engine_event_release(struct engine_event *event)
{
    if (!event || __atomic_sub_fetch(&event->references, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    free(event->type);
    free(event->action);
    free(event->actor_id);
    for (char **attribute = event->attributes; attribute && *attribute; attribute++)
        free(*attribute);
    free(event->attributes);
    free(event);
}

static void hold(struct engine_event *event)
{
    __atomic_add_fetch(&event->references, 1, __ATOMIC_ACQ_REL);
}

static struct engine_event *new_event(const char *type, const char *action, const char *actor_id,
                                      const char *const *attributes)
{
    struct engine_event *event = calloc(1, sizeof(*event));
    struct timespec now;
    size_t count = 0, i;
    bool ok;

    if (!event)
        return NULL;
    event->references = 1;
    clock_gettime(CLOCK_REALTIME, &now);
    event->time_nano = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    event->type = strdup(type);
    event->action = strdup(action);
    event->actor_id = strdup(actor_id ? actor_id : "");
    while (attributes && attributes[count] && attributes[count + 1])
        count += 2;
    event->attributes = calloc(count + 1, sizeof(char *));
    ok = event->type && event->action && event->actor_id && event->attributes;
    for (i = 0; ok && i < count; i++)
        ok = (event->attributes[i] = strdup(attributes[i])) != NULL;
    if (!ok) {
        engine_event_release(event);
        return NULL;
    }
    return event;
}

/* Called with the lock held. */
static void enqueue(struct engine_event_subscription *subscription, struct engine_event *event)
{
    if (subscription->overflowed || subscription->closed)
        return;
    if (subscription->count == SUBSCRIBER_QUEUE) {
        subscription->overflowed = true;
    } else {
        hold(event);
        subscription->queue[(subscription->head + subscription->count++) % SUBSCRIBER_QUEUE] =
            event;
    }
    pthread_cond_signal(&subscription->ready);
}

void engine_events_publish(struct engine_events *events, const char *type, const char *action,
                           const char *actor_id, const char *const *attributes)
{
    struct engine_event *event = new_event(type, action, actor_id, attributes);
    struct engine_event_subscription *subscription;

    if (!event)
        return; /* out of memory: the event is lost, nothing else */
    pthread_mutex_lock(&events->lock);
    if (events->kept_count == EVENTS_KEPT) {
        engine_event_release(events->kept[events->kept_head]);
        events->kept[events->kept_head] = event;
        events->kept_head = (events->kept_head + 1) % EVENTS_KEPT;
    } else {
        events->kept[(events->kept_head + events->kept_count++) % EVENTS_KEPT] = event;
    }
    hold(event); /* the ring's reference is the creation one; this one is ours */
    for (subscription = events->subscriptions; subscription; subscription = subscription->next)
        enqueue(subscription, event);
    pthread_mutex_unlock(&events->lock);
    engine_event_release(event);
}

int engine_events_subscribe(struct engine_events *events, int64_t since_nano,
                            struct engine_event_subscription **out, struct berr *err)
{
    struct engine_event_subscription *subscription = calloc(1, sizeof(*subscription));
    pthread_condattr_t attributes;

    if (!subscription || !(subscription->queue = calloc(SUBSCRIBER_QUEUE, sizeof(void *)))) {
        free(subscription);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    subscription->events = events;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&subscription->ready, &attributes);
    pthread_condattr_destroy(&attributes);
    pthread_mutex_lock(&events->lock);
    if (events->closing) {
        pthread_mutex_unlock(&events->lock);
        pthread_cond_destroy(&subscription->ready);
        free(subscription->queue);
        free(subscription);
        return berr_set(err, BERR_CANCELLED, "the engine is shutting down");
    }
    if (since_nano > 0)
        for (size_t i = 0; i < events->kept_count; i++) {
            struct engine_event *event = events->kept[(events->kept_head + i) % EVENTS_KEPT];
            if (event->time_nano >= since_nano)
                enqueue(subscription, event);
        }
    subscription->next = events->subscriptions;
    events->subscriptions = subscription;
    pthread_mutex_unlock(&events->lock);
    *out = subscription;
    return 0;
}

int engine_event_next(struct engine_event_subscription *subscription, int timeout_ms,
                      struct engine_event **event, struct berr *err)
{
    struct engine_events *events = subscription->events;
    struct timespec deadline;
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&events->lock);
    while (!subscription->count && !subscription->overflowed && !subscription->closed &&
           !subscription->woken) {
        int waited = timeout_ms < 0
                         ? pthread_cond_wait(&subscription->ready, &events->lock)
                         : pthread_cond_timedwait(&subscription->ready, &events->lock, &deadline);
        if (waited != 0)
            break;
    }
    if (subscription->count) {
        *event = subscription->queue[subscription->head];
        subscription->head = (subscription->head + 1) % SUBSCRIBER_QUEUE;
        subscription->count--;
    } else if (subscription->overflowed) {
        rc = berr_set(err, BERR_NOSPACE, "the subscriber fell too far behind");
    } else if (subscription->closed) {
        rc = berr_set(err, BERR_CANCELLED, "the engine is shutting down");
    } else {
        rc = berr_set(err, BERR_TIMEOUT, "no event");
    }
    if (rc != BERR_NOSPACE && rc != BERR_CANCELLED)
        subscription->woken = false;
    pthread_mutex_unlock(&events->lock);
    return rc;
}

void engine_event_wake(struct engine_event_subscription *subscription)
{
    struct engine_events *events = subscription->events;

    pthread_mutex_lock(&events->lock);
    subscription->woken = true;
    pthread_cond_signal(&subscription->ready);
    pthread_mutex_unlock(&events->lock);
}

void engine_events_unsubscribe(struct engine_event_subscription *subscription)
{
    struct engine_events *events;
    struct engine_event_subscription **link;

    if (!subscription)
        return;
    events = subscription->events;
    pthread_mutex_lock(&events->lock);
    for (link = &events->subscriptions; *link; link = &(*link)->next) {
        if (*link == subscription) {
            *link = subscription->next;
            break;
        }
    }
    pthread_mutex_unlock(&events->lock);
    while (subscription->count) {
        engine_event_release(subscription->queue[subscription->head]);
        subscription->head = (subscription->head + 1) % SUBSCRIBER_QUEUE;
        subscription->count--;
    }
    pthread_cond_destroy(&subscription->ready);
    free(subscription->queue);
    free(subscription);
}

void engine_events_destroy(struct engine_events *events)
{
    struct engine_event_subscription *subscription;
    bool empty = false;

    if (!events)
        return;
    pthread_mutex_lock(&events->lock);
    events->closing = true;
    for (subscription = events->subscriptions; subscription; subscription = subscription->next) {
        subscription->closed = true;
        pthread_cond_broadcast(&subscription->ready);
    }
    pthread_mutex_unlock(&events->lock);
    /* Subscribers unsubscribe themselves once woken. */
    while (!empty) {
        struct timespec delay = {0, 1000000};
        pthread_mutex_lock(&events->lock);
        empty = events->subscriptions == NULL;
        pthread_mutex_unlock(&events->lock);
        if (!empty)
            nanosleep(&delay, NULL);
    }
    for (size_t i = 0; i < events->kept_count; i++)
        engine_event_release(events->kept[(events->kept_head + i) % EVENTS_KEPT]);
    pthread_mutex_destroy(&events->lock);
    free(events);
}

const char *engine_event_attribute(const struct engine_event *event, const char *key)
{
    for (char **attribute = event->attributes; attribute && attribute[0]; attribute += 2)
        if (strcmp(attribute[0], key) == 0)
            return attribute[1];
    return NULL;
}

void engine_event_json(const struct engine_event *event, struct json_writer *writer)
{
    bool legacy = strcmp(event->type, "container") == 0 || strcmp(event->type, "image") == 0;
    const char *image = engine_event_attribute(event, "image");

    json_object_begin(writer);
    if (legacy) {
        /* The fields older clients read. */
        json_kv_string(writer, "status", event->action);
        json_kv_string(writer, "id", event->actor_id);
        if (image)
            json_kv_string(writer, "from", image);
    }
    json_kv_string(writer, "Type", event->type);
    json_kv_string(writer, "Action", event->action);
    json_key(writer, "Actor");
    json_object_begin(writer);
    json_kv_string(writer, "ID", event->actor_id);
    json_key(writer, "Attributes");
    json_object_begin(writer);
    for (char **attribute = event->attributes; attribute && attribute[0]; attribute += 2)
        json_kv_string(writer, attribute[0], attribute[1]);
    json_object_end(writer);
    json_object_end(writer);
    json_kv_string(writer, "scope", "local");
    json_kv_int(writer, "time", event->time_nano / 1000000000);
    json_kv_int(writer, "timeNano", event->time_nano);
    json_object_end(writer);
}
