/*
 * service_leases: the Leases service (leases.proto) over leases.h, and
 * CollectGarbage over gc.h.
 *
 * Why it is shaped so: leases.h already keeps leases and their resources
 * as records, one call per RPC, so the handlers translate and check the one
 * thing the store leaves open: a resource type must be "content" or
 * "snapshots/overlayfs", the only kinds of resources the collector knows
 * (a lease on anything else would protect nothing, silently). Deleting a
 * lease is what lets the collector take what it held: Delete runs a
 * collection before answering when asked to ("sync"), and schedules one
 * otherwise. CollectGarbage runs one now and reports what went.
 */
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/leases.pb-c.h"
#include "berth/supervisor/v1/leases.pb-rpc.h"
#include "leases.h"
#include "record.h"
#include "service_util.h"
#include "snapshot_gc.h"

static int send_empty(struct rpc_call *call, struct berr *err)
{
    Berth__Supervisor__V1__Empty response = BERTH__SUPERVISOR__V1__EMPTY__INIT;

    return rpc_call_send(call, &response.base, err);
}

/* ---- Create, Delete, List ---- */

static int create(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__CreateLeaseRequest *request;
    Berth__Supervisor__V1__Lease *lease = NULL;
    struct label_set set = {0};
    struct label *labels = NULL;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = service_labels((ProtobufCMessage *const *)request->labels, request->n_labels, &set,
                             &labels, err)) == 0 &&
        (rc = leases_create(supervisor->metadata, namespace, request->id, labels, set.count,
                            request->expires_in_seconds, &lease, err)) == 0)
        rc = rpc_call_send(call, &lease->base, err);
    if (lease)
        berth__supervisor__v1__lease__free_unpacked(lease, NULL);
    free(labels);
    label_set_clear(&set);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int delete (struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__DeleteLeaseRequest *request;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = leases_delete(supervisor->metadata, namespace, request->id, err)) == 0 &&
        (rc = service_collect_after_delete(supervisor, request->sync, err)) == 0)
        rc = send_empty(call, err);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

struct lease_list {
    size_t count;
    ProtobufCMessage **items;
    struct berr *err;
};

static int collect_lease(const Berth__Supervisor__V1__Lease *lease, void *user)
{
    struct lease_list *list = user;
    ProtobufCMessage **grown = realloc(list->items, (list->count + 1) * sizeof(*grown));
    int rc;

    if (!grown)
        return berr_set(list->err, BERR_NOMEM, "leases: out of memory");
    list->items = grown;
    if ((rc = record_copy(&lease->base, &list->items[list->count], list->err)))
        return rc;
    list->count++;
    return 0;
}

static int list(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__ListLeasesResponse response =
        BERTH__SUPERVISOR__V1__LIST_LEASES_RESPONSE__INIT;
    Berth__Supervisor__V1__ListLeasesRequest *request;
    struct lease_list found = {0, NULL, err};
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    rc = leases_list(supervisor->metadata, namespace, (const char *const *)request->filters,
                     request->n_filters, collect_lease, &found, err);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    if (rc == 0) {
        response.n_leases = found.count;
        response.leases = (Berth__Supervisor__V1__Lease **)found.items;
        rc = rpc_call_send(call, &response.base, err);
    }
    service_messages_free(found.items, found.count);
    return rc;
}

/* ---- resources ---- */

static int check_resource(const Berth__Supervisor__V1__LeaseResource *resource, struct berr *err)
{
    if (!resource || !resource->id[0] || !resource->type[0])
        return berr_set(err, BERR_INVALID, "resource (id and type) is required");
    if (strcmp(resource->type, LEASE_RESOURCE_CONTENT) != 0 &&
        strcmp(resource->type, SNAPSHOT_GC_LEASE) != 0)
        return berr_set(err, BERR_INVALID,
                        "resource %.100s: type %.64s is neither \"" LEASE_RESOURCE_CONTENT
                        "\" nor \"" SNAPSHOT_GC_LEASE "\"",
                        resource->id, resource->type);
    return 0;
}

static int add_resource(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__AddResourceRequest *request;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = check_resource(request->resource, err)) == 0 &&
        (rc = leases_add_resource(supervisor->metadata, namespace, request->id,
                                  request->resource->type, request->resource->id, err)) == 0)
        rc = send_empty(call, err);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int delete_resource(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__DeleteResourceRequest *request;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = check_resource(request->resource, err)) == 0 &&
        (rc = leases_delete_resource(supervisor->metadata, namespace, request->id,
                                     request->resource->type, request->resource->id, err)) == 0)
        rc = send_empty(call, err);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int collect_resource(const char *type, const char *resource, void *user)
{
    struct lease_list *list = user;
    Berth__Supervisor__V1__LeaseResource message = BERTH__SUPERVISOR__V1__LEASE_RESOURCE__INIT;
    ProtobufCMessage **grown = realloc(list->items, (list->count + 1) * sizeof(*grown));
    int rc;

    if (!grown)
        return berr_set(list->err, BERR_NOMEM, "leases: out of memory");
    list->items = grown;
    message.type = (char *)type;
    message.id = (char *)resource;
    if ((rc = record_copy(&message.base, &list->items[list->count], list->err)))
        return rc;
    list->count++;
    return 0;
}

static int list_resources(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__ListResourcesResponse response =
        BERTH__SUPERVISOR__V1__LIST_RESOURCES_RESPONSE__INIT;
    Berth__Supervisor__V1__ListResourcesRequest *request;
    struct lease_list found = {0, NULL, err};
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    rc = leases_list_resources(supervisor->metadata, namespace, request->id, collect_resource,
                               &found, err);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    if (rc == 0) {
        response.n_resources = found.count;
        response.resources = (Berth__Supervisor__V1__LeaseResource **)found.items;
        rc = rpc_call_send(call, &response.base, err);
    }
    service_messages_free(found.items, found.count);
    return rc;
}

/* ---- CollectGarbage ---- */

static int collect_garbage(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__CollectGarbageResponse response =
        BERTH__SUPERVISOR__V1__COLLECT_GARBAGE_RESPONSE__INIT;
    ProtobufCMessage *request;
    struct gc_result result;
    int rc;

    /* Every namespace at once: the call's own does not matter. */
    if ((rc = service_request(call, &request, err)))
        return rc;
    protobuf_c_message_free_unpacked(request, NULL);
    if ((rc = gc_collect(supervisor->gc, &result, err)))
        return rc;
    response.removed_content = result.removed_content;
    response.removed_snapshots = result.removed_snapshots;
    response.freed_bytes = result.freed_bytes;
    return rpc_call_send(call, &response.base, err);
}

int service_leases_register(struct rpc_server *server, struct supervisor *supervisor,
                            struct berr *err)
{
    static const struct {
        int method;
        rpc_handler handler;
    } handlers[] = {
        {BERTH_SUPERVISOR_V1_LEASES_CREATE, create},
        {BERTH_SUPERVISOR_V1_LEASES_DELETE, delete},
        {BERTH_SUPERVISOR_V1_LEASES_LIST, list},
        {BERTH_SUPERVISOR_V1_LEASES_ADD_RESOURCE, add_resource},
        {BERTH_SUPERVISOR_V1_LEASES_DELETE_RESOURCE, delete_resource},
        {BERTH_SUPERVISOR_V1_LEASES_LIST_RESOURCES, list_resources},
        {BERTH_SUPERVISOR_V1_LEASES_COLLECT_GARBAGE, collect_garbage},
    };
    size_t i;
    int rc;

    for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
        if ((rc = rpc_server_register(server,
                                      &berth_supervisor_v1_leases_methods[handlers[i].method],
                                      handlers[i].handler, supervisor, err)))
            return rc;
    return 0;
}
