/*
 * service_namespaces: the Namespaces service (namespaces.proto).
 *
 * Why it is shaped so: a namespace is only a record, METADATA_NAMESPACES
 * "" / NAME → Namespace, which supervisor_namespace() also writes the first
 * time a call uses a name. These handlers work on that table alone, so they
 * never look at the call's own "berth-namespace" metadata. Delete checks
 * that every per-namespace table is empty inside the write transaction that
 * removes the record, so nothing created at the same time is orphaned by
 * the check; ingests (content writes in progress) are files, checked just
 * before.
 */
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/namespaces.pb-c.h"
#include "berth/supervisor/v1/namespaces.pb-rpc.h"
#include "record.h"
#include "service_util.h"

static int check_name(const char *name, struct berr *err)
{
    int rc;

    if ((rc = service_required(name, "namespace name", err)))
        return rc;
    if (!metadata_namespace_valid(name))
        return berr_set(err, BERR_INVALID,
                        "namespace \"%.80s\": must be [a-z0-9] then [a-z0-9._-], at most 76 bytes",
                        name);
    return 0;
}

static void publish(struct supervisor *supervisor, const char *name, const char *topic)
{
    Berth__Supervisor__V1__Envelope envelope = BERTH__SUPERVISOR__V1__ENVELOPE__INIT;
    Berth__Supervisor__V1__NamespaceEvent event = BERTH__SUPERVISOR__V1__NAMESPACE_EVENT__INIT;

    event.name = (char *)name;
    envelope.event_case = BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_NAMESPACE_EVENT;
    envelope.namespace_event = &event;
    /* The event belongs to the namespace it is about, so "namespace==N" finds it. */
    event_bus_publish(supervisor->events, name, topic, &envelope);
}

/* ---- Create ---- */

static int store_namespace(struct supervisor *supervisor,
                           const Berth__Supervisor__V1__Namespace *namespace, struct berr *err)
{
    struct metadata_txn *txn;
    struct metadata_value existing;
    int rc;

    if ((rc = metadata_begin(supervisor->metadata, true, &txn, err)))
        return rc;
    if (metadata_get(txn, METADATA_NAMESPACES, "", namespace->name, &existing, NULL) == 0) {
        metadata_abort(txn);
        return berr_set(err, BERR_EXISTS, "namespace %s already exists", namespace->name);
    }
    if ((rc = record_put(txn, METADATA_NAMESPACES, "", namespace->name, &namespace->base, err))) {
        metadata_abort(txn);
        return rc;
    }
    return metadata_commit(txn, err);
}

static int create(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__CreateNamespaceRequest *request;
    Berth__Supervisor__V1__Namespace *namespace;
    size_t i;
    int rc;

    if ((rc = service_request(call, (ProtobufCMessage **)&request, err)))
        return rc;
    namespace = request->namespace_;
    if (!namespace) {
        rc = berr_set(err, BERR_INVALID, "namespace is required");
        goto out;
    }
    if ((rc = check_name(namespace->name, err)))
        goto out;
    for (i = 0; i < namespace->n_labels; i++)
        if ((rc = label_validate(namespace->labels[i]->key, namespace->labels[i]->value, err)))
            goto out;
    if ((rc = store_namespace(supervisor, namespace, err)))
        goto out;
    publish(supervisor, namespace->name, "/namespaces/create");
    rc = rpc_call_send(call, &namespace->base, err);
out:
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

/* ---- List ---- */

struct namespace_list {
    size_t count;
    Berth__Supervisor__V1__Namespace **namespaces;
    struct berr *err;
};

static int add_namespace(const char *key, const void *data, size_t size, void *user)
{
    struct namespace_list *list = user;
    Berth__Supervisor__V1__Namespace **grown;
    ProtobufCMessage *namespace;
    int rc;

    if ((rc = record_unpack(&berth__supervisor__v1__namespace__descriptor, data, size, key,
                            &namespace, list->err)))
        return rc;
    grown = realloc(list->namespaces, (list->count + 1) * sizeof(*grown));
    if (!grown) {
        protobuf_c_message_free_unpacked(namespace, NULL);
        return berr_set(list->err, BERR_NOMEM, "namespaces: out of memory");
    }
    list->namespaces = grown;
    list->namespaces[list->count++] = (Berth__Supervisor__V1__Namespace *)namespace;
    return 0;
}

static int list(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__ListNamespacesResponse response =
        BERTH__SUPERVISOR__V1__LIST_NAMESPACES_RESPONSE__INIT;
    struct namespace_list found = {0, NULL, err};
    ProtobufCMessage *request;
    struct metadata_txn *txn;
    int rc;

    if ((rc = service_request(call, &request, err)))
        return rc;
    protobuf_c_message_free_unpacked(request, NULL);
    if ((rc = metadata_begin(supervisor->metadata, false, &txn, err)))
        return rc;
    rc = metadata_list(txn, METADATA_NAMESPACES, "", NULL, add_namespace, &found, err);
    metadata_abort(txn);
    if (rc == 0) {
        response.n_namespaces = found.count;
        response.namespaces = found.namespaces;
        rc = rpc_call_send(call, &response.base, err);
    }
    service_messages_free((ProtobufCMessage **)found.namespaces, found.count);
    return rc;
}

/* ---- Delete ---- */

/* Visitors that stop at the first record, noting that there was one (their
 * return value alone could be mistaken for a berr code). */
#define FOUND (-2)

static int found_one(const char *key, const void *data, size_t size, void *user)
{
    (void)key, (void)data, (void)size, (void)user;
    return FOUND;
}

static int found_ingest(const struct content_status *status, void *user)
{
    (void)status, (void)user;
    return FOUND;
}

/* BERR_CONFLICT naming the first kind of object the namespace still holds. */
static int check_empty(struct metadata_txn *txn, const char *name, struct berr *err)
{
    static const struct {
        enum metadata_table table;
        const char *what;
    } tables[] = {
        {METADATA_IMAGES, "images"},          {METADATA_CONTENT, "content"},
        {METADATA_SNAPSHOTS, "snapshots"},    {METADATA_CONTAINERS, "containers"},
        {METADATA_LEASES, "leases"},          {METADATA_TASKS, "tasks"},
        {METADATA_LEASE_RESOURCES, "leases"},
    };
    size_t i;
    int rc;

    for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        rc = metadata_list(txn, tables[i].table, name, NULL, found_one, NULL, err);
        if (rc == FOUND)
            return berr_set(err, BERR_CONFLICT, "namespace %s still holds %s", name,
                            tables[i].what);
        if (rc)
            return rc;
    }
    return 0;
}

static int delete_namespace(struct supervisor *supervisor, const char *name, struct berr *err)
{
    struct metadata_txn *txn;
    int rc;

    rc = content_store_list_statuses(supervisor->content, name, NULL, 0, found_ingest, NULL, err);
    if (rc == FOUND)
        return berr_set(err, BERR_CONFLICT, "namespace %s still holds content writes in progress",
                        name);
    if (rc)
        return rc;
    if ((rc = metadata_begin(supervisor->metadata, true, &txn, err)))
        return rc;
    rc = metadata_delete(txn, METADATA_NAMESPACES, "", name, NULL);
    if (rc == BERR_NOT_FOUND)
        rc = berr_set(err, BERR_NOT_FOUND, "namespace %s not found", name);
    else if (rc)
        rc = berr_set(err, rc, "namespace %s cannot be deleted", name);
    if (rc || (rc = check_empty(txn, name, err))) {
        metadata_abort(txn);
        return rc;
    }
    return metadata_commit(txn, err);
}

static int delete (struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__Empty response = BERTH__SUPERVISOR__V1__EMPTY__INIT;
    Berth__Supervisor__V1__DeleteNamespaceRequest *request;
    int rc;

    if ((rc = service_request(call, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = check_name(request->name, err)) ||
        (rc = delete_namespace(supervisor, request->name, err)))
        goto out;
    publish(supervisor, request->name, "/namespaces/delete");
    rc = rpc_call_send(call, &response.base, err);
out:
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

int service_namespaces_register(struct rpc_server *server, struct supervisor *supervisor,
                                struct berr *err)
{
    static const struct {
        int method;
        rpc_handler handler;
    } handlers[] = {
        {BERTH_SUPERVISOR_V1_NAMESPACES_CREATE, create},
        {BERTH_SUPERVISOR_V1_NAMESPACES_LIST, list},
        {BERTH_SUPERVISOR_V1_NAMESPACES_DELETE, delete},
    };
    size_t i;
    int rc;

    for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
        if ((rc = rpc_server_register(server,
                                      &berth_supervisor_v1_namespaces_methods[handlers[i].method],
                                      handlers[i].handler, supervisor, err)))
            return rc;
    return 0;
}
