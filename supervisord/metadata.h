/*
 * metadata: berth-supervisord's records (namespaces, content, images,
 * snapshots, containers, leases) in one LMDB file, ROOT/meta.lmdb.
 *
 * Why LMDB: every change is a transaction that is on disk when committed,
 * and a crash at any point leaves the last committed state (containerd's
 * bbolt model). Reads run concurrently with the single writer and see a
 * consistent snapshot.
 *
 * Each table maps "NAMESPACE/KEY" to a value, usually a packed protobuf
 * message from proto/ (the same types the gRPC API uses). Namespace names
 * cannot contain '/', so a namespace's records are one key prefix.
 */
#ifndef BERTH_SUPERVISOR_METADATA_H
#define BERTH_SUPERVISOR_METADATA_H

#include <stdbool.h>
#include <stddef.h>

#include "berr.h"

enum metadata_table {
    METADATA_NAMESPACES,      /* "" / name → Namespace */
    METADATA_CONTENT,         /* ns / digest → ContentInfo (labels; the blob is in the store) */
    METADATA_IMAGES,          /* ns / name → Image */
    METADATA_CONTAINERS,      /* ns / id → Container */
    METADATA_SNAPSHOTS,       /* ns / key → the snapshotter's record; "" / its own */
    METADATA_LEASES,          /* ns / id → Lease */
    METADATA_LEASE_RESOURCES, /* ns / lease id "/" type "/" resource id → "" */
    METADATA_TASKS,           /* ns / container id → the task's record */
    METADATA_TABLE_COUNT,
};

struct metadata;
struct metadata_txn;

struct metadata_value {
    const void *data; /* valid until the transaction ends */
    size_t size;
};

/* Opens (creating) the database file at path. */
int metadata_open(const char *path, struct metadata **out, struct berr *err);
void metadata_close(struct metadata *metadata);

/* Read transactions may run from many threads at once; write transactions
 * take turns. Every transaction ends with commit or abort. */
int metadata_begin(struct metadata *metadata, bool writable, struct metadata_txn **out,
                   struct berr *err);
int metadata_commit(struct metadata_txn *txn, struct berr *err);
void metadata_abort(struct metadata_txn *txn);

/* BERR_NOT_FOUND when absent. */
int metadata_get(struct metadata_txn *txn, enum metadata_table table, const char *namespace,
                 const char *key, struct metadata_value *out, struct berr *err);
int metadata_put(struct metadata_txn *txn, enum metadata_table table, const char *namespace,
                 const char *key, const void *data, size_t size, struct berr *err);
/* BERR_NOT_FOUND when absent. */
int metadata_delete(struct metadata_txn *txn, enum metadata_table table, const char *namespace,
                    const char *key, struct berr *err);

/* Calls visit for every record of namespace in key order (keys without the
 * namespace prefix); a non-zero return from visit stops the walk and is
 * returned. prefix (may be NULL) narrows the keys. */
typedef int (*metadata_visit)(const char *key, const void *data, size_t size, void *user);
int metadata_list(struct metadata_txn *txn, enum metadata_table table, const char *namespace,
                  const char *prefix, metadata_visit visit, void *user, struct berr *err);

/* Like metadata_list over every namespace: visit gets "NAMESPACE/KEY". */
int metadata_list_all(struct metadata_txn *txn, enum metadata_table table, metadata_visit visit,
                      void *user, struct berr *err);

/* True for a valid namespace name: [a-z0-9] then [a-z0-9._-], at most 76 bytes. */
bool metadata_namespace_valid(const char *name);

#endif
