/*
 * service_snapshots: the Snapshots service (snapshots.proto), a thin
 * wrapper over snapshots.h: one snapshotter call per RPC.
 *
 * Why it is shaped so: the snapshotter already speaks the API's model
 * (kinds, parents, labels, mounts as data) and does its own validation, so
 * the handlers only convert between the generated messages and its plain C
 * structs, refuse a snapshotter name other than "overlayfs", and publish
 * /snapshot/prepare, /snapshot/commit and /snapshot/remove (as containerd
 * does, View publishes nothing). Mounts carry absolute paths; a client
 * mounts them itself (mount(8) or an OCI runtime).
 */
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/snapshots.pb-c.h"
#include "berth/supervisor/v1/snapshots.pb-rpc.h"
#include "record.h"
#include "service_util.h"

static int check_snapshotter(const char *name, struct berr *err)
{
    if (name[0] && strcmp(name, SNAPSHOTTER_NAME) != 0)
        return berr_set(err, BERR_INVALID,
                        "snapshotter %.64s: only \"" SNAPSHOTTER_NAME "\" exists", name);
    return 0;
}

static void publish(struct supervisor *supervisor, const char *namespace, const char *topic,
                    const char *key, const char *parent, const char *name)
{
    Berth__Supervisor__V1__Envelope envelope = BERTH__SUPERVISOR__V1__ENVELOPE__INIT;
    Berth__Supervisor__V1__SnapshotEvent event = BERTH__SUPERVISOR__V1__SNAPSHOT_EVENT__INIT;

    event.key = (char *)key;
    event.parent = (char *)(parent ? parent : "");
    event.name = (char *)(name ? name : "");
    envelope.event_case = BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_SNAPSHOT;
    envelope.snapshot = &event;
    event_bus_publish(supervisor->events, namespace, topic, &envelope);
}

/* ---- conversions ---- */

/* Request labels as the snapshotter's pairs, pointing into set. */
static int labels_from(ProtobufCMessage *const *entries, size_t count, struct label_set *set,
                       struct snapshot_label **out, struct berr *err)
{
    struct snapshot_label *labels;
    size_t i;
    int rc;

    *out = NULL;
    if ((rc = record_labels_add(set, entries, count, err)))
        return rc;
    labels = calloc(set->count ? set->count : 1, sizeof(*labels));
    if (!labels)
        return berr_set(err, BERR_NOMEM, "snapshots: out of memory");
    for (i = 0; i < set->count; i++) {
        labels[i].key = set->keys[i];
        labels[i].value = set->values[i];
    }
    *out = labels;
    return 0;
}

/* A heap SnapshotInfo (free with protobuf_c_message_free_unpacked). */
static int info_message(const struct snapshot_info *info, ProtobufCMessage **out, struct berr *err)
{
    Berth__Supervisor__V1__SnapshotInfo message = BERTH__SUPERVISOR__V1__SNAPSHOT_INFO__INIT;
    Berth__Supervisor__V1__Timestamp created, updated;
    struct label_set labels = {0};
    ProtobufCMessage **entries = NULL;
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < info->label_count; i++)
        rc = label_set_put(&labels, info->labels[i].key, info->labels[i].value, err);
    if (rc == 0)
        rc = record_labels_build(&labels,
                                 &berth__supervisor__v1__snapshot_info__labels_entry__descriptor,
                                 &entries, err);
    if (rc == 0) {
        service_timestamp(&created, &info->created_at);
        service_timestamp(&updated, &info->updated_at);
        message.name = info->name;
        message.parent = info->parent;
        message.kind = (Berth__Supervisor__V1__SnapshotKind)info->kind;
        message.n_labels = labels.count;
        message.labels = (Berth__Supervisor__V1__SnapshotInfo__LabelsEntry **)entries;
        message.created_at = &created;
        message.updated_at = &updated;
        rc = record_copy(&message.base, out, err);
    }
    record_labels_free(entries, labels.count);
    label_set_clear(&labels);
    return rc;
}

static int send_info(struct rpc_call *call, const struct snapshot_info *info, struct berr *err)
{
    ProtobufCMessage *message;
    int rc = info_message(info, &message, err);

    if (rc)
        return rc;
    rc = rpc_call_send(call, message, err);
    protobuf_c_message_free_unpacked(message, NULL);
    return rc;
}

static int send_mounts(struct rpc_call *call, const struct mount_list *mounts, struct berr *err)
{
    Berth__Supervisor__V1__MountsResponse response = BERTH__SUPERVISOR__V1__MOUNTS_RESPONSE__INIT;
    Berth__Supervisor__V1__Mount *messages =
        calloc(mounts->count ? mounts->count : 1, sizeof(*messages));
    Berth__Supervisor__V1__Mount **pointers =
        calloc(mounts->count ? mounts->count : 1, sizeof(*pointers));
    size_t i;
    int rc;

    if (!messages || !pointers) {
        free(messages);
        free(pointers);
        return berr_set(err, BERR_NOMEM, "snapshots: out of memory");
    }
    for (i = 0; i < mounts->count; i++) {
        berth__supervisor__v1__mount__init(&messages[i]);
        messages[i].type = mounts->mounts[i].type;
        messages[i].source = mounts->mounts[i].source;
        messages[i].n_options = mounts->mounts[i].option_count;
        messages[i].options = mounts->mounts[i].options;
        pointers[i] = &messages[i];
    }
    response.n_mounts = mounts->count;
    response.mounts = pointers;
    rc = rpc_call_send(call, &response.base, err);
    free(messages);
    free(pointers);
    return rc;
}

/* ---- Prepare, View, Mounts ---- */

/* What Prepare and View requests carry (two generated types of one shape). */
struct create_request {
    const char *snapshotter;
    const char *key;
    const char *parent;
    ProtobufCMessage *const *labels;
    size_t label_count;
};

static int create(struct rpc_call *call, struct supervisor *supervisor, const char *namespace,
                  const struct create_request *request, bool view, struct berr *err)
{
    struct mount_list mounts = {NULL, 0};
    struct snapshot_label *labels = NULL;
    struct label_set set = {0};
    int rc;

    if ((rc = check_snapshotter(request->snapshotter, err)) ||
        (rc = labels_from(request->labels, request->label_count, &set, &labels, err)))
        goto out;
    rc =
        (view ? snapshot_view : snapshot_prepare)(supervisor->snapshotter, namespace, request->key,
                                                  request->parent, labels, set.count, &mounts, err);
    if (rc)
        goto out;
    if (!view)
        publish(supervisor, namespace, "/snapshot/prepare", request->key, request->parent, NULL);
    rc = send_mounts(call, &mounts, err);
out:
    mount_list_free(&mounts);
    free(labels);
    label_set_clear(&set);
    return rc;
}

static int prepare(struct rpc_call *call, void *data, struct berr *err)
{
    Berth__Supervisor__V1__PrepareSnapshotRequest *request;
    struct create_request fields;
    const char *namespace;
    int rc;

    if ((rc = service_begin(data, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    fields = (struct create_request){request->snapshotter, request->key, request->parent,
                                     (ProtobufCMessage *const *)request->labels, request->n_labels};
    rc = create(call, data, namespace, &fields, false, err);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int view(struct rpc_call *call, void *data, struct berr *err)
{
    Berth__Supervisor__V1__ViewSnapshotRequest *request;
    struct create_request fields;
    const char *namespace;
    int rc;

    if ((rc = service_begin(data, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    fields = (struct create_request){request->snapshotter, request->key, request->parent,
                                     (ProtobufCMessage *const *)request->labels, request->n_labels};
    rc = create(call, data, namespace, &fields, true, err);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int mounts(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__MountsRequest *request;
    struct mount_list found = {NULL, 0};
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = check_snapshotter(request->snapshotter, err)) == 0 &&
        (rc = snapshot_mounts(supervisor->snapshotter, namespace, request->key, &found, err)) == 0)
        rc = send_mounts(call, &found, err);
    mount_list_free(&found);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

/* ---- Commit, Remove ---- */

static int send_empty(struct rpc_call *call, struct berr *err)
{
    Berth__Supervisor__V1__Empty response = BERTH__SUPERVISOR__V1__EMPTY__INIT;

    return rpc_call_send(call, &response.base, err);
}

static int commit(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__CommitSnapshotRequest *request;
    struct snapshot_label *labels = NULL;
    struct label_set set = {0};
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = check_snapshotter(request->snapshotter, err)) ||
        (rc = labels_from((ProtobufCMessage *const *)request->labels, request->n_labels, &set,
                          &labels, err)) ||
        (rc = snapshot_commit(supervisor->snapshotter, namespace, request->name, request->key,
                              labels, set.count, err)))
        goto out;
    publish(supervisor, namespace, "/snapshot/commit", request->key, NULL, request->name);
    rc = send_empty(call, err);
out:
    free(labels);
    label_set_clear(&set);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int remove_snapshot(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__RemoveSnapshotRequest *request;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = check_snapshotter(request->snapshotter, err)) == 0 &&
        (rc = snapshot_remove(supervisor->snapshotter, namespace, request->key, err)) == 0) {
        publish(supervisor, namespace, "/snapshot/remove", request->key, NULL, NULL);
        rc = send_empty(call, err);
    }
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

/* ---- Stat, Update, Usage ---- */

static int stat_snapshot(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__StatSnapshotRequest *request;
    struct snapshot_info info = {0};
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = check_snapshotter(request->snapshotter, err)) == 0 &&
        (rc = snapshot_stat(supervisor->snapshotter, namespace, request->key, &info, err)) == 0)
        rc = send_info(call, &info, err);
    snapshot_info_free(&info);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int update(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__UpdateSnapshotRequest *request;
    struct snapshot_info wanted = {0}, updated = {0};
    struct label_set set = {0};
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = check_snapshotter(request->snapshotter, err)))
        goto out;
    if (!request->info) {
        rc = berr_set(err, BERR_INVALID, "info is required");
        goto out;
    }
    wanted.name = request->info->name;
    if ((rc = labels_from((ProtobufCMessage *const *)request->info->labels, request->info->n_labels,
                          &set, &wanted.labels, err)))
        goto out;
    wanted.label_count = set.count;
    if ((rc = snapshot_update(supervisor->snapshotter, namespace, &wanted,
                              (const char *const *)request->update_mask, request->n_update_mask,
                              &updated, err)) == 0)
        rc = send_info(call, &updated, err);
out:
    free(wanted.labels);
    label_set_clear(&set);
    snapshot_info_free(&updated);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int usage(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__UsageResponse response = BERTH__SUPERVISOR__V1__USAGE_RESPONSE__INIT;
    Berth__Supervisor__V1__UsageRequest *request;
    struct snapshot_usage measured;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = check_snapshotter(request->snapshotter, err)) == 0 &&
        (rc = snapshot_usage(supervisor->snapshotter, namespace, request->key, &measured, err)) ==
            0) {
        response.size = measured.size;
        response.inodes = measured.inodes;
        rc = rpc_call_send(call, &response.base, err);
    }
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

/* ---- List ---- */

static int send_infos(struct rpc_call *call, ProtobufCMessage **items, size_t count,
                      struct berr *err)
{
    Berth__Supervisor__V1__ListSnapshotsResponse response =
        BERTH__SUPERVISOR__V1__LIST_SNAPSHOTS_RESPONSE__INIT;

    response.n_info = count;
    response.info = (Berth__Supervisor__V1__SnapshotInfo **)items;
    return rpc_call_send(call, &response.base, err);
}

static int list(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__ListSnapshotsRequest *request;
    struct snapshot_info *infos = NULL;
    ProtobufCMessage **items = NULL;
    const char *namespace;
    size_t count = 0, converted = 0;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = check_snapshotter(request->snapshotter, err)) ||
        (rc = snapshot_list(supervisor->snapshotter, namespace,
                            (const char *const *)request->filters, request->n_filters, &infos,
                            &count, err)))
        goto out;
    if (!(items = calloc(count ? count : 1, sizeof(*items)))) {
        rc = berr_set(err, BERR_NOMEM, "snapshots: out of memory");
        goto out;
    }
    for (; converted < count; converted++)
        if ((rc = info_message(&infos[converted], &items[converted], err)))
            goto out;
    rc = service_send_batches(call, items, count, send_infos, err);
out:
    service_messages_free(items, converted);
    snapshot_info_array_free(infos, count);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

int service_snapshots_register(struct rpc_server *server, struct supervisor *supervisor,
                               struct berr *err)
{
    static const struct {
        int method;
        rpc_handler handler;
    } handlers[] = {
        {BERTH_SUPERVISOR_V1_SNAPSHOTS_PREPARE, prepare},
        {BERTH_SUPERVISOR_V1_SNAPSHOTS_VIEW, view},
        {BERTH_SUPERVISOR_V1_SNAPSHOTS_MOUNTS, mounts},
        {BERTH_SUPERVISOR_V1_SNAPSHOTS_COMMIT, commit},
        {BERTH_SUPERVISOR_V1_SNAPSHOTS_REMOVE, remove_snapshot},
        {BERTH_SUPERVISOR_V1_SNAPSHOTS_STAT, stat_snapshot},
        {BERTH_SUPERVISOR_V1_SNAPSHOTS_UPDATE, update},
        {BERTH_SUPERVISOR_V1_SNAPSHOTS_LIST, list},
        {BERTH_SUPERVISOR_V1_SNAPSHOTS_USAGE, usage},
    };
    size_t i;
    int rc;

    for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
        if ((rc = rpc_server_register(server,
                                      &berth_supervisor_v1_snapshots_methods[handlers[i].method],
                                      handlers[i].handler, supervisor, err)))
            return rc;
    return 0;
}
