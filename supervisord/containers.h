/*
 * containers: container records (what to run: the image, the OCI spec, the
 * snapshot holding the root filesystem, the runtime, labels), per
 * namespace, in METADATA_CONTAINERS. Running one is a task (tasks.h).
 */
#ifndef BERTH_SUPERVISOR_CONTAINERS_H
#define BERTH_SUPERVISOR_CONTAINERS_H

#include <stddef.h>

#include "berr.h"
#include "berth/supervisor/v1/containers.pb-c.h"
#include "metadata.h"

/* Results are heap messages: free with berth__supervisor__v1__container__free_unpacked. */
int container_store_get(struct metadata *metadata, const char *namespace, const char *id,
                        Berth__Supervisor__V1__Container **out, struct berr *err);

/* filters: "id==", "image==", "runtime.name==", "labels.KEY==VALUE" (filter.h syntax). */
typedef int (*container_store_visit)(const Berth__Supervisor__V1__Container *container, void *user);
int container_store_list(struct metadata *metadata, const char *namespace,
                         const char *const *filters, size_t filter_count,
                         container_store_visit visit, void *user, struct berr *err);

/* BERR_EXISTS when the id is taken; the spec must be a JSON object. */
int container_store_create(struct metadata *metadata, const char *namespace,
                           const Berth__Supervisor__V1__Container *container,
                           Berth__Supervisor__V1__Container **out, struct berr *err);

/* mask: "labels", "labels.KEY", "spec", "image", "snapshot_key", "snapshotter",
 * "runtime"; empty: labels and spec. */
int container_store_update(struct metadata *metadata, const char *namespace,
                           const Berth__Supervisor__V1__Container *container,
                           const char *const *mask, size_t mask_count,
                           Berth__Supervisor__V1__Container **out, struct berr *err);

/* BERR_CONFLICT while the container has a task. */
int container_store_delete(struct metadata *metadata, const char *namespace, const char *id,
                           struct berr *err);

/* True for an id made of [A-Za-z0-9_.+-], starting with a letter or digit, at most 128. */
int container_id_check(const char *id, struct berr *err);

#endif
