/*
 * gc: see gc.h. Marks are "NS/DIGEST" strings in a hash set; a work list
 * makes the walk iterative (label chains and nested indexes cannot
 * overflow the stack).
 */
#include "gc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/images.pb-c.h"
#include "images.h"
#include "leases.h"
#include "log.h"
#include "record.h"

#define HOOK_MAX 16

struct gc {
    struct metadata *metadata;
    struct content_store *content;
    pthread_mutex_t lock; /* one collection at a time */
    size_t hook_count;
    struct gc_hook hooks[HOOK_MAX];
    /* gc_schedule's background thread */
    pthread_mutex_t schedule_lock;
    pthread_cond_t schedule_changed; /* on CLOCK_MONOTONIC */
    pthread_t scheduler;
    bool scheduler_started;
    bool stopping;
    bool due;               /* a collection is requested... */
    struct timespec due_at; /* ...for then (monotonic) */
};

/* ---- a set of strings ---- */

struct string_set {
    size_t count;
    size_t capacity; /* a power of two */
    char **slots;
};

static uint64_t hash_string(const char *text)
{
    uint64_t hash = 14695981039346656037ULL;

    while (*text)
        hash = (hash ^ (unsigned char)*text++) * 1099511628211ULL;
    return hash;
}

static bool set_contains(const struct string_set *set, const char *key)
{
    size_t index;

    if (!set->capacity)
        return false;
    for (index = hash_string(key) & (set->capacity - 1); set->slots[index];
         index = (index + 1) & (set->capacity - 1))
        if (strcmp(set->slots[index], key) == 0)
            return true;
    return false;
}

static int set_grow(struct string_set *set)
{
    size_t capacity = set->capacity ? set->capacity * 2 : 256, i, index;
    char **slots = calloc(capacity, sizeof(*slots));

    if (!slots)
        return BERR_NOMEM;
    for (i = 0; i < set->capacity; i++) {
        if (!set->slots[i])
            continue;
        for (index = hash_string(set->slots[i]) & (capacity - 1); slots[index];
             index = (index + 1) & (capacity - 1))
            ;
        slots[index] = set->slots[i];
    }
    free(set->slots);
    set->slots = slots;
    set->capacity = capacity;
    return 0;
}

/* 1 when added, 0 when already there, BERR_NOMEM. */
static int set_add(struct string_set *set, const char *key)
{
    size_t index;

    if (set_contains(set, key))
        return 0;
    if ((set->count + 1) * 2 > set->capacity && set_grow(set))
        return -BERR_NOMEM;
    for (index = hash_string(key) & (set->capacity - 1); set->slots[index];
         index = (index + 1) & (set->capacity - 1))
        ;
    if (!(set->slots[index] = strdup(key)))
        return -BERR_NOMEM;
    set->count++;
    return 1;
}

static void set_free(struct string_set *set)
{
    size_t i;

    for (i = 0; i < set->capacity; i++)
        free(set->slots[i]);
    free(set->slots);
    memset(set, 0, sizeof(*set));
}

/* ---- marks ---- */

struct work_item {
    char *key;        /* "NS/DIGEST" */
    bool walk;        /* read it as an index or manifest */
    char *media_type; /* its descriptor's, NULL unknown (the document then says) */
    bool first;       /* newly marked: follow its record's labels */
};

struct gc_mark {
    struct gc *gc;
    struct metadata_txn *txn;
    struct string_set marked;   /* "NS/DIGEST" */
    struct string_set expanded; /* walked as an index or manifest */
    struct string_set leases;   /* "NS/ID" of unexpired leases */
    struct string_set leased;   /* "NS/TYPE/RESOURCE" */
    size_t work_count, work_capacity;
    struct work_item *work;
    bool out_of_memory;
};

static int push_work(struct gc_mark *mark, const char *key, bool walk, const char *media_type,
                     bool first)
{
    struct work_item *item;

    if (mark->work_count == mark->work_capacity) {
        size_t capacity = mark->work_capacity ? mark->work_capacity * 2 : 64;
        struct work_item *work = realloc(mark->work, capacity * sizeof(*work));
        if (!work)
            return BERR_NOMEM;
        mark->work = work;
        mark->work_capacity = capacity;
    }
    item = &mark->work[mark->work_count];
    item->key = strdup(key);
    item->walk = walk;
    item->media_type = media_type && media_type[0] ? strdup(media_type) : NULL;
    item->first = first;
    if (!item->key || (media_type && media_type[0] && !item->media_type)) {
        free(item->key);
        free(item->media_type);
        return BERR_NOMEM;
    }
    mark->work_count++;
    return 0;
}

/* walk: the digest is an index or manifest to read (an image's target, an
 * index's entry); media_type may then be empty, and the document decides. */
static int mark_descriptor(struct gc_mark *mark, const char *namespace, const char *digest,
                           bool walk, const char *media_type)
{
    char key[512];
    int added;

    if (!digest_is_valid(digest))
        return 0; /* a malformed reference holds nothing */
    snprintf(key, sizeof(key), "%s/%s", namespace, digest);
    added = set_add(&mark->marked, key);
    if (added < 0) {
        mark->out_of_memory = true;
        return BERR_NOMEM;
    }
    if (added || (walk && !set_contains(&mark->expanded, key)))
        if (push_work(mark, key, walk, media_type, added == 1)) {
            mark->out_of_memory = true;
            return BERR_NOMEM;
        }
    return 0;
}

int gc_mark_content(struct gc_mark *mark, const char *namespace, const char *digest)
{
    return mark_descriptor(mark, namespace, digest, false, NULL);
}

int gc_mark_label(struct gc_mark *mark, const char *namespace, const char *key, const char *value)
{
    if (!key || strncmp(key, GC_LABEL_REF_CONTENT, strlen(GC_LABEL_REF_CONTENT)) != 0 || !value)
        return 0;
    return mark_descriptor(mark, namespace, value, false, NULL);
}

bool gc_content_marked(const struct gc_mark *mark, const char *namespace, const char *digest)
{
    char key[512];

    snprintf(key, sizeof(key), "%s/%s", namespace, digest);
    return set_contains(&mark->marked, key);
}

bool gc_leased(const struct gc_mark *mark, const char *namespace, const char *type,
               const char *resource)
{
    char key[1024];

    snprintf(key, sizeof(key), "%s/%s/%s", namespace, type, resource);
    return set_contains(&mark->leased, key);
}

static int mark_labels(struct gc_mark *mark, const char *namespace,
                       ProtobufCMessage *const *entries, size_t count)
{
    struct label_set labels = {0};
    size_t i;
    int rc = record_labels_add(&labels, entries, count, NULL);

    for (i = 0; rc == 0 && i < labels.count; i++)
        rc = gc_mark_label(mark, namespace, labels.keys[i], labels.values[i]);
    label_set_clear(&labels);
    return rc;
}

/* Splits "NS/REST" into namespace (copied into buffer) and REST. */
static const char *split_key(const char *key, char *namespace, size_t size)
{
    const char *slash = strchr(key, '/');

    if (!slash || (size_t)(slash - key) >= size)
        return NULL;
    memcpy(namespace, key, (size_t)(slash - key));
    namespace[slash - key] = '\0';
    return slash + 1;
}

/* One work item: its record's labels, and its children when it is a manifest or index. */
static int process(struct gc_mark *mark, struct work_item *item)
{
    char namespace[128];
    const char *digest = split_key(item->key, namespace, sizeof(namespace));
    struct image_document *document = NULL;
    char *json = NULL;
    size_t size, i;
    int rc = 0;

    if (!digest)
        return 0;
    if (item->first) {
        Berth__Supervisor__V1__ContentInfo *info;
        if (record_get(mark->txn, METADATA_CONTENT, namespace, digest,
                       &berth__supervisor__v1__content_info__descriptor, (ProtobufCMessage **)&info,
                       NULL) == 0) {
            rc = mark_labels(mark, namespace, (ProtobufCMessage *const *)info->labels,
                             info->n_labels);
            berth__supervisor__v1__content_info__free_unpacked(info, NULL);
            if (rc)
                return rc;
        }
    }
    if (!item->walk || set_contains(&mark->expanded, item->key))
        return 0;
    if (set_add(&mark->expanded, item->key) < 0)
        return BERR_NOMEM;
    /* A missing or malformed blob references nothing (a partial multi-platform image). */
    if (content_store_read_any(mark->gc->content, digest, IMAGE_MANIFEST_MAX, &json, &size, NULL) !=
        0)
        return 0;
    if (image_document_parse(item->media_type, json, size, &document, NULL) != 0) {
        free(json);
        return 0;
    }
    free(json);
    for (i = 0; rc == 0 && i < document->manifest_count; i++)
        rc = mark_descriptor(mark, namespace, document->manifests[i].digest, true,
                             document->manifests[i].media_type);
    if (rc == 0 && document->kind == IMAGE_DOCUMENT_MANIFEST)
        rc = mark_descriptor(mark, namespace, document->config.digest, false, NULL);
    for (i = 0; rc == 0 && i < document->layer_count; i++)
        rc = mark_descriptor(mark, namespace, document->layers[i].digest, false, NULL);
    image_document_free(document);
    return rc;
}

static int drain(struct gc_mark *mark, struct berr *err)
{
    while (mark->work_count > 0) {
        struct work_item item = mark->work[--mark->work_count];
        int rc = process(mark, &item);
        free(item.key);
        free(item.media_type);
        if (rc || mark->out_of_memory)
            return berr_set(err, BERR_NOMEM, "garbage collection: out of memory");
    }
    return 0;
}

static void mark_free(struct gc_mark *mark)
{
    size_t i;

    for (i = 0; i < mark->work_count; i++) {
        free(mark->work[i].key);
        free(mark->work[i].media_type);
    }
    free(mark->work);
    set_free(&mark->marked);
    set_free(&mark->expanded);
    set_free(&mark->leases);
    set_free(&mark->leased);
}

/* ---- roots ---- */

struct key_list {
    size_t count;
    char **keys;
    bool out_of_memory;
};

static void key_list_add(struct key_list *list, const char *key)
{
    char **keys = realloc(list->keys, (list->count + 1) * sizeof(*keys));

    if (!keys || !(keys[list->count] = strdup(key))) {
        if (keys)
            list->keys = keys;
        list->out_of_memory = true;
        return;
    }
    list->keys = keys;
    list->count++;
}

static void key_list_free(struct key_list *list)
{
    size_t i;

    for (i = 0; i < list->count; i++)
        free(list->keys[i]);
    free(list->keys);
    memset(list, 0, sizeof(*list));
}

struct root_walk {
    struct gc_mark *mark;
    struct key_list *doomed; /* expired leases, orphaned resources */
    time_t now;
};

static int visit_lease(const char *key, const void *data, size_t size, void *user)
{
    struct root_walk *walk = user;
    Berth__Supervisor__V1__Lease *lease;

    if (record_unpack(&berth__supervisor__v1__lease__descriptor, data, size, key,
                      (ProtobufCMessage **)&lease, NULL) != 0)
        return 0; /* unreadable: it protects nothing */
    if (lease_expired(lease, walk->now))
        key_list_add(walk->doomed, key);
    else if (set_add(&walk->mark->leases, key) < 0)
        walk->mark->out_of_memory = true;
    berth__supervisor__v1__lease__free_unpacked(lease, NULL);
    return 0;
}

static int visit_lease_resource(const char *key, const void *data, size_t size, void *user)
{
    struct root_walk *walk = user;
    char namespace[128], lease_key[256], leased_key[1024];
    const char *rest = split_key(key, namespace, sizeof(namespace));
    char *id, *type, *resource;

    (void)data, (void)size;
    if (!rest || lease_resource_key_parse(rest, &id, &type, &resource, NULL) != 0)
        return 0;
    snprintf(lease_key, sizeof(lease_key), "%s/%s", namespace, id);
    if (!set_contains(&walk->mark->leases, lease_key)) {
        key_list_add(walk->doomed, key);
    } else {
        snprintf(leased_key, sizeof(leased_key), "%s/%s/%s", namespace, type, resource);
        if (set_add(&walk->mark->leased, leased_key) < 0)
            walk->mark->out_of_memory = true;
        if (strcmp(type, LEASE_RESOURCE_CONTENT) == 0)
            mark_descriptor(walk->mark, namespace, resource, false, NULL);
    }
    free(id), free(type), free(resource);
    return 0;
}

static int visit_image(const char *key, const void *data, size_t size, void *user)
{
    struct root_walk *walk = user;
    char namespace[128];
    Berth__Supervisor__V1__Image *image;

    if (!split_key(key, namespace, sizeof(namespace)) ||
        record_unpack(&berth__supervisor__v1__image__descriptor, data, size, key,
                      (ProtobufCMessage **)&image, NULL) != 0)
        return 0;
    if (image->target)
        mark_descriptor(walk->mark, namespace, image->target->digest, true,
                        image->target->media_type);
    mark_labels(walk->mark, namespace, (ProtobufCMessage *const *)image->labels, image->n_labels);
    berth__supervisor__v1__image__free_unpacked(image, NULL);
    return 0;
}

static int visit_container(const char *key, const void *data, size_t size, void *user)
{
    struct root_walk *walk = user;
    char namespace[128];
    Berth__Supervisor__V1__Container *container;

    if (!split_key(key, namespace, sizeof(namespace)) ||
        record_unpack(&berth__supervisor__v1__container__descriptor, data, size, key,
                      (ProtobufCMessage **)&container, NULL) != 0)
        return 0;
    mark_labels(walk->mark, namespace, (ProtobufCMessage *const *)container->labels,
                container->n_labels);
    berth__supervisor__v1__container__free_unpacked(container, NULL);
    return 0;
}

static int visit_content_root(const char *key, const void *data, size_t size, void *user)
{
    struct root_walk *walk = user;
    char namespace[128];
    const char *digest = split_key(key, namespace, sizeof(namespace));
    Berth__Supervisor__V1__ContentInfo *info;

    if (!digest || record_unpack(&berth__supervisor__v1__content_info__descriptor, data, size, key,
                                 (ProtobufCMessage **)&info, NULL) != 0)
        return 0;
    if (record_label_get((ProtobufCMessage *const *)info->labels, info->n_labels, GC_LABEL_ROOT))
        mark_descriptor(walk->mark, namespace, digest, false, NULL);
    berth__supervisor__v1__content_info__free_unpacked(info, NULL);
    return 0;
}

/* ---- collection ---- */

struct sweep_walk {
    struct gc_mark *mark;
    const char *namespace;         /* candidate mode: only this namespace... */
    struct string_set *candidates; /* ...and these digests; NULL: everything */
    struct key_list doomed;        /* "NS/DIGEST" records to delete */
    struct string_set kept;        /* digests some record keeps */
};

static int visit_content_sweep(const char *key, const void *data, size_t size, void *user)
{
    struct sweep_walk *walk = user;
    char namespace[128];
    const char *digest = split_key(key, namespace, sizeof(namespace));
    bool candidate;

    (void)data, (void)size;
    if (!digest)
        return 0;
    candidate = !walk->candidates ||
                (strcmp(namespace, walk->namespace) == 0 && set_contains(walk->candidates, digest));
    if (candidate && !set_contains(&walk->mark->marked, key))
        key_list_add(&walk->doomed, key);
    else if (set_add(&walk->kept, digest) < 0)
        walk->mark->out_of_memory = true;
    return 0;
}

static bool keep_file(const char *digest, void *user)
{
    struct sweep_walk *walk = user;

    if (set_contains(&walk->kept, digest))
        return true;
    return walk->candidates && !set_contains(walk->candidates, digest);
}

int gc_open(struct metadata *metadata, struct content_store *content, struct gc **out,
            struct berr *err)
{
    struct gc *gc = calloc(1, sizeof(*gc));
    pthread_condattr_t attributes;

    if (!gc)
        return berr_set(err, BERR_NOMEM, "garbage collector: out of memory");
    gc->metadata = metadata;
    gc->content = content;
    pthread_mutex_init(&gc->lock, NULL);
    pthread_mutex_init(&gc->schedule_lock, NULL);
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&gc->schedule_changed, &attributes);
    pthread_condattr_destroy(&attributes);
    *out = gc;
    return 0;
}

void gc_close(struct gc *gc)
{
    size_t i;

    if (!gc)
        return;
    pthread_mutex_lock(&gc->schedule_lock);
    gc->stopping = true;
    pthread_cond_broadcast(&gc->schedule_changed);
    pthread_mutex_unlock(&gc->schedule_lock);
    if (gc->scheduler_started)
        pthread_join(gc->scheduler, NULL);
    for (i = 0; i < gc->hook_count; i++)
        if (gc->hooks[i].destroy)
            gc->hooks[i].destroy(gc->hooks[i].user);
    pthread_cond_destroy(&gc->schedule_changed);
    pthread_mutex_destroy(&gc->schedule_lock);
    pthread_mutex_destroy(&gc->lock);
    free(gc);
}

int gc_register(struct gc *gc, const struct gc_hook *hook, struct berr *err)
{
    int rc = 0;

    pthread_mutex_lock(&gc->lock);
    if (gc->hook_count == HOOK_MAX)
        rc = berr_set(err, BERR_INTERNAL, "garbage collector: more than %d hooks", HOOK_MAX);
    else
        gc->hooks[gc->hook_count++] = *hook;
    pthread_mutex_unlock(&gc->lock);
    return rc;
}

/* Hooks mark, marks propagate, and again while that marked anything new
 * (see gc.h): what a hook keeps may depend on content marked through
 * another hook's, or its own, earlier marks. */
static int mark_hooks(struct gc *gc, struct gc_mark *mark, struct berr *err)
{
    size_t before, i;
    int rc;

    do {
        before = mark->marked.count;
        for (i = 0; i < gc->hook_count; i++)
            if (gc->hooks[i].mark &&
                (rc = gc->hooks[i].mark(mark, mark->txn, gc->hooks[i].user, err)))
                return rc;
        if ((rc = drain(mark, err)))
            return rc;
    } while (mark->marked.count != before);
    return 0;
}

static int collect(struct gc *gc, const char *namespace, struct string_set *candidates,
                   struct gc_result *result, struct berr *err)
{
    struct gc_mark mark = {.gc = gc};
    struct key_list doomed_leases = {0};
    struct root_walk roots = {.mark = &mark, .doomed = &doomed_leases, .now = time(NULL)};
    struct sweep_walk sweep = {.mark = &mark, .namespace = namespace, .candidates = candidates};
    struct gc_result counts = {0};
    bool committed = false;
    size_t i;
    int rc;

    pthread_mutex_lock(&gc->lock);
    content_store_lock_blobs(gc->content);
    if ((rc = metadata_begin(gc->metadata, true, &mark.txn, err)))
        goto unlock;

    /* Mark. Leases first: resources of expired leases protect nothing. */
    if ((rc = metadata_list_all(mark.txn, METADATA_LEASES, visit_lease, &roots, err)) ||
        (rc = metadata_list_all(mark.txn, METADATA_LEASE_RESOURCES, visit_lease_resource, &roots,
                                err)) ||
        (rc = metadata_list_all(mark.txn, METADATA_IMAGES, visit_image, &roots, err)) ||
        (rc = metadata_list_all(mark.txn, METADATA_CONTAINERS, visit_container, &roots, err)) ||
        (rc = metadata_list_all(mark.txn, METADATA_CONTENT, visit_content_root, &roots, err)))
        goto abort;
    if ((rc = drain(&mark, err)) || (rc = mark_hooks(gc, &mark, err)))
        goto abort;
    if (mark.out_of_memory || doomed_leases.out_of_memory) {
        rc = berr_set(err, BERR_NOMEM, "garbage collection: out of memory");
        goto abort;
    }

    /* Sweep records. */
    if ((rc = metadata_list_all(mark.txn, METADATA_CONTENT, visit_content_sweep, &sweep, err)))
        goto abort;
    if (mark.out_of_memory || sweep.doomed.out_of_memory) {
        rc = berr_set(err, BERR_NOMEM, "garbage collection: out of memory");
        goto abort;
    }
    for (i = 0; i < sweep.doomed.count; i++) {
        char record_namespace[128];
        const char *digest =
            split_key(sweep.doomed.keys[i], record_namespace, sizeof(record_namespace));
        if ((rc = metadata_delete(mark.txn, METADATA_CONTENT, record_namespace, digest, err)))
            goto abort;
        counts.removed_content++;
    }
    if (!candidates) {
        for (i = 0; i < doomed_leases.count; i++) {
            char lease_namespace[128];
            const char *key =
                split_key(doomed_leases.keys[i], lease_namespace, sizeof(lease_namespace));
            bool is_resource = key && strchr(key, '/');
            if (!key)
                continue;
            rc = metadata_delete(mark.txn, is_resource ? METADATA_LEASE_RESOURCES : METADATA_LEASES,
                                 lease_namespace, key, err);
            if (rc && rc != BERR_NOT_FOUND)
                goto abort;
            rc = 0;
            if (!is_resource)
                counts.removed_leases++;
        }
        for (i = 0; i < gc->hook_count; i++)
            if (gc->hooks[i].sweep &&
                (rc = gc->hooks[i].sweep(&mark, mark.txn, gc->hooks[i].user, &counts, err)))
                goto abort;
    }
    rc = metadata_commit(mark.txn, err);
    mark.txn = NULL;
    if (rc)
        goto finish;
    committed = true;

    /* Sweep files: those no record of any namespace names. */
    rc = content_store_sweep_files(gc->content, keep_file, &sweep, &counts.removed_blobs,
                                   &counts.freed_bytes, err);
    goto finish;
abort:
    metadata_abort(mark.txn);
    mark.txn = NULL;
finish:
    if (!candidates)
        for (i = 0; i < gc->hook_count; i++)
            if (gc->hooks[i].finish)
                gc->hooks[i].finish(gc->hooks[i].user, committed);
unlock:
    content_store_unlock_blobs(gc->content);
    pthread_mutex_unlock(&gc->lock);
    if (result)
        *result = counts;
    key_list_free(&doomed_leases);
    key_list_free(&sweep.doomed);
    set_free(&sweep.kept);
    mark_free(&mark);
    if (rc)
        berr_prefix(err, "garbage collection");
    return rc;
}

int gc_collect(struct gc *gc, struct gc_result *result, struct berr *err)
{
    return collect(gc, NULL, NULL, result, err);
}

int gc_collect_content(struct gc *gc, const char *namespace, const char *const *digests,
                       size_t count, struct gc_result *result, struct berr *err)
{
    struct string_set candidates = {0};
    size_t i;
    int rc;

    if (!namespace || !metadata_namespace_valid(namespace))
        return berr_set(err, BERR_INVALID, "invalid namespace %s", namespace ? namespace : "");
    if (result)
        memset(result, 0, sizeof(*result));
    if (count == 0)
        return 0;
    for (i = 0; i < count; i++) {
        if (set_add(&candidates, digests[i]) < 0) {
            set_free(&candidates);
            return berr_set(err, BERR_NOMEM, "garbage collection: out of memory");
        }
    }
    rc = collect(gc, namespace, &candidates, result, err);
    set_free(&candidates);
    return rc;
}

/* ---- scheduling ---- */

static void *scheduler_main(void *data)
{
    struct gc *gc = data;

    pthread_mutex_lock(&gc->schedule_lock);
    while (!gc->stopping) {
        struct timespec now;
        struct gc_result result;
        struct berr err = {0};
        if (!gc->due) {
            pthread_cond_wait(&gc->schedule_changed, &gc->schedule_lock);
            continue;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec < gc->due_at.tv_sec ||
            (now.tv_sec == gc->due_at.tv_sec && now.tv_nsec < gc->due_at.tv_nsec)) {
            pthread_cond_timedwait(&gc->schedule_changed, &gc->schedule_lock, &gc->due_at);
            continue;
        }
        gc->due = false;
        pthread_mutex_unlock(&gc->schedule_lock);
        if (gc_collect(gc, &result, &err))
            log_warn("scheduled %s", err.message);
        else
            log_debug("garbage collection: %lld content records, %lld blobs (%lld bytes), "
                      "%lld snapshots, %lld expired leases removed",
                      (long long)result.removed_content, (long long)result.removed_blobs,
                      (long long)result.freed_bytes, (long long)result.removed_snapshots,
                      (long long)result.removed_leases);
        pthread_mutex_lock(&gc->schedule_lock);
    }
    pthread_mutex_unlock(&gc->schedule_lock);
    return NULL;
}

void gc_schedule(struct gc *gc, unsigned delay_ms)
{
    struct timespec at;

    clock_gettime(CLOCK_MONOTONIC, &at);
    at.tv_sec += delay_ms / 1000;
    at.tv_nsec += (long)(delay_ms % 1000) * 1000000L;
    if (at.tv_nsec >= 1000000000L) {
        at.tv_sec++;
        at.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&gc->schedule_lock);
    if (gc->stopping) {
        pthread_mutex_unlock(&gc->schedule_lock);
        return;
    }
    if (!gc->scheduler_started) {
        int rc = pthread_create(&gc->scheduler, NULL, scheduler_main, gc);
        if (rc) {
            pthread_mutex_unlock(&gc->schedule_lock);
            log_warn("garbage collection not scheduled: pthread_create: %s", strerror(rc));
            return;
        }
        gc->scheduler_started = true;
    }
    if (!gc->due || at.tv_sec < gc->due_at.tv_sec ||
        (at.tv_sec == gc->due_at.tv_sec && at.tv_nsec < gc->due_at.tv_nsec))
        gc->due_at = at;
    gc->due = true;
    pthread_cond_broadcast(&gc->schedule_changed);
    pthread_mutex_unlock(&gc->schedule_lock);
}
