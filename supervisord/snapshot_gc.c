/*
 * snapshot_gc: see snapshot_gc.h. Each mark round reads every snapshot
 * record into a sorted array, marks the roots, then follows parents and
 * labels from a work stack; the sweep removes what is left unmarked.
 * Rounds recompute from scratch (gc.h asks hooks to be idempotent).
 */
#include "snapshot_gc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/images.pb-c.h"
#include "log.h"
#include "record.h"

#define EXTRACT_KEY_START "extract-" /* unpack.c's in-flight snapshots */
#define NODE_KEY_MAX      512

struct node {
    char *key; /* "NAMESPACE/KEY", the metadata key, for lookups */
    size_t namespace_length;
    char *parent; /* "" for none */
    enum snapshot_kind kind;
    struct snapshot_label *labels;
    size_t label_count;
    bool kept;
};

struct snapshot_gc {
    struct snapshotter *snapshotter;
    struct node *nodes; /* sorted by key once read */
    size_t node_count, node_capacity;
    size_t *stack; /* kept nodes whose edges are still to follow */
    size_t stack_count, stack_capacity;
    uint64_t *directories; /* swept, to delete after the commit */
    size_t directory_count;
    bool out_of_memory;
};

/* ---- the nodes ---- */

static void clear_nodes(struct snapshot_gc *state)
{
    size_t i, j;

    for (i = 0; i < state->node_count; i++) {
        struct node *node = &state->nodes[i];
        for (j = 0; j < node->label_count; j++) {
            free(node->labels[j].key);
            free(node->labels[j].value);
        }
        free(node->labels);
        free(node->key);
        free(node->parent);
    }
    free(state->nodes);
    free(state->stack);
    state->nodes = NULL;
    state->node_count = state->node_capacity = 0;
    state->stack = NULL;
    state->stack_count = state->stack_capacity = 0;
    state->out_of_memory = false;
}

static int copy_node(struct node *node, const char *namespace, const struct snapshot_info *info)
{
    size_t i;

    memset(node, 0, sizeof(*node));
    node->namespace_length = strlen(namespace);
    node->kind = info->kind;
    if (asprintf(&node->key, "%s/%s", namespace, info->name) < 0) {
        node->key = NULL;
        return BERR_NOMEM;
    }
    node->parent = strdup(info->parent ? info->parent : "");
    node->labels = calloc(info->label_count ? info->label_count : 1, sizeof(*node->labels));
    if (!node->parent || !node->labels)
        return BERR_NOMEM;
    for (i = 0; i < info->label_count; i++) {
        node->labels[i].key = strdup(info->labels[i].key);
        node->labels[i].value = strdup(info->labels[i].value);
        node->label_count++;
        if (!node->labels[i].key || !node->labels[i].value)
            return BERR_NOMEM;
    }
    return 0;
}

static int add_node(const char *namespace, const struct snapshot_info *info, void *user)
{
    struct snapshot_gc *state = user;

    if (state->node_count == state->node_capacity) {
        size_t capacity = state->node_capacity ? state->node_capacity * 2 : 64;
        struct node *nodes = realloc(state->nodes, capacity * sizeof(*nodes));
        if (!nodes) {
            state->out_of_memory = true;
            return 1;
        }
        state->nodes = nodes;
        state->node_capacity = capacity;
    }
    /* Counted even when the copy fails, so clear_nodes frees the part made. */
    if (copy_node(&state->nodes[state->node_count++], namespace, info)) {
        state->out_of_memory = true;
        return 1;
    }
    return 0;
}

static int compare_nodes(const void *a, const void *b)
{
    return strcmp(((const struct node *)a)->key, ((const struct node *)b)->key);
}

static int compare_key(const void *key, const void *node)
{
    return strcmp(key, ((const struct node *)node)->key);
}

static struct node *find_node(struct snapshot_gc *state, const char *namespace, const char *key)
{
    char lookup[NODE_KEY_MAX];
    int length = snprintf(lookup, sizeof(lookup), "%s/%s", namespace, key);

    if (length < 0 || (size_t)length >= sizeof(lookup))
        return NULL; /* no snapshot has such a long name */
    return bsearch(lookup, state->nodes, state->node_count, sizeof(*state->nodes), compare_key);
}

/* ---- marking ---- */

static void keep(struct snapshot_gc *state, const char *namespace, const char *key)
{
    struct node *node = key && key[0] ? find_node(state, namespace, key) : NULL;

    if (!node || node->kept)
        return;
    node->kept = true;
    if (state->stack_count == state->stack_capacity) {
        size_t capacity = state->stack_capacity ? state->stack_capacity * 2 : 64;
        size_t *stack = realloc(state->stack, capacity * sizeof(*stack));
        if (!stack) {
            state->out_of_memory = true;
            return;
        }
        state->stack = stack;
        state->stack_capacity = capacity;
    }
    state->stack[state->stack_count++] = (size_t)(node - state->nodes);
}

/* "berth.gc.ref.snapshot.overlayfs", alone or followed by '.' or '/' and a suffix
 * (so one object may name several snapshots). */
static bool is_snapshot_ref(const char *key)
{
    size_t length = strlen(SNAPSHOT_GC_REF_LABEL);

    return strncmp(key, SNAPSHOT_GC_REF_LABEL, length) == 0 &&
           (key[length] == '\0' || key[length] == '.' || key[length] == '/');
}

/* The snapshot references among map entries (labels of images, containers, content). */
static void keep_referenced(struct snapshot_gc *state, const char *namespace,
                            ProtobufCMessage *const *entries, size_t count)
{
    struct label_set labels = {0};
    size_t i;

    if (record_labels_add(&labels, entries, count, NULL) != 0) {
        state->out_of_memory = true;
        label_set_clear(&labels);
        return;
    }
    for (i = 0; i < labels.count; i++)
        if (is_snapshot_ref(labels.keys[i]))
            keep(state, namespace, labels.values[i]);
    label_set_clear(&labels);
}

/* Splits "NS/REST" (a metadata key) into namespace and REST. */
static const char *split_key(const char *key, char *namespace, size_t size)
{
    const char *slash = strchr(key, '/');

    if (!slash || slash == key || (size_t)(slash - key) >= size)
        return NULL;
    memcpy(namespace, key, (size_t)(slash - key));
    namespace[slash - key] = '\0';
    return slash + 1;
}

struct root_walk {
    struct snapshot_gc *state;
    struct gc_mark *mark;
};

static int visit_container(const char *key, const void *data, size_t size, void *user)
{
    struct root_walk *walk = user;
    Berth__Supervisor__V1__Container *container;
    char namespace[128];

    if (!split_key(key, namespace, sizeof(namespace)) ||
        record_unpack(&berth__supervisor__v1__container__descriptor, data, size, key,
                      (ProtobufCMessage **)&container, NULL) != 0)
        return 0;
    if (!container->snapshotter[0] || strcmp(container->snapshotter, SNAPSHOTTER_NAME) == 0)
        keep(walk->state, namespace, container->snapshot_key);
    keep_referenced(walk->state, namespace, (ProtobufCMessage *const *)container->labels,
                    container->n_labels);
    berth__supervisor__v1__container__free_unpacked(container, NULL);
    return 0;
}

static int visit_image(const char *key, const void *data, size_t size, void *user)
{
    struct root_walk *walk = user;
    Berth__Supervisor__V1__Image *image;
    char namespace[128];

    if (!split_key(key, namespace, sizeof(namespace)) ||
        record_unpack(&berth__supervisor__v1__image__descriptor, data, size, key,
                      (ProtobufCMessage **)&image, NULL) != 0)
        return 0;
    keep_referenced(walk->state, namespace, (ProtobufCMessage *const *)image->labels,
                    image->n_labels);
    berth__supervisor__v1__image__free_unpacked(image, NULL);
    return 0;
}

/* Content the collector keeps so far: its labels may name snapshots. */
static int visit_content(const char *key, const void *data, size_t size, void *user)
{
    struct root_walk *walk = user;
    Berth__Supervisor__V1__ContentInfo *info;
    char namespace[128];
    const char *digest = split_key(key, namespace, sizeof(namespace));

    if (!digest || !gc_content_marked(walk->mark, namespace, digest) ||
        record_unpack(&berth__supervisor__v1__content_info__descriptor, data, size, key,
                      (ProtobufCMessage **)&info, NULL) != 0)
        return 0;
    keep_referenced(walk->state, namespace, (ProtobufCMessage *const *)info->labels,
                    info->n_labels);
    berth__supervisor__v1__content_info__free_unpacked(info, NULL);
    return 0;
}

static bool has_label(const struct node *node, const char *key)
{
    size_t i;

    for (i = 0; i < node->label_count; i++)
        if (strcmp(node->labels[i].key, key) == 0)
            return true;
    return false;
}

/* Roots among the snapshots themselves: gc.root labels, leases, unpacks in progress. */
static void keep_own_roots(struct snapshot_gc *state, struct gc_mark *mark)
{
    char namespace[128];
    size_t i;

    for (i = 0; i < state->node_count; i++) {
        struct node *node = &state->nodes[i];
        const char *key = split_key(node->key, namespace, sizeof(namespace));
        if (!key)
            continue;
        if (has_label(node, GC_LABEL_ROOT) || gc_leased(mark, namespace, SNAPSHOT_GC_LEASE, key) ||
            (node->kind == SNAPSHOT_KIND_ACTIVE &&
             strncmp(key, EXTRACT_KEY_START, strlen(EXTRACT_KEY_START)) == 0))
            keep(state, namespace, key);
    }
}

/* From each kept snapshot: its parent, the snapshots and the content its labels name. */
static int follow(struct snapshot_gc *state, struct gc_mark *mark)
{
    char namespace[128];
    size_t i;
    int rc;

    while (state->stack_count > 0 && !state->out_of_memory) {
        struct node *node = &state->nodes[state->stack[--state->stack_count]];
        if (!split_key(node->key, namespace, sizeof(namespace)))
            continue;
        keep(state, namespace, node->parent);
        for (i = 0; i < node->label_count; i++) {
            if (is_snapshot_ref(node->labels[i].key))
                keep(state, namespace, node->labels[i].value);
            else if ((rc = gc_mark_label(mark, namespace, node->labels[i].key,
                                         node->labels[i].value)))
                return rc;
        }
    }
    return 0;
}

static int mark_snapshots(struct gc_mark *mark, struct metadata_txn *txn, void *user,
                          struct berr *err)
{
    struct snapshot_gc *state = user;
    struct root_walk walk = {state, mark};
    int rc;

    clear_nodes(state);
    if ((rc = snapshot_walk(txn, add_node, state, err)) && !state->out_of_memory)
        return rc;
    if (!state->out_of_memory) {
        qsort(state->nodes, state->node_count, sizeof(*state->nodes), compare_nodes);
        keep_own_roots(state, mark);
        if ((rc = metadata_list_all(txn, METADATA_CONTAINERS, visit_container, &walk, err)) ||
            (rc = metadata_list_all(txn, METADATA_IMAGES, visit_image, &walk, err)) ||
            (rc = metadata_list_all(txn, METADATA_CONTENT, visit_content, &walk, err)))
            return rc;
        if ((rc = follow(state, mark)) && !state->out_of_memory)
            return berr_set(err, rc, "snapshots: cannot mark the content they hold");
    }
    if (state->out_of_memory)
        return berr_set(err, BERR_NOMEM, "snapshots: out of memory");
    return 0;
}

/* ---- sweeping ---- */

static int remember_directory(struct snapshot_gc *state, uint64_t directory, struct berr *err)
{
    uint64_t *grown =
        realloc(state->directories, (state->directory_count + 1) * sizeof(*state->directories));

    if (!grown)
        return berr_set(err, BERR_NOMEM, "snapshots: out of memory");
    state->directories = grown;
    state->directories[state->directory_count++] = directory;
    return 0;
}

static int sweep_snapshots(struct gc_mark *mark, struct metadata_txn *txn, void *user,
                           struct gc_result *result, struct berr *err)
{
    struct snapshot_gc *state = user;
    char namespace[128];
    size_t i;
    int rc;

    (void)mark;
    for (i = 0; i < state->node_count; i++) {
        const struct node *node = &state->nodes[i];
        const char *key = split_key(node->key, namespace, sizeof(namespace));
        uint64_t directory = 0;
        if (node->kept || !key)
            continue;
        if ((rc = snapshot_remove_txn(txn, namespace, key, &directory, err)))
            return rc;
        if (directory && (rc = remember_directory(state, directory, err)))
            return rc;
        log_debug("garbage collection: snapshot %s", node->key);
        result->removed_snapshots++;
    }
    return 0;
}

static void finish_snapshots(void *user, bool committed)
{
    struct snapshot_gc *state = user;
    size_t i;

    for (i = 0; committed && i < state->directory_count; i++)
        snapshot_remove_directory(state->snapshotter, state->directories[i]);
    free(state->directories);
    state->directories = NULL;
    state->directory_count = 0;
    clear_nodes(state);
}

static void destroy_snapshots(void *user)
{
    struct snapshot_gc *state = user;

    finish_snapshots(state, false);
    free(state);
}

int snapshot_gc_register(struct gc *gc, struct snapshotter *snapshotter, struct berr *err)
{
    struct snapshot_gc *state = calloc(1, sizeof(*state));
    struct gc_hook hook = {
        .name = "snapshots",
        .mark = mark_snapshots,
        .sweep = sweep_snapshots,
        .finish = finish_snapshots,
        .destroy = destroy_snapshots,
        .user = state,
    };
    int rc;

    if (!state)
        return berr_set(err, BERR_NOMEM, "snapshots: out of memory");
    state->snapshotter = snapshotter;
    if ((rc = gc_register(gc, &hook, err)))
        free(state);
    return rc;
}
