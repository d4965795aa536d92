/*
 * service_util: see service_util.h.
 */
#include "service_util.h"

#include <stdlib.h>

#include "record.h"

int service_request(struct rpc_call *call, ProtobufCMessage **request, struct berr *err)
{
    int rc = rpc_call_receive(call, request, err);

    if (rc == RPC_END_OF_STREAM) {
        *request = NULL;
        return berr_set(err, BERR_INVALID, "the call carries no request");
    }
    return rc;
}

int service_begin(struct supervisor *supervisor, struct rpc_call *call, const char **namespace,
                  ProtobufCMessage **request, struct berr *err)
{
    int rc;

    *request = NULL;
    if ((rc = service_request(call, request, err)))
        return rc;
    if ((rc = supervisor_namespace(supervisor, call, namespace, err))) {
        protobuf_c_message_free_unpacked(*request, NULL);
        *request = NULL;
    }
    return rc;
}

int service_required(const char *value, const char *field, struct berr *err)
{
    if (!value || !value[0])
        return berr_set(err, BERR_INVALID, "%s is required", field);
    return 0;
}

void service_timestamp(Berth__Supervisor__V1__Timestamp *out, const struct timespec *time)
{
    berth__supervisor__v1__timestamp__init(out);
    out->seconds = time->tv_sec;
    out->nanos = (int32_t)time->tv_nsec;
}

int service_labels(ProtobufCMessage *const *entries, size_t count, struct label_set *set,
                   struct label **labels_out, struct berr *err)
{
    struct label *labels;
    size_t i;
    int rc;

    *labels_out = NULL;
    if ((rc = record_labels_add(set, entries, count, err)))
        return rc;
    labels = calloc(set->count ? set->count : 1, sizeof(*labels));
    if (!labels)
        return berr_set(err, BERR_NOMEM, "labels: out of memory");
    for (i = 0; i < set->count; i++) {
        labels[i].key = set->keys[i];
        labels[i].value = set->values[i];
    }
    *labels_out = labels;
    return 0;
}

int service_send_batches(struct rpc_call *call, ProtobufCMessage **items, size_t count,
                         service_send_slice send_slice, struct berr *err)
{
    size_t start = 0, bytes = 0, i;
    int rc;

    for (i = 0; i < count; i++) {
        size_t size = protobuf_c_message_get_packed_size(items[i]) + 8;
        if (i > start && (bytes + size > SERVICE_BATCH_BYTES || i - start == SERVICE_BATCH_ITEMS)) {
            if ((rc = send_slice(call, items + start, i - start, err)))
                return rc;
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if (count > start)
        return send_slice(call, items + start, count - start, err);
    return 0;
}

void service_messages_free(ProtobufCMessage **items, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++)
        if (items[i])
            protobuf_c_message_free_unpacked(items[i], NULL);
    free(items);
}

int service_collect_after_delete(struct supervisor *supervisor, bool sync, struct berr *err)
{
    int rc;

    if (!sync) {
        gc_schedule(supervisor->gc, SERVICE_GC_DELAY_MS);
        return 0;
    }
    if ((rc = gc_collect(supervisor->gc, NULL, err)))
        berr_prefix(err, "deleted, but");
    return rc;
}
