/*
 * service_content: the Content service (content.proto) over content_store.h.
 *
 * Why it is shaped so: every RPC but Write is one content_store call, so
 * those handlers only translate. Write is containerd's writer protocol on a
 * bidirectional stream, and the one place with state:
 *  - the first message names the ref (and may give total and expected);
 *    the handler opens the ref's writer, which creates the ingest or resumes
 *    it, and holds it until the stream ends, so a ref has one writer;
 *  - each message is answered: STAT with the ingest's state, WRITE after
 *    appending data at offset (which must be the current end), COMMIT after
 *    verifying size and digest (data in a COMMIT is written first);
 *  - a stream that ends or breaks before COMMIT leaves the ingest on disk:
 *    a new stream on the same ref resumes it (STAT says where). A dropped
 *    stream's handler may still hold the ref for a moment, so opening a ref
 *    held by another writer is retried for up to WRITER_WAIT_MS before it
 *    fails with FAILED_PRECONDITION;
 *  - a commit of content the namespace already has is ALREADY_EXISTS (the
 *    ingest is dropped), as in containerd;
 *  - the optional call metadata "berth-lease" names a lease that holds the
 *    blob from the commit's own transaction on (leases.h), so a collection
 *    cannot take it before an image names it.
 * Read streams chunks of at most READ_CHUNK bytes and stops when the client
 * goes away; List streams bounded batches.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth/supervisor/v1/content.pb-c.h"
#include "berth/supervisor/v1/content.pb-rpc.h"
#include "record.h"
#include "service_util.h"

#define READ_CHUNK     (1u << 20)
#define WRITER_WAIT_MS 2000
#define LEASE_METADATA "berth-lease"

static int send_empty(struct rpc_call *call, struct berr *err)
{
    Berth__Supervisor__V1__Empty response = BERTH__SUPERVISOR__V1__EMPTY__INIT;

    return rpc_call_send(call, &response.base, err);
}

/* ---- Info, Update, Delete ---- */

static int info(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__InfoRequest *request;
    Berth__Supervisor__V1__ContentInfo *found;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    rc = content_store_info(supervisor->content, namespace, request->digest, &found, err);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    if (rc)
        return rc;
    rc = rpc_call_send(call, &found->base, err);
    berth__supervisor__v1__content_info__free_unpacked(found, NULL);
    return rc;
}

static int update(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__UpdateContentRequest *request;
    Berth__Supervisor__V1__ContentInfo *updated = NULL;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if (!request->info)
        rc = berr_set(err, BERR_INVALID, "info is required");
    else
        rc = content_store_update(supervisor->content, namespace, request->info,
                                  (const char *const *)request->update_mask, request->n_update_mask,
                                  &updated, err);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    if (rc)
        return rc;
    rc = rpc_call_send(call, &updated->base, err);
    berth__supervisor__v1__content_info__free_unpacked(updated, NULL);
    return rc;
}

static int delete (struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__DeleteContentRequest *request;
    Berth__Supervisor__V1__Envelope envelope = BERTH__SUPERVISOR__V1__ENVELOPE__INIT;
    Berth__Supervisor__V1__ContentEvent event = BERTH__SUPERVISOR__V1__CONTENT_EVENT__INIT;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    rc = content_store_delete(supervisor->content, namespace, request->digest, err);
    if (rc == 0) {
        event.digest = request->digest;
        envelope.event_case = BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_CONTENT;
        envelope.content = &event;
        event_bus_publish(supervisor->events, namespace, "/content/delete", &envelope);
        rc = send_empty(call, err);
    }
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

/* ---- List ---- */

struct info_list {
    size_t count;
    ProtobufCMessage **items;
    struct berr *err;
};

static int collect_info(const Berth__Supervisor__V1__ContentInfo *found, void *user)
{
    struct info_list *list = user;
    ProtobufCMessage **grown = realloc(list->items, (list->count + 1) * sizeof(*grown));
    int rc;

    if (!grown)
        return berr_set(list->err, BERR_NOMEM, "content: out of memory");
    list->items = grown;
    if ((rc = record_copy(&found->base, &list->items[list->count], list->err)))
        return rc;
    list->count++;
    return 0;
}

static int send_infos(struct rpc_call *call, ProtobufCMessage **items, size_t count,
                      struct berr *err)
{
    Berth__Supervisor__V1__ListContentResponse response =
        BERTH__SUPERVISOR__V1__LIST_CONTENT_RESPONSE__INIT;

    response.n_info = count;
    response.info = (Berth__Supervisor__V1__ContentInfo **)items;
    return rpc_call_send(call, &response.base, err);
}

static int list(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__ListContentRequest *request;
    struct info_list found = {0, NULL, err};
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    rc = content_store_list(supervisor->content, namespace, (const char *const *)request->filters,
                            request->n_filters, collect_info, &found, err);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    if (rc == 0)
        rc = service_send_batches(call, found.items, found.count, send_infos, err);
    service_messages_free(found.items, found.count);
    return rc;
}

/* ---- Read ---- */

static int send_chunks(struct rpc_call *call, struct content_reader *reader, int64_t offset,
                       int64_t end, struct berr *err)
{
    Berth__Supervisor__V1__ReadContentResponse response =
        BERTH__SUPERVISOR__V1__READ_CONTENT_RESPONSE__INIT;
    uint8_t *buffer = malloc(READ_CHUNK);
    int rc = 0;

    if (!buffer)
        return berr_set(err, BERR_NOMEM, "read: out of memory");
    while (offset < end) {
        size_t wanted = end - offset < READ_CHUNK ? (size_t)(end - offset) : READ_CHUNK, got = 0;
        if (rpc_call_cancelled(call)) {
            rc = berr_set(err, BERR_CANCELLED, "read: the client went away");
            break;
        }
        if ((rc = content_reader_read_at(reader, offset, buffer, wanted, &got, err)))
            break;
        if (got == 0) {
            rc = berr_set(err, BERR_IO, "read: the blob ended at %" PRId64, offset);
            break;
        }
        response.offset = offset;
        response.data.data = buffer;
        response.data.len = got;
        if ((rc = rpc_call_send(call, &response.base, err)))
            break;
        offset += (int64_t)got;
    }
    free(buffer);
    return rc;
}

static int read_content(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__ReadContentRequest *request;
    struct content_reader *reader = NULL;
    const char *namespace;
    int64_t size, end;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if (request->offset < 0 || request->size < 0) {
        rc = berr_set(err, BERR_INVALID, "read %s: negative offset or size", request->digest);
        goto out;
    }
    if ((rc = content_reader_open(supervisor->content, namespace, request->digest, &reader, err)))
        goto out;
    size = content_reader_size(reader);
    if (request->offset > size) {
        rc =
            berr_set(err, BERR_INVALID, "read %s: offset %" PRId64 " is past its end (%" PRId64 ")",
                     request->digest, request->offset, size);
        goto out;
    }
    end = request->size && request->size < size - request->offset ? request->offset + request->size
                                                                  : size;
    rc = send_chunks(call, reader, request->offset, end, err);
out:
    content_reader_close(reader);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

/* ---- Write ---- */

struct write_session {
    struct supervisor *supervisor;
    struct rpc_call *call;
    const char *namespace;
    char *ref;
    struct content_writer *writer;
    bool committed;
};

/* Opens ref, waiting a little for a writer that is letting it go (a dropped stream). */
static int open_writer(struct write_session *session,
                       const Berth__Supervisor__V1__WriteContentRequest *request, struct berr *err)
{
    struct timespec pause = {0, 20 * 1000000L};
    int waited = 0, rc;

    for (;;) {
        rc = content_writer_open(session->supervisor->content, session->namespace, request->ref,
                                 request->total, request->expected, &session->writer, err);
        if (rc != BERR_CONFLICT || waited >= WRITER_WAIT_MS || rpc_call_cancelled(session->call))
            return rc;
        nanosleep(&pause, NULL);
        waited += 20;
    }
}

static int respond(struct write_session *session, Berth__Supervisor__V1__WriteAction action,
                   const char *digest, struct berr *err)
{
    Berth__Supervisor__V1__WriteContentResponse response =
        BERTH__SUPERVISOR__V1__WRITE_CONTENT_RESPONSE__INIT;
    Berth__Supervisor__V1__Timestamp started, updated;
    struct content_status status;

    content_writer_status(session->writer, &status);
    service_timestamp(&started, &status.started);
    service_timestamp(&updated, &status.updated);
    response.action = action;
    response.started_at = &started;
    response.updated_at = &updated;
    response.offset = status.offset;
    response.total = status.total;
    response.digest = (char *)(digest ? digest : "");
    return rpc_call_send(session->call, &response.base, err);
}

/* A later message may repeat total and expected, not change them. */
static int check_consistent(struct write_session *session,
                            const Berth__Supervisor__V1__WriteContentRequest *request,
                            struct berr *err)
{
    struct content_status status;

    if (request->ref[0] && strcmp(request->ref, session->ref) != 0)
        return berr_set(err, BERR_INVALID, "write %s: a message names another ref, %.100s",
                        session->ref, request->ref);
    content_writer_status(session->writer, &status);
    if (request->total > 0 && status.total > 0 && request->total != status.total)
        return berr_set(err, BERR_INVALID,
                        "write %s: total %" PRId64 " differs from the %" PRId64 " given before",
                        session->ref, request->total, status.total);
    if (request->expected[0] && status.expected[0] && strcmp(request->expected, status.expected))
        return berr_set(err, BERR_INVALID, "write %s: expected %.100s differs from %s given before",
                        session->ref, request->expected, status.expected);
    return 0;
}

static int write_data(struct write_session *session,
                      const Berth__Supervisor__V1__WriteContentRequest *request, struct berr *err)
{
    if (request->data.len == 0)
        return 0;
    return content_writer_write(session->writer, request->offset, request->data.data,
                                request->data.len, err);
}

static int commit(struct write_session *session,
                  const Berth__Supervisor__V1__WriteContentRequest *request, struct berr *err)
{
    struct content_commit_options options = {0};
    struct label_set set = {0};
    struct label *labels = NULL;
    char digest[DIGEST_STRING_SIZE] = "";
    int rc;

    /* Labels first: bad ones refuse the message before any data is written. */
    if ((rc = service_labels((ProtobufCMessage *const *)request->labels, request->n_labels, &set,
                             &labels, err)) ||
        (rc = write_data(session, request, err)))
        goto out;
    options.labels = labels;
    options.label_count = set.count;
    options.lease = rpc_call_metadata(session->call, LEASE_METADATA);
    rc = content_writer_commit(session->writer, request->total, request->expected, &options, digest,
                               err);
    if (rc == 0 || rc == BERR_EXISTS)
        session->committed = true;
    if (rc == 0)
        rc =
            respond(session, BERTH__SUPERVISOR__V1__WRITE_ACTION__WRITE_ACTION_COMMIT, digest, err);
out:
    free(labels);
    label_set_clear(&set);
    return rc;
}

static int handle(struct write_session *session,
                  const Berth__Supervisor__V1__WriteContentRequest *request, struct berr *err)
{
    int rc;

    if (session->committed)
        return berr_set(err, BERR_INVALID, "write %s: already committed", session->ref);
    if ((rc = check_consistent(session, request, err)))
        return rc;
    switch (request->action) {
    case BERTH__SUPERVISOR__V1__WRITE_ACTION__WRITE_ACTION_STAT:
        return respond(session, request->action, NULL, err);
    case BERTH__SUPERVISOR__V1__WRITE_ACTION__WRITE_ACTION_WRITE:
        if ((rc = write_data(session, request, err)))
            return rc;
        return respond(session, request->action, NULL, err);
    case BERTH__SUPERVISOR__V1__WRITE_ACTION__WRITE_ACTION_COMMIT:
        return commit(session, request, err);
    default:
        return berr_set(err, BERR_INVALID, "write %s: unknown action %d", session->ref,
                        (int)request->action);
    }
}

static int write_content(struct rpc_call *call, void *data, struct berr *err)
{
    struct write_session session = {.supervisor = data, .call = call};
    Berth__Supervisor__V1__WriteContentRequest *request;
    int rc;

    if ((rc = service_begin(session.supervisor, call, &session.namespace,
                            (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = service_required(request->ref, "ref", err)) ||
        (rc = open_writer(&session, request, err)))
        goto out;
    if (!(session.ref = strdup(request->ref))) {
        rc = berr_set(err, BERR_NOMEM, "write: out of memory");
        goto out;
    }
    for (;;) {
        if ((rc = handle(&session, request, err)))
            break;
        protobuf_c_message_free_unpacked(&request->base, NULL);
        request = NULL;
        rc = rpc_call_receive(call, (ProtobufCMessage **)&request, err);
        if (rc == RPC_END_OF_STREAM)
            rc = 0;
        if (rc || !request)
            break;
    }
out:
    if (session.writer)
        content_writer_close(session.writer); /* the ingest stays for a resume */
    free(session.ref);
    if (request)
        protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

/* ---- ingests: Status, ListStatuses, Abort ---- */

static int copy_status(const struct content_status *status,
                       Berth__Supervisor__V1__WriteStatus **out, struct berr *err)
{
    Berth__Supervisor__V1__WriteStatus message = BERTH__SUPERVISOR__V1__WRITE_STATUS__INIT;
    Berth__Supervisor__V1__Timestamp started, updated;

    service_timestamp(&started, &status->started);
    service_timestamp(&updated, &status->updated);
    message.ref = (char *)status->ref;
    message.offset = status->offset;
    message.total = status->total;
    message.expected = (char *)status->expected;
    message.started_at = &started;
    message.updated_at = &updated;
    return record_copy(&message.base, (ProtobufCMessage **)out, err);
}

static int status(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__StatusResponse response = BERTH__SUPERVISOR__V1__STATUS_RESPONSE__INIT;
    Berth__Supervisor__V1__StatusRequest *request;
    struct content_status found;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = content_store_status(supervisor->content, namespace, request->ref, &found, err)) ||
        (rc = copy_status(&found, &response.status, err)))
        goto out;
    rc = rpc_call_send(call, &response.base, err);
    berth__supervisor__v1__write_status__free_unpacked(response.status, NULL);
out:
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

static int collect_status(const struct content_status *found, void *user)
{
    struct info_list *list = user;
    ProtobufCMessage **grown = realloc(list->items, (list->count + 1) * sizeof(*grown));
    int rc;

    if (!grown)
        return berr_set(list->err, BERR_NOMEM, "content: out of memory");
    list->items = grown;
    if ((rc = copy_status(found, (Berth__Supervisor__V1__WriteStatus **)&list->items[list->count],
                          list->err)))
        return rc;
    list->count++;
    return 0;
}

static int list_statuses(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__ListStatusesResponse response =
        BERTH__SUPERVISOR__V1__LIST_STATUSES_RESPONSE__INIT;
    Berth__Supervisor__V1__ListStatusesRequest *request;
    struct info_list found = {0, NULL, err};
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    rc = content_store_list_statuses(supervisor->content, namespace,
                                     (const char *const *)request->filters, request->n_filters,
                                     collect_status, &found, err);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    if (rc == 0) {
        response.n_statuses = found.count;
        response.statuses = (Berth__Supervisor__V1__WriteStatus **)found.items;
        rc = rpc_call_send(call, &response.base, err);
    }
    service_messages_free(found.items, found.count);
    return rc;
}

static int abort_write(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__AbortRequest *request;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = service_required(request->ref, "ref", err)) == 0 &&
        (rc = content_store_abort(supervisor->content, namespace, request->ref, err)) == 0)
        rc = send_empty(call, err);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

int service_content_register(struct rpc_server *server, struct supervisor *supervisor,
                             struct berr *err)
{
    static const struct {
        int method;
        rpc_handler handler;
    } handlers[] = {
        {BERTH_SUPERVISOR_V1_CONTENT_INFO, info},
        {BERTH_SUPERVISOR_V1_CONTENT_LIST, list},
        {BERTH_SUPERVISOR_V1_CONTENT_UPDATE, update},
        {BERTH_SUPERVISOR_V1_CONTENT_DELETE, delete},
        {BERTH_SUPERVISOR_V1_CONTENT_READ, read_content},
        {BERTH_SUPERVISOR_V1_CONTENT_WRITE, write_content},
        {BERTH_SUPERVISOR_V1_CONTENT_STATUS, status},
        {BERTH_SUPERVISOR_V1_CONTENT_LIST_STATUSES, list_statuses},
        {BERTH_SUPERVISOR_V1_CONTENT_ABORT, abort_write},
    };
    size_t i;
    int rc;

    for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
        if ((rc = rpc_server_register(server,
                                      &berth_supervisor_v1_content_methods[handlers[i].method],
                                      handlers[i].handler, supervisor, err)))
            return rc;
    return 0;
}
