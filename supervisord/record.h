/*
 * record: the glue between the stores and the generated protobuf types.
 *
 * Why: the stores keep their records in LMDB as packed protobuf messages of
 * the API's own types (ContentInfo, Image, Lease), so a gRPC handler returns
 * what it reads without translation. Packing, unpacking, timestamps and the
 * labels maps are the same few lines in every store; they live here once.
 * Labels maps are reached through protobuf-c's descriptors, so one function
 * serves the map fields of every generated type.
 */
#ifndef BERTH_SUPERVISOR_RECORD_H
#define BERTH_SUPERVISOR_RECORD_H

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

#include "berr.h"
#include "berth/supervisor/v1/types.pb-c.h"
#include "filter.h"
#include "labels.h"
#include "metadata.h"

/* Packs message and stores it under namespace/key. */
int record_put(struct metadata_txn *txn, enum metadata_table table, const char *namespace,
               const char *key, const ProtobufCMessage *message, struct berr *err);

/* Reads and unpacks; BERR_NOT_FOUND when absent. Free with protobuf_c_message_free_unpacked. */
int record_get(struct metadata_txn *txn, enum metadata_table table, const char *namespace,
               const char *key, const ProtobufCMessageDescriptor *descriptor,
               ProtobufCMessage **out, struct berr *err);

/* Unpacks a value found while listing; BERR_INTERNAL naming key when corrupt. */
int record_unpack(const ProtobufCMessageDescriptor *descriptor, const void *data, size_t size,
                  const char *key, ProtobufCMessage **out, struct berr *err);

/* Calls visit with every record of namespace in table that filters (the
 * List grammar, fields read through lookup) match, unpacked as descriptor's
 * type and freed after the call. A non-zero return from visit, or an
 * unpack error, stops the walk and is returned. */
typedef int (*record_visit)(const ProtobufCMessage *message, void *user);
int record_list(struct metadata *metadata, enum metadata_table table, const char *namespace,
                const ProtobufCMessageDescriptor *descriptor, const char *const *filters,
                size_t filter_count, filter_lookup lookup, record_visit visit, void *user,
                struct berr *err);

/* A heap copy of message (pack + unpack): what the stores hand back to callers. */
int record_copy(const ProtobufCMessage *message, ProtobufCMessage **out, struct berr *err);

/* The current time. */
void record_now(Berth__Supervisor__V1__Timestamp *out);

/* Adds every entry of a map<string,string> field (any generated entry type). */
int record_labels_add(struct label_set *set, ProtobufCMessage *const *entries, size_t count,
                      struct berr *err);

/* Map entries of entry_descriptor's type built from set, pointing into its strings;
 * free with record_labels_free (the set must outlive them). */
int record_labels_build(const struct label_set *set,
                        const ProtobufCMessageDescriptor *entry_descriptor, ProtobufCMessage ***out,
                        struct berr *err);
void record_labels_free(ProtobufCMessage **entries, size_t count);

/* The value of key in a map field, or NULL. */
const char *record_label_get(ProtobufCMessage *const *entries, size_t count, const char *key);

#endif
