/*
 * image_store: see image_store.h. Every supervisor call goes to namespace
 * ENGINE_NAMESPACE; image_info objects are built once per target digest
 * and cached (a small array: an engine holds tens of images, not
 * thousands, and a miss only costs two calls).
 */
#include "image_store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/containers.pb-rpc.h"
#include "berth/supervisor/v1/content.pb-c.h"
#include "berth/supervisor/v1/content.pb-rpc.h"
#include "berth/supervisor/v1/images.pb-c.h"
#include "berth/supervisor/v1/images.pb-rpc.h"
#include "berth/supervisor/v1/snapshots.pb-c.h"
#include "berth/supervisor/v1/snapshots.pb-rpc.h"
#include "berth/supervisor/v1/tasks.pb-c.h"
#include "berth/supervisor/v1/tasks.pb-rpc.h"
#include "docker_time.h"
#include "engine.h"
#include "json.h"
#include "log.h"
#include "reference.h"

#define INFO_CACHE_SIZE  256
#define USAGE_CACHE_SIZE 1024
#define IMPORT_CHUNK     (1u << 20)
#define MANIFEST_MAX     (4u << 20)

typedef Berth__Supervisor__V1__Image SupervisorImage;
typedef Berth__Supervisor__V1__Descriptor SupervisorDescriptor;

struct usage_entry {
    char chain_id[DIGEST_STRING_SIZE];
    int64_t size;
};

struct image_store {
    struct rpc_client *supervisor;
    pthread_mutex_t lock;
    struct image_info *cache[INFO_CACHE_SIZE]; /* by target; ring */
    size_t cache_next;
    struct usage_entry usage[USAGE_CACHE_SIZE]; /* committed layers' usage; ring */
    size_t usage_next;
};

static const struct rpc_method *images_method(int index)
{
    return &berth_supervisor_v1_images_methods[index];
}

static int call(struct image_store *store, const struct rpc_method *method,
                const ProtobufCMessage *request, ProtobufCMessage **response, struct berr *err)
{
    return rpc_client_unary(store->supervisor, method, ENGINE_NAMESPACE, request, response,
                            ENGINE_RPC_TIMEOUT_MS, err);
}

static void free_message(void *message)
{
    if (message)
        protobuf_c_message_free_unpacked(message, NULL);
}

static int no_memory(struct berr *err)
{
    return berr_set(err, BERR_NOMEM, "out of memory");
}

int image_store_create(struct rpc_client *supervisor, struct image_store **out, struct berr *err)
{
    struct image_store *store = calloc(1, sizeof(*store));

    if (!store)
        return no_memory(err);
    store->supervisor = supervisor;
    pthread_mutex_init(&store->lock, NULL);
    *out = store;
    return 0;
}

void image_store_destroy(struct image_store *store)
{
    if (!store)
        return;
    for (size_t i = 0; i < INFO_CACHE_SIZE; i++)
        image_info_release(store->cache[i]);
    pthread_mutex_destroy(&store->lock);
    free(store);
}

/* ---- image_info ---- */

void image_info_hold(struct image_info *info)
{
    __atomic_add_fetch(&info->references, 1, __ATOMIC_ACQ_REL);
}

void image_info_release(struct image_info *info)
{
    if (!info || __atomic_sub_fetch(&info->references, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (size_t i = 0; i < info->layer_count; i++)
        free(info->layers[i].media_type);
    free(info->layers);
    free(info->manifest_media_type);
    free(info->config_json);
    yajl_tree_free(info->config);
    free(info);
}

yajl_val image_info_config_field(const struct image_info *info, const char *field)
{
    return json_get(json_get(info->config, "config"), field);
}

static int chain_ids(struct image_info *info, struct berr *err)
{
    for (size_t i = 0; i < info->layer_count; i++) {
        struct image_layer_info *layer = &info->layers[i];
        char text[2 * DIGEST_STRING_SIZE + 2];
        int rc;
        if (i == 0) {
            memcpy(layer->chain_id, layer->diff_id, DIGEST_STRING_SIZE);
            continue;
        }
        snprintf(text, sizeof(text), "%s %s", info->layers[i - 1].chain_id, layer->diff_id);
        if ((rc = digest_sha256_buffer(text, strlen(text), layer->chain_id, err)))
            return rc;
    }
    if (info->layer_count)
        memcpy(info->chain_id, info->layers[info->layer_count - 1].chain_id, DIGEST_STRING_SIZE);
    return 0;
}

static int copy_digest(char out[DIGEST_STRING_SIZE], const char *digest, const char *what,
                       struct berr *err)
{
    if (!digest || !digest_is_valid(digest))
        return berr_set(err, BERR_INVALID, "%s: bad digest \"%.100s\"", what, digest ? digest : "");
    memcpy(out, digest, strlen(digest) + 1);
    return 0;
}

/* The manifest's layers (digest, media type, size). */
static int parse_manifest_layers(struct image_info *info, const char *json, struct berr *err)
{
    yajl_val tree = NULL, layers = NULL;
    int rc;

    if ((rc = json_parse(json, &tree, err)) || (rc = json_get_array(tree, "layers", &layers, err)))
        goto out;
    info->layer_count = layers ? layers->u.array.len : 0;
    info->layers = calloc(info->layer_count + 1, sizeof(*info->layers));
    if (!info->layers) {
        rc = no_memory(err);
        goto out;
    }
    for (size_t i = 0; i < info->layer_count && !rc; i++) {
        yajl_val layer = layers->u.array.values[i];
        const char *digest = NULL, *media_type = "";
        if ((rc = json_get_string(layer, "digest", &digest, err)) ||
            (rc = json_get_string(layer, "mediaType", &media_type, err)) ||
            (rc = json_get_int64(layer, "size", &info->layers[i].size, err)) ||
            (rc = copy_digest(info->layers[i].digest, digest, "manifest layer", err)))
            break;
        if (!(info->layers[i].media_type = strdup(media_type)))
            rc = no_memory(err);
    }
out:
    yajl_tree_free(tree);
    return rc ? berr_prefix(err, "manifest %s", info->manifest) : 0;
}

/* The config's created time and diff IDs (one per manifest layer). */
static int parse_config(struct image_info *info, struct berr *err)
{
    yajl_val rootfs = NULL, diff_ids = NULL;
    const char *created = NULL;
    int rc;

    if ((rc = json_parse(info->config_json, &info->config, err)) ||
        (rc = json_get_string(info->config, "created", &created, err)) ||
        (rc = json_get_object(info->config, "rootfs", &rootfs, err)) ||
        (rc = json_get_array(rootfs, "diff_ids", &diff_ids, err)))
        return berr_prefix(err, "image config %s", info->id);
    info->has_created = created && docker_time_parse(created, 0, &info->created, NULL) == 0;
    if (!info->has_created)
        info->created = 0;
    if ((diff_ids ? diff_ids->u.array.len : 0) != info->layer_count)
        return berr_set(err, BERR_INVALID, "image %s: %zu layers but %zu diff_ids", info->id,
                        info->layer_count, diff_ids ? diff_ids->u.array.len : 0);
    for (size_t i = 0; i < info->layer_count; i++) {
        yajl_val value = diff_ids->u.array.values[i];
        if ((rc = copy_digest(info->layers[i].diff_id, YAJL_GET_STRING(value), "config diff_id",
                              err)))
            return berr_prefix(err, "image config %s", info->id);
    }
    return chain_ids(info, err);
}

/* Images.Config answers for the name as it is now; the answer is cached
 * by target, so it must be target's: the manifest itself, or one an index
 * at target lists. A name moved meanwhile is BERR_CONFLICT. */
static int check_target(struct image_store *store, const char *name, const char *target,
                        const char *manifest, struct berr *err)
{
    char *index = NULL;
    size_t length;
    bool listed;
    int rc;

    if (strcmp(target, manifest) == 0)
        return 0;
    if ((rc = image_store_read_small_blob(store, target, MANIFEST_MAX, &index, &length, err)))
        return rc;
    listed = strstr(index, manifest) != NULL;
    free(index);
    return listed ? 0 : berr_set(err, BERR_CONFLICT, "image %s changed while it was read", name);
}

/* Builds what name (whose target is target) leads to. */
static int build_info(struct image_store *store, const char *name, const char *target,
                      struct image_info **out, struct berr *err)
{
    Berth__Supervisor__V1__ImageConfigRequest request =
        BERTH__SUPERVISOR__V1__IMAGE_CONFIG_REQUEST__INIT;
    Berth__Supervisor__V1__ImageConfigResponse *response = NULL;
    struct image_info *info = calloc(1, sizeof(*info));
    char *manifest = NULL;
    size_t manifest_length;
    int rc;

    if (!info)
        return no_memory(err);
    info->references = 1;
    request.name = (char *)name;
    if ((rc = call(store, images_method(BERTH_SUPERVISOR_V1_IMAGES_CONFIG), &request.base,
                   (ProtobufCMessage **)&response, err)))
        goto out;
    if (!response->manifest || !response->config) {
        rc = berr_set(err, BERR_INTERNAL, "Images.Config %s: no descriptors", name);
        goto out;
    }
    if ((rc = copy_digest(info->target, target, "target", err)) ||
        (rc = copy_digest(info->id, response->config->digest, "config", err)) ||
        (rc = copy_digest(info->manifest, response->manifest->digest, "manifest", err)) ||
        (rc = check_target(store, name, target, info->manifest, err)))
        goto out;
    info->manifest_size = response->manifest->size;
    info->config_size = response->config->size;
    info->manifest_media_type = strdup(response->manifest->media_type);
    info->config_json = malloc(response->config_json.len + 1);
    if (!info->manifest_media_type || !info->config_json) {
        rc = no_memory(err);
        goto out;
    }
    memcpy(info->config_json, response->config_json.data, response->config_json.len);
    info->config_json[response->config_json.len] = '\0';
    info->config_length = response->config_json.len;
    if ((rc = image_store_read_small_blob(store, info->manifest, MANIFEST_MAX, &manifest,
                                          &manifest_length, err)) ||
        (rc = parse_manifest_layers(info, manifest, err)) || (rc = parse_config(info, err)))
        goto out;
out:
    free(manifest);
    free_message(response);
    if (rc) {
        image_info_release(info);
        return berr_prefix(err, "image %s", name);
    }
    *out = info;
    return 0;
}

int image_store_info(struct image_store *store, const char *name, const char *target,
                     struct image_info **out, struct berr *err)
{
    struct image_info *info = NULL;
    int rc;

    pthread_mutex_lock(&store->lock);
    for (size_t i = 0; i < INFO_CACHE_SIZE && !info; i++)
        if (store->cache[i] && strcmp(store->cache[i]->target, target) == 0)
            image_info_hold(info = store->cache[i]);
    pthread_mutex_unlock(&store->lock);
    if (info) {
        *out = info;
        return 0;
    }
    if ((rc = build_info(store, name, target, &info, err)))
        return rc;
    pthread_mutex_lock(&store->lock);
    image_info_release(store->cache[store->cache_next]);
    image_info_hold(info);
    store->cache[store->cache_next] = info;
    store->cache_next = (store->cache_next + 1) % INFO_CACHE_SIZE;
    pthread_mutex_unlock(&store->lock);
    *out = info;
    return 0;
}

/* ---- names ---- */

enum image_name_kind image_name_kind(const char *name)
{
    struct image_reference reference;
    enum image_name_kind kind = IMAGE_NAME_HIDDEN;
    char *canonical;

    if (reference_parse(name, &reference, NULL) != 0)
        return IMAGE_NAME_HIDDEN;
    /* Only the canonical spelling is a Docker name; "import:x" is not. */
    canonical = reference_string(&reference);
    if (canonical && strcmp(canonical, name) == 0 && !(reference.tag && reference.digest))
        kind = reference.digest ? IMAGE_NAME_DIGEST : reference.tag ? IMAGE_NAME_TAG : kind;
    free(canonical);
    reference_free(&reference);
    return kind;
}

/* ---- listing ---- */

void image_list_free(struct image_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        struct image_entry *entry = &list->entries[i];
        image_info_release(entry->info);
        for (size_t j = 0; j < entry->name_count; j++) {
            free(entry->names[j]);
            free(entry->name_targets[j]);
        }
        free(entry->names);
        free(entry->name_targets);
    }
    free(list->entries);
    memset(list, 0, sizeof(*list));
}

struct image_entry *image_list_find(const struct image_list *list, const char *id)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->entries[i].info->id, id) == 0)
            return &list->entries[i];
    return NULL;
}

size_t image_entry_count_names(const struct image_entry *entry, enum image_name_kind kind)
{
    size_t count = 0;

    for (size_t i = 0; i < entry->name_count; i++)
        count += image_name_kind(entry->names[i]) == kind;
    return count;
}

static int64_t timestamp_nano(const Berth__Supervisor__V1__Timestamp *timestamp)
{
    return timestamp ? timestamp->seconds * DOCKER_TIME_NANO + timestamp->nanos : 0;
}

static int add_name(struct image_entry *entry, const SupervisorImage *image, struct berr *err)
{
    char **names = realloc(entry->names, (entry->name_count + 1) * sizeof(char *));
    char **targets;

    if (!names)
        return no_memory(err);
    entry->names = names;
    targets = realloc(entry->name_targets, (entry->name_count + 1) * sizeof(char *));
    if (!targets)
        return no_memory(err);
    entry->name_targets = targets;
    names[entry->name_count] = strdup(image->name);
    targets[entry->name_count] = strdup(image->target->digest);
    if (!names[entry->name_count] || !targets[entry->name_count]) {
        free(names[entry->name_count]);
        free(targets[entry->name_count]);
        return no_memory(err);
    }
    entry->name_count++;
    if (image_name_kind(image->name) == IMAGE_NAME_TAG &&
        timestamp_nano(image->updated_at) > entry->last_tag_time)
        entry->last_tag_time = timestamp_nano(image->updated_at);
    return 0;
}

static int add_to_list(struct image_list *list, const SupervisorImage *image,
                       struct image_info *info, struct berr *err)
{
    struct image_entry *entry = image_list_find(list, info->id), *grown;

    if (!entry) {
        grown = realloc(list->entries, (list->count + 1) * sizeof(*grown));
        if (!grown)
            return no_memory(err);
        list->entries = grown;
        entry = &grown[list->count++];
        memset(entry, 0, sizeof(*entry));
        image_info_hold(info);
        entry->info = info;
    }
    return add_name(entry, image, err);
}

static int list_supervisor_images(struct image_store *store, const char *filter,
                                  Berth__Supervisor__V1__ListImagesResponse **out, struct berr *err)
{
    Berth__Supervisor__V1__ListImagesRequest request =
        BERTH__SUPERVISOR__V1__LIST_IMAGES_REQUEST__INIT;
    char *filters[1] = {(char *)filter};

    if (filter) {
        request.n_filters = 1;
        request.filters = filters;
    }
    return call(store, images_method(BERTH_SUPERVISOR_V1_IMAGES_LIST), &request.base,
                (ProtobufCMessage **)out, err);
}

int image_store_list(struct image_store *store, struct image_list *out, struct berr *err)
{
    Berth__Supervisor__V1__ListImagesResponse *response = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = list_supervisor_images(store, NULL, &response, err)))
        return berr_prefix(err, "list images");
    for (size_t i = 0; i < response->n_images && !rc; i++) {
        const SupervisorImage *image = response->images[i];
        struct image_info *info;
        struct berr skipped;
        if (!image->target || !digest_is_valid(image->target->digest))
            continue;
        if (image_store_info(store, image->name, image->target->digest, &info, &skipped) != 0) {
            log_warn("image %s: %s (not listed)", image->name, skipped.message);
            continue;
        }
        rc = add_to_list(out, image, info, err);
        image_info_release(info);
    }
    free_message(response);
    if (rc)
        image_list_free(out);
    return rc;
}

/* ---- lookups ---- */

void image_lookup_free(struct image_lookup *lookup)
{
    image_info_release(lookup->info);
    free(lookup->name);
    free(lookup->target);
    free(lookup->wanted);
    memset(lookup, 0, sizeof(*lookup));
}

static int get_image(struct image_store *store, const char *name, SupervisorImage **out,
                     struct berr *err)
{
    Berth__Supervisor__V1__GetImageRequest request = BERTH__SUPERVISOR__V1__GET_IMAGE_REQUEST__INIT;
    int rc;

    request.name = (char *)name;
    rc = call(store, images_method(BERTH_SUPERVISOR_V1_IMAGES_GET), &request.base,
              (ProtobufCMessage **)out, err);
    if (!rc && (!(*out)->target || !digest_is_valid((*out)->target->digest))) {
        free_message(*out);
        *out = NULL;
        return berr_set(err, BERR_INVALID, "image %s has no valid target", name);
    }
    return rc;
}

static int fill_lookup(struct image_lookup *out, struct image_info *info, const char *name,
                       const char *target, struct berr *err)
{
    image_info_hold(info);
    out->info = info;
    out->name = strdup(name);
    out->target = strdup(target);
    return out->name && out->target ? 0 : no_memory(err);
}

/* The supervisor name, as stored; BERR_NOT_FOUND when absent. */
static int lookup_name(struct image_store *store, const char *name, struct image_lookup *out,
                       struct berr *err)
{
    SupervisorImage *image = NULL;
    struct image_info *info = NULL;
    int rc;

    if ((rc = get_image(store, name, &image, err)) ||
        (rc = image_store_info(store, name, image->target->digest, &info, err)))
        goto out;
    rc = fill_lookup(out, info, name, image->target->digest, err);
out:
    image_info_release(info);
    free_message(image);
    return rc;
}

/* The name a lookup by ID reports: a tag, else a digest name, else any. */
static size_t preferred_name(const struct image_entry *entry)
{
    for (int kind = IMAGE_NAME_TAG; kind <= IMAGE_NAME_HIDDEN; kind++)
        for (size_t i = 0; i < entry->name_count; i++)
            if ((int)image_name_kind(entry->names[i]) == kind)
                return i;
    return 0;
}

static bool id_matches(const char *id, const char *wanted, bool exact)
{
    const char *hex = id + strlen(DIGEST_SHA256_PREFIX);

    if (exact)
        return strcmp(id, wanted) == 0;
    if (strncmp(wanted, DIGEST_SHA256_PREFIX, strlen(DIGEST_SHA256_PREFIX)) == 0)
        wanted += strlen(DIGEST_SHA256_PREFIX);
    return strncmp(hex, wanted, strlen(wanted)) == 0;
}

/* By ID or unambiguous ID prefix; BERR_NOT_FOUND otherwise. */
static int lookup_id(struct image_store *store, const char *wanted, bool exact,
                     struct image_lookup *out, struct berr *err)
{
    struct image_list list;
    struct image_entry *found = NULL;
    size_t matches = 0;
    int rc;

    if ((rc = image_store_list(store, &list, err)))
        return rc;
    for (size_t i = 0; i < list.count; i++) {
        if (id_matches(list.entries[i].info->id, wanted, exact)) {
            found = &list.entries[i];
            matches++;
        }
    }
    if (matches == 1) {
        size_t index = preferred_name(found);
        rc = fill_lookup(out, found->info, found->names[index], found->name_targets[index], err);
        out->by_id = true;
    } else {
        rc = berr_set(err, BERR_NOT_FOUND, "%s", matches ? "ambiguous image ID" : "no such ID");
    }
    image_list_free(&list);
    return rc;
}

/* NAME@DIGEST as a name of NAME's repository whose target is DIGEST. */
static int lookup_repository_digest(struct image_store *store, const char *repository,
                                    const char *digest, struct image_lookup *out, struct berr *err)
{
    struct image_list list;
    size_t length = strlen(repository);
    int rc;

    if ((rc = image_store_list(store, &list, err)))
        return rc;
    rc = berr_set(err, BERR_NOT_FOUND, "no such digest");
    for (size_t i = 0; i < list.count && rc == BERR_NOT_FOUND; i++) {
        struct image_entry *entry = &list.entries[i];
        for (size_t j = 0; j < entry->name_count && rc == BERR_NOT_FOUND; j++) {
            const char *name = entry->names[j];
            if (strncmp(name, repository, length) == 0 &&
                (name[length] == ':' || name[length] == '@') &&
                strcmp(entry->name_targets[j], digest) == 0)
                rc = fill_lookup(out, entry->info, name, entry->name_targets[j], err);
        }
    }
    image_list_free(&list);
    return rc;
}

static int lookup_reference(struct image_store *store, struct image_reference *reference,
                            struct image_lookup *out, struct berr *err)
{
    char *repository = reference_name(reference), *name = NULL;
    int rc;

    if (!repository)
        return no_memory(err);
    if (reference->digest) {
        /* A tag beside a digest is ignored, as in Docker. */
        if (asprintf(&name, "%s@%s", repository, reference->digest) < 0)
            name = NULL;
    } else {
        name = reference_string(reference);
    }
    if (!name) {
        free(repository);
        return no_memory(err);
    }
    rc = lookup_name(store, name, out, err);
    if (rc == BERR_NOT_FOUND && reference->digest)
        rc = lookup_repository_digest(store, repository, reference->digest, out, err);
    free(repository);
    free(name);
    return rc;
}

static int no_such_image(struct berr *err, const char *shown)
{
    return berr_set(err, BERR_NOT_FOUND, "No such image: %s", shown);
}

static int lookup_full_id(struct image_store *store, const char *text, struct image_lookup *out,
                          struct berr *err)
{
    char id[DIGEST_STRING_SIZE];
    int rc;

    snprintf(id, sizeof(id), "%s%s",
             strncmp(text, DIGEST_SHA256_PREFIX, strlen(DIGEST_SHA256_PREFIX)) == 0
                 ? ""
                 : DIGEST_SHA256_PREFIX,
             text);
    rc = lookup_id(store, id, true, out, err);
    return rc == BERR_NOT_FOUND ? no_such_image(err, id) : rc;
}

int image_store_lookup(struct image_store *store, const char *text, struct image_lookup *out,
                       struct berr *err)
{
    struct image_reference reference;
    char *shown;
    int rc;

    memset(out, 0, sizeof(*out));
    if (reference_is_full_id(text))
        return lookup_full_id(store, text, out, err);
    if ((rc = reference_parse(text, &reference, err)))
        return rc;
    if ((rc = reference_default_tag(&reference, err)))
        goto out;
    rc = lookup_reference(store, &reference, out, err);
    if (rc == BERR_NOT_FOUND && reference_is_id_prefix(text))
        rc = lookup_id(store, text, false, out, err);
    if (rc == BERR_NOT_FOUND) {
        shown = reference_familiar(&reference);
        rc = no_such_image(err, shown ? shown : text);
        free(shown);
    } else if (!rc && !out->by_id) {
        out->wanted = reference_string(&reference);
    }
out:
    reference_free(&reference);
    if (rc)
        image_lookup_free(out);
    return rc;
}

int image_store_resolve(struct image_store *store, const char *text, struct image_resolved *out,
                        struct berr *err)
{
    struct image_lookup lookup;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = image_store_lookup(store, text, &lookup, err)))
        return rc;
    if ((rc = image_store_unpack(store, lookup.name, out->chain_id, err)))
        goto out;
    memcpy(out->id, lookup.info->id, DIGEST_STRING_SIZE);
    out->name = strdup(lookup.name);
    out->config_json = strdup(lookup.info->config_json);
    out->config_length = lookup.info->config_length;
    if (!out->name || !out->config_json)
        rc = no_memory(err);
out:
    image_lookup_free(&lookup);
    if (rc)
        image_resolved_free(out);
    return rc;
}

void image_resolved_free(struct image_resolved *resolved)
{
    free(resolved->name);
    free(resolved->config_json);
    memset(resolved, 0, sizeof(*resolved));
}

/* ---- users ---- */

void image_users_free(struct image_users *users)
{
    for (size_t i = 0; i < users->count; i++)
        free(users->users[i].container_id);
    free(users->users);
    memset(users, 0, sizeof(*users));
}

static const char *container_label(const Berth__Supervisor__V1__Container *container,
                                   const char *key)
{
    for (size_t i = 0; i < container->n_labels; i++)
        if (strcmp(container->labels[i]->key, key) == 0)
            return container->labels[i]->value;
    return NULL;
}

static bool container_uses(const Berth__Supervisor__V1__Container *container, const char *id,
                           const char *const *names, size_t name_count)
{
    const char *label = container_label(container, IMAGE_CONTAINER_LABEL_ID);

    if (label)
        return strcmp(label, id) == 0;
    for (size_t i = 0; i < name_count; i++)
        if (container->image && strcmp(container->image, names[i]) == 0)
            return true;
    return false;
}

/* Marks the users whose init task runs (or is paused). */
static int mark_running(struct image_store *store, struct image_users *users, struct berr *err)
{
    Berth__Supervisor__V1__ListTasksRequest request =
        BERTH__SUPERVISOR__V1__LIST_TASKS_REQUEST__INIT;
    Berth__Supervisor__V1__ListTasksResponse *response = NULL;
    int rc;

    if ((rc = call(store, &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_LIST],
                   &request.base, (ProtobufCMessage **)&response, err)))
        return berr_prefix(err, "list tasks");
    for (size_t i = 0; i < response->n_tasks; i++) {
        const Berth__Supervisor__V1__Process *task = response->tasks[i];
        bool running = task->status == BERTH__SUPERVISOR__V1__STATUS__STATUS_RUNNING ||
                       task->status == BERTH__SUPERVISOR__V1__STATUS__STATUS_PAUSED ||
                       task->status == BERTH__SUPERVISOR__V1__STATUS__STATUS_PAUSING;
        if (task->id && *task->id)
            continue;
        for (size_t j = 0; j < users->count; j++)
            if (strcmp(users->users[j].container_id, task->container_id) == 0)
                users->users[j].running |= running;
    }
    free_message(response);
    return 0;
}

int image_store_users(struct image_store *store, const char *id, const char *const *names,
                      size_t name_count, struct image_users *out, struct berr *err)
{
    Berth__Supervisor__V1__ListContainersRequest request =
        BERTH__SUPERVISOR__V1__LIST_CONTAINERS_REQUEST__INIT;
    Berth__Supervisor__V1__ListContainersResponse *response = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = call(store,
                   &berth_supervisor_v1_containers_methods[BERTH_SUPERVISOR_V1_CONTAINERS_LIST],
                   &request.base, (ProtobufCMessage **)&response, err)))
        return berr_prefix(err, "list containers");
    out->users = calloc(response->n_containers + 1, sizeof(*out->users));
    if (!out->users)
        rc = no_memory(err);
    for (size_t i = 0; i < response->n_containers && !rc; i++) {
        const Berth__Supervisor__V1__Container *container = response->containers[i];
        if (!container_uses(container, id, names, name_count))
            continue;
        if (!(out->users[out->count].container_id = strdup(container->id)))
            rc = no_memory(err);
        else
            out->count++;
    }
    free_message(response);
    if (!rc && out->count)
        rc = mark_running(store, out, err);
    if (rc)
        image_users_free(out);
    return rc;
}

int image_store_in_use(struct image_store *store, const char *id, bool *in_use, struct berr *err)
{
    struct image_list list;
    struct image_entry *entry;
    struct image_users users;
    int rc;

    if ((rc = image_store_list(store, &list, err)))
        return rc;
    entry = image_list_find(&list, id);
    rc = image_store_users(store, id, entry ? (const char *const *)entry->names : NULL,
                           entry ? entry->name_count : 0, &users, err);
    image_list_free(&list);
    if (rc)
        return rc;
    *in_use = users.count > 0;
    image_users_free(&users);
    return 0;
}

/* ---- changes ---- */

/* IMAGE_DANGLING_PREFIX@target, so the collector keeps target's image. */
static int keep_target(struct image_store *store, SupervisorDescriptor *target, struct berr *err)
{
    Berth__Supervisor__V1__CreateImageRequest request =
        BERTH__SUPERVISOR__V1__CREATE_IMAGE_REQUEST__INIT;
    SupervisorImage image = BERTH__SUPERVISOR__V1__IMAGE__INIT, *created = NULL;
    char name[sizeof(IMAGE_DANGLING_PREFIX) + DIGEST_STRING_SIZE + 1];
    int rc;

    snprintf(name, sizeof(name), "%s@%s", IMAGE_DANGLING_PREFIX, target->digest);
    image.name = name;
    image.target = target;
    request.image = &image;
    rc = call(store, images_method(BERTH_SUPERVISOR_V1_IMAGES_CREATE), &request.base,
              (ProtobufCMessage **)&created, err);
    free_message(created);
    if (rc == BERR_EXISTS)
        return 0;
    return rc ? berr_prefix(err, "keep image %s", target->digest) : 0;
}

int image_store_keep(struct image_store *store, const char *name, struct berr *err)
{
    SupervisorImage *image = NULL;
    int rc;

    if ((rc = get_image(store, name, &image, err)))
        return rc;
    rc = keep_target(store, image->target, err);
    free_message(image);
    return rc;
}

/* Whether an image other than through name (an entry's only name) stays. */
static bool only_name(const struct image_list *list, const char *id, const char *name)
{
    const struct image_entry *entry = image_list_find(list, id);

    return entry && entry->name_count == 1 && strcmp(entry->names[0], name) == 0;
}

/* Before full_name moves from old to another image: keep old's image as
 * dangling when full_name was its last name (Docker keeps it, untagged). */
static int keep_displaced(struct image_store *store, const char *full_name, SupervisorImage *old,
                          const char *new_id, char **replaced, struct berr *err)
{
    struct image_info *info = NULL;
    struct image_list list;
    int rc;

    if ((rc = image_store_info(store, full_name, old->target->digest, &info, err)))
        return rc == BERR_NOT_FOUND ? 0 : rc; /* its content is gone already */
    if (strcmp(info->id, new_id) != 0 && !(*replaced = strdup(info->id)))
        rc = no_memory(err);
    if (!rc && strcmp(info->id, new_id) != 0 && !(rc = image_store_list(store, &list, err))) {
        if (only_name(&list, info->id, full_name))
            rc = keep_target(store, old->target, err);
        image_list_free(&list);
    }
    image_info_release(info);
    return rc;
}

int image_store_set_name(struct image_store *store, const char *full_name, const char *source_name,
                         char **replaced, struct berr *err)
{
    Berth__Supervisor__V1__UpdateImageRequest update =
        BERTH__SUPERVISOR__V1__UPDATE_IMAGE_REQUEST__INIT;
    Berth__Supervisor__V1__CreateImageRequest create =
        BERTH__SUPERVISOR__V1__CREATE_IMAGE_REQUEST__INIT;
    SupervisorImage *source = NULL, *old = NULL, *result = NULL;
    SupervisorImage image = BERTH__SUPERVISOR__V1__IMAGE__INIT;
    struct image_info *info = NULL;
    char *mask[] = {"target"};
    int rc;

    *replaced = NULL;
    if ((rc = get_image(store, source_name, &source, err)) ||
        (rc = image_store_info(store, source_name, source->target->digest, &info, err)))
        goto out;
    image.name = (char *)full_name;
    image.target = source->target;
    rc = get_image(store, full_name, &old, err);
    if (rc == BERR_NOT_FOUND) {
        create.image = &image;
        rc = call(store, images_method(BERTH_SUPERVISOR_V1_IMAGES_CREATE), &create.base,
                  (ProtobufCMessage **)&result, err);
    } else if (!rc && strcmp(old->target->digest, source->target->digest) != 0) {
        if ((rc = keep_displaced(store, full_name, old, info->id, replaced, err)))
            goto out;
        update.image = &image;
        update.n_update_mask = 1;
        update.update_mask = mask;
        rc = call(store, images_method(BERTH_SUPERVISOR_V1_IMAGES_UPDATE), &update.base,
                  (ProtobufCMessage **)&result, err);
    }
out:
    image_info_release(info);
    free_message(source);
    free_message(old);
    free_message(result);
    if (rc) {
        free(*replaced);
        *replaced = NULL;
        return berr_prefix(err, "tag %s", full_name);
    }
    return 0;
}

int image_store_delete_name(struct image_store *store, const char *name, bool sync,
                            struct berr *err)
{
    Berth__Supervisor__V1__DeleteImageRequest request =
        BERTH__SUPERVISOR__V1__DELETE_IMAGE_REQUEST__INIT;
    ProtobufCMessage *response = NULL;
    int rc;

    request.name = (char *)name;
    request.sync = sync;
    rc = call(store, images_method(BERTH_SUPERVISOR_V1_IMAGES_DELETE), &request.base, &response,
              err);
    free_message(response);
    return rc ? berr_prefix(err, "delete image name %s", name) : 0;
}

int image_store_unpack(struct image_store *store, const char *name,
                       char chain_id[DIGEST_STRING_SIZE], struct berr *err)
{
    Berth__Supervisor__V1__UnpackRequest request = BERTH__SUPERVISOR__V1__UNPACK_REQUEST__INIT;
    Berth__Supervisor__V1__UnpackResponse *response = NULL;
    int rc;

    request.name = (char *)name;
    /* Unpacking a large image takes long: no deadline short of an hour. */
    rc = rpc_client_unary(store->supervisor, images_method(BERTH_SUPERVISOR_V1_IMAGES_UNPACK),
                          ENGINE_NAMESPACE, &request.base, (ProtobufCMessage **)&response,
                          3600 * 1000, err);
    if (rc)
        return berr_prefix(err, "unpack %s", name);
    snprintf(chain_id, DIGEST_STRING_SIZE, "%s", response->chain_id ? response->chain_id : "");
    free_message(response);
    return 0;
}

/* ---- sizes ---- */

int image_store_snapshot_usage(struct image_store *store, const char *key, int64_t *size,
                               struct berr *err)
{
    Berth__Supervisor__V1__UsageRequest request = BERTH__SUPERVISOR__V1__USAGE_REQUEST__INIT;
    Berth__Supervisor__V1__UsageResponse *response = NULL;
    int rc;

    request.key = (char *)key;
    if ((rc = call(store,
                   &berth_supervisor_v1_snapshots_methods[BERTH_SUPERVISOR_V1_SNAPSHOTS_USAGE],
                   &request.base, (ProtobufCMessage **)&response, err)))
        return rc;
    *size = response->size;
    free_message(response);
    return 0;
}

static bool cached_usage(struct image_store *store, const char *chain_id, int64_t *size)
{
    bool found = false;

    pthread_mutex_lock(&store->lock);
    for (size_t i = 0; i < USAGE_CACHE_SIZE && !found; i++) {
        if (strcmp(store->usage[i].chain_id, chain_id) == 0) {
            *size = store->usage[i].size;
            found = true;
        }
    }
    pthread_mutex_unlock(&store->lock);
    return found;
}

/* A committed layer's usage: measured once at commit, so cached for good. */
static int layer_usage(struct image_store *store, const struct image_layer_info *layer,
                       int64_t *size, struct berr *err)
{
    int rc;

    if (cached_usage(store, layer->chain_id, size))
        return 0;
    rc = image_store_snapshot_usage(store, layer->chain_id, size, err);
    if (rc == BERR_NOT_FOUND) {
        *size = layer->size; /* not unpacked: the blob is what it takes */
        return 0;
    }
    if (rc)
        return rc;
    pthread_mutex_lock(&store->lock);
    memcpy(store->usage[store->usage_next].chain_id, layer->chain_id, DIGEST_STRING_SIZE);
    store->usage[store->usage_next].size = *size;
    store->usage_next = (store->usage_next + 1) % USAGE_CACHE_SIZE;
    pthread_mutex_unlock(&store->lock);
    return 0;
}

int image_store_size(struct image_store *store, const struct image_info *info, int64_t *size,
                     int64_t **per_layer, struct berr *err)
{
    int64_t *sizes = calloc(info->layer_count + 1, sizeof(int64_t));
    int rc = 0;

    if (!sizes)
        return no_memory(err);
    *size = 0;
    for (size_t i = 0; i < info->layer_count && !rc; i++)
        if (!(rc = layer_usage(store, &info->layers[i], &sizes[i], err)))
            *size += sizes[i];
    if (rc || !per_layer)
        free(sizes);
    else
        *per_layer = sizes;
    return rc;
}

/* ---- content ---- */

int image_store_read_blob(struct image_store *store, const char *digest, image_blob_writer write,
                          void *user, struct berr *err)
{
    Berth__Supervisor__V1__ReadContentRequest request =
        BERTH__SUPERVISOR__V1__READ_CONTENT_REQUEST__INIT;
    Berth__Supervisor__V1__ReadContentResponse *chunk = NULL;
    struct rpc_stream *stream = NULL;
    int rc;

    request.digest = (char *)digest;
    if ((rc =
             rpc_stream_open(store->supervisor,
                             &berth_supervisor_v1_content_methods[BERTH_SUPERVISOR_V1_CONTENT_READ],
                             ENGINE_NAMESPACE, 0, &stream, err)) ||
        (rc = rpc_stream_send(stream, &request.base, err)))
        goto out;
    while ((rc = rpc_stream_receive(stream, (ProtobufCMessage **)&chunk, err)) == 0) {
        rc = write(user, chunk->data.data, chunk->data.len, err);
        free_message(chunk);
        chunk = NULL;
        if (rc)
            break;
    }
    if (rc == RPC_END_OF_STREAM)
        rc = 0;
out:
    rpc_stream_free(stream);
    return rc ? berr_prefix(err, "read %s", digest) : 0;
}

struct small_blob {
    char *data;
    size_t length, max;
};

static int append_small(void *user, const void *data, size_t length, struct berr *err)
{
    struct small_blob *blob = user;
    char *grown;

    if (blob->length + length > blob->max)
        return berr_set(err, BERR_INVALID, "larger than %zu bytes", blob->max);
    if (!(grown = realloc(blob->data, blob->length + length + 1)))
        return no_memory(err);
    blob->data = grown;
    memcpy(grown + blob->length, data, length);
    blob->length += length;
    grown[blob->length] = '\0';
    return 0;
}

int image_store_read_small_blob(struct image_store *store, const char *digest, size_t max,
                                char **data, size_t *length, struct berr *err)
{
    struct small_blob blob = {.max = max};
    int rc = image_store_read_blob(store, digest, append_small, &blob, err);

    if (!rc && !blob.data && !(blob.data = calloc(1, 1)))
        rc = no_memory(err);
    if (rc) {
        free(blob.data);
        return rc;
    }
    *data = blob.data;
    *length = blob.length;
    return 0;
}

/* ---- load ---- */

void image_load_result_free(struct image_load_result *result)
{
    for (size_t i = 0; i < result->count; i++) {
        free(result->images[i].name);
        free(result->images[i].target);
        free(result->images[i].replaced);
    }
    free(result->images);
    memset(result, 0, sizeof(*result));
}

/* Sends the tarball; the import's answer comes back in *response. */
static int send_tarball(struct rpc_stream *stream, image_tar_reader read, void *user,
                        Berth__Supervisor__V1__ImportResponse **response, struct berr *err)
{
    Berth__Supervisor__V1__ImportRequest first = BERTH__SUPERVISOR__V1__IMPORT_REQUEST__INIT;
    Berth__Supervisor__V1__ImportRequest chunk = BERTH__SUPERVISOR__V1__IMPORT_REQUEST__INIT;
    unsigned char *buffer = malloc(IMPORT_CHUNK);
    struct berr send_err, read_err = {0};
    int rc = 0, sent = 0;
    ssize_t length = 0;

    if (!buffer)
        return no_memory(err);
    first.ref_prefix = IMAGE_DANGLING_PREFIX;
    sent = rpc_stream_send(stream, &first.base, &send_err);
    while (!sent && (length = read(user, buffer, IMPORT_CHUNK, &read_err)) > 0) {
        chunk.data.data = buffer;
        chunk.data.len = (size_t)length;
        sent = rpc_stream_send(stream, &chunk.base, &send_err);
    }
    if (!sent && length < 0) {
        /* Our side failed (the client went away): the import is cancelled,
         * and the supervisor removes what it had written. */
        rpc_stream_cancel(stream);
        free(buffer);
        if (!read_err.code)
            return berr_set(err, BERR_IO, "read the tarball");
        *err = read_err;
        return err->code;
    }
    free(buffer);
    if (!sent)
        rpc_stream_close_send(stream, &send_err);
    /* Whether the server ended early or answers now: its status says. */
    rc = rpc_stream_receive(stream, (ProtobufCMessage **)response, err);
    if (rc == RPC_END_OF_STREAM)
        rc = berr_set(err, BERR_INTERNAL, "Images.Import answered nothing");
    return rc;
}

static const SupervisorImage *find_named(const Berth__Supervisor__V1__ListImagesResponse *list,
                                         const char *name)
{
    for (size_t i = 0; list && i < list->n_images; i++)
        if (strcmp(list->images[i]->name, name) == 0 && list->images[i]->target)
            return list->images[i];
    return NULL;
}

/* After the import moved old's name: keep old's image if nothing names it. */
static int keep_if_orphaned(struct image_store *store, const SupervisorImage *old,
                            struct image_loaded *loaded, struct berr *err)
{
    struct image_info *old_info = NULL, *new_info = NULL;
    struct image_list list = {0};
    int rc;

    if (image_store_info(store, old->name, old->target->digest, &old_info, err) != 0)
        return 0; /* not readable: not an image we could keep */
    if ((rc = image_store_info(store, loaded->name, loaded->target, &new_info, err)))
        goto out;
    if (strcmp(old_info->id, new_info->id) == 0)
        goto out;
    if (!(loaded->replaced = strdup(old_info->id))) {
        rc = no_memory(err);
        goto out;
    }
    if ((rc = image_store_list(store, &list, err)))
        goto out;
    if (!image_list_find(&list, old_info->id))
        rc = keep_target(store, old->target, err);
out:
    image_list_free(&list);
    image_info_release(old_info);
    image_info_release(new_info);
    return rc;
}

static int record_loaded(struct image_store *store, const SupervisorImage *image,
                         const Berth__Supervisor__V1__ListImagesResponse *before,
                         struct image_load_result *out, struct berr *err)
{
    struct image_loaded *loaded = &out->images[out->count];
    const SupervisorImage *old = find_named(before, image->name);

    if (!image->target || !digest_is_valid(image->target->digest))
        return berr_set(err, BERR_INTERNAL, "imported image %s has no target", image->name);
    loaded->name = strdup(image->name);
    loaded->target = strdup(image->target->digest);
    if (!loaded->name || !loaded->target) {
        free(loaded->name);
        free(loaded->target);
        return no_memory(err);
    }
    out->count++;
    if (old && strcmp(old->target->digest, image->target->digest) != 0)
        return keep_if_orphaned(store, old, loaded, err);
    return 0;
}

/* Unpacks each target once; a failure is logged (container create retries). */
static void unpack_loaded(struct image_store *store, const struct image_load_result *result)
{
    for (size_t i = 0; i < result->count; i++) {
        char chain_id[DIGEST_STRING_SIZE];
        struct berr err;
        bool done = false;
        for (size_t j = 0; j < i && !done; j++)
            done = strcmp(result->images[j].target, result->images[i].target) == 0;
        if (!done && image_store_unpack(store, result->images[i].name, chain_id, &err) != 0)
            log_warn("load: %s", err.message);
    }
}

int image_store_load(struct image_store *store, image_tar_reader read, void *user,
                     struct image_load_result *out, struct berr *err)
{
    Berth__Supervisor__V1__ListImagesResponse *before = NULL;
    Berth__Supervisor__V1__ImportResponse *response = NULL;
    struct rpc_stream *stream = NULL;
    struct image_list known;
    int rc;

    memset(out, 0, sizeof(*out));
    /* What each name points at now, and (cached) what those targets are:
     * afterwards the names may point elsewhere. */
    if ((rc = image_store_list(store, &known, err)))
        return rc;
    image_list_free(&known);
    if ((rc = list_supervisor_images(store, NULL, &before, err)))
        return berr_prefix(err, "list images");
    if ((rc = rpc_stream_open(store->supervisor, images_method(BERTH_SUPERVISOR_V1_IMAGES_IMPORT),
                              ENGINE_NAMESPACE, 0, &stream, err)) ||
        (rc = send_tarball(stream, read, user, &response, err)))
        goto out;
    out->images = calloc(response->n_images + 1, sizeof(*out->images));
    if (!out->images) {
        rc = no_memory(err);
        goto out;
    }
    for (size_t i = 0; i < response->n_images && !rc; i++)
        rc = record_loaded(store, response->images[i], before, out, err);
    if (!rc)
        unpack_loaded(store, out);
out:
    rpc_stream_free(stream);
    free_message(response);
    free_message(before);
    if (rc)
        image_load_result_free(out);
    return rc;
}
