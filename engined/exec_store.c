/*
 * exec_store: see exec_store.h. The table is an array (a host runs few
 * execs at a time; finished ones are collected), scanned under one lock;
 * the collector runs on every add.
 */
#include "exec_store.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "docker_time.h"

/* A container's execs (container->execs). */
struct exec_list {
    size_t count, capacity;
    struct exec_record **items;
};

struct exec_store {
    pthread_mutex_t lock;
    pthread_cond_t changed; /* a record's run state changed */
    size_t count, capacity;
    struct exec_record **records;
};

void exec_config_free(struct exec_config *config)
{
    json_free_string_array(config->cmd);
    json_free_string_array(config->env);
    free(config->user);
    free(config->working_dir);
    free(config->detach_keys);
    memset(config, 0, sizeof(*config));
}

int exec_store_create(struct exec_store **out, struct berr *err)
{
    struct exec_store *store = calloc(1, sizeof(*store));
    pthread_condattr_t attributes;

    if (!store)
        return berr_set(err, BERR_NOMEM, "out of memory");
    pthread_mutex_init(&store->lock, NULL);
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&store->changed, &attributes);
    pthread_condattr_destroy(&attributes);
    *out = store;
    return 0;
}

static void record_free(struct exec_record *record)
{
    exec_config_free(&record->config);
    container_put(record->container);
    free(record);
}

void exec_store_destroy(struct exec_store *store)
{
    if (!store)
        return;
    for (size_t i = 0; i < store->count; i++)
        record_free(store->records[i]);
    free(store->records);
    pthread_cond_destroy(&store->changed);
    pthread_mutex_destroy(&store->lock);
    free(store);
}

void exec_record_put(struct exec_store *store, struct exec_record *record)
{
    bool last;

    if (!record)
        return;
    pthread_mutex_lock(&store->lock);
    last = --record->references == 0;
    pthread_mutex_unlock(&store->lock);
    if (last)
        record_free(record);
}

/* ---- a container's list ---- */

static int list_add(struct container *container, struct exec_record *record)
{
    struct exec_list *list;
    int rc = 0;

    pthread_mutex_lock(&container->lock);
    if (!(list = container->execs) && (list = calloc(1, sizeof(*list))))
        container->execs = list;
    if (list && list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 4;
        struct exec_record **items = realloc(list->items, capacity * sizeof(*items));
        if (items) {
            list->items = items;
            list->capacity = capacity;
        }
    }
    if (list && list->count < list->capacity)
        list->items[list->count++] = record;
    else
        rc = -1;
    pthread_mutex_unlock(&container->lock);
    return rc;
}

static void list_remove(struct container *container, struct exec_record *record)
{
    struct exec_list *list;

    pthread_mutex_lock(&container->lock);
    list = container->execs;
    for (size_t i = 0; list && i < list->count; i++)
        if (list->items[i] == record) {
            list->items[i] = list->items[--list->count];
            break;
        }
    if (list && !list->count) {
        free(list->items);
        free(list);
        container->execs = NULL;
    }
    pthread_mutex_unlock(&container->lock);
}

void exec_store_write_ids(struct container *container, struct json_writer *writer)
{
    const struct exec_list *list = container->execs;

    if (!list || !list->count) {
        json_null(writer);
        return;
    }
    json_array_begin(writer);
    for (size_t i = 0; i < list->count; i++)
        json_string(writer, list->items[i]->id);
    json_array_end(writer);
}

/* ---- the table ---- */

/* Takes records out of the table (store lock held) into *taken. */
static void take_out(struct exec_store *store, size_t index, struct exec_record **taken,
                     size_t *count)
{
    taken[(*count)++] = store->records[index];
    store->records[index] = store->records[--store->count];
}

/* Finishes what take_out began, without the store's lock. */
static void drop_taken(struct exec_store *store, struct exec_record **taken, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        list_remove(taken[i]->container, taken[i]);
        exec_record_put(store, taken[i]);
    }
}

/* Finished execs kept long enough, and those of removed containers. */
static void collect(struct exec_store *store)
{
    struct exec_record **taken;
    int64_t now = docker_time_now();
    size_t count = 0;

    pthread_mutex_lock(&store->lock);
    taken = calloc(store->count ? store->count : 1, sizeof(*taken));
    for (size_t i = 0; taken && i < store->count;) {
        struct exec_record *record = store->records[i];
        if (record->exited && now - record->finished_at > EXEC_KEEP_NS)
            take_out(store, i, taken, &count);
        else
            i++;
    }
    pthread_mutex_unlock(&store->lock);
    drop_taken(store, taken, count);
    free(taken);
}

int exec_store_add(struct exec_store *store, struct container *container,
                   struct exec_config *config, struct exec_record **out, struct berr *err)
{
    struct exec_record *record = calloc(1, sizeof(*record));

    collect(store);
    if (!record)
        return berr_set(err, BERR_NOMEM, "out of memory");
    container_id_generate(record->id);
    container_hold(container);
    record->container = container;
    record->config = *config;
    memset(config, 0, sizeof(*config));
    record->references = 2; /* the table's and the caller's */
    pthread_mutex_lock(&store->lock);
    if (store->count == store->capacity) {
        size_t capacity = store->capacity ? store->capacity * 2 : 16;
        struct exec_record **records = realloc(store->records, capacity * sizeof(*records));
        if (records) {
            store->records = records;
            store->capacity = capacity;
        }
    }
    if (store->count == store->capacity) {
        pthread_mutex_unlock(&store->lock);
        record_free(record);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    store->records[store->count++] = record;
    pthread_mutex_unlock(&store->lock);
    if (list_add(container, record)) {
        pthread_mutex_lock(&store->lock);
        for (size_t i = 0; i < store->count; i++)
            if (store->records[i] == record) {
                store->records[i] = store->records[--store->count];
                break;
            }
        record->references = 1;
        pthread_mutex_unlock(&store->lock);
        exec_record_put(store, record);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    *out = record;
    return 0;
}

int exec_store_get(struct exec_store *store, const char *id, struct exec_record **out,
                   struct berr *err)
{
    struct exec_record *found = NULL;
    bool removed;

    pthread_mutex_lock(&store->lock);
    for (size_t i = 0; i < store->count && !found; i++)
        if (strcmp(store->records[i]->id, id) == 0) {
            found = store->records[i];
            found->references++;
        }
    pthread_mutex_unlock(&store->lock);
    if (found) {
        pthread_mutex_lock(&found->container->lock);
        removed = found->container->removed;
        pthread_mutex_unlock(&found->container->lock);
        if (!removed) {
            *out = found;
            return 0;
        }
        exec_record_put(store, found);
    }
    return berr_set(err, BERR_NOT_FOUND, "No such exec instance: %s", id);
}

void exec_store_drop_container(struct exec_store *store, struct container *container)
{
    struct exec_record **taken;
    size_t count = 0;

    pthread_mutex_lock(&store->lock);
    taken = calloc(store->count ? store->count : 1, sizeof(*taken));
    for (size_t i = 0; taken && i < store->count;) {
        if (store->records[i]->container == container)
            take_out(store, i, taken, &count);
        else
            i++;
    }
    pthread_mutex_unlock(&store->lock);
    drop_taken(store, taken, count);
    free(taken);
}

/* ---- run state ---- */

int exec_store_claim_start(struct exec_store *store, struct exec_record *record, struct berr *err)
{
    int rc = 0;

    pthread_mutex_lock(&store->lock);
    if (record->exited)
        rc = berr_set(err, BERR_CONFLICT, "Error: Exec command %s has already run", record->id);
    else if (record->starting)
        rc = berr_set(err, BERR_CONFLICT, "Error: Exec command %s is already running", record->id);
    else
        record->starting = true;
    pthread_mutex_unlock(&store->lock);
    return rc;
}

void exec_store_set_running(struct exec_store *store, struct exec_record *record, uint32_t pid)
{
    pthread_mutex_lock(&store->lock);
    if (!record->exited) {
        record->running = true;
        record->pid = pid;
    }
    pthread_cond_broadcast(&store->changed);
    pthread_mutex_unlock(&store->lock);
}

bool exec_store_set_exited(struct exec_store *store, struct exec_record *record, int exit_code)
{
    bool first;

    pthread_mutex_lock(&store->lock);
    first = !record->exited;
    if (first) {
        record->exited = true;
        record->running = false;
        record->exit_code = exit_code;
        record->finished_at = docker_time_now();
    }
    pthread_cond_broadcast(&store->changed);
    pthread_mutex_unlock(&store->lock);
    return first;
}

bool exec_store_wait_running(struct exec_store *store, struct exec_record *record, int timeout_ms)
{
    struct timespec deadline;
    bool running;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&store->lock);
    while (!record->running && !record->exited)
        if (pthread_cond_timedwait(&store->changed, &store->lock, &deadline) == ETIMEDOUT)
            break;
    running = record->running;
    pthread_mutex_unlock(&store->lock);
    return running;
}

void exec_store_state(struct exec_store *store, struct exec_record *record, bool *running,
                      bool *exited, int *exit_code, uint32_t *pid)
{
    pthread_mutex_lock(&store->lock);
    *running = record->running;
    *exited = record->exited;
    *exit_code = record->exit_code;
    *pid = record->pid;
    pthread_mutex_unlock(&store->lock);
}
