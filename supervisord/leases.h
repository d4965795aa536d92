/*
 * leases: protect content and snapshots that nothing references yet.
 *
 * Why: a pull or an import writes blobs one by one and names the image only
 * at the end; in between, nothing references those blobs and the garbage
 * collector would take them. The writer first creates a lease, adds every
 * resource to it as it is written (in the same transaction as the write, so
 * there is no instant where the resource is unprotected), and deletes the
 * lease when the image record holds everything. A lease can expire, so a
 * client that dies mid-pull does not pin its blobs forever: the collector
 * deletes expired leases.
 *
 * Records: METADATA_LEASES "NS/ID" → Lease (created_at, labels,
 * expires_in_seconds); METADATA_LEASE_RESOURCES "NS/ID/TYPE/RESOURCE" → "".
 * TYPE is "content" (RESOURCE a digest) or "snapshots/NAME" (a snapshot key
 * of snapshotter NAME). Lease ids have no '/', so a lease's resources are
 * one key prefix.
 */
#ifndef BERTH_SUPERVISOR_LEASES_H
#define BERTH_SUPERVISOR_LEASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "berr.h"
#include "berth/supervisor/v1/leases.pb-c.h"
#include "labels.h"
#include "metadata.h"

#define LEASE_RESOURCE_CONTENT "content"
#define LEASE_ID_MAX           128

/* Creates a lease; id NULL or "" makes one up. BERR_EXISTS when taken.
 * expires_in_seconds 0: never. *out (may be NULL): the record, free with
 * berth__supervisor__v1__lease__free_unpacked. */
int leases_create(struct metadata *metadata, const char *namespace, const char *id,
                  const struct label *labels, size_t label_count, int64_t expires_in_seconds,
                  Berth__Supervisor__V1__Lease **out, struct berr *err);

/* BERR_NOT_FOUND when absent. */
int leases_get(struct metadata *metadata, const char *namespace, const char *id,
               Berth__Supervisor__V1__Lease **out, struct berr *err);

/* Deletes the lease and its resources (not the resources themselves: the
 * collector decides what goes). BERR_NOT_FOUND when absent. */
int leases_delete(struct metadata *metadata, const char *namespace, const char *id,
                  struct berr *err);

/* Visits the leases matching filters ("id==X", "labels.KEY==VALUE"), expired
 * ones included until the collector removes them. A non-zero return from
 * visit stops the walk and is returned. */
typedef int (*leases_visit)(const Berth__Supervisor__V1__Lease *lease, void *user);
int leases_list(struct metadata *metadata, const char *namespace, const char *const *filters,
                size_t filter_count, leases_visit visit, void *user, struct berr *err);

/* BERR_NOT_FOUND when the lease does not exist; BERR_INVALID for a bad
 * type or resource. Adding twice is not an error. */
int leases_add_resource(struct metadata *metadata, const char *namespace, const char *id,
                        const char *type, const char *resource, struct berr *err);
/* BERR_NOT_FOUND when the lease or the resource is absent. */
int leases_delete_resource(struct metadata *metadata, const char *namespace, const char *id,
                           const char *type, const char *resource, struct berr *err);

typedef int (*lease_resources_visit)(const char *type, const char *resource, void *user);
int leases_list_resources(struct metadata *metadata, const char *namespace, const char *id,
                          lease_resources_visit visit, void *user, struct berr *err);

/* The same inside a caller's write transaction (the content store adds a
 * blob to the writer's lease in the transaction that commits it). */
int leases_add_resource_txn(struct metadata_txn *txn, const char *namespace, const char *id,
                            const char *type, const char *resource, struct berr *err);

/* True once created_at + expires_in_seconds has passed. */
bool lease_expired(const Berth__Supervisor__V1__Lease *lease, time_t now);

/* Splits a METADATA_LEASE_RESOURCES key (namespace removed) "ID/TYPE/RESOURCE"
 * into malloc'ed parts; BERR_INVALID for a key of another shape. */
int lease_resource_key_parse(const char *key, char **id, char **type, char **resource,
                             struct berr *err);

#endif
