/*
 * api_images: Docker's image endpoints over image_store (see
 * api_images.h). The rules of removal, the listing filters and the shapes
 * follow dockerd's classic (graph driver) image store, which is what the
 * docker CLI and SDKs were written against: an image is its config digest,
 * removing a name untags, the image goes with its last name unless a
 * container uses it, and a tag moved away leaves the old image dangling
 * ("<none>:<none>") until it is removed or pruned.
 */
#include "api_images.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker_filters.h"
#include "docker_time.h"
#include "log.h"
#include "reference.h"

/* ---- shared helpers ---- */

static void respond_berr(struct http_request *request, const struct berr *err)
{
    http_respond_berr(request, err);
}

void api_images_event(struct engine *engine, const char *action, const char *id, const char *name,
                      const struct image_info *info)
{
    yajl_val labels = info ? image_info_config_field(info, "Labels") : NULL;
    size_t count = YAJL_IS_OBJECT(labels) ? labels->u.object.len : 0, used = 0;
    const char **attributes = calloc(2 * count + 3, sizeof(char *));

    if (!attributes)
        return;
    for (size_t i = 0; i < count; i++) {
        if (!YAJL_IS_STRING(labels->u.object.values[i]))
            continue;
        attributes[used++] = labels->u.object.keys[i];
        attributes[used++] = YAJL_GET_STRING(labels->u.object.values[i]);
    }
    attributes[used++] = "name";
    attributes[used++] = name;
    engine_events_publish(engine->events, "image", action, id, attributes);
    free(attributes);
}

char **api_images_familiar_names(const struct image_entry *entry, enum image_name_kind kind)
{
    char **names = calloc(entry->name_count + 1, sizeof(char *));
    size_t count = 0;

    if (!names)
        return NULL;
    for (size_t i = 0; i < entry->name_count; i++)
        if (image_name_kind(entry->names[i]) == kind &&
            (names[count] = reference_familiar_of(entry->names[i])))
            count++;
    return names;
}

/* "key": [values...]; key NULL: the array alone. */
static void write_strings(struct json_writer *writer, const char *key, char **values)
{
    if (key)
        json_key(writer, key);
    json_array_begin(writer);
    for (size_t i = 0; values && values[i]; i++)
        json_string(writer, values[i]);
    json_array_end(writer);
}

/* The repository's familiar name: "busybox" for busybox:latest. */
static char *familiar_repository(const char *name)
{
    struct image_reference reference;
    char *familiar;

    if (reference_parse(name, &reference, NULL) != 0)
        return NULL;
    free(reference.tag);
    free(reference.digest);
    reference.tag = reference.digest = NULL;
    familiar = reference_familiar(&reference);
    reference_free(&reference);
    return familiar;
}

/* "12 hex digits" of an ID, as Docker's messages show them. */
static const char *short_id(const char *id)
{
    static __thread char shown[13];
    const char *hex = strchr(id, ':');

    snprintf(shown, sizeof(shown), "%s", hex ? hex + 1 : id);
    return shown;
}

/* ---- summaries (list, df) ---- */

struct summary {
    const struct image_entry *entry;
    char **tags, **digests;
    int64_t size, shared_size, containers;
    int64_t *layer_sizes;
};

struct summaries {
    size_t count;
    struct summary *items;
};

static void summaries_free(struct summaries *summaries)
{
    for (size_t i = 0; i < summaries->count; i++) {
        json_free_string_array(summaries->items[i].tags);
        json_free_string_array(summaries->items[i].digests);
        free(summaries->items[i].layer_sizes);
    }
    free(summaries->items);
}

static void write_summary(struct json_writer *writer, const struct summary *summary,
                          int api_version)
{
    const struct image_info *info = summary->entry->info;
    yajl_val labels = image_info_config_field(info, "Labels");
    bool none = !(summary->tags && summary->tags[0]) && !(summary->digests && summary->digests[0]);
    static char *none_tags[] = {"<none>:<none>", NULL}, *none_digests[] = {"<none>@<none>", NULL};

    json_object_begin(writer);
    json_kv_int(writer, "Containers", summary->containers);
    json_kv_int(writer, "Created", info->created / DOCKER_TIME_NANO);
    json_kv_string(writer, "Id", info->id);
    json_key(writer, "Labels");
    if (YAJL_IS_OBJECT(labels))
        json_value(writer, labels);
    else
        json_null(writer);
    json_kv_string(writer, "ParentId", "");
    /* Before API 1.43 an untagged image showed placeholders. */
    write_strings(writer, "RepoDigests",
                  none && api_version < 143 ? none_digests : summary->digests);
    write_strings(writer, "RepoTags", none && api_version < 143 ? none_tags : summary->tags);
    json_kv_int(writer, "SharedSize", summary->shared_size);
    json_kv_int(writer, "Size", summary->size);
    if (api_version < 144)
        json_kv_int(writer, "VirtualSize", summary->size);
    json_object_end(writer);
}

/* SharedSize: the bytes of an image's layers that other images have too. */
static void compute_shared_sizes(struct summaries *summaries, const struct image_list *all)
{
    for (size_t i = 0; i < summaries->count; i++) {
        struct summary *summary = &summaries->items[i];
        const struct image_info *info = summary->entry->info;
        summary->shared_size = 0;
        for (size_t l = 0; l < info->layer_count; l++) {
            size_t users = 0;
            for (size_t j = 0; j < all->count; j++) {
                const struct image_info *other = all->entries[j].info;
                for (size_t k = 0; k < other->layer_count && k <= l; k++)
                    if (strcmp(other->layers[k].chain_id, info->layers[l].chain_id) == 0) {
                        users++;
                        break;
                    }
            }
            if (users > 1 && summary->layer_sizes)
                summary->shared_size += summary->layer_sizes[l];
        }
    }
}

static int count_containers(struct engine *engine, struct summary *summary, struct berr *err)
{
    struct image_users users;
    int rc = image_store_users(engine->images, summary->entry->info->id,
                               (const char *const *)summary->entry->names,
                               summary->entry->name_count, &users, err);

    if (rc)
        return rc;
    summary->containers = (int64_t)users.count;
    image_users_free(&users);
    return 0;
}

static int add_summary(struct engine *engine, struct summaries *summaries,
                       const struct image_entry *entry, struct berr *err)
{
    struct summary *summary = &summaries->items[summaries->count];

    memset(summary, 0, sizeof(*summary));
    summary->entry = entry;
    summary->shared_size = -1;
    summary->containers = -1;
    summary->tags = api_images_familiar_names(entry, IMAGE_NAME_TAG);
    summary->digests = api_images_familiar_names(entry, IMAGE_NAME_DIGEST);
    summaries->count++;
    if (!summary->tags || !summary->digests)
        return berr_set(err, BERR_NOMEM, "out of memory");
    return image_store_size(engine->images, entry->info, &summary->size, &summary->layer_sizes,
                            err);
}

static int compare_created(const void *a, const void *b)
{
    const struct summary *left = a, *right = b;
    int64_t l = left->entry->info->created, r = right->entry->info->created;

    if (l != r)
        return l > r ? -1 : 1;
    return strcmp(left->entry->info->id, right->entry->info->id);
}

int api_images_write_usage(struct engine *engine, struct json_writer *writer, int api_version,
                           int64_t *layers_size, struct berr *err)
{
    struct summaries summaries = {0};
    struct image_list list;
    int rc;

    *layers_size = 0;
    if ((rc = image_store_list(engine->images, &list, err)))
        return rc;
    summaries.items = calloc(list.count + 1, sizeof(*summaries.items));
    if (!summaries.items)
        rc = berr_set(err, BERR_NOMEM, "out of memory");
    for (size_t i = 0; i < list.count && !rc; i++)
        if (!(rc = add_summary(engine, &summaries, &list.entries[i], err)))
            rc = count_containers(engine, &summaries.items[i], err);
    if (!rc) {
        compute_shared_sizes(&summaries, &list);
        qsort(summaries.items, summaries.count, sizeof(*summaries.items), compare_created);
        /* Each distinct layer once. */
        for (size_t i = 0; i < summaries.count; i++) {
            const struct image_info *info = summaries.items[i].entry->info;
            for (size_t l = 0; l < info->layer_count; l++) {
                bool seen = false;
                for (size_t j = 0; j < i && !seen; j++) {
                    const struct image_info *other = summaries.items[j].entry->info;
                    for (size_t k = 0; k < other->layer_count && !seen; k++)
                        seen = strcmp(other->layers[k].chain_id, info->layers[l].chain_id) == 0;
                }
                if (!seen && summaries.items[i].layer_sizes)
                    *layers_size += summaries.items[i].layer_sizes[l];
            }
        }
        json_array_begin(writer);
        for (size_t i = 0; i < summaries.count; i++)
            write_summary(writer, &summaries.items[i], api_version);
        json_array_end(writer);
    }
    summaries_free(&summaries);
    image_list_free(&list);
    return rc;
}

/* ---- GET /images/json ---- */

struct list_filters {
    struct docker_filters *filters;
    bool has_dangling, dangling_only;
    int64_t before, since; /* Unix ns; before 0: none; since -1: none */
    bool has_before;
};

/* An image's created time, for before= and since=. */
static int created_of(struct engine *engine, const char *name, int64_t *created, struct berr *err)
{
    struct image_lookup lookup;
    int rc = image_store_lookup(engine->images, name, &lookup, err);

    if (rc)
        return rc;
    *created = lookup.info->created;
    image_lookup_free(&lookup);
    return 0;
}

static int parse_list_filters(struct engine *engine, const char *json, struct list_filters *out,
                              struct berr *err)
{
    static const char *const accepted[] = {"before", "dangling", "label", "reference",
                                           "since",  "until",    NULL};
    const char *const *values;
    size_t count;
    int64_t created, now = docker_time_now();
    int rc;

    memset(out, 0, sizeof(*out));
    out->since = -1;
    if ((rc = docker_filters_parse(json, &out->filters, err)) ||
        (rc = docker_filters_validate(out->filters, accepted, err)) ||
        (rc = docker_filters_bool(out->filters, "dangling", false, &out->dangling_only, err)))
        return rc;
    out->has_dangling = docker_filters_contains(out->filters, "dangling");
    values = docker_filters_values(out->filters, "before", &count);
    for (size_t i = 0; i < count; i++) {
        if ((rc = created_of(engine, values[i], &created, err)))
            return rc;
        if (!out->has_before || created < out->before)
            out->before = created;
        out->has_before = true;
    }
    values = docker_filters_values(out->filters, "until", &count);
    for (size_t i = 0; i < count; i++) {
        if ((rc = docker_time_parse(values[i], now, &created, err)))
            return rc;
        if (!out->has_before || created < out->before)
            out->before = created;
        out->has_before = true;
    }
    values = docker_filters_values(out->filters, "since", &count);
    for (size_t i = 0; i < count; i++) {
        if ((rc = created_of(engine, values[i], &created, err)))
            return rc;
        if (created > out->since)
            out->since = created;
    }
    return 0;
}

static bool reference_matches(const struct docker_filters *filters, const char *familiar)
{
    const char *const *patterns;
    size_t count;
    char *repository;
    bool matched = false;

    patterns = docker_filters_values(filters, "reference", &count);
    if (!patterns)
        return true;
    repository = familiar_repository(familiar);
    for (size_t i = 0; i < count && !matched; i++)
        matched = fnmatch(patterns[i], familiar, FNM_PATHNAME) == 0 ||
                  (repository && fnmatch(patterns[i], repository, FNM_PATHNAME) == 0);
    free(repository);
    return matched;
}

/* Keeps the names the reference filter lets through. */
static void filter_names(const struct docker_filters *filters, char **names)
{
    size_t kept = 0;

    for (size_t i = 0; names && names[i]; i++) {
        if (reference_matches(filters, names[i]))
            names[kept++] = names[i];
        else
            free(names[i]);
    }
    if (names)
        names[kept] = NULL;
}

static bool label_pairs_match(const struct docker_filters *filters, const char *name,
                              const struct image_info *info)
{
    yajl_val labels = image_info_config_field(info, "Labels");
    size_t count = YAJL_IS_OBJECT(labels) ? labels->u.object.len : 0, used = 0;
    const char **pairs = calloc(2 * count + 1, sizeof(char *));
    bool matched;

    if (!pairs)
        return false;
    for (size_t i = 0; i < count; i++) {
        if (!YAJL_IS_STRING(labels->u.object.values[i]))
            continue;
        pairs[used++] = labels->u.object.keys[i];
        pairs[used++] = YAJL_GET_STRING(labels->u.object.values[i]);
    }
    matched = docker_filters_match_pairs(filters, name, pairs);
    free(pairs);
    return matched;
}

/* Docker's listing rules; true when summary stays. */
static bool keep_in_list(const struct list_filters *filters, struct summary *summary)
{
    const struct image_info *info = summary->entry->info;
    bool untagged;

    if (filters->has_before && (!info->has_created || info->created >= filters->before))
        return false;
    if (filters->since >= 0 && (!info->has_created || info->created <= filters->since))
        return false;
    if (docker_filters_contains(filters->filters, "label") &&
        !label_pairs_match(filters->filters, "label", info))
        return false;
    filter_names(filters->filters, summary->tags);
    filter_names(filters->filters, summary->digests);
    untagged = !summary->tags[0] && !summary->digests[0];
    if (untagged)
        return !(filters->has_dangling && !filters->dangling_only) &&
               !docker_filters_contains(filters->filters, "reference");
    return !(filters->dangling_only && summary->tags[0]);
}

static void list_images(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct list_filters filters;
    struct summaries summaries = {0};
    struct json_writer writer;
    struct image_list list = {0};
    struct berr err;
    int rc;

    if ((rc = parse_list_filters(engine, http_request_query(request, "filters"), &filters, &err)))
        goto out;
    if ((rc = image_store_list(engine->images, &list, &err)))
        goto out;
    summaries.items = calloc(list.count + 1, sizeof(*summaries.items));
    if (!summaries.items)
        rc = berr_set(&err, BERR_NOMEM, "out of memory");
    for (size_t i = 0; i < list.count && !rc; i++) {
        if ((rc = add_summary(engine, &summaries, &list.entries[i], &err)))
            break;
        if (!keep_in_list(&filters, &summaries.items[summaries.count - 1])) {
            struct summary *dropped = &summaries.items[--summaries.count];
            json_free_string_array(dropped->tags);
            json_free_string_array(dropped->digests);
            free(dropped->layer_sizes);
        }
    }
    if (rc || (rc = json_writer_init(&writer, false, &err)))
        goto out;
    if (http_request_query_bool(request, "shared-size", false))
        compute_shared_sizes(&summaries, &list);
    qsort(summaries.items, summaries.count, sizeof(*summaries.items), compare_created);
    json_array_begin(&writer);
    for (size_t i = 0; i < summaries.count; i++)
        write_summary(&writer, &summaries.items[i], http_request_api_version(request));
    json_array_end(&writer);
    http_respond_json_writer(request, 200, &writer);
out:
    if (rc)
        respond_berr(request, &err);
    summaries_free(&summaries);
    image_list_free(&list);
    docker_filters_free(filters.filters);
}

/* ---- GET /images/{name}/json ---- */

/* Docker's container-config shape, filled from the image config's
 * "config" (which may lack most fields). */
static void write_config(struct json_writer *writer, yajl_val config)
{
    enum kind { STRING, BOOLEAN, NUL };
    static const struct {
        const char *key;
        enum kind kind;
    } fields[] = {
        {"Hostname", STRING},
        {"Domainname", STRING},
        {"User", STRING},
        {"AttachStdin", BOOLEAN},
        {"AttachStdout", BOOLEAN},
        {"AttachStderr", BOOLEAN},
        {"Tty", BOOLEAN},
        {"OpenStdin", BOOLEAN},
        {"StdinOnce", BOOLEAN},
        {"Env", NUL},
        {"Cmd", NUL},
        {"Image", STRING},
        {"Volumes", NUL},
        {"WorkingDir", STRING},
        {"Entrypoint", NUL},
        {"OnBuild", NUL},
        {"Labels", NUL},
    };
    const size_t count = sizeof(fields) / sizeof(fields[0]);

    json_object_begin(writer);
    for (size_t i = 0; i < count; i++) {
        yajl_val value = json_get(config, fields[i].key);
        json_key(writer, fields[i].key);
        if (value)
            json_value(writer, value);
        else if (fields[i].kind == STRING)
            json_string(writer, "");
        else if (fields[i].kind == BOOLEAN)
            json_bool(writer, false);
        else
            json_null(writer);
    }
    for (size_t i = 0; YAJL_IS_OBJECT(config) && i < config->u.object.len; i++) {
        bool known = false;
        for (size_t j = 0; j < count && !known; j++)
            known = strcmp(fields[j].key, config->u.object.keys[i]) == 0;
        if (!known) {
            json_key(writer, config->u.object.keys[i]);
            json_value(writer, config->u.object.values[i]);
        }
    }
    json_object_end(writer);
}

static void write_config_string(struct json_writer *writer, const char *key,
                                const struct image_info *info, const char *field)
{
    yajl_val value = json_get(info->config, field);

    json_kv_string(writer, key, YAJL_IS_STRING(value) ? YAJL_GET_STRING(value) : "");
}

static void write_time_field(struct json_writer *writer, const char *key, int64_t nano)
{
    char text[48];

    if (nano)
        docker_time_format(nano, text, sizeof(text));
    else
        snprintf(text, sizeof(text), "0001-01-01T00:00:00Z"); /* Go's zero time */
    json_kv_string(writer, key, text);
}

static void write_inspect(struct json_writer *writer, const struct image_entry *entry, int64_t size,
                          int api_version)
{
    const struct image_info *info = entry->info;
    char **tags = api_images_familiar_names(entry, IMAGE_NAME_TAG);
    char **digests = api_images_familiar_names(entry, IMAGE_NAME_DIGEST);
    yajl_val variant = json_get(info->config, "variant"), os_version;
    char created[48];

    os_version = json_get(info->config, "os.version");
    json_object_begin(writer);
    json_kv_string(writer, "Id", info->id);
    write_strings(writer, "RepoTags", tags);
    write_strings(writer, "RepoDigests", digests);
    json_kv_string(writer, "Parent", "");
    write_config_string(writer, "Comment", info, "comment");
    if (info->has_created) {
        docker_time_format(info->created, created, sizeof(created));
        json_kv_string(writer, "Created", created);
    }
    if (api_version < 145) {
        write_config_string(writer, "Container", info, "container");
        json_key(writer, "ContainerConfig");
        write_config(writer, json_get(info->config, "container_config"));
    }
    write_config_string(writer, "DockerVersion", info, "docker_version");
    write_config_string(writer, "Author", info, "author");
    json_key(writer, "Config");
    write_config(writer, json_get(info->config, "config"));
    write_config_string(writer, "Architecture", info, "architecture");
    if (YAJL_IS_STRING(variant))
        json_kv_string(writer, "Variant", YAJL_GET_STRING(variant));
    write_config_string(writer, "Os", info, "os");
    if (YAJL_IS_STRING(os_version))
        json_kv_string(writer, "OsVersion", YAJL_GET_STRING(os_version));
    json_kv_int(writer, "Size", size);
    if (api_version < 144)
        json_kv_int(writer, "VirtualSize", size);
    json_key(writer, "GraphDriver");
    json_object_begin(writer);
    json_kv_string(writer, "Name", "overlay2");
    json_key(writer, "Data");
    json_object_begin(writer);
    json_object_end(writer);
    json_object_end(writer);
    json_key(writer, "RootFS");
    json_object_begin(writer);
    json_kv_string(writer, "Type", "layers");
    json_key(writer, "Layers");
    json_array_begin(writer);
    for (size_t i = 0; i < info->layer_count; i++)
        json_string(writer, info->layers[i].diff_id);
    json_array_end(writer);
    json_object_end(writer);
    json_key(writer, "Metadata");
    json_object_begin(writer);
    write_time_field(writer, "LastTagTime", entry->last_tag_time);
    json_object_end(writer);
    json_object_end(writer);
    json_free_string_array(tags);
    json_free_string_array(digests);
}

/* The named image and its list entry (for every name of it). */
static int find_entry(struct engine *engine, const char *text, struct image_list *list,
                      struct image_entry **entry, struct berr *err)
{
    struct image_lookup lookup;
    int rc;

    memset(list, 0, sizeof(*list));
    if ((rc = image_store_lookup(engine->images, text, &lookup, err)))
        return rc;
    if (!(rc = image_store_list(engine->images, list, err)) &&
        !(*entry = image_list_find(list, lookup.info->id)))
        rc = berr_set(err, BERR_NOT_FOUND, "No such image: %s", text);
    image_lookup_free(&lookup);
    return rc;
}

static void inspect_image(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct image_entry *entry = NULL;
    struct json_writer writer;
    struct image_list list;
    int64_t size = 0;
    struct berr err;
    int rc;

    if (!(rc = find_entry(engine, http_request_param(request, "name"), &list, &entry, &err)) &&
        !(rc = image_store_size(engine->images, entry->info, &size, NULL, &err)) &&
        !(rc = json_writer_init(&writer, false, &err))) {
        write_inspect(&writer, entry, size, http_request_api_version(request));
        http_respond_json_writer(request, 200, &writer);
    }
    if (rc)
        respond_berr(request, &err);
    image_list_free(&list);
}

/* ---- GET /images/{name}/history ---- */

static void write_history_item(struct json_writer *writer, yajl_val item, const char *id,
                               char **tags, int64_t size)
{
    const char *created = NULL, *created_by = NULL, *comment = NULL;
    int64_t when = 0;

    json_get_string(item, "created", &created, NULL);
    json_get_string(item, "created_by", &created_by, NULL);
    json_get_string(item, "comment", &comment, NULL);
    if (created && docker_time_parse(created, 0, &when, NULL) != 0)
        when = 0;
    json_object_begin(writer);
    json_kv_string(writer, "Comment", comment ? comment : "");
    json_kv_int(writer, "Created", when / DOCKER_TIME_NANO);
    json_kv_string(writer, "CreatedBy", created_by ? created_by : "");
    json_kv_string(writer, "Id", id);
    json_kv_int(writer, "Size", size);
    json_key(writer, "Tags");
    if (tags && tags[0])
        write_strings(writer, NULL, tags);
    else
        json_null(writer);
    json_object_end(writer);
}

/* Newest first; the newest carries the image's ID and tags, the older
 * ones "<missing>" (Docker knows no IDs for them either). */
static int write_history(struct json_writer *writer, const struct image_entry *entry,
                         const int64_t *layer_sizes, struct berr *err)
{
    const struct image_info *info = entry->info;
    yajl_val history = json_get(info->config, "history");
    size_t count = YAJL_IS_ARRAY(history) ? history->u.array.len : 0, layer = 0;
    int64_t *sizes = calloc(count + 1, sizeof(int64_t));
    char **tags = api_images_familiar_names(entry, IMAGE_NAME_TAG);
    bool empty;

    if (!sizes || !tags) {
        free(sizes);
        json_free_string_array(tags);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        empty = false;
        json_get_bool(history->u.array.values[i], "empty_layer", &empty, NULL);
        if (!empty && layer < info->layer_count)
            sizes[i] = layer_sizes ? layer_sizes[layer++] : 0;
    }
    json_array_begin(writer);
    for (size_t i = count; i-- > 0;)
        write_history_item(writer, history->u.array.values[i],
                           i == count - 1 ? info->id : "<missing>", i == count - 1 ? tags : NULL,
                           sizes[i]);
    json_array_end(writer);
    free(sizes);
    json_free_string_array(tags);
    return 0;
}

static void image_history(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct image_entry *entry = NULL;
    struct json_writer writer;
    struct image_list list;
    int64_t size, *layer_sizes = NULL;
    struct berr err;
    int rc;

    if (!(rc = find_entry(engine, http_request_param(request, "name"), &list, &entry, &err)) &&
        !(rc = image_store_size(engine->images, entry->info, &size, &layer_sizes, &err)) &&
        !(rc = json_writer_init(&writer, false, &err))) {
        if ((rc = write_history(&writer, entry, layer_sizes, &err)))
            json_writer_free(&writer);
        else
            http_respond_json_writer(request, 200, &writer);
    }
    if (rc)
        respond_berr(request, &err);
    free(layer_sizes);
    image_list_free(&list);
}

/* ---- POST /images/{name}/tag ---- */

/* repo (and tag) as a full name: "docker.io/library/x:tag". */
static int tag_target(const char *repo, const char *tag, char **full, char **familiar,
                      struct berr *err)
{
    struct image_reference reference;
    char *text = NULL, *repository;
    int rc;

    if (!repo || !*repo)
        return berr_set(err, BERR_INVALID, "invalid reference format: repository name is empty");
    if ((rc = reference_parse(repo, &reference, err)))
        return rc;
    if (reference.digest) {
        reference_free(&reference);
        return berr_set(err, BERR_INVALID, "refusing to create a tag with a digest reference");
    }
    repository = reference_name(&reference);
    if (repository && asprintf(&text, "%s:%s", repository,
                               tag && *tag     ? tag
                               : reference.tag ? reference.tag
                                               : "latest") < 0)
        text = NULL;
    free(repository);
    reference_free(&reference);
    if (!text)
        return berr_set(err, BERR_NOMEM, "out of memory");
    rc = reference_parse(text, &reference, err);
    free(text);
    if (rc)
        return rc;
    *full = reference_string(&reference);
    *familiar = reference_familiar(&reference);
    repository = familiar_repository(*familiar ? *familiar : "");
    if (repository && strcmp(repository, "sha256") == 0)
        rc = berr_set(err, BERR_INVALID,
                      "refusing to create an ambiguous tag using digest algorithm as name");
    else if (!*full || !*familiar)
        rc = berr_set(err, BERR_NOMEM, "out of memory");
    free(repository);
    reference_free(&reference);
    if (rc) {
        free(*full);
        free(*familiar);
        *full = *familiar = NULL;
    }
    return rc;
}

static void tag_image(struct http_request *request, void *data)
{
    struct engine *engine = data;
    char *full = NULL, *familiar = NULL, *replaced = NULL;
    struct image_lookup lookup = {0};
    struct berr err;
    int rc;

    if ((rc = tag_target(http_request_query(request, "repo"), http_request_query(request, "tag"),
                         &full, &familiar, &err)) ||
        (rc = image_store_lookup(engine->images, http_request_param(request, "name"), &lookup,
                                 &err)) ||
        (rc = image_store_set_name(engine->images, full, lookup.name, &replaced, &err))) {
        respond_berr(request, &err);
    } else {
        api_images_event(engine, "tag", lookup.info->id, familiar, lookup.info);
        http_respond_empty(request, 201);
    }
    image_lookup_free(&lookup);
    free(full);
    free(familiar);
    free(replaced);
}

/* ---- DELETE /images/{name} ---- */

struct removal {
    struct engine *engine;
    struct json_writer *records; /* an array being written */
    int64_t reclaimed;
};

static void record(struct removal *removal, const char *key, const char *value)
{
    json_object_begin(removal->records);
    json_kv_string(removal->records, key, value);
    json_object_end(removal->records);
}

static int untag(struct removal *removal, const struct image_info *info, const char *name,
                 bool sync, struct berr *err)
{
    int rc = image_store_delete_name(removal->engine->images, name, sync, err);
    char *familiar;

    if (rc == BERR_NOT_FOUND)
        return 0; /* someone else removed it meanwhile */
    if (rc || image_name_kind(name) == IMAGE_NAME_HIDDEN)
        return rc;
    if (!(familiar = reference_familiar_of(name)))
        return berr_set(err, BERR_NOMEM, "out of memory");
    record(removal, "Untagged", familiar);
    api_images_event(removal->engine, "untag", info->id, familiar, info);
    free(familiar);
    return 0;
}

static bool in_names(char *const *names, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* Deletes every name of entry not in done, then the image is gone:
 * "Deleted" for it, and for its layers no other image has. */
static int delete_image(struct removal *removal, const struct image_list *list,
                        const struct image_entry *entry, char *const *done, size_t done_count,
                        struct berr *err)
{
    const struct image_info *info = entry->info;
    int64_t size, *layer_sizes = NULL;
    size_t left = 0, deleted = 0;
    int rc;

    if ((rc = image_store_size(removal->engine->images, info, &size, &layer_sizes, err)))
        return rc;
    for (size_t i = 0; i < entry->name_count; i++)
        left += !in_names(done, done_count, entry->names[i]);
    for (size_t i = 0; i < entry->name_count && !rc; i++)
        if (!in_names(done, done_count, entry->names[i]))
            rc = untag(removal, info, entry->names[i], ++deleted == left, err);
    if (rc) {
        free(layer_sizes);
        return rc;
    }
    record(removal, "Deleted", info->id);
    api_images_event(removal->engine, "delete", info->id, info->id, info);
    for (size_t l = info->layer_count; l-- > 0;) {
        bool shared = false;
        for (size_t i = 0; i < list->count && !shared; i++) {
            const struct image_info *other = list->entries[i].info;
            if (other == info)
                continue;
            for (size_t k = 0; k < other->layer_count && !shared; k++)
                shared = strcmp(other->layers[k].chain_id, info->layers[l].chain_id) == 0;
        }
        if (!shared) {
            record(removal, "Deleted", info->layers[l].chain_id);
            removal->reclaimed += layer_sizes[l];
        }
    }
    free(layer_sizes);
    return 0;
}

/* dockerd's isSingleReference: at most one tag, and digests only of its
 * repository. */
static bool single_reference(const struct image_entry *entry)
{
    const char *tag = NULL, *digest = NULL;
    char *tag_repository, *repository;
    size_t visible = 0;
    bool single = true;

    for (size_t i = 0; i < entry->name_count; i++) {
        enum image_name_kind kind = image_name_kind(entry->names[i]);
        if (kind == IMAGE_NAME_HIDDEN)
            continue;
        visible++;
        if (kind == IMAGE_NAME_TAG) {
            if (tag)
                return false;
            tag = entry->names[i];
        } else if (!digest) {
            digest = entry->names[i];
        }
    }
    if (visible <= 1)
        return visible == 1;
    tag_repository = familiar_repository(tag ? tag : digest);
    for (size_t i = 0; i < entry->name_count && single; i++) {
        if (image_name_kind(entry->names[i]) != IMAGE_NAME_DIGEST)
            continue;
        repository = familiar_repository(entry->names[i]);
        single = repository && tag_repository && strcmp(repository, tag_repository) == 0;
        free(repository);
    }
    free(tag_repository);
    return single;
}

static const struct image_user *running_user(const struct image_users *users)
{
    for (size_t i = 0; i < users->count; i++)
        if (users->users[i].running)
            return &users->users[i];
    return NULL;
}

static bool same_repository(const char *a, const char *b)
{
    char *left = familiar_repository(a), *right = familiar_repository(b);
    bool same = left && right && strcmp(left, right) == 0;

    free(left);
    free(right);
    return same;
}

/* The names a removal by name takes: the name, and when it was its
 * repository's last tag, that repository's digest names too (Docker). */
static size_t names_to_untag(const struct image_entry *entry, const char *name, char **out)
{
    size_t count = 0;
    bool other_tag = false;

    out[count++] = (char *)name;
    if (image_name_kind(name) != IMAGE_NAME_TAG)
        return count;
    for (size_t i = 0; i < entry->name_count; i++)
        other_tag |= strcmp(entry->names[i], name) != 0 &&
                     image_name_kind(entry->names[i]) == IMAGE_NAME_TAG &&
                     same_repository(entry->names[i], name);
    for (size_t i = 0; i < entry->name_count && !other_tag; i++)
        if (image_name_kind(entry->names[i]) == IMAGE_NAME_DIGEST &&
            same_repository(entry->names[i], name))
            out[count++] = entry->names[i];
    return count;
}

static int remove_by_name(struct removal *removal, const char *text,
                          const struct image_lookup *lookup, const struct image_list *list,
                          const struct image_entry *entry, const struct image_users *users,
                          bool force, struct berr *err)
{
    char **names = calloc(entry->name_count + 2, sizeof(char *));
    size_t count, visible = 0, hidden = 0;
    int rc = 0;

    if (!names)
        return berr_set(err, BERR_NOMEM, "out of memory");
    if (!force && users->count && single_reference(entry)) {
        rc = berr_set(err, BERR_CONFLICT,
                      "conflict: unable to remove repository reference \"%s\" (must force) - "
                      "container %.12s is using its referenced image %s",
                      text, users->users[0].container_id, short_id(entry->info->id));
        goto out;
    }
    count = names_to_untag(entry, lookup->name, names);
    for (size_t i = 0; i < entry->name_count; i++) {
        if (in_names(names, count, entry->names[i]))
            continue;
        if (image_name_kind(entry->names[i]) == IMAGE_NAME_HIDDEN)
            hidden++;
        else
            visible++;
    }
    /* An image a container uses stays, untagged: keep it before its last
     * name goes, so the collector never sees it unnamed. */
    if (!visible && !hidden && users->count &&
        (rc = image_store_keep(removal->engine->images, lookup->name, err)))
        goto out;
    for (size_t i = 0; i < count && !rc; i++)
        rc = untag(removal, entry->info, names[i], false, err);
    if (!rc && !visible && !users->count)
        rc = delete_image(removal, list, entry, names, count, err);
out:
    free(names);
    return rc;
}

static int delete_conflict(const struct image_entry *entry, const struct image_users *users,
                           bool force, bool check_references, struct berr *err)
{
    const struct image_user *running = running_user(users);
    const char *id = short_id(entry->info->id);

    if (running)
        return berr_set(err, BERR_CONFLICT,
                        "conflict: unable to delete %s (cannot be forced) - image is being used "
                        "by running container %.12s",
                        id, running->container_id);
    if (force)
        return 0;
    if (check_references && image_entry_count_names(entry, IMAGE_NAME_TAG) +
                                    image_entry_count_names(entry, IMAGE_NAME_DIGEST) >
                                1)
        return berr_set(err, BERR_CONFLICT,
                        "conflict: unable to delete %s (must be forced) - image is referenced "
                        "in multiple repositories",
                        id);
    if (users->count)
        return berr_set(err, BERR_CONFLICT,
                        "conflict: unable to delete %s (must be forced) - image is being used "
                        "by stopped container %.12s",
                        id, users->users[0].container_id);
    return 0;
}

static int remove_by_id(struct removal *removal, const struct image_list *list,
                        const struct image_entry *entry, const struct image_users *users,
                        bool force, struct berr *err)
{
    int rc;

    /* One repository's names go with the image; several need force. */
    if ((rc = delete_conflict(entry, users, force, !single_reference(entry), err)))
        return rc;
    return delete_image(removal, list, entry, NULL, 0, err);
}

static int remove_image(struct removal *removal, const char *text, bool force, struct berr *err)
{
    struct image_lookup lookup;
    struct image_list list = {0};
    struct image_entry *entry;
    struct image_users users = {0};
    int rc;

    if ((rc = image_store_lookup(removal->engine->images, text, &lookup, err)))
        return rc;
    if ((rc = image_store_list(removal->engine->images, &list, err)))
        goto out;
    if (!(entry = image_list_find(&list, lookup.info->id))) {
        rc = berr_set(err, BERR_NOT_FOUND, "No such image: %s", text);
        goto out;
    }
    if ((rc = image_store_users(removal->engine->images, entry->info->id,
                                (const char *const *)entry->names, entry->name_count, &users, err)))
        goto out;
    if (lookup.by_id)
        rc = remove_by_id(removal, &list, entry, &users, force, err);
    else
        rc = remove_by_name(removal, text, &lookup, &list, entry, &users, force, err);
out:
    image_users_free(&users);
    image_list_free(&list);
    image_lookup_free(&lookup);
    return rc;
}

static void delete_image_route(struct http_request *request, void *data)
{
    struct json_writer writer;
    struct removal removal = {data, &writer, 0};
    struct berr err;

    if (json_writer_init(&writer, false, &err)) {
        respond_berr(request, &err);
        return;
    }
    json_array_begin(&writer);
    if (remove_image(&removal, http_request_param(request, "name"),
                     http_request_query_bool(request, "force", false), &err)) {
        json_writer_free(&writer);
        respond_berr(request, &err);
        return;
    }
    json_array_end(&writer);
    http_respond_json_writer(request, 200, &writer);
}

/* ---- POST /images/prune ---- */

static bool prune_labels_match(const struct docker_filters *filters, const struct image_info *info)
{
    if (!label_pairs_match(filters, "label", info))
        return false;
    return !docker_filters_contains(filters, "label!") ||
           !label_pairs_match(filters, "label!", info);
}

/* One image's part of a prune: Docker's rules; conflicts skip it. */
static void prune_entry(struct removal *removal, const struct image_entry *entry,
                        bool dangling_only)
{
    size_t tags = image_entry_count_names(entry, IMAGE_NAME_TAG);
    size_t visible = tags + image_entry_count_names(entry, IMAGE_NAME_DIGEST);
    struct berr err;

    if (!visible) {
        if (remove_image(removal, entry->info->id, false, &err) != 0)
            log_debug("prune %s: %s", entry->info->id, err.message);
        return;
    }
    if (dangling_only && tags)
        return;
    for (size_t i = 0; i < entry->name_count; i++) {
        if (image_name_kind(entry->names[i]) == IMAGE_NAME_HIDDEN)
            continue;
        if (remove_image(removal, entry->names[i], false, &err) != 0) {
            log_debug("prune %s: %s", entry->names[i], err.message);
            return;
        }
    }
}

static int prune_filters(const char *json, struct docker_filters **filters, bool *dangling_only,
                         int64_t *until, bool *has_until, struct berr *err)
{
    static const char *const accepted[] = {"dangling", "label", "label!", "until", NULL};
    const char *const *values;
    size_t count;
    int rc;

    *has_until = false;
    if ((rc = docker_filters_parse(json, filters, err)) ||
        (rc = docker_filters_validate(*filters, accepted, err)) ||
        (rc = docker_filters_bool(*filters, "dangling", true, dangling_only, err)))
        return rc;
    values = docker_filters_values(*filters, "until", &count);
    for (size_t i = 0; i < count; i++) {
        int64_t value;
        if ((rc = docker_time_parse(values[i], docker_time_now(), &value, err)))
            return rc;
        if (!*has_until || value < *until)
            *until = value;
        *has_until = true;
    }
    return 0;
}

static void prune_images(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct docker_filters *filters = NULL;
    struct json_writer writer;
    struct removal removal = {engine, &writer, 0};
    struct image_list list = {0};
    bool dangling_only, has_until;
    int64_t until = 0;
    char reclaimed[32];
    struct berr err;

    if (prune_filters(http_request_query(request, "filters"), &filters, &dangling_only, &until,
                      &has_until, &err) ||
        image_store_list(engine->images, &list, &err) || json_writer_init(&writer, false, &err)) {
        respond_berr(request, &err);
        goto out;
    }
    json_object_begin(&writer);
    json_key(&writer, "ImagesDeleted");
    json_array_begin(&writer);
    for (size_t i = 0; i < list.count; i++) {
        const struct image_info *info = list.entries[i].info;
        if (has_until && (!info->has_created || info->created > until))
            continue;
        if (prune_labels_match(filters, info))
            prune_entry(&removal, &list.entries[i], dangling_only);
    }
    json_array_end(&writer);
    json_kv_int(&writer, "SpaceReclaimed", removal.reclaimed);
    json_object_end(&writer);
    http_respond_json_writer(request, 200, &writer);
    snprintf(reclaimed, sizeof(reclaimed), "%lld", (long long)removal.reclaimed);
    engine_events_publish(engine->events, "image", "prune", "",
                          (const char *const[]){"reclaimed", reclaimed, NULL});
out:
    image_list_free(&list);
    docker_filters_free(filters);
}

/* ---- what berth does not do yet ---- */

static void pull_image(struct http_request *request, void *data)
{
    const char *from = http_request_query(request, "fromImage");
    const char *tag = http_request_query(request, "tag");

    (void)data;
    if (!from || !*from) {
        http_respond_error(request, 501,
                           "import is not implemented yet: berth cannot create an image from a "
                           "root filesystem tarball; load images made by docker save with "
                           "docker load");
        return;
    }
    /* 501, not 404: a 404 would read as "no such image" to clients that
     * pull after a failed create, and they would try again. */
    http_respond_error(request, 501,
                       "pull is not implemented yet: berth cannot fetch %s%s%s from a registry; "
                       "load images with docker load",
                       from, tag && *tag ? ":" : "", tag && *tag ? tag : "");
}

static void push_image(struct http_request *request, void *data)
{
    char *familiar = reference_familiar_of(http_request_param(request, "name"));

    (void)data;
    http_respond_error(request, 501,
                       "push is not implemented yet: berth cannot send %s to a registry; "
                       "export it with docker save",
                       familiar ? familiar : http_request_param(request, "name"));
    free(familiar);
}

static void search_images(struct http_request *request, void *data)
{
    (void)data;
    http_respond_error(request, 501,
                       "search is not implemented yet: berth does not talk to registries");
}

static void build_image(struct http_request *request, void *data)
{
    (void)data;
    http_respond_error(request, 501,
                       "build is not implemented yet: berth cannot build images; load images "
                       "built elsewhere with docker load");
}

int api_images_register(struct engine *engine, struct berr *err)
{
    struct http_server *http = engine->http;
    int rc;

    /* Fixed paths before the greedy {name*} ones. */
    if ((rc = http_server_route(http, "GET", "/images/json", list_images, engine, 0, err)) ||
        (rc = http_server_route(http, "GET", "/images/search", search_images, engine, 0, err)) ||
        (rc = http_server_route(http, "POST", "/images/prune", prune_images, engine, 0, err)) ||
        (rc = http_server_route(http, "POST", "/images/create", pull_image, engine,
                                HTTP_ROUTE_STREAM_BODY, err)) ||
        (rc = http_server_route(http, "POST", "/build", build_image, engine, HTTP_ROUTE_STREAM_BODY,
                                err)) ||
        (rc = api_images_archive_register(engine, err)) ||
        (rc = http_server_route(http, "GET", "/images/{name*}/json", inspect_image, engine, 0,
                                err)) ||
        (rc = http_server_route(http, "GET", "/images/{name*}/history", image_history, engine, 0,
                                err)) ||
        (rc = http_server_route(http, "POST", "/images/{name*}/tag", tag_image, engine, 0, err)) ||
        (rc =
             http_server_route(http, "POST", "/images/{name*}/push", push_image, engine, 0, err)) ||
        (rc = http_server_route(http, "DELETE", "/images/{name*}", delete_image_route, engine, 0,
                                err)))
        return rc;
    return 0;
}
