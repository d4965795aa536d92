/*
 * containers: see containers.h. Records are packed Container messages.
 */
#include "containers.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "labels.h"
#include "record.h"

#define ID_MAX 128

int container_id_check(const char *id, struct berr *err)
{
    size_t i, length = id ? strlen(id) : 0;

    if (!length || length > ID_MAX || !isalnum((unsigned char)id[0]))
        return berr_set(err, BERR_INVALID, "invalid container id \"%s\"", id ? id : "");
    for (i = 0; i < length; i++)
        if (!isalnum((unsigned char)id[i]) && !strchr("_.+-", id[i]))
            return berr_set(err, BERR_INVALID,
                            "invalid container id %s: only letters, digits and _.+- are allowed",
                            id);
    return 0;
}

static int check_spec(const ProtobufCBinaryData *spec, const char *id, struct berr *err)
{
    char *text;
    yajl_val tree;
    int rc;

    if (!spec->len)
        return berr_set(err, BERR_INVALID, "container %s: a spec is required", id);
    text = malloc(spec->len + 1);
    if (!text)
        return berr_set(err, BERR_NOMEM, "out of memory");
    memcpy(text, spec->data, spec->len);
    text[spec->len] = '\0';
    rc = json_parse(text, &tree, err);
    free(text);
    if (rc)
        return berr_prefix(err, "container %s: spec", id);
    rc = YAJL_IS_OBJECT(tree)
             ? 0
             : berr_set(err, BERR_INVALID, "container %s: spec must be an object", id);
    yajl_tree_free(tree);
    return rc;
}

int container_store_get(struct metadata *metadata, const char *namespace, const char *id,
                        Berth__Supervisor__V1__Container **out, struct berr *err)
{
    struct metadata_txn *txn;
    int rc;

    if ((rc = container_id_check(id, err)) || (rc = metadata_begin(metadata, false, &txn, err)))
        return rc;
    rc = record_get(txn, METADATA_CONTAINERS, namespace, id,
                    &berth__supervisor__v1__container__descriptor, (ProtobufCMessage **)out, err);
    metadata_abort(txn);
    if (rc == BERR_NOT_FOUND)
        return berr_set(err, BERR_NOT_FOUND, "container %s not found", id);
    return rc;
}

static const char *lookup(const char *field, void *object)
{
    const Berth__Supervisor__V1__Container *container = object;

    if (strcmp(field, "id") == 0)
        return container->id;
    if (strcmp(field, "image") == 0)
        return container->image;
    if (strcmp(field, "snapshot_key") == 0)
        return container->snapshot_key;
    if (strcmp(field, "runtime.name") == 0)
        return container->runtime ? container->runtime->name : NULL;
    if (strncmp(field, "labels.", 7) == 0)
        return record_label_get((ProtobufCMessage *const *)container->labels, container->n_labels,
                                field + 7);
    return NULL;
}

struct container_visit {
    container_store_visit visit;
    void *user;
};

static int visit_container(const ProtobufCMessage *message, void *user)
{
    const struct container_visit *typed = user;

    return typed->visit((const Berth__Supervisor__V1__Container *)message, typed->user);
}

int container_store_list(struct metadata *metadata, const char *namespace,
                         const char *const *filters, size_t filter_count,
                         container_store_visit visit, void *user, struct berr *err)
{
    struct container_visit typed = {visit, user};

    return record_list(metadata, METADATA_CONTAINERS, namespace,
                       &berth__supervisor__v1__container__descriptor, filters, filter_count, lookup,
                       visit_container, &typed, err);
}

/* Stores a copy of container with the given timestamps. */
static int put(struct metadata_txn *txn, const char *namespace,
               const Berth__Supervisor__V1__Container *container,
               Berth__Supervisor__V1__Timestamp *created, Berth__Supervisor__V1__Timestamp *updated,
               Berth__Supervisor__V1__Container **out, struct berr *err)
{
    Berth__Supervisor__V1__Container copy = *container;
    Berth__Supervisor__V1__Runtime runtime = BERTH__SUPERVISOR__V1__RUNTIME__INIT;
    int rc;

    copy.created_at = created;
    copy.updated_at = updated;
    if (!copy.runtime || !copy.runtime->name || !*copy.runtime->name) {
        runtime.name = (char *)"berth-runtime";
        if (copy.runtime) {
            runtime.n_options = copy.runtime->n_options;
            runtime.options = copy.runtime->options;
        }
        copy.runtime = &runtime;
    }
    if (!copy.snapshotter || !*copy.snapshotter)
        copy.snapshotter = (char *)"overlayfs";
    if ((rc = record_put(txn, METADATA_CONTAINERS, namespace, container->id, &copy.base, err)))
        return rc;
    if (out)
        return record_copy(&copy.base, (ProtobufCMessage **)out, err);
    return 0;
}

int container_store_create(struct metadata *metadata, const char *namespace,
                           const Berth__Supervisor__V1__Container *container,
                           Berth__Supervisor__V1__Container **out, struct berr *err)
{
    Berth__Supervisor__V1__Timestamp now = BERTH__SUPERVISOR__V1__TIMESTAMP__INIT;
    struct metadata_value existing;
    struct metadata_txn *txn;
    size_t i;
    int rc;

    if (!container)
        return berr_set(err, BERR_INVALID, "create container: no container given");
    if ((rc = container_id_check(container->id, err)) ||
        (rc = check_spec(&container->spec, container->id, err)))
        return rc;
    for (i = 0; i < container->n_labels; i++)
        if ((rc = label_validate(container->labels[i]->key, container->labels[i]->value, err)))
            return rc;
    if ((rc = metadata_begin(metadata, true, &txn, err)))
        return rc;
    if (metadata_get(txn, METADATA_CONTAINERS, namespace, container->id, &existing, NULL) == 0) {
        metadata_abort(txn);
        return berr_set(err, BERR_EXISTS, "container %s already exists", container->id);
    }
    record_now(&now);
    if ((rc = put(txn, namespace, container, &now, &now, out, err))) {
        metadata_abort(txn);
        return rc;
    }
    rc = metadata_commit(txn, err);
    if (rc && out && *out) {
        berth__supervisor__v1__container__free_unpacked(*out, NULL);
        *out = NULL;
    }
    return rc;
}

int container_store_update(struct metadata *metadata, const char *namespace,
                           const Berth__Supervisor__V1__Container *container,
                           const char *const *mask, size_t mask_count,
                           Berth__Supervisor__V1__Container **out, struct berr *err)
{
    Berth__Supervisor__V1__Timestamp now = BERTH__SUPERVISOR__V1__TIMESTAMP__INIT;
    Berth__Supervisor__V1__Container *current = NULL, updated;
    struct label_set labels = {0};
    ProtobufCMessage **entries = NULL;
    struct metadata_txn *txn = NULL;
    size_t i;
    int rc;

    if (!container)
        return berr_set(err, BERR_INVALID, "update container: no container given");
    if ((rc = container_id_check(container->id, err)) ||
        (rc = metadata_begin(metadata, true, &txn, err)))
        return rc;
    rc = record_get(txn, METADATA_CONTAINERS, namespace, container->id,
                    &berth__supervisor__v1__container__descriptor, (ProtobufCMessage **)&current,
                    err);
    if (rc == BERR_NOT_FOUND)
        rc = berr_set(err, BERR_NOT_FOUND, "container %s not found", container->id);
    if (rc)
        goto done;
    updated = *current;
    if ((rc = record_labels_add(&labels, (ProtobufCMessage *const *)current->labels,
                                current->n_labels, err)))
        goto done;
    for (i = 0; i < (mask_count ? mask_count : 2) && rc == 0; i++) {
        const char *path = mask_count ? mask[i] : (i == 0 ? "labels" : "spec");
        if (strcmp(path, "labels") == 0) {
            label_set_clear(&labels);
            rc = record_labels_add(&labels, (ProtobufCMessage *const *)container->labels,
                                   container->n_labels, err);
        } else if (strncmp(path, "labels.", 7) == 0 && path[7]) {
            const char *value = record_label_get((ProtobufCMessage *const *)container->labels,
                                                 container->n_labels, path + 7);
            if (value)
                rc = label_set_put(&labels, path + 7, value, err);
            else
                label_set_remove(&labels, path + 7);
        } else if (strcmp(path, "spec") == 0) {
            if (container->spec.len && (rc = check_spec(&container->spec, container->id, err)) == 0)
                updated.spec = container->spec;
        } else if (strcmp(path, "image") == 0) {
            updated.image = container->image;
        } else if (strcmp(path, "snapshot_key") == 0) {
            updated.snapshot_key = container->snapshot_key;
        } else if (strcmp(path, "snapshotter") == 0) {
            updated.snapshotter = container->snapshotter;
        } else if (strcmp(path, "runtime") == 0) {
            updated.runtime = container->runtime;
        } else {
            rc = berr_set(err, BERR_INVALID, "update container %s: cannot update field %s",
                          container->id, path);
        }
    }
    if (rc)
        goto done;
    if ((rc = record_labels_build(
             &labels, &berth__supervisor__v1__container__labels_entry__descriptor, &entries, err)))
        goto done;
    updated.labels = (Berth__Supervisor__V1__Container__LabelsEntry **)entries;
    updated.n_labels = labels.count;
    record_now(&now);
    if ((rc = put(txn, namespace, &updated, current->created_at, &now, out, err)))
        goto done;
    rc = metadata_commit(txn, err);
    txn = NULL;
done:
    metadata_abort(txn);
    if (entries)
        record_labels_free(entries, labels.count);
    if (current)
        berth__supervisor__v1__container__free_unpacked(current, NULL);
    label_set_clear(&labels);
    return rc;
}

int container_store_delete(struct metadata *metadata, const char *namespace, const char *id,
                           struct berr *err)
{
    struct metadata_value task;
    struct metadata_txn *txn;
    int rc;

    if ((rc = container_id_check(id, err)) || (rc = metadata_begin(metadata, true, &txn, err)))
        return rc;
    if (metadata_get(txn, METADATA_TASKS, namespace, id, &task, NULL) == 0) {
        metadata_abort(txn);
        return berr_set(err, BERR_CONFLICT, "container %s has a task: delete the task first", id);
    }
    rc = metadata_delete(txn, METADATA_CONTAINERS, namespace, id, err);
    if (rc == BERR_NOT_FOUND)
        rc = berr_set(err, BERR_NOT_FOUND, "container %s not found", id);
    if (rc) {
        metadata_abort(txn);
        return rc;
    }
    return metadata_commit(txn, err);
}
