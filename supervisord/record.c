/*
 * record: see record.h.
 */
#include "record.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int record_put(struct metadata_txn *txn, enum metadata_table table, const char *namespace,
               const char *key, const ProtobufCMessage *message, struct berr *err)
{
    size_t size = protobuf_c_message_get_packed_size(message);
    uint8_t *packed = malloc(size ? size : 1);
    int rc;

    if (!packed)
        return berr_set(err, BERR_NOMEM, "%s: out of memory", key);
    protobuf_c_message_pack(message, packed);
    rc = metadata_put(txn, table, namespace, key, packed, size, err);
    free(packed);
    return rc;
}

int record_unpack(const ProtobufCMessageDescriptor *descriptor, const void *data, size_t size,
                  const char *key, ProtobufCMessage **out, struct berr *err)
{
    ProtobufCMessage *message = protobuf_c_message_unpack(descriptor, NULL, size, data);

    if (!message)
        return berr_set(err, BERR_INTERNAL, "record %s: cannot unpack its %s", key,
                        descriptor->short_name);
    *out = message;
    return 0;
}

int record_get(struct metadata_txn *txn, enum metadata_table table, const char *namespace,
               const char *key, const ProtobufCMessageDescriptor *descriptor,
               ProtobufCMessage **out, struct berr *err)
{
    struct metadata_value value;
    int rc = metadata_get(txn, table, namespace, key, &value, err);

    if (rc)
        return rc;
    return record_unpack(descriptor, value.data, value.size, key, out, err);
}

struct list_walk {
    const ProtobufCMessageDescriptor *descriptor;
    const struct filter *filter;
    filter_lookup lookup;
    record_visit visit;
    void *user;
    struct berr *err;
};

static int list_one(const char *key, const void *data, size_t size, void *user)
{
    struct list_walk *walk = user;
    ProtobufCMessage *message = NULL;
    int rc;

    if ((rc = record_unpack(walk->descriptor, data, size, key, &message, walk->err)))
        return rc;
    rc = filter_match(walk->filter, walk->lookup, message) ? walk->visit(message, walk->user) : 0;
    protobuf_c_message_free_unpacked(message, NULL);
    return rc;
}

int record_list(struct metadata *metadata, enum metadata_table table, const char *namespace,
                const ProtobufCMessageDescriptor *descriptor, const char *const *filters,
                size_t filter_count, filter_lookup lookup, record_visit visit, void *user,
                struct berr *err)
{
    struct list_walk walk = {descriptor, NULL, lookup, visit, user, err};
    struct filter *filter = NULL;
    struct metadata_txn *txn;
    int rc;

    if ((rc = filter_parse(filters, filter_count, &filter, err)))
        return rc;
    walk.filter = filter;
    if ((rc = metadata_begin(metadata, false, &txn, err)) == 0) {
        rc = metadata_list(txn, table, namespace, NULL, list_one, &walk, err);
        metadata_abort(txn);
    }
    filter_free(filter);
    return rc;
}

int record_copy(const ProtobufCMessage *message, ProtobufCMessage **out, struct berr *err)
{
    size_t size = protobuf_c_message_get_packed_size(message);
    uint8_t *packed = malloc(size ? size : 1);
    int rc;

    if (!packed)
        return berr_set(err, BERR_NOMEM, "record: out of memory");
    protobuf_c_message_pack(message, packed);
    rc = record_unpack(message->descriptor, packed, size, "copy", out, err);
    free(packed);
    return rc;
}

void record_now(Berth__Supervisor__V1__Timestamp *out)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    out->seconds = now.tv_sec;
    out->nanos = (int32_t)now.tv_nsec;
}

static char **entry_string(ProtobufCMessage *entry, const char *name)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(entry->descriptor, name);

    return field ? (char **)((char *)entry + field->offset) : NULL;
}

const char *record_label_get(ProtobufCMessage *const *entries, size_t count, const char *key)
{
    size_t i;

    for (i = 0; i < count; i++) {
        char **entry_key = entry_string(entries[i], "key");
        char **entry_value = entry_string(entries[i], "value");
        if (entry_key && entry_value && *entry_key && strcmp(*entry_key, key) == 0)
            return *entry_value ? *entry_value : "";
    }
    return NULL;
}

int record_labels_add(struct label_set *set, ProtobufCMessage *const *entries, size_t count,
                      struct berr *err)
{
    size_t i;
    int rc;

    for (i = 0; i < count; i++) {
        char **key = entry_string(entries[i], "key");
        char **value = entry_string(entries[i], "value");
        if (!key || !value)
            return berr_set(err, BERR_INTERNAL, "labels: %s is not a map entry",
                            entries[i]->descriptor->short_name);
        if ((rc = label_set_put(set, *key ? *key : "", *value ? *value : "", err)))
            return rc;
    }
    return 0;
}

void record_labels_free(ProtobufCMessage **entries, size_t count)
{
    size_t i;

    if (!entries)
        return;
    for (i = 0; i < count; i++)
        free(entries[i]);
    free(entries);
}

int record_labels_build(const struct label_set *set,
                        const ProtobufCMessageDescriptor *entry_descriptor, ProtobufCMessage ***out,
                        struct berr *err)
{
    ProtobufCMessage **entries;
    size_t i;

    *out = NULL;
    if (set->count == 0)
        return 0;
    entries = calloc(set->count, sizeof(*entries));
    if (!entries)
        return berr_set(err, BERR_NOMEM, "labels: out of memory");
    for (i = 0; i < set->count; i++) {
        char **key, **value;
        entries[i] = calloc(1, entry_descriptor->sizeof_message);
        if (!entries[i]) {
            record_labels_free(entries, set->count);
            return berr_set(err, BERR_NOMEM, "labels: out of memory");
        }
        protobuf_c_message_init(entry_descriptor, entries[i]);
        key = entry_string(entries[i], "key");
        value = entry_string(entries[i], "value");
        if (!key || !value) {
            record_labels_free(entries, set->count);
            return berr_set(err, BERR_INTERNAL, "labels: %s is not a map entry",
                            entry_descriptor->short_name);
        }
        *key = set->keys[i];
        *value = set->values[i];
    }
    *out = entries;
    return 0;
}
