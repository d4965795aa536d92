/*
 * snapshot_record: the LMDB records of the snapshotter (snapshots.c): a
 * snapshot per NAMESPACE/KEY, and in the global namespace "" the
 * directories (reference count, usage, the chain ID held) and, per chain
 * ID, the directory that verifiably holds it. See snapshot_record.c for
 * the layout.
 */
#ifndef BERTH_SUPERVISOR_SNAPSHOT_RECORD_H
#define BERTH_SUPERVISOR_SNAPSHOT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berr.h"
#include "metadata.h"
#include "snapshots.h"

/* The namespace of the global records: no client's (it is not valid). */
#define SNAPSHOT_GLOBAL_NAMESPACE ""

/* A snapshot's record, decoded. */
struct snapshot_record {
    uint64_t id; /* its directory */
    struct snapshot_info info;
};

struct snapshot_directory_record {
    uint64_t references;
    int64_t size; /* -1 until committed */
    int64_t inodes;
    /* stored followed by the chain ID it holds, not NUL-terminated, possibly empty */
};

int snapshot_record_decode(const char *key, const void *data, size_t size,
                           struct snapshot_record *out, struct berr *err);
void snapshot_record_free(struct snapshot_record *record);
/* BERR_NOT_FOUND naming the key and namespace when absent. */
int snapshot_record_load(struct metadata_txn *txn, const char *namespace, const char *key,
                         struct snapshot_record *out, struct berr *err);
bool snapshot_record_exists(struct metadata_txn *txn, const char *namespace, const char *key);
/* Stored under the record's info.name. */
int snapshot_record_store(struct metadata_txn *txn, const char *namespace,
                          const struct snapshot_record *record, struct berr *err);

/* "dir/ID" and "chain/CHAINID", keys in SNAPSHOT_GLOBAL_NAMESPACE. */
void snapshot_directory_key(char *out, size_t size, uint64_t id);
void snapshot_chain_key(char *out, size_t size, const char *chain_id);
/* *chain_out (may be NULL) is malloc'ed. */
int snapshot_directory_load(struct metadata_txn *txn, uint64_t id,
                            struct snapshot_directory_record *out, char **chain_out,
                            struct berr *err);
int snapshot_directory_store(struct metadata_txn *txn, uint64_t id,
                             const struct snapshot_directory_record *record, const char *chain,
                             struct berr *err);
int snapshot_chain_load(struct metadata_txn *txn, const char *chain_id, uint64_t *id_out,
                        struct berr *err);

#endif
