/*
 * images: see images.h. Three parts: the records (LMDB), Docker names, and
 * the walk through the content store (index → manifest → config, layers).
 */
#include "images.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "json.h"
#include "labels.h"
#include "record.h"

#define IMAGE_NAME_MAX 400 /* keeps "NS/NAME" inside LMDB's 511-byte keys */
#define REFERENCE_MAX  255
#define WALK_DEPTH_MAX 4

struct image_store {
    struct metadata *metadata;
    struct content_store *content;
};

int image_store_open(struct metadata *metadata, struct content_store *content,
                     struct image_store **out, struct berr *err)
{
    struct image_store *images = calloc(1, sizeof(*images));

    if (!images)
        return berr_set(err, BERR_NOMEM, "image store: out of memory");
    images->metadata = metadata;
    images->content = content;
    *out = images;
    return 0;
}

void image_store_close(struct image_store *images)
{
    free(images);
}

/* ---- validation ---- */

static int check_namespace(const char *namespace, struct berr *err)
{
    if (!namespace || !metadata_namespace_valid(namespace))
        return berr_set(err, BERR_INVALID, "invalid namespace %s", namespace ? namespace : "");
    return 0;
}

static int check_name(const char *name, struct berr *err)
{
    const char *c;

    if (!name || !name[0])
        return berr_set(err, BERR_INVALID, "an image name is required");
    if (strlen(name) > IMAGE_NAME_MAX)
        return berr_set(err, BERR_INVALID, "image name %.64s...: longer than %d bytes", name,
                        IMAGE_NAME_MAX);
    for (c = name; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            return berr_set(err, BERR_INVALID, "image name %s: spaces or control characters", name);
    return 0;
}

static int check_digest(const char *digest, const char *what, struct berr *err)
{
    if (!digest || !digest[0])
        return berr_set(err, BERR_INVALID, "%s: no digest", what);
    if (digest_is_valid(digest))
        return 0;
    if (strncmp(digest, DIGEST_SHA256_PREFIX, sizeof(DIGEST_SHA256_PREFIX) - 1) != 0 &&
        strchr(digest, ':'))
        return berr_set(err, BERR_UNSUPPORTED, "%s: digest %.100s: only sha256 is supported", what,
                        digest);
    return berr_set(err, BERR_INVALID, "%s: invalid digest %.100s", what, digest);
}

static int check_target(const Berth__Supervisor__V1__Descriptor *target, const char *name,
                        struct berr *err)
{
    int rc;

    if (!target)
        return berr_set(err, BERR_INVALID, "image %s: a target is required", name);
    if (!target->media_type || !target->media_type[0])
        return berr_set(err, BERR_INVALID, "image %s: target has no media type", name);
    if ((rc = check_digest(target->digest, name, err)))
        return rc;
    if (target->size < 0)
        return berr_set(err, BERR_INVALID, "image %s: target has a negative size", name);
    return 0;
}

/* ---- records ---- */

/* Writes an image record made of the given parts. */
static int put_image(struct metadata_txn *txn, const char *namespace, const char *name,
                     const struct label_set *labels, Berth__Supervisor__V1__Descriptor *target,
                     Berth__Supervisor__V1__Timestamp *created,
                     Berth__Supervisor__V1__Timestamp *updated, Berth__Supervisor__V1__Image **out,
                     struct berr *err)
{
    Berth__Supervisor__V1__Image image = BERTH__SUPERVISOR__V1__IMAGE__INIT;
    ProtobufCMessage **entries = NULL;
    int rc;

    if ((rc = record_labels_build(labels, &berth__supervisor__v1__image__labels_entry__descriptor,
                                  &entries, err)))
        return rc;
    image.name = (char *)name;
    image.n_labels = labels->count;
    image.labels = (Berth__Supervisor__V1__Image__LabelsEntry **)entries;
    image.target = target;
    image.created_at = created;
    image.updated_at = updated;
    rc = record_put(txn, METADATA_IMAGES, namespace, name, &image.base, err);
    if (rc == 0 && out)
        rc = record_copy(&image.base, (ProtobufCMessage **)out, err);
    record_labels_free(entries, labels->count);
    return rc;
}

static int get_image(struct metadata_txn *txn, const char *namespace, const char *name,
                     Berth__Supervisor__V1__Image **out, struct berr *err)
{
    int rc = record_get(txn, METADATA_IMAGES, namespace, name,
                        &berth__supervisor__v1__image__descriptor, (ProtobufCMessage **)out, NULL);

    if (rc == BERR_NOT_FOUND)
        return berr_set(err, rc, "image %s not found", name);
    if (rc)
        return berr_set(err, rc, "image %s: cannot read its record", name);
    return 0;
}

int image_store_get(struct image_store *images, const char *namespace, const char *name,
                    Berth__Supervisor__V1__Image **out, struct berr *err)
{
    struct metadata_txn *txn;
    int rc;

    if ((rc = check_namespace(namespace, err)) || (rc = check_name(name, err)))
        return rc;
    if ((rc = metadata_begin(images->metadata, false, &txn, err)))
        return rc;
    rc = get_image(txn, namespace, name, out, err);
    metadata_abort(txn);
    return rc;
}

int image_store_resolve(struct image_store *images, const char *namespace, const char *name,
                        Berth__Supervisor__V1__Image **out, struct berr *err)
{
    char *normalized = NULL;
    int rc = image_store_get(images, namespace, name, out, err);

    if (rc != BERR_NOT_FOUND)
        return rc;
    if (image_reference_normalize(name, &normalized, NULL) != 0)
        return rc;
    if (strcmp(normalized, name) != 0)
        rc = image_store_get(images, namespace, normalized, out, err);
    if (rc == BERR_NOT_FOUND)
        berr_set(err, rc, "image %s not found", name);
    free(normalized);
    return rc;
}

static const char *image_field(const char *field, void *object)
{
    const Berth__Supervisor__V1__Image *image = object;

    if (strcmp(field, "name") == 0)
        return image->name;
    if (strcmp(field, "target.digest") == 0)
        return image->target ? image->target->digest : NULL;
    if (strcmp(field, "target.media_type") == 0 || strcmp(field, "target.mediatype") == 0)
        return image->target ? image->target->media_type : NULL;
    if (strncmp(field, "labels.", 7) == 0)
        return record_label_get((ProtobufCMessage *const *)image->labels, image->n_labels,
                                field + 7);
    return NULL;
}

struct image_visit {
    image_store_visit visit;
    void *user;
};

static int visit_image(const ProtobufCMessage *message, void *user)
{
    const struct image_visit *typed = user;

    return typed->visit((const Berth__Supervisor__V1__Image *)message, typed->user);
}

int image_store_list(struct image_store *images, const char *namespace, const char *const *filters,
                     size_t filter_count, image_store_visit visit, void *user, struct berr *err)
{
    struct image_visit typed = {visit, user};
    int rc;

    if ((rc = check_namespace(namespace, err)))
        return rc;
    return record_list(images->metadata, METADATA_IMAGES, namespace,
                       &berth__supervisor__v1__image__descriptor, filters, filter_count,
                       image_field, visit_image, &typed, err);
}

int image_store_create(struct image_store *images, const char *namespace,
                       const Berth__Supervisor__V1__Image *image,
                       Berth__Supervisor__V1__Image **out, struct berr *err)
{
    Berth__Supervisor__V1__Timestamp now = BERTH__SUPERVISOR__V1__TIMESTAMP__INIT;
    struct label_set labels = {0};
    struct metadata_value existing;
    struct metadata_txn *txn = NULL;
    int rc;

    if ((rc = check_namespace(namespace, err)) || !image || (rc = check_name(image->name, err)) ||
        (rc = check_target(image->target, image->name, err)))
        return rc ? rc : berr_set(err, BERR_INVALID, "create image: no image given");
    if ((rc = record_labels_add(&labels, (ProtobufCMessage *const *)image->labels, image->n_labels,
                                err)))
        goto done;
    if ((rc = metadata_begin(images->metadata, true, &txn, err)))
        goto done;
    if (metadata_get(txn, METADATA_IMAGES, namespace, image->name, &existing, NULL) == 0) {
        rc = berr_set(err, BERR_EXISTS, "image %s already exists", image->name);
        goto done;
    }
    record_now(&now);
    if ((rc = put_image(txn, namespace, image->name, &labels, image->target, &now, &now, out, err)))
        goto done;
    rc = metadata_commit(txn, err);
    txn = NULL;
    if (rc && out) {
        berth__supervisor__v1__image__free_unpacked(*out, NULL);
        *out = NULL;
    }
done:
    metadata_abort(txn);
    label_set_clear(&labels);
    return rc;
}

int image_store_update(struct image_store *images, const char *namespace,
                       const Berth__Supervisor__V1__Image *image, const char *const *mask,
                       size_t mask_count, Berth__Supervisor__V1__Image **out, struct berr *err)
{
    Berth__Supervisor__V1__Timestamp now = BERTH__SUPERVISOR__V1__TIMESTAMP__INIT;
    Berth__Supervisor__V1__Image *current = NULL;
    Berth__Supervisor__V1__Descriptor *target;
    struct label_set labels = {0};
    ProtobufCMessage *const *given = image ? (ProtobufCMessage *const *)image->labels : NULL;
    struct metadata_txn *txn = NULL;
    size_t i;
    int rc;

    if (!image)
        return berr_set(err, BERR_INVALID, "update image: no image given");
    if ((rc = check_namespace(namespace, err)) || (rc = check_name(image->name, err)))
        return rc;
    if ((rc = metadata_begin(images->metadata, true, &txn, err)))
        return rc;
    if ((rc = get_image(txn, namespace, image->name, &current, err)))
        goto done;
    target = current->target;
    if ((rc = record_labels_add(&labels, (ProtobufCMessage *const *)current->labels,
                                current->n_labels, err)))
        goto done;
    for (i = 0; i < (mask_count ? mask_count : 2) && rc == 0; i++) {
        const char *path = mask_count ? (mask[i] ? mask[i] : "") : (i == 0 ? "labels" : "target");
        if (strcmp(path, "target") == 0) {
            if ((rc = check_target(image->target, image->name, err)) == 0)
                target = image->target;
        } else if (strcmp(path, "labels") == 0) {
            label_set_clear(&labels);
            rc = record_labels_add(&labels, given, image->n_labels, err);
        } else if (strncmp(path, "labels.", 7) == 0 && path[7]) {
            const char *value = record_label_get(given, image->n_labels, path + 7);
            if (value)
                rc = label_set_put(&labels, path + 7, value, err);
            else
                label_set_remove(&labels, path + 7);
        } else {
            rc = berr_set(err, BERR_INVALID, "update image %s: cannot update field %s", image->name,
                          path);
        }
    }
    if (rc)
        goto done;
    record_now(&now);
    if ((rc = put_image(txn, namespace, image->name, &labels, target, current->created_at, &now,
                        out, err)))
        goto done;
    rc = metadata_commit(txn, err);
    txn = NULL;
    if (rc && out) {
        berth__supervisor__v1__image__free_unpacked(*out, NULL);
        *out = NULL;
    }
done:
    metadata_abort(txn);
    if (current)
        berth__supervisor__v1__image__free_unpacked(current, NULL);
    label_set_clear(&labels);
    return rc;
}

int image_store_delete(struct image_store *images, const char *namespace, const char *name,
                       struct berr *err)
{
    struct metadata_txn *txn;
    int rc;

    if ((rc = check_namespace(namespace, err)) || (rc = check_name(name, err)))
        return rc;
    if ((rc = metadata_begin(images->metadata, true, &txn, err)))
        return rc;
    if ((rc = metadata_delete(txn, METADATA_IMAGES, namespace, name, NULL))) {
        metadata_abort(txn);
        return berr_set(err, rc, "image %s %s", name,
                        rc == BERR_NOT_FOUND ? "not found" : "cannot be deleted");
    }
    return metadata_commit(txn, err);
}

int image_store_create_or_update(struct image_store *images, const char *namespace,
                                 const Berth__Supervisor__V1__Image *const *list, size_t count,
                                 struct berr *err)
{
    Berth__Supervisor__V1__Timestamp now = BERTH__SUPERVISOR__V1__TIMESTAMP__INIT;
    struct metadata_txn *txn;
    size_t i;
    int rc;

    if ((rc = check_namespace(namespace, err)))
        return rc;
    for (i = 0; i < count; i++)
        if ((rc = check_name(list[i]->name, err)) ||
            (rc = check_target(list[i]->target, list[i]->name, err)))
            return rc;
    if ((rc = metadata_begin(images->metadata, true, &txn, err)))
        return rc;
    record_now(&now);
    for (i = 0; i < count && rc == 0; i++) {
        const Berth__Supervisor__V1__Image *image = list[i];
        Berth__Supervisor__V1__Image *current = NULL;
        struct label_set labels = {0};
        rc = record_get(txn, METADATA_IMAGES, namespace, image->name,
                        &berth__supervisor__v1__image__descriptor, (ProtobufCMessage **)&current,
                        NULL);
        if (rc && rc != BERR_NOT_FOUND) {
            rc = berr_set(err, rc, "image %s: cannot read its record", image->name);
            break;
        }
        rc = 0;
        if (current)
            rc = record_labels_add(&labels, (ProtobufCMessage *const *)current->labels,
                                   current->n_labels, err);
        if (rc == 0)
            rc = record_labels_add(&labels, (ProtobufCMessage *const *)image->labels,
                                   image->n_labels, err);
        if (rc == 0)
            rc = put_image(txn, namespace, image->name, &labels, image->target,
                           current ? current->created_at : &now, &now, NULL, err);
        if (current)
            berth__supervisor__v1__image__free_unpacked(current, NULL);
        label_set_clear(&labels);
    }
    if (rc) {
        metadata_abort(txn);
        return rc;
    }
    return metadata_commit(txn, err);
}

/* ---- names ---- */

/* [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*  (upper case is reported apart) */
static bool path_component_valid(const char *start, size_t length, bool *upper)
{
    size_t i = 0;

    while (i < length) {
        size_t run = 0;
        while (i < length &&
               (islower((unsigned char)start[i]) || isdigit((unsigned char)start[i]) ||
                isupper((unsigned char)start[i]))) {
            if (isupper((unsigned char)start[i]))
                *upper = true;
            i++, run++;
        }
        if (run == 0)
            return false;
        if (i == length)
            return true;
        if (start[i] == '.')
            i++;
        else if (start[i] == '_')
            i += (i + 1 < length && start[i + 1] == '_') ? 2 : 1;
        else if (start[i] == '-')
            while (i < length && start[i] == '-')
                i++;
        else
            return false;
        if (i == length)
            return false;
    }
    return length > 0;
}

static bool domain_valid(const char *start, size_t length)
{
    const char *colon = memchr(start, ':', length);
    size_t host_length = colon ? (size_t)(colon - start) : length, i;

    if (host_length == 0)
        return false;
    for (i = 0; i < host_length; i++)
        if (!isalnum((unsigned char)start[i]) && start[i] != '.' && start[i] != '-')
            return false;
    if (colon) {
        if ((size_t)(colon - start) + 1 == length)
            return false;
        for (i = host_length + 1; i < length; i++)
            if (!isdigit((unsigned char)start[i]))
                return false;
    }
    return true;
}

static bool tag_valid(const char *tag)
{
    size_t i, length = strlen(tag);

    if (length == 0 || length > 128 || !(isalnum((unsigned char)tag[0]) || tag[0] == '_'))
        return false;
    for (i = 1; i < length; i++)
        if (!isalnum((unsigned char)tag[i]) && tag[i] != '_' && tag[i] != '.' && tag[i] != '-')
            return false;
    return true;
}

static bool all_hex(const char *text, size_t length)
{
    size_t i;

    for (i = 0; i < length; i++)
        if (!isxdigit((unsigned char)text[i]) || isupper((unsigned char)text[i]))
            return false;
    return true;
}

int image_reference_normalize(const char *reference, char **out, struct berr *err)
{
    char name[2 * REFERENCE_MAX], domain[REFERENCE_MAX], path[REFERENCE_MAX + 16];
    const char *digest = NULL, *tag = NULL, *first_slash, *cursor;
    char *at, *colon, *last_slash, *result;
    bool upper = false;
    size_t length;
    int rc;

    if (!reference || !reference[0])
        return berr_set(err, BERR_INVALID, "an image reference is required");
    if (strlen(reference) >= sizeof(name))
        return berr_set(err, BERR_INVALID, "reference %.64s...: too long", reference);
    strcpy(name, reference);
    if ((at = strchr(name, '@'))) {
        *at = '\0';
        digest = at + 1;
        if ((rc = check_digest(digest, reference, err)))
            return rc;
    }
    last_slash = strrchr(name, '/');
    colon = strrchr(name, ':');
    if (colon && (!last_slash || colon > last_slash)) {
        *colon = '\0';
        tag = colon + 1;
        if (!tag_valid(tag))
            return berr_set(err, BERR_INVALID, "reference %s: invalid tag %s", reference, tag);
    }
    if (!name[0])
        return berr_set(err, BERR_INVALID, "reference %s: no repository", reference);
    length = strlen(name);
    if (!strchr(name, '/') && length == DIGEST_SHA256_HEX_LEN && all_hex(name, length))
        return berr_set(err, BERR_INVALID,
                        "reference %s: a 64-hex string is an image ID, not a repository name",
                        reference);
    first_slash = strchr(name, '/');
    if (first_slash &&
        (memchr(name, '.', (size_t)(first_slash - name)) ||
         memchr(name, ':', (size_t)(first_slash - name)) ||
         ((size_t)(first_slash - name) == 9 && strncmp(name, "localhost", 9) == 0))) {
        if (!domain_valid(name, (size_t)(first_slash - name)))
            return berr_set(err, BERR_INVALID, "reference %s: invalid registry host", reference);
        snprintf(domain, sizeof(domain), "%.*s", (int)(first_slash - name), name);
        snprintf(path, sizeof(path), "%s", first_slash + 1);
    } else {
        snprintf(domain, sizeof(domain), "docker.io");
        snprintf(path, sizeof(path), "%s", name);
    }
    if (strcmp(domain, "index.docker.io") == 0)
        snprintf(domain, sizeof(domain), "docker.io");
    if (strcmp(domain, "docker.io") == 0 && !strchr(path, '/')) {
        char library[sizeof(path)];
        snprintf(library, sizeof(library), "library/%s", path);
        snprintf(path, sizeof(path), "%s", library);
    }
    for (cursor = path;;) {
        const char *end = strchr(cursor, '/');
        size_t component = end ? (size_t)(end - cursor) : strlen(cursor);
        if (!path_component_valid(cursor, component, &upper))
            return berr_set(err, BERR_INVALID, "reference %s: invalid repository name", reference);
        if (!end)
            break;
        cursor = end + 1;
    }
    if (upper)
        return berr_set(err, BERR_INVALID, "reference %s: repository name must be lowercase",
                        reference);
    if (strlen(domain) + 1 + strlen(path) > REFERENCE_MAX)
        return berr_set(err, BERR_INVALID, "reference %s: repository name longer than %d",
                        reference, REFERENCE_MAX);
    length =
        strlen(domain) + strlen(path) + (tag ? strlen(tag) : 6) + (digest ? strlen(digest) : 0) + 4;
    result = malloc(length);
    if (!result)
        return berr_set(err, BERR_NOMEM, "reference %s: out of memory", reference);
    snprintf(result, length, "%s/%s%s%s%s%s", domain, path, tag || !digest ? ":" : "",
             tag ? tag : (digest ? "" : "latest"), digest ? "@" : "", digest ? digest : "");
    *out = result;
    return 0;
}

/* ---- platforms ---- */

static void normalize_architecture(char *architecture, size_t architecture_size, char *variant,
                                   size_t variant_size)
{
    for (char *c = architecture; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    for (char *c = variant; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if (!strcmp(architecture, "x86_64") || !strcmp(architecture, "x86-64"))
        snprintf(architecture, architecture_size, "amd64");
    else if (!strcmp(architecture, "aarch64"))
        snprintf(architecture, architecture_size, "arm64");
    else if (!strcmp(architecture, "i386") || !strcmp(architecture, "i686"))
        snprintf(architecture, architecture_size, "386");
    else if (!strcmp(architecture, "armhf")) {
        snprintf(architecture, architecture_size, "arm");
        snprintf(variant, variant_size, "v7");
    } else if (!strcmp(architecture, "armel")) {
        snprintf(architecture, architecture_size, "arm");
        snprintf(variant, variant_size, "v6");
    }
    if (!strcmp(architecture, "arm64") && (!variant[0] || !strcmp(variant, "8")))
        snprintf(variant, variant_size, "v8");
    else if (!strcmp(architecture, "arm") && !variant[0])
        snprintf(variant, variant_size, "v7");
    else if (!strcmp(architecture, "arm") && isdigit((unsigned char)variant[0])) {
        char numbered[16];
        snprintf(numbered, sizeof(numbered), "v%.8s", variant);
        snprintf(variant, variant_size, "%s", numbered);
    } else if (!strcmp(architecture, "amd64") && !strcmp(variant, "v1"))
        variant[0] = '\0';
}

static void normalize_platform(struct image_platform *platform)
{
    for (char *c = platform->os; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    normalize_architecture(platform->architecture, sizeof(platform->architecture),
                           platform->variant, sizeof(platform->variant));
}

void image_platform_host(struct image_platform *out)
{
    struct utsname name;

    memset(out, 0, sizeof(*out));
    snprintf(out->os, sizeof(out->os), "linux");
    if (uname(&name) == 0)
        snprintf(out->architecture, sizeof(out->architecture), "%s", name.machine);
    if (!strncmp(out->architecture, "armv", 4)) {
        snprintf(out->variant, sizeof(out->variant), "v%c", out->architecture[4]);
        snprintf(out->architecture, sizeof(out->architecture), "arm");
    }
    normalize_platform(out);
}

int image_platform_parse(const char *text, struct image_platform *out, struct berr *err)
{
    char copy[96], *parts[3] = {0}, *cursor, *slash;
    int count = 0;

    if (!text || !text[0]) {
        image_platform_host(out);
        return 0;
    }
    if (strlen(text) >= sizeof(copy))
        return berr_set(err, BERR_INVALID, "platform %.64s: too long", text);
    strcpy(copy, text);
    for (cursor = copy; count < 3; cursor = slash + 1) {
        parts[count++] = cursor;
        if (!(slash = strchr(cursor, '/')))
            break;
        *slash = '\0';
    }
    if (slash || !parts[0][0] || (count > 1 && !parts[1][0]) || (count > 2 && !parts[2][0]))
        return berr_set(err, BERR_INVALID, "platform %s: expected os/architecture[/variant]", text);
    memset(out, 0, sizeof(*out));
    if (count == 1) {
        snprintf(out->os, sizeof(out->os), "linux");
        snprintf(out->architecture, sizeof(out->architecture), "%s", parts[0]);
    } else {
        snprintf(out->os, sizeof(out->os), "%s", parts[0]);
        snprintf(out->architecture, sizeof(out->architecture), "%s", parts[1]);
        if (count == 3)
            snprintf(out->variant, sizeof(out->variant), "%s", parts[2]);
    }
    normalize_platform(out);
    return 0;
}

void image_platform_format(const struct image_platform *platform, char *out, size_t size)
{
    snprintf(out, size, "%s/%s%s%s", platform->os, platform->architecture,
             platform->variant[0] ? "/" : "", platform->variant);
}

static bool platform_exact(const struct image_platform *wanted,
                           const struct image_platform *candidate)
{
    struct image_platform normalized = *candidate;

    normalize_platform(&normalized);
    return !strcmp(wanted->os, normalized.os) &&
           !strcmp(wanted->architecture, normalized.architecture) &&
           !strcmp(wanted->variant, normalized.variant);
}

bool image_platform_match(const struct image_platform *wanted,
                          const struct image_platform *candidate)
{
    struct image_platform normalized = *candidate;

    normalize_platform(&normalized);
    if (strcmp(wanted->os, normalized.os) || strcmp(wanted->architecture, normalized.architecture))
        return false;
    if (!strcmp(wanted->variant, normalized.variant) || !normalized.variant[0])
        return true;
    /* arm v7 runs v6 and v5 images */
    if (!strcmp(normalized.architecture, "arm") && wanted->variant[0] == 'v' &&
        normalized.variant[0] == 'v')
        return atoi(normalized.variant + 1) <= atoi(wanted->variant + 1);
    return false;
}

/* ---- documents ---- */

bool image_media_type_is_index(const char *media_type)
{
    return media_type && (!strcmp(media_type, IMAGE_MEDIA_OCI_INDEX) ||
                          !strcmp(media_type, IMAGE_MEDIA_DOCKER_LIST));
}

bool image_media_type_is_manifest(const char *media_type)
{
    return media_type && (!strcmp(media_type, IMAGE_MEDIA_OCI_MANIFEST) ||
                          !strcmp(media_type, IMAGE_MEDIA_DOCKER_MANIFEST));
}

static void descriptor_clear(struct image_descriptor *descriptor)
{
    free(descriptor->media_type);
    free(descriptor->name);
    free(descriptor->ref_name);
    memset(descriptor, 0, sizeof(*descriptor));
}

static int descriptor_copy(struct image_descriptor *out, const struct image_descriptor *in,
                           struct berr *err)
{
    *out = *in;
    out->media_type = in->media_type ? strdup(in->media_type) : NULL;
    out->name = in->name ? strdup(in->name) : NULL;
    out->ref_name = in->ref_name ? strdup(in->ref_name) : NULL;
    if ((in->media_type && !out->media_type) || (in->name && !out->name) ||
        (in->ref_name && !out->ref_name)) {
        descriptor_clear(out);
        return berr_set(err, BERR_NOMEM, "descriptor %s: out of memory", in->digest);
    }
    return 0;
}

static int copy_string(yajl_val object, const char *key, char *out, size_t size, const char *what,
                       struct berr *err)
{
    const char *value = NULL;
    int rc = json_get_string(object, key, &value, err);

    if (rc) {
        berr_prefix(err, "%s", what);
        return rc;
    }
    if (value && strlen(value) >= size)
        return berr_set(err, BERR_INVALID, "%s: %s too long", what, key);
    if (value)
        snprintf(out, size, "%s", value);
    return 0;
}

static int parse_descriptor(yajl_val node, const char *what, struct image_descriptor *out,
                            struct berr *err)
{
    const char *media_type = NULL, *digest = NULL, *name = NULL, *ref_name = NULL;
    yajl_val platform = NULL, annotations = NULL;
    int64_t size = -1;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!YAJL_IS_OBJECT(node))
        return berr_set(err, BERR_INVALID, "%s: a descriptor must be an object", what);
    if ((rc = json_get_string(node, "mediaType", &media_type, err)) ||
        (rc = json_get_string(node, "digest", &digest, err)) ||
        (rc = json_get_int64(node, "size", &size, err)) ||
        (rc = json_get_object(node, "platform", &platform, err)) ||
        (rc = json_get_object(node, "annotations", &annotations, err))) {
        berr_prefix(err, "%s", what);
        return rc;
    }
    if ((rc = check_digest(digest, what, err)))
        return rc;
    if (size < 0)
        return berr_set(err, BERR_INVALID, "%s: descriptor %s has no size", what, digest);
    if (annotations &&
        ((rc = json_get_string(annotations, IMAGE_ANNOTATION_NAME, &name, err)) ||
         (rc = json_get_string(annotations, IMAGE_ANNOTATION_REF_NAME, &ref_name, err)))) {
        berr_prefix(err, "%s", what);
        return rc;
    }
    snprintf(out->digest, sizeof(out->digest), "%s", digest);
    out->size = size;
    if (platform) {
        out->has_platform = true;
        if ((rc = copy_string(platform, "os", out->platform.os, sizeof(out->platform.os), what,
                              err)) ||
            (rc = copy_string(platform, "architecture", out->platform.architecture,
                              sizeof(out->platform.architecture), what, err)) ||
            (rc = copy_string(platform, "variant", out->platform.variant,
                              sizeof(out->platform.variant), what, err)))
            return rc;
    }
    out->media_type = strdup(media_type ? media_type : "");
    out->name = name ? strdup(name) : NULL;
    out->ref_name = ref_name ? strdup(ref_name) : NULL;
    if (!out->media_type || (name && !out->name) || (ref_name && !out->ref_name)) {
        descriptor_clear(out);
        return berr_set(err, BERR_NOMEM, "%s: out of memory", what);
    }
    return 0;
}

static int parse_descriptor_array(yajl_val array, const char *what, struct image_descriptor **out,
                                  size_t *count, struct berr *err)
{
    struct image_descriptor *descriptors;
    size_t i;
    int rc;

    *out = NULL;
    *count = 0;
    if (!array || array->u.array.len == 0)
        return 0;
    descriptors = calloc(array->u.array.len, sizeof(*descriptors));
    if (!descriptors)
        return berr_set(err, BERR_NOMEM, "%s: out of memory", what);
    for (i = 0; i < array->u.array.len; i++) {
        if ((rc = parse_descriptor(array->u.array.values[i], what, &descriptors[i], err))) {
            while (i--)
                descriptor_clear(&descriptors[i]);
            free(descriptors);
            return rc;
        }
    }
    *out = descriptors;
    *count = array->u.array.len;
    return 0;
}

void image_document_free(struct image_document *document)
{
    size_t i;

    if (!document)
        return;
    for (i = 0; i < document->manifest_count; i++)
        descriptor_clear(&document->manifests[i]);
    for (i = 0; i < document->layer_count; i++)
        descriptor_clear(&document->layers[i]);
    free(document->manifests);
    free(document->layers);
    descriptor_clear(&document->config);
    free(document->media_type);
    free(document);
}

int image_document_parse(const char *media_type, const char *json, size_t size,
                         struct image_document **out, struct berr *err)
{
    struct image_document *document = NULL;
    const char *own_type = NULL;
    yajl_val tree = NULL, manifests = NULL, layers = NULL, config = NULL;
    int64_t schema = 0;
    int rc;

    if (strlen(json) != size)
        return berr_set(err, BERR_INVALID, "document: NUL byte in JSON");
    if ((rc = json_parse(json, &tree, err)))
        return rc;
    if (!YAJL_IS_OBJECT(tree)) {
        rc = berr_set(err, BERR_INVALID, "document: not a JSON object");
        goto done;
    }
    if ((rc = json_get_string(tree, "mediaType", &own_type, err)) ||
        (rc = json_get_int64(tree, "schemaVersion", &schema, err)) ||
        (rc = json_get_array(tree, "manifests", &manifests, err)) ||
        (rc = json_get_array(tree, "layers", &layers, err)) ||
        (rc = json_get_object(tree, "config", &config, err)))
        goto done;
    if (schema == 1 ||
        (own_type &&
         strncmp(own_type, "application/vnd.docker.distribution.manifest.v1", 47) == 0)) {
        rc = berr_set(err, BERR_UNSUPPORTED, "Docker schema 1 manifests are not supported");
        goto done;
    }
    if (!image_media_type_is_index(media_type) && !image_media_type_is_manifest(media_type))
        media_type = own_type;
    else if (own_type && own_type[0] && strcmp(own_type, media_type) != 0) {
        rc = berr_set(err, BERR_INVALID, "document says it is %s, its descriptor %s", own_type,
                      media_type);
        goto done;
    }
    if (!image_media_type_is_index(media_type) && !image_media_type_is_manifest(media_type))
        media_type = manifests ? IMAGE_MEDIA_OCI_INDEX : config ? IMAGE_MEDIA_OCI_MANIFEST : NULL;
    if (!media_type) {
        rc = berr_set(err, BERR_UNSUPPORTED, "document is neither an index nor a manifest");
        goto done;
    }
    document = calloc(1, sizeof(*document));
    if (!document || !(document->media_type = strdup(media_type))) {
        rc = berr_set(err, BERR_NOMEM, "document: out of memory");
        goto done;
    }
    if (image_media_type_is_index(media_type)) {
        document->kind = IMAGE_DOCUMENT_INDEX;
        rc = parse_descriptor_array(manifests, "index", &document->manifests,
                                    &document->manifest_count, err);
    } else {
        document->kind = IMAGE_DOCUMENT_MANIFEST;
        if (!config)
            rc = berr_set(err, BERR_INVALID, "manifest: no config");
        else if ((rc = parse_descriptor(config, "manifest config", &document->config, err)) == 0)
            rc = parse_descriptor_array(layers, "manifest layers", &document->layers,
                                        &document->layer_count, err);
    }
done:
    if (tree)
        yajl_tree_free(tree);
    if (rc) {
        image_document_free(document);
        return rc;
    }
    *out = document;
    return 0;
}

/* ---- the walk ---- */

int image_chain_ids(const char (*diff_ids)[DIGEST_STRING_SIZE], size_t count,
                    char (*chain_ids)[DIGEST_STRING_SIZE], struct berr *err)
{
    char joined[2 * DIGEST_STRING_SIZE + 1];
    size_t i;
    int rc;

    for (i = 0; i < count; i++) {
        if (!digest_is_valid(diff_ids[i]))
            return berr_set(err, BERR_INVALID, "diff_id %zu: invalid digest %.80s", i, diff_ids[i]);
        if (i == 0) {
            memcpy(chain_ids[0], diff_ids[0], DIGEST_STRING_SIZE);
            continue;
        }
        snprintf(joined, sizeof(joined), "%s %s", chain_ids[i - 1], diff_ids[i]);
        if ((rc = digest_sha256_buffer(joined, strlen(joined), chain_ids[i], err)))
            return rc;
    }
    return 0;
}

/* Reads a JSON blob of the namespace, checking the descriptor's size. */
static int read_blob(struct content_store *content, const char *namespace,
                     const struct image_descriptor *descriptor, size_t max_size, char **data,
                     size_t *size, struct berr *err)
{
    int rc =
        content_store_read_all(content, namespace, descriptor->digest, max_size, data, size, err);

    if (rc == 0 && descriptor->size > 0 && (int64_t)*size != descriptor->size) {
        free(*data);
        *data = NULL;
        return berr_set(err, BERR_INVALID, "%s: %zu bytes, its descriptor says %" PRId64,
                        descriptor->digest, *size, descriptor->size);
    }
    return rc;
}

static int read_document(struct content_store *content, const char *namespace,
                         const struct image_descriptor *descriptor, struct image_document **out,
                         struct berr *err)
{
    char *json;
    size_t size;
    int rc = read_blob(content, namespace, descriptor, IMAGE_MANIFEST_MAX, &json, &size, err);

    if (rc)
        return rc;
    rc = image_document_parse(descriptor->media_type, json, size, out, err);
    free(json);
    if (rc)
        berr_prefix(err, "%s", descriptor->digest);
    return rc;
}

struct parsed_config {
    struct image_platform platform;
    size_t diff_id_count;
    char (*diff_ids)[DIGEST_STRING_SIZE];
};

static int parse_config(const char *json, size_t size, const char *digest,
                        struct parsed_config *out, struct berr *err)
{
    yajl_val tree, rootfs = NULL, diff_ids = NULL;
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    if (strlen(json) != size)
        return berr_set(err, BERR_INVALID, "config %s: NUL byte in JSON", digest);
    if ((rc = json_parse(json, &tree, err))) {
        berr_prefix(err, "config %s", digest);
        return rc;
    }
    if ((rc = copy_string(tree, "os", out->platform.os, sizeof(out->platform.os), digest, err)) ||
        (rc = copy_string(tree, "architecture", out->platform.architecture,
                          sizeof(out->platform.architecture), digest, err)) ||
        (rc = copy_string(tree, "variant", out->platform.variant, sizeof(out->platform.variant),
                          digest, err)))
        goto done;
    if ((rc = json_get_object(tree, "rootfs", &rootfs, err)) ||
        (rootfs && (rc = json_get_array(rootfs, "diff_ids", &diff_ids, err)))) {
        berr_prefix(err, "config %s", digest);
        goto done;
    }
    if (diff_ids && diff_ids->u.array.len) {
        out->diff_ids = calloc(diff_ids->u.array.len, sizeof(*out->diff_ids));
        if (!out->diff_ids) {
            rc = berr_set(err, BERR_NOMEM, "config %s: out of memory", digest);
            goto done;
        }
        for (i = 0; i < diff_ids->u.array.len; i++) {
            yajl_val value = diff_ids->u.array.values[i];
            if (!YAJL_IS_STRING(value) || !digest_is_valid(YAJL_GET_STRING(value))) {
                rc = berr_set(err, BERR_INVALID, "config %s: diff_ids[%zu] is not a sha256 digest",
                              digest, i);
                goto done;
            }
            snprintf(out->diff_ids[i], DIGEST_STRING_SIZE, "%s", YAJL_GET_STRING(value));
        }
        out->diff_id_count = diff_ids->u.array.len;
    }
done:
    yajl_tree_free(tree);
    if (rc) {
        free(out->diff_ids);
        out->diff_ids = NULL;
    }
    return rc;
}

int image_config_parse(const char *json, size_t size, const char *digest,
                       struct image_platform *platform, char (**diff_ids)[DIGEST_STRING_SIZE],
                       size_t *count, struct berr *err)
{
    struct parsed_config config;
    int rc = parse_config(json, size, digest, &config, err);

    if (rc)
        return rc;
    if (platform)
        *platform = config.platform;
    *diff_ids = config.diff_ids;
    *count = config.diff_id_count;
    return 0;
}

/* The platform of a manifest whose index entry does not say. */
static int manifest_platform(struct content_store *content, const char *namespace,
                             const struct image_descriptor *descriptor, struct image_platform *out,
                             struct berr *err)
{
    struct image_document *document;
    struct parsed_config config;
    char *json;
    size_t size;
    int rc;

    if ((rc = read_document(content, namespace, descriptor, &document, err)))
        return rc;
    if (document->kind != IMAGE_DOCUMENT_MANIFEST) {
        image_document_free(document);
        return berr_set(err, BERR_INVALID, "%s: not a manifest", descriptor->digest);
    }
    rc = read_blob(content, namespace, &document->config, IMAGE_CONFIG_MAX, &json, &size, err);
    if (rc == 0) {
        rc = parse_config(json, size, document->config.digest, &config, err);
        free(json);
    }
    image_document_free(document);
    if (rc == 0) {
        *out = config.platform;
        free(config.diff_ids);
    }
    return rc;
}

/* Picks the manifest for wanted under descriptor (an index or a manifest). */
static int choose_manifest(struct content_store *content, const char *namespace,
                           const struct image_descriptor *descriptor,
                           const struct image_platform *wanted, int depth,
                           struct image_descriptor *out, struct berr *err)
{
    struct image_document *document;
    int pass, rc;
    size_t i;

    if (depth > WALK_DEPTH_MAX)
        return berr_set(err, BERR_INVALID, "%s: indexes nested too deep", descriptor->digest);
    if ((rc = read_document(content, namespace, descriptor, &document, err)))
        return rc;
    if (document->kind == IMAGE_DOCUMENT_MANIFEST) {
        rc = descriptor_copy(out, descriptor, err);
        if (rc == 0 && !image_media_type_is_manifest(out->media_type)) {
            free(out->media_type);
            out->media_type = strdup(document->media_type);
            if (!out->media_type)
                rc = berr_set(err, BERR_NOMEM, "out of memory");
        }
        image_document_free(document);
        return rc;
    }
    /* An index: exact platform matches first, then compatible ones. */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < document->manifest_count; i++) {
            const struct image_descriptor *entry = &document->manifests[i];
            struct image_platform platform;
            bool matches;
            if (image_media_type_is_index(entry->media_type)) {
                if (pass == 1)
                    continue;
                rc = choose_manifest(content, namespace, entry, wanted, depth + 1, out, err);
                if (rc != BERR_NOT_FOUND)
                    goto done;
                continue;
            }
            if (entry->has_platform)
                platform = entry->platform;
            else if (manifest_platform(content, namespace, entry, &platform, NULL) != 0)
                continue; /* absent or unreadable: cannot be the one */
            matches = pass == 0 ? platform_exact(wanted, &platform)
                                : image_platform_match(wanted, &platform);
            if (matches) {
                rc = descriptor_copy(out, entry, err);
                goto done;
            }
        }
    }
    {
        char text[96];
        image_platform_format(wanted, text, sizeof(text));
        rc = berr_set(err, BERR_NOT_FOUND, "%s: no manifest for platform %s", descriptor->digest,
                      text);
    }
done:
    image_document_free(document);
    return rc;
}

void image_manifest_free(struct image_manifest *manifest)
{
    size_t i;

    if (!manifest)
        return;
    descriptor_clear(&manifest->manifest);
    descriptor_clear(&manifest->config);
    for (i = 0; i < manifest->layer_count; i++)
        descriptor_clear(&manifest->layers[i].descriptor);
    free(manifest->layers);
    free(manifest->config_json);
    free(manifest);
}

int image_manifest_resolve(struct content_store *content, const char *namespace,
                           const char *target_media_type, const char *target_digest,
                           int64_t target_size, const char *platform_text,
                           struct image_manifest **out, struct berr *err)
{
    struct image_descriptor target = {0};
    struct image_platform wanted;
    struct image_document *document = NULL;
    struct parsed_config config = {0};
    struct image_manifest *manifest;
    size_t i;
    int rc;

    if ((rc = check_digest(target_digest, "image target", err)) ||
        (rc = image_platform_parse(platform_text, &wanted, err)))
        return rc;
    manifest = calloc(1, sizeof(*manifest));
    if (!manifest)
        return berr_set(err, BERR_NOMEM, "out of memory");
    target.media_type = (char *)(target_media_type ? target_media_type : "");
    snprintf(target.digest, sizeof(target.digest), "%s", target_digest);
    target.size = target_size;
    if ((rc = choose_manifest(content, namespace, &target, &wanted, 0, &manifest->manifest, err)))
        goto fail;
    if ((rc = read_document(content, namespace, &manifest->manifest, &document, err)))
        goto fail;
    if (document->kind != IMAGE_DOCUMENT_MANIFEST) {
        rc = berr_set(err, BERR_INVALID, "%s: not a manifest", manifest->manifest.digest);
        goto fail;
    }
    if ((rc = descriptor_copy(&manifest->config, &document->config, err)))
        goto fail;
    if ((rc = read_blob(content, namespace, &manifest->config, IMAGE_CONFIG_MAX,
                        &manifest->config_json, &manifest->config_size, err)) ||
        (rc = parse_config(manifest->config_json, manifest->config_size, manifest->config.digest,
                           &config, err)))
        goto fail;
    manifest->platform = config.platform;
    normalize_platform(&manifest->platform);
    if (!image_media_type_is_index(target.media_type) && target.media_type[0] &&
        strcmp(manifest->manifest.digest, target_digest) == 0 &&
        !image_platform_match(&wanted, &config.platform)) {
        char have[96], want[96];
        image_platform_format(&manifest->platform, have, sizeof(have));
        image_platform_format(&wanted, want, sizeof(want));
        rc =
            berr_set(err, BERR_NOT_FOUND, "%s: image is for %s, not %s", target_digest, have, want);
        goto fail;
    }
    if (config.diff_id_count != document->layer_count) {
        rc = berr_set(err, BERR_INVALID, "%s: %zu layers but %zu diff_ids in config %s",
                      manifest->manifest.digest, document->layer_count, config.diff_id_count,
                      manifest->config.digest);
        goto fail;
    }
    if (document->layer_count) {
        char(*chain_ids)[DIGEST_STRING_SIZE];
        manifest->layers = calloc(document->layer_count, sizeof(*manifest->layers));
        chain_ids = calloc(document->layer_count, sizeof(*chain_ids));
        if (!manifest->layers || !chain_ids) {
            free(chain_ids);
            rc = berr_set(err, BERR_NOMEM, "out of memory");
            goto fail;
        }
        rc = image_chain_ids((const char(*)[DIGEST_STRING_SIZE])config.diff_ids,
                             config.diff_id_count, chain_ids, err);
        for (i = 0; rc == 0 && i < document->layer_count; i++) {
            struct image_layer *layer = &manifest->layers[i];
            if ((rc = descriptor_copy(&layer->descriptor, &document->layers[i], err)))
                break;
            manifest->layer_count++;
            memcpy(layer->diff_id, config.diff_ids[i], DIGEST_STRING_SIZE);
            memcpy(layer->chain_id, chain_ids[i], DIGEST_STRING_SIZE);
        }
        free(chain_ids);
        if (rc)
            goto fail;
        memcpy(manifest->chain_id, manifest->layers[manifest->layer_count - 1].chain_id,
               DIGEST_STRING_SIZE);
    }
    image_document_free(document);
    free(config.diff_ids);
    *out = manifest;
    return 0;
fail:
    image_document_free(document);
    free(config.diff_ids);
    image_manifest_free(manifest);
    return rc;
}

int image_store_manifest(struct image_store *images, const char *namespace, const char *name,
                         const char *platform, struct image_manifest **out, struct berr *err)
{
    Berth__Supervisor__V1__Image *image;
    int rc = image_store_resolve(images, namespace, name, &image, err);

    if (rc)
        return rc;
    if (!image->target)
        rc = berr_set(err, BERR_INVALID, "image %s has no target", name);
    else
        rc = image_manifest_resolve(images->content, namespace, image->target->media_type,
                                    image->target->digest, image->target->size, platform, out, err);
    if (rc)
        berr_prefix(err, "image %s", name);
    berth__supervisor__v1__image__free_unpacked(image, NULL);
    return rc;
}
