/*
 * service_util: the few steps every service_*.c handler repeats, so the
 * handlers stay a page each and agree on their errors: read the one
 * request, find the namespace, check required fields, turn times and labels
 * into the API's types, and send lists in messages of bounded size.
 */
#ifndef BERTH_SUPERVISOR_SERVICE_UTIL_H
#define BERTH_SUPERVISOR_SERVICE_UTIL_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <time.h>

#include "berr.h"
#include "berth/supervisor/v1/types.pb-c.h"
#include "grpc_server.h"
#include "labels.h"
#include "supervisor.h"

/* A streamed list goes out in messages of at most this many bytes (well
 * under the 16 MiB gRPC limit) or SERVICE_BATCH_ITEMS items. */
#define SERVICE_BATCH_BYTES (1u << 20)
#define SERVICE_BATCH_ITEMS 256

/* The one request of a unary or server-streaming call; none is BERR_INVALID.
 * Free it with protobuf_c_message_free_unpacked. */
int service_request(struct rpc_call *call, ProtobufCMessage **request, struct berr *err);

/* The request first (a malformed one changes nothing), then the call's
 * namespace (supervisor_namespace). On failure *request is NULL. */
int service_begin(struct supervisor *supervisor, struct rpc_call *call, const char **namespace,
                  ProtobufCMessage **request, struct berr *err);

/* BERR_INVALID "FIELD is required" for a NULL or empty string. */
int service_required(const char *value, const char *field, struct berr *err);

void service_timestamp(Berth__Supervisor__V1__Timestamp *out, const struct timespec *time);

/* A map<string,string> field as borrowed struct label pairs (pointing into
 * set, which owns copies), validated (empty keys, oversized labels). */
int service_labels(ProtobufCMessage *const *entries, size_t count, struct label_set *set,
                   struct label **labels_out, struct berr *err);

/* After a deletion (Images.Delete, Leases.Delete): sync runs a collection
 * now (its failure is the call's), otherwise one is scheduled
 * SERVICE_GC_DELAY_MS from now, so a burst of deletions costs one run. */
#define SERVICE_GC_DELAY_MS 1000
int service_collect_after_delete(struct supervisor *supervisor, bool sync, struct berr *err);

/* Sends items[0..count) as a stream: send_slice builds one response from a
 * slice of them and sends it; slices stay under SERVICE_BATCH_BYTES (packed)
 * and SERVICE_BATCH_ITEMS. Nothing is sent for no items. */
typedef int (*service_send_slice)(struct rpc_call *call, ProtobufCMessage **items, size_t count,
                                  struct berr *err);
int service_send_batches(struct rpc_call *call, ProtobufCMessage **items, size_t count,
                         service_send_slice send_slice, struct berr *err);

/* Frees count heap messages and the array. */
void service_messages_free(ProtobufCMessage **items, size_t count);

#endif
