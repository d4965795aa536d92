/*
 * leases: see leases.h. Each call is one LMDB transaction.
 */
#include "leases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "digest.h"
#include "record.h"

#define RESOURCE_KEY_MAX 1024

static int check_namespace(const char *namespace, struct berr *err)
{
    if (!namespace || !metadata_namespace_valid(namespace))
        return berr_set(err, BERR_INVALID, "invalid namespace %s", namespace ? namespace : "");
    return 0;
}

static int check_id(const char *id, struct berr *err)
{
    const char *c;

    if (!id || !id[0] || strlen(id) > LEASE_ID_MAX)
        return berr_set(err, BERR_INVALID, "invalid lease id %.140s", id ? id : "");
    for (c = id; *c; c++)
        if (*c == '/' || (unsigned char)*c <= ' ' || *c == 0x7f)
            return berr_set(err, BERR_INVALID, "invalid lease id %s: no '/', spaces or controls",
                            id);
    return 0;
}

/* "content" or "snapshots/NAME" (NAME without '/'). */
static int check_resource(const char *type, const char *resource, struct berr *err)
{
    if (!type || !resource || !resource[0])
        return berr_set(err, BERR_INVALID, "lease resource: type and id are required");
    if (strcmp(type, LEASE_RESOURCE_CONTENT) == 0)
        return digest_is_valid(resource)
                   ? 0
                   : berr_set(err, BERR_INVALID, "lease resource %.100s: not a sha256 digest",
                              resource);
    if (strncmp(type, "snapshots/", 10) == 0 && type[10] && !strchr(type + 10, '/'))
        return 0;
    return berr_set(err, BERR_INVALID,
                    "lease resource %s: type %s is neither content nor snapshots/NAME", resource,
                    type);
}

static int resource_key(char *out, const char *id, const char *type, const char *resource,
                        struct berr *err)
{
    int length = snprintf(out, RESOURCE_KEY_MAX, "%s/%s/%s", id, type, resource);

    if (length < 0 || length >= RESOURCE_KEY_MAX)
        return berr_set(err, BERR_INVALID, "lease %s: resource %.64s: name too long", id, resource);
    return 0;
}

int lease_resource_key_parse(const char *key, char **id, char **type, char **resource,
                             struct berr *err)
{
    const char *slash = strchr(key, '/'), *type_start, *type_end;

    *id = *type = *resource = NULL;
    if (!slash)
        goto invalid;
    type_start = slash + 1;
    if (strncmp(type_start, "content/", 8) == 0)
        type_end = type_start + 7;
    else if (strncmp(type_start, "snapshots/", 10) == 0 &&
             (type_end = strchr(type_start + 10, '/')))
        ;
    else
        goto invalid;
    if (!type_end[1])
        goto invalid;
    *id = strndup(key, (size_t)(slash - key));
    *type = strndup(type_start, (size_t)(type_end - type_start));
    *resource = strdup(type_end + 1);
    if (!*id || !*type || !*resource) {
        free(*id), free(*type), free(*resource);
        *id = *type = *resource = NULL;
        return berr_set(err, BERR_NOMEM, "lease resource: out of memory");
    }
    return 0;
invalid:
    return berr_set(err, BERR_INVALID, "lease resource key %s: unexpected shape", key);
}

bool lease_expired(const Berth__Supervisor__V1__Lease *lease, time_t now)
{
    int64_t created = lease->created_at ? lease->created_at->seconds : 0;

    return lease->expires_in_seconds > 0 && (int64_t)now >= created + lease->expires_in_seconds;
}

static void make_id(char *out, size_t size)
{
    unsigned char random[8] = {0};
    Berth__Supervisor__V1__Timestamp now;

    record_now(&now);
    if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random))
        memcpy(random, &now.nanos, sizeof(now.nanos));
    snprintf(out, size, "%lld%09d-%02x%02x%02x%02x%02x%02x%02x%02x", (long long)now.seconds,
             now.nanos, random[0], random[1], random[2], random[3], random[4], random[5], random[6],
             random[7]);
}

int leases_create(struct metadata *metadata, const char *namespace, const char *id,
                  const struct label *labels, size_t label_count, int64_t expires_in_seconds,
                  Berth__Supervisor__V1__Lease **out, struct berr *err)
{
    Berth__Supervisor__V1__Lease lease = BERTH__SUPERVISOR__V1__LEASE__INIT;
    Berth__Supervisor__V1__Timestamp created = BERTH__SUPERVISOR__V1__TIMESTAMP__INIT;
    struct label_set set = {0};
    ProtobufCMessage **entries = NULL;
    struct metadata_txn *txn = NULL;
    struct metadata_value existing;
    char made_up[64];
    size_t i;
    int rc;

    if ((rc = check_namespace(namespace, err)))
        return rc;
    if (!id || !id[0]) {
        make_id(made_up, sizeof(made_up));
        id = made_up;
    }
    if ((rc = check_id(id, err)))
        return rc;
    if (expires_in_seconds < 0)
        return berr_set(err, BERR_INVALID, "lease %s: negative expiry", id);
    for (i = 0; i < label_count; i++)
        if ((rc = label_set_put(&set, labels[i].key, labels[i].value, err)))
            goto done;
    if ((rc = record_labels_build(&set, &berth__supervisor__v1__lease__labels_entry__descriptor,
                                  &entries, err)))
        goto done;
    record_now(&created);
    lease.id = (char *)id;
    lease.created_at = &created;
    lease.n_labels = set.count;
    lease.labels = (Berth__Supervisor__V1__Lease__LabelsEntry **)entries;
    lease.expires_in_seconds = expires_in_seconds;

    if ((rc = metadata_begin(metadata, true, &txn, err)))
        goto done;
    rc = metadata_get(txn, METADATA_LEASES, namespace, id, &existing, NULL);
    if (rc == 0) {
        rc = berr_set(err, BERR_EXISTS, "lease %s already exists", id);
        goto done;
    }
    if ((rc = record_put(txn, METADATA_LEASES, namespace, id, &lease.base, err)))
        goto done;
    rc = metadata_commit(txn, err);
    txn = NULL;
    if (rc == 0 && out)
        rc = record_copy(&lease.base, (ProtobufCMessage **)out, err);
done:
    metadata_abort(txn);
    record_labels_free(entries, set.count);
    label_set_clear(&set);
    if (rc)
        berr_prefix(err, "create lease");
    return rc;
}

int leases_get(struct metadata *metadata, const char *namespace, const char *id,
               Berth__Supervisor__V1__Lease **out, struct berr *err)
{
    struct metadata_txn *txn;
    int rc;

    if ((rc = check_namespace(namespace, err)) || (rc = check_id(id, err)))
        return rc;
    if ((rc = metadata_begin(metadata, false, &txn, err)))
        return rc;
    rc = record_get(txn, METADATA_LEASES, namespace, id, &berth__supervisor__v1__lease__descriptor,
                    (ProtobufCMessage **)out, err);
    metadata_abort(txn);
    return rc;
}

struct key_list {
    size_t count;
    char **keys;
};

static int collect_key(const char *key, const void *data, size_t size, void *user)
{
    struct key_list *list = user;
    char **keys = realloc(list->keys, (list->count + 1) * sizeof(*keys));

    (void)data, (void)size;
    if (!keys)
        return BERR_NOMEM;
    list->keys = keys;
    if (!(keys[list->count] = strdup(key)))
        return BERR_NOMEM;
    list->count++;
    return 0;
}

static void key_list_free(struct key_list *list)
{
    size_t i;

    for (i = 0; i < list->count; i++)
        free(list->keys[i]);
    free(list->keys);
}

int leases_delete(struct metadata *metadata, const char *namespace, const char *id,
                  struct berr *err)
{
    struct metadata_txn *txn = NULL;
    struct key_list resources = {0};
    char prefix[LEASE_ID_MAX + 2];
    size_t i;
    int rc;

    if ((rc = check_namespace(namespace, err)) || (rc = check_id(id, err)))
        return rc;
    snprintf(prefix, sizeof(prefix), "%s/", id);
    if ((rc = metadata_begin(metadata, true, &txn, err)))
        return rc;
    if ((rc = metadata_delete(txn, METADATA_LEASES, namespace, id, err)))
        goto done;
    rc = metadata_list(txn, METADATA_LEASE_RESOURCES, namespace, prefix, collect_key, &resources,
                       err);
    if (rc == BERR_NOMEM)
        rc = berr_set(err, BERR_NOMEM, "out of memory");
    for (i = 0; rc == 0 && i < resources.count; i++)
        rc = metadata_delete(txn, METADATA_LEASE_RESOURCES, namespace, resources.keys[i], err);
    if (rc == 0) {
        rc = metadata_commit(txn, err);
        txn = NULL;
    }
done:
    metadata_abort(txn);
    key_list_free(&resources);
    if (rc)
        berr_prefix(err, "delete lease %s", id);
    return rc;
}

static const char *lease_field(const char *field, void *object)
{
    const Berth__Supervisor__V1__Lease *lease = object;

    if (strcmp(field, "id") == 0)
        return lease->id;
    if (strncmp(field, "labels.", 7) == 0)
        return record_label_get((ProtobufCMessage *const *)lease->labels, lease->n_labels,
                                field + 7);
    return NULL;
}

struct lease_visit {
    leases_visit visit;
    void *user;
};

static int visit_lease(const ProtobufCMessage *message, void *user)
{
    const struct lease_visit *typed = user;

    return typed->visit((const Berth__Supervisor__V1__Lease *)message, typed->user);
}

int leases_list(struct metadata *metadata, const char *namespace, const char *const *filters,
                size_t filter_count, leases_visit visit, void *user, struct berr *err)
{
    struct lease_visit typed = {visit, user};
    int rc;

    if ((rc = check_namespace(namespace, err)))
        return rc;
    return record_list(metadata, METADATA_LEASES, namespace,
                       &berth__supervisor__v1__lease__descriptor, filters, filter_count,
                       lease_field, visit_lease, &typed, err);
}

int leases_add_resource_txn(struct metadata_txn *txn, const char *namespace, const char *id,
                            const char *type, const char *resource, struct berr *err)
{
    char key[RESOURCE_KEY_MAX];
    struct metadata_value lease;
    int rc;

    if ((rc = check_namespace(namespace, err)) || (rc = check_id(id, err)) ||
        (rc = check_resource(type, resource, err)))
        return rc;
    if ((rc = resource_key(key, id, type, resource, err)))
        return rc;
    if ((rc = metadata_get(txn, METADATA_LEASES, namespace, id, &lease, NULL)))
        return berr_set(err, rc, "lease %s %s", id,
                        rc == BERR_NOT_FOUND ? "not found" : "cannot be read");
    return metadata_put(txn, METADATA_LEASE_RESOURCES, namespace, key, "", 0, err);
}

int leases_add_resource(struct metadata *metadata, const char *namespace, const char *id,
                        const char *type, const char *resource, struct berr *err)
{
    struct metadata_txn *txn;
    int rc;

    if ((rc = metadata_begin(metadata, true, &txn, err)))
        return rc;
    if ((rc = leases_add_resource_txn(txn, namespace, id, type, resource, err))) {
        metadata_abort(txn);
        return rc;
    }
    return metadata_commit(txn, err);
}

int leases_delete_resource(struct metadata *metadata, const char *namespace, const char *id,
                           const char *type, const char *resource, struct berr *err)
{
    char key[RESOURCE_KEY_MAX];
    struct metadata_value lease;
    struct metadata_txn *txn;
    int rc;

    if ((rc = check_namespace(namespace, err)) || (rc = check_id(id, err)) ||
        (rc = check_resource(type, resource, err)) ||
        (rc = resource_key(key, id, type, resource, err)))
        return rc;
    if ((rc = metadata_begin(metadata, true, &txn, err)))
        return rc;
    if ((rc = metadata_get(txn, METADATA_LEASES, namespace, id, &lease, NULL))) {
        metadata_abort(txn);
        return berr_set(err, rc, "lease %s not found", id);
    }
    if ((rc = metadata_delete(txn, METADATA_LEASE_RESOURCES, namespace, key, NULL))) {
        metadata_abort(txn);
        return berr_set(err, rc, "lease %s: resource %s %s not found", id, type, resource);
    }
    return metadata_commit(txn, err);
}

struct resources_context {
    lease_resources_visit visit;
    void *user;
    struct berr *err;
};

static int resources_one(const char *key, const void *data, size_t size, void *user)
{
    struct resources_context *context = user;
    char *id, *type, *resource;
    int rc;

    (void)data, (void)size;
    if (lease_resource_key_parse(key, &id, &type, &resource, NULL))
        return 0; /* not ours to interpret */
    rc = context->visit(type, resource, context->user);
    free(id), free(type), free(resource);
    return rc;
}

int leases_list_resources(struct metadata *metadata, const char *namespace, const char *id,
                          lease_resources_visit visit, void *user, struct berr *err)
{
    struct resources_context context = {visit, user, err};
    char prefix[LEASE_ID_MAX + 2];
    struct metadata_value lease;
    struct metadata_txn *txn;
    int rc;

    if ((rc = check_namespace(namespace, err)) || (rc = check_id(id, err)))
        return rc;
    snprintf(prefix, sizeof(prefix), "%s/", id);
    if ((rc = metadata_begin(metadata, false, &txn, err)))
        return rc;
    if ((rc = metadata_get(txn, METADATA_LEASES, namespace, id, &lease, NULL)))
        rc = berr_set(err, rc, "lease %s not found", id);
    else
        rc = metadata_list(txn, METADATA_LEASE_RESOURCES, namespace, prefix, resources_one,
                           &context, err);
    metadata_abort(txn);
    return rc;
}
