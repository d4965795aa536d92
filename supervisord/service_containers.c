/*
 * service_containers: the Containers service, a thin layer over the
 * container records (containers.h) that adds what the records do not know:
 * the namespace of the call and the events other clients watch
 * (/containers/create, /containers/update, /containers/delete).
 */
#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/containers.pb-rpc.h"
#include "containers.h"
#include "service_util.h"
#include "supervisor.h"

#include <stdlib.h>

static void publish(struct supervisor *supervisor, const char *namespace, const char *topic,
                    const Berth__Supervisor__V1__Container *container)
{
    Berth__Supervisor__V1__Envelope envelope = BERTH__SUPERVISOR__V1__ENVELOPE__INIT;
    Berth__Supervisor__V1__ContainerEvent event = BERTH__SUPERVISOR__V1__CONTAINER_EVENT__INIT;
    size_t count = container->n_labels;
    Berth__Supervisor__V1__ContainerEvent__LabelsEntry *entries =
        count ? calloc(count, sizeof(*entries)) : NULL;
    Berth__Supervisor__V1__ContainerEvent__LabelsEntry **labels =
        count ? calloc(count, sizeof(*labels)) : NULL;

    event.id = container->id;
    event.image = container->image;
    if (entries && labels) {
        for (size_t i = 0; i < count; i++) {
            berth__supervisor__v1__container_event__labels_entry__init(&entries[i]);
            entries[i].key = container->labels[i]->key;
            entries[i].value = container->labels[i]->value;
            labels[i] = &entries[i];
        }
        event.n_labels = count;
        event.labels = labels;
    }
    envelope.event_case = BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_CONTAINER;
    envelope.container = &event;
    event_bus_publish(supervisor->events, namespace, topic, &envelope);
    free(entries);
    free(labels);
}

static int get(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__GetContainerRequest *request = NULL;
    Berth__Supervisor__V1__Container *container = NULL;
    const char *namespace;
    int rc;

    if ((rc = supervisor_namespace(supervisor, call, &namespace, err)) ||
        (rc = service_request(call, (ProtobufCMessage **)&request, err)))
        return rc;
    rc = container_store_get(supervisor->metadata, namespace, request->id, &container, err);
    if (rc == 0)
        rc = rpc_call_send(call, &container->base, err);
    berth__supervisor__v1__container__free_unpacked(container, NULL);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

struct list_state {
    Berth__Supervisor__V1__ListContainersResponse response;
    size_t capacity;
};

static int collect(const Berth__Supervisor__V1__Container *container, void *user)
{
    struct list_state *state = user;
    Berth__Supervisor__V1__ListContainersResponse *response = &state->response;
    size_t size = protobuf_c_message_get_packed_size(&container->base);
    uint8_t *packed;

    if (response->n_containers == state->capacity) {
        size_t capacity = state->capacity ? state->capacity * 2 : 16;
        void *grown = realloc(response->containers, capacity * sizeof(*response->containers));
        if (!grown)
            return BERR_NOMEM;
        response->containers = grown;
        state->capacity = capacity;
    }
    /* The visited record lives only during the call: keep a copy. */
    packed = malloc(size ? size : 1);
    if (!packed)
        return BERR_NOMEM;
    protobuf_c_message_pack(&container->base, packed);
    response->containers[response->n_containers] =
        berth__supervisor__v1__container__unpack(NULL, size, packed);
    free(packed);
    if (!response->containers[response->n_containers])
        return BERR_NOMEM;
    response->n_containers++;
    return 0;
}

static int list(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__ListContainersRequest *request = NULL;
    struct list_state state = {BERTH__SUPERVISOR__V1__LIST_CONTAINERS_RESPONSE__INIT, 0};
    const char *namespace;
    int rc;

    if ((rc = supervisor_namespace(supervisor, call, &namespace, err)) ||
        (rc = service_request(call, (ProtobufCMessage **)&request, err)))
        return rc;
    rc =
        container_store_list(supervisor->metadata, namespace, (const char *const *)request->filters,
                             request->n_filters, collect, &state, err);
    if (rc == BERR_NOMEM)
        berr_set(err, BERR_NOMEM, "out of memory");
    if (rc == 0)
        rc = rpc_call_send(call, &state.response.base, err);
    for (size_t i = 0; i < state.response.n_containers; i++)
        berth__supervisor__v1__container__free_unpacked(state.response.containers[i], NULL);
    free(state.response.containers);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int create(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__CreateContainerRequest *request = NULL;
    Berth__Supervisor__V1__Container *created = NULL;
    const char *namespace;
    int rc;

    if ((rc = supervisor_namespace(supervisor, call, &namespace, err)) ||
        (rc = service_request(call, (ProtobufCMessage **)&request, err)))
        return rc;
    if (!request->container)
        rc = berr_set(err, BERR_INVALID, "the request has no container");
    else
        rc = container_store_create(supervisor->metadata, namespace, request->container, &created,
                                    err);
    if (rc == 0) {
        publish(supervisor, namespace, "/containers/create", created);
        rc = rpc_call_send(call, &created->base, err);
    }
    berth__supervisor__v1__container__free_unpacked(created, NULL);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int update(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__UpdateContainerRequest *request = NULL;
    Berth__Supervisor__V1__Container *updated = NULL;
    const char *namespace;
    int rc;

    if ((rc = supervisor_namespace(supervisor, call, &namespace, err)) ||
        (rc = service_request(call, (ProtobufCMessage **)&request, err)))
        return rc;
    if (!request->container)
        rc = berr_set(err, BERR_INVALID, "the request has no container");
    else
        rc = container_store_update(supervisor->metadata, namespace, request->container,
                                    (const char *const *)request->update_mask,
                                    request->n_update_mask, &updated, err);
    if (rc == 0) {
        publish(supervisor, namespace, "/containers/update", updated);
        rc = rpc_call_send(call, &updated->base, err);
    }
    berth__supervisor__v1__container__free_unpacked(updated, NULL);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int delete (struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__DeleteContainerRequest *request = NULL;
    Berth__Supervisor__V1__Container *container = NULL;
    Berth__Supervisor__V1__Empty empty = BERTH__SUPERVISOR__V1__EMPTY__INIT;
    const char *namespace;
    int rc;

    if ((rc = supervisor_namespace(supervisor, call, &namespace, err)) ||
        (rc = service_request(call, (ProtobufCMessage **)&request, err)))
        return rc;
    /* The record as it was, for the event. */
    rc = container_store_get(supervisor->metadata, namespace, request->id, &container, err);
    if (rc == 0)
        rc = container_store_delete(supervisor->metadata, namespace, request->id, err);
    if (rc == 0) {
        publish(supervisor, namespace, "/containers/delete", container);
        rc = rpc_call_send(call, &empty.base, err);
    }
    berth__supervisor__v1__container__free_unpacked(container, NULL);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

int service_containers_register(struct rpc_server *server, struct supervisor *supervisor,
                                struct berr *err)
{
    static const struct {
        int method;
        rpc_handler handler;
    } handlers[] = {
        {BERTH_SUPERVISOR_V1_CONTAINERS_GET, get},
        {BERTH_SUPERVISOR_V1_CONTAINERS_LIST, list},
        {BERTH_SUPERVISOR_V1_CONTAINERS_CREATE, create},
        {BERTH_SUPERVISOR_V1_CONTAINERS_UPDATE, update},
        {BERTH_SUPERVISOR_V1_CONTAINERS_DELETE, delete},
    };
    int rc;

    for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
        if ((rc = rpc_server_register(server,
                                      &berth_supervisor_v1_containers_methods[handlers[i].method],
                                      handlers[i].handler, supervisor, err)))
            return rc;
    return 0;
}
