/*
 * snapshot_record: see snapshot_record.h. How snapshots live in LMDB, kept
 * apart from what is done with them (snapshots.c).
 *
 * Records in METADATA_SNAPSHOTS:
 *   NAMESPACE / KEY     a snapshot: a fixed header (magic, directory id)
 *                       followed by a packed proto SnapshotInfo, the API's
 *                       own type (name, parent, kind, labels, times);
 *   "" / next-id        the next directory id (uint64);
 *   "" / dir/ID         a directory: its reference count, its usage
 *                       (measured at commit) and the chain ID it verifiably
 *                       holds ("" if none);
 *   "" / chain/CHAINID  the directory id holding that chain ID's verified
 *                       content, for other namespaces to share.
 * The empty namespace cannot be a client's (metadata_namespace_valid), so
 * the global records never show in a namespace's listing. Integers are in
 * host byte order: the LMDB file is not portable across byte orders anyway.
 */
#include "snapshot_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/snapshots.pb-c.h"

#define RECORD_MAGIC 0x314e5342u /* "BSN1" */

struct record_header {
    uint32_t magic;
    uint32_t flags; /* none yet */
    uint64_t id;
};

static int encode_record(const struct snapshot_record *record, void **data_out, size_t *size_out,
                         struct berr *err)
{
    Berth__Supervisor__V1__SnapshotInfo message = BERTH__SUPERVISOR__V1__SNAPSHOT_INFO__INIT;
    Berth__Supervisor__V1__Timestamp created = BERTH__SUPERVISOR__V1__TIMESTAMP__INIT;
    Berth__Supervisor__V1__Timestamp updated = BERTH__SUPERVISOR__V1__TIMESTAMP__INIT;
    Berth__Supervisor__V1__SnapshotInfo__LabelsEntry *entries = NULL, **pointers = NULL;
    const struct snapshot_info *info = &record->info;
    struct record_header header = {RECORD_MAGIC, 0, record->id};
    size_t packed, i;
    unsigned char *data;

    if (info->label_count) {
        entries = calloc(info->label_count, sizeof(*entries));
        pointers = calloc(info->label_count, sizeof(*pointers));
        if (!entries || !pointers) {
            free(entries);
            free(pointers);
            return berr_set(err, BERR_NOMEM, "snapshot %s: out of memory", info->name);
        }
        for (i = 0; i < info->label_count; i++) {
            berth__supervisor__v1__snapshot_info__labels_entry__init(&entries[i]);
            entries[i].key = info->labels[i].key;
            entries[i].value = info->labels[i].value;
            pointers[i] = &entries[i];
        }
    }
    message.name = info->name;
    message.parent = info->parent;
    message.kind = (Berth__Supervisor__V1__SnapshotKind)info->kind;
    message.n_labels = info->label_count;
    message.labels = pointers;
    created.seconds = info->created_at.tv_sec;
    created.nanos = (int32_t)info->created_at.tv_nsec;
    updated.seconds = info->updated_at.tv_sec;
    updated.nanos = (int32_t)info->updated_at.tv_nsec;
    message.created_at = &created;
    message.updated_at = &updated;

    packed = berth__supervisor__v1__snapshot_info__get_packed_size(&message);
    data = malloc(sizeof(header) + packed);
    if (data) {
        memcpy(data, &header, sizeof(header));
        berth__supervisor__v1__snapshot_info__pack(&message, data + sizeof(header));
    }
    free(entries);
    free(pointers);
    if (!data)
        return berr_set(err, BERR_NOMEM, "snapshot %s: out of memory", info->name);
    *data_out = data;
    *size_out = sizeof(header) + packed;
    return 0;
}

int snapshot_record_decode(const char *key, const void *data, size_t size,
                           struct snapshot_record *out, struct berr *err)
{
    Berth__Supervisor__V1__SnapshotInfo *message;
    struct record_header header;
    size_t i;

    memset(out, 0, sizeof(*out));
    if (size < sizeof(header))
        return berr_set(err, BERR_INTERNAL, "snapshot %s: record too short", key);
    memcpy(&header, data, sizeof(header));
    if (header.magic != RECORD_MAGIC)
        return berr_set(err, BERR_INTERNAL, "snapshot %s: unknown record format", key);
    message = berth__supervisor__v1__snapshot_info__unpack(NULL, size - sizeof(header),
                                                           (const uint8_t *)data + sizeof(header));
    if (!message)
        return berr_set(err, BERR_INTERNAL, "snapshot %s: corrupt record", key);
    out->id = header.id;
    out->info.name = strdup(message->name);
    out->info.parent = strdup(message->parent);
    out->info.kind = (enum snapshot_kind)message->kind;
    out->info.labels = calloc(message->n_labels ? message->n_labels : 1, sizeof(*out->info.labels));
    if (!out->info.name || !out->info.parent || !out->info.labels)
        goto nomem;
    for (i = 0; i < message->n_labels; i++) {
        out->info.labels[i].key = strdup(message->labels[i]->key);
        out->info.labels[i].value = strdup(message->labels[i]->value);
        out->info.label_count++;
        if (!out->info.labels[i].key || !out->info.labels[i].value)
            goto nomem;
    }
    if (message->created_at) {
        out->info.created_at.tv_sec = message->created_at->seconds;
        out->info.created_at.tv_nsec = message->created_at->nanos;
    }
    if (message->updated_at) {
        out->info.updated_at.tv_sec = message->updated_at->seconds;
        out->info.updated_at.tv_nsec = message->updated_at->nanos;
    }
    berth__supervisor__v1__snapshot_info__free_unpacked(message, NULL);
    return 0;
nomem:
    berth__supervisor__v1__snapshot_info__free_unpacked(message, NULL);
    snapshot_info_free(&out->info);
    return berr_set(err, BERR_NOMEM, "snapshot %s: out of memory", key);
}

void snapshot_record_free(struct snapshot_record *record)
{
    snapshot_info_free(&record->info);
}

int snapshot_record_load(struct metadata_txn *txn, const char *namespace, const char *key,
                         struct snapshot_record *out, struct berr *err)
{
    struct metadata_value value;
    int rc = metadata_get(txn, METADATA_SNAPSHOTS, namespace, key, &value, err);

    if (rc == BERR_NOT_FOUND)
        return berr_set(err, BERR_NOT_FOUND, "snapshot %s not found in namespace %s", key,
                        namespace);
    if (rc)
        return rc;
    return snapshot_record_decode(key, value.data, value.size, out, err);
}

bool snapshot_record_exists(struct metadata_txn *txn, const char *namespace, const char *key)
{
    struct metadata_value value;

    return metadata_get(txn, METADATA_SNAPSHOTS, namespace, key, &value, NULL) == 0;
}

int snapshot_record_store(struct metadata_txn *txn, const char *namespace,
                          const struct snapshot_record *record, struct berr *err)
{
    void *data = NULL;
    size_t size = 0;
    int rc = encode_record(record, &data, &size, err);

    if (rc)
        return rc;
    rc = metadata_put(txn, METADATA_SNAPSHOTS, namespace, record->info.name, data, size, err);
    free(data);
    return rc;
}

/* ---- directory and chain records ---- */

void snapshot_directory_key(char *out, size_t size, uint64_t id)
{
    snprintf(out, size, "dir/%llu", (unsigned long long)id);
}

void snapshot_chain_key(char *out, size_t size, const char *chain_id)
{
    snprintf(out, size, "chain/%s", chain_id);
}

/* *chain_out (may be NULL) is malloc'ed. */
int snapshot_directory_load(struct metadata_txn *txn, uint64_t id,
                            struct snapshot_directory_record *out, char **chain_out,
                            struct berr *err)
{
    struct metadata_value value;
    char key[64];
    int rc;

    snapshot_directory_key(key, sizeof(key), id);
    rc = metadata_get(txn, METADATA_SNAPSHOTS, SNAPSHOT_GLOBAL_NAMESPACE, key, &value, err);
    if (rc)
        return rc;
    if (value.size < sizeof(*out))
        return berr_set(err, BERR_INTERNAL, "snapshot directory %llu: record too short",
                        (unsigned long long)id);
    memcpy(out, value.data, sizeof(*out));
    if (chain_out) {
        *chain_out = strndup((const char *)value.data + sizeof(*out), value.size - sizeof(*out));
        if (!*chain_out)
            return berr_set(err, BERR_NOMEM, "out of memory");
    }
    return 0;
}

int snapshot_directory_store(struct metadata_txn *txn, uint64_t id,
                             const struct snapshot_directory_record *record, const char *chain,
                             struct berr *err)
{
    size_t chain_length = chain ? strlen(chain) : 0;
    unsigned char *data = malloc(sizeof(*record) + chain_length + 1);
    char key[64];
    int rc;

    if (!data)
        return berr_set(err, BERR_NOMEM, "out of memory");
    memcpy(data, record, sizeof(*record));
    if (chain_length)
        memcpy(data + sizeof(*record), chain, chain_length);
    snapshot_directory_key(key, sizeof(key), id);
    rc = metadata_put(txn, METADATA_SNAPSHOTS, SNAPSHOT_GLOBAL_NAMESPACE, key, data,
                      sizeof(*record) + chain_length, err);
    free(data);
    return rc;
}

int snapshot_chain_load(struct metadata_txn *txn, const char *chain_id, uint64_t *id_out,
                        struct berr *err)
{
    struct metadata_value value;
    char key[128];
    int rc;

    snapshot_chain_key(key, sizeof(key), chain_id);
    rc = metadata_get(txn, METADATA_SNAPSHOTS, SNAPSHOT_GLOBAL_NAMESPACE, key, &value, err);
    if (rc)
        return rc;
    if (value.size != sizeof(*id_out))
        return berr_set(err, BERR_INTERNAL, "snapshot chain %s: bad record", chain_id);
    memcpy(id_out, value.data, sizeof(*id_out));
    return 0;
}
