/*
 * service_images: the Images service (images.proto) over images.h,
 * import.h and unpack.h.
 *
 * Why it is shaped so:
 *  - Get, Update and Delete take names exactly as stored (containerd's
 *    rule); Unpack and Config go through image_store_manifest, which also
 *    finds a Docker short name ("busybox"), since they only read.
 *  - Import is a client stream: the first message carries the options
 *    (a path on this host, or nothing and then the tarball in the data of
 *    the following messages); import.h pulls the chunks through a callback
 *    that receives the next message, so a large tarball is never held in
 *    memory, and a client that goes away stops the import (which then
 *    leaves nothing behind).
 *  - Unpack must not lose a layer to a collection running at the same
 *    time: before unpacking it takes a lease holding every chain ID of the
 *    image ("snapshots/overlayfs" resources may name snapshots that do not
 *    exist yet), unpacks, then labels the image's config blob with
 *    "berth.gc.ref.snapshot.overlayfs" = the top chain ID (containerd's
 *    scheme), which keeps the whole chain for as long as the image keeps its
 *    config, and only then drops the lease. The "extract-*" snapshots of an
 *    unpack in progress are never collected (snapshot_gc.h).
 *  - Pull and Push answer UNIMPLEMENTED with a message: the proto reserves
 *    them for a later stage and lib/ has no registry client yet.
 * Create, Update, Delete and Import publish /images/create, /images/update
 * and /images/delete events.
 */
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/images.pb-c.h"
#include "berth/supervisor/v1/images.pb-rpc.h"
#include "import.h"
#include "leases.h"
#include "record.h"
#include "service_util.h"
#include "snapshot_gc.h"
#include "unpack.h"

#define UNPACK_LEASE_EXPIRY (60 * 60) /* an unpack that takes longer loses its protection */

static void publish(struct supervisor *supervisor, const char *namespace, const char *topic,
                    const Berth__Supervisor__V1__Image *image)
{
    Berth__Supervisor__V1__Envelope envelope = BERTH__SUPERVISOR__V1__ENVELOPE__INIT;
    Berth__Supervisor__V1__ImageEvent event = BERTH__SUPERVISOR__V1__IMAGE_EVENT__INIT;
    struct label_set labels = {0};
    ProtobufCMessage **entries = NULL;

    event.name = image->name;
    if (record_labels_add(&labels, (ProtobufCMessage *const *)image->labels, image->n_labels,
                          NULL) == 0 &&
        record_labels_build(&labels, &berth__supervisor__v1__image_event__labels_entry__descriptor,
                            &entries, NULL) == 0) {
        event.n_labels = labels.count;
        event.labels = (Berth__Supervisor__V1__ImageEvent__LabelsEntry **)entries;
    }
    envelope.event_case = BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_IMAGE;
    envelope.image = &event;
    event_bus_publish(supervisor->events, namespace, topic, &envelope);
    record_labels_free(entries, event.n_labels);
    label_set_clear(&labels);
}

/* ---- records: Get, List, Create, Update, Delete ---- */

static int get(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__GetImageRequest *request;
    Berth__Supervisor__V1__Image *image;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    rc = image_store_get(supervisor->images, namespace, request->name, &image, err);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    if (rc)
        return rc;
    rc = rpc_call_send(call, &image->base, err);
    berth__supervisor__v1__image__free_unpacked(image, NULL);
    return rc;
}

struct image_list {
    size_t count;
    ProtobufCMessage **items;
    struct berr *err;
};

static int collect_image(const Berth__Supervisor__V1__Image *image, void *user)
{
    struct image_list *list = user;
    ProtobufCMessage **grown = realloc(list->items, (list->count + 1) * sizeof(*grown));
    int rc;

    if (!grown)
        return berr_set(list->err, BERR_NOMEM, "images: out of memory");
    list->items = grown;
    if ((rc = record_copy(&image->base, &list->items[list->count], list->err)))
        return rc;
    list->count++;
    return 0;
}

static int list(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__ListImagesResponse response =
        BERTH__SUPERVISOR__V1__LIST_IMAGES_RESPONSE__INIT;
    Berth__Supervisor__V1__ListImagesRequest *request;
    struct image_list found = {0, NULL, err};
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    rc = image_store_list(supervisor->images, namespace, (const char *const *)request->filters,
                          request->n_filters, collect_image, &found, err);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    if (rc == 0) {
        response.n_images = found.count;
        response.images = (Berth__Supervisor__V1__Image **)found.items;
        rc = rpc_call_send(call, &response.base, err);
    }
    service_messages_free(found.items, found.count);
    return rc;
}

static int create(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__CreateImageRequest *request;
    Berth__Supervisor__V1__Image *image = NULL;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if (!request->image)
        rc = berr_set(err, BERR_INVALID, "image is required");
    else
        rc = image_store_create(supervisor->images, namespace, request->image, &image, err);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    if (rc)
        return rc;
    publish(supervisor, namespace, "/images/create", image);
    rc = rpc_call_send(call, &image->base, err);
    berth__supervisor__v1__image__free_unpacked(image, NULL);
    return rc;
}

static int update(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__UpdateImageRequest *request;
    Berth__Supervisor__V1__Image *image = NULL;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if (!request->image)
        rc = berr_set(err, BERR_INVALID, "image is required");
    else
        rc = image_store_update(supervisor->images, namespace, request->image,
                                (const char *const *)request->update_mask, request->n_update_mask,
                                &image, err);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    if (rc)
        return rc;
    publish(supervisor, namespace, "/images/update", image);
    rc = rpc_call_send(call, &image->base, err);
    berth__supervisor__v1__image__free_unpacked(image, NULL);
    return rc;
}

static int delete (struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__Empty response = BERTH__SUPERVISOR__V1__EMPTY__INIT;
    Berth__Supervisor__V1__DeleteImageRequest *request;
    Berth__Supervisor__V1__Image deleted = BERTH__SUPERVISOR__V1__IMAGE__INIT;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = image_store_delete(supervisor->images, namespace, request->name, err)))
        goto out;
    deleted.name = request->name;
    publish(supervisor, namespace, "/images/delete", &deleted);
    if ((rc = service_collect_after_delete(supervisor, request->sync, err)) == 0)
        rc = rpc_call_send(call, &response.base, err);
out:
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

/* ---- Import ---- */

struct import_feed {
    struct rpc_call *call;
    Berth__Supervisor__V1__ImportRequest *first; /* its data goes first */
    Berth__Supervisor__V1__ImportRequest *current;
};

/* import_read_fn: the next non-empty chunk of the tarball. */
static ssize_t next_chunk(void *user, const void **data, struct berr *err)
{
    struct import_feed *feed = user;
    int rc;

    if (feed->first) {
        Berth__Supervisor__V1__ImportRequest *first = feed->first;
        feed->first = NULL;
        if (first->data.len) {
            *data = first->data.data;
            return (ssize_t)first->data.len;
        }
    }
    for (;;) {
        if (feed->current)
            protobuf_c_message_free_unpacked(&feed->current->base, NULL);
        feed->current = NULL;
        if (rpc_call_cancelled(feed->call)) {
            berr_set(err, BERR_CANCELLED, "import: the client went away");
            return -1;
        }
        rc = rpc_call_receive(feed->call, (ProtobufCMessage **)&feed->current, err);
        if (rc == RPC_END_OF_STREAM)
            return 0;
        if (rc)
            return -1;
        if (feed->current->path[0] || feed->current->ref_prefix[0] || feed->current->n_labels) {
            berr_set(err, BERR_INVALID,
                     "import: path, ref_prefix and labels belong in the first message only");
            return -1;
        }
        if (feed->current->data.len) {
            *data = feed->current->data.data;
            return (ssize_t)feed->current->data.len;
        }
    }
}

/* A path import is one message: anything after it is a mistake. */
static int expect_end(struct rpc_call *call, struct berr *err)
{
    ProtobufCMessage *extra = NULL;
    int rc = rpc_call_receive(call, &extra, err);

    if (rc == RPC_END_OF_STREAM)
        return 0;
    if (rc == 0) {
        protobuf_c_message_free_unpacked(extra, NULL);
        return berr_set(err, BERR_INVALID, "import from a path takes no data messages");
    }
    return rc;
}

static int run_import(struct supervisor *supervisor, struct rpc_call *call, const char *namespace,
                      Berth__Supervisor__V1__ImportRequest *first, struct import_result *result,
                      struct berr *err)
{
    struct import_context context = {supervisor->metadata, supervisor->content, supervisor->images,
                                     supervisor->gc};
    struct import_options options = {0};
    struct import_feed feed = {call, first, NULL};
    struct label_set set = {0};
    struct label *labels = NULL;
    int rc;

    if ((rc = service_labels((ProtobufCMessage *const *)first->labels, first->n_labels, &set,
                             &labels, err)))
        goto out;
    options.ref_prefix = first->ref_prefix[0] ? first->ref_prefix : NULL;
    options.labels = labels;
    options.label_count = set.count;
    if (first->path[0]) {
        if (first->data.len)
            rc = berr_set(err, BERR_INVALID, "import: give a path or data, not both");
        else if ((rc = expect_end(call, err)) == 0)
            rc = import_path(&context, namespace, first->path, &options, result, err);
    } else {
        rc = import_stream(&context, namespace, next_chunk, &feed, &options, result, err);
    }
out:
    if (feed.current)
        protobuf_c_message_free_unpacked(&feed.current->base, NULL);
    free(labels);
    label_set_clear(&set);
    return rc;
}

static void publish_imported(struct supervisor *supervisor, const char *namespace,
                             const struct import_result *result)
{
    size_t i;

    for (i = 0; i < result->image_count; i++) {
        const Berth__Supervisor__V1__Image *image = result->images[i];
        /* A new record has one time for both; a retagged one keeps its creation time. */
        bool created = image->created_at && image->updated_at &&
                       image->created_at->seconds == image->updated_at->seconds &&
                       image->created_at->nanos == image->updated_at->nanos;
        publish(supervisor, namespace, created ? "/images/create" : "/images/update", image);
    }
}

static int import_images(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__ImportResponse response = BERTH__SUPERVISOR__V1__IMPORT_RESPONSE__INIT;
    Berth__Supervisor__V1__ImportRequest *first;
    struct import_result result = {0};
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&first, err)))
        return rc;
    rc = run_import(supervisor, call, namespace, first, &result, err);
    protobuf_c_message_free_unpacked(&first->base, NULL);
    if (rc)
        return berr_prefix(err, "import");
    publish_imported(supervisor, namespace, &result);
    response.n_images = result.image_count;
    response.images = result.images;
    rc = rpc_call_send(call, &response.base, err);
    import_result_clear(&result);
    return rc;
}

/* ---- Unpack ---- */

struct unpack_call {
    struct supervisor *supervisor;
    struct rpc_call *call;
    const char *namespace;
};

/* unpack_open_blob: also where a client that went away stops the unpack, between layers. */
static int open_layer(void *context, const char *digest, int *fd_out, struct berr *err)
{
    struct unpack_call *unpack = context;

    if (rpc_call_cancelled(unpack->call))
        return berr_set(err, BERR_CANCELLED, "the client went away");
    return content_store_open_fd(unpack->supervisor->content, unpack->namespace, digest, fd_out,
                                 err);
}

/* A lease on every chain ID of the image, before any exists. */
static int protect_layers(struct supervisor *supervisor, const char *namespace,
                          const struct image_manifest *manifest, char **lease_id, struct berr *err)
{
    static const struct label purpose = {"berth.lease.purpose", "unpack"};
    Berth__Supervisor__V1__Lease *lease;
    size_t i;
    int rc;

    if ((rc = leases_create(supervisor->metadata, namespace, NULL, &purpose, 1, UNPACK_LEASE_EXPIRY,
                            &lease, err)))
        return rc;
    *lease_id = strdup(lease->id);
    berth__supervisor__v1__lease__free_unpacked(lease, NULL);
    if (!*lease_id)
        return berr_set(err, BERR_NOMEM, "unpack: out of memory");
    for (i = 0; i < manifest->layer_count; i++)
        if ((rc = leases_add_resource(supervisor->metadata, namespace, *lease_id, SNAPSHOT_GC_LEASE,
                                      manifest->layers[i].chain_id, err)))
            return rc;
    return 0;
}

/* The config blob keeps the top snapshot, and so the chain under it. */
static int label_config(struct supervisor *supervisor, const char *namespace,
                        const struct image_manifest *manifest, struct berr *err)
{
    Berth__Supervisor__V1__ContentInfo info = BERTH__SUPERVISOR__V1__CONTENT_INFO__INIT;
    Berth__Supervisor__V1__ContentInfo__LabelsEntry label =
        BERTH__SUPERVISOR__V1__CONTENT_INFO__LABELS_ENTRY__INIT;
    Berth__Supervisor__V1__ContentInfo__LabelsEntry *labels[] = {&label};
    static const char *const mask[] = {"labels." SNAPSHOT_GC_REF_LABEL};

    label.key = (char *)SNAPSHOT_GC_REF_LABEL;
    label.value = (char *)manifest->chain_id;
    info.digest = (char *)manifest->config.digest;
    info.n_labels = 1;
    info.labels = labels;
    return content_store_update(supervisor->content, namespace, &info, mask, 1, NULL, err);
}

static int unpack_layers(struct unpack_call *unpack, const struct image_manifest *manifest,
                         char chain_id[DIGEST_STRING_SIZE], struct berr *err)
{
    struct unpack_layer_ref *layers = calloc(manifest->layer_count, sizeof(*layers));
    size_t i;
    int rc;

    if (!layers)
        return berr_set(err, BERR_NOMEM, "unpack: out of memory");
    for (i = 0; i < manifest->layer_count; i++) {
        layers[i].digest = manifest->layers[i].descriptor.digest;
        layers[i].media_type = manifest->layers[i].descriptor.media_type;
        layers[i].diff_id = manifest->layers[i].diff_id;
    }
    rc = unpack_image(unpack->supervisor->snapshotter, unpack->namespace, layers,
                      manifest->layer_count, open_layer, unpack, NULL, chain_id, err);
    free(layers);
    return rc;
}

static int send_unpacked(struct rpc_call *call, const struct image_manifest *manifest,
                         const char *chain_id, struct berr *err)
{
    Berth__Supervisor__V1__UnpackResponse response = BERTH__SUPERVISOR__V1__UNPACK_RESPONSE__INIT;
    char **chain_ids = calloc(manifest->layer_count, sizeof(*chain_ids));
    size_t i;
    int rc;

    if (!chain_ids)
        return berr_set(err, BERR_NOMEM, "unpack: out of memory");
    for (i = 0; i < manifest->layer_count; i++)
        chain_ids[i] = (char *)manifest->layers[i].chain_id;
    response.chain_id = (char *)chain_id;
    response.n_layer_chain_ids = manifest->layer_count;
    response.layer_chain_ids = chain_ids;
    rc = rpc_call_send(call, &response.base, err);
    free(chain_ids);
    return rc;
}

static int check_snapshotter(const char *name, struct berr *err)
{
    if (name[0] && strcmp(name, SNAPSHOTTER_NAME) != 0)
        return berr_set(err, BERR_INVALID,
                        "snapshotter %.64s: only \"" SNAPSHOTTER_NAME "\" exists", name);
    return 0;
}

static int unpack(struct rpc_call *call, void *data, struct berr *err)
{
    struct unpack_call unpack = {.supervisor = data, .call = call};
    Berth__Supervisor__V1__UnpackRequest *request;
    struct image_manifest *manifest = NULL;
    char chain_id[DIGEST_STRING_SIZE] = "", *lease = NULL;
    int rc;

    if ((rc = service_begin(unpack.supervisor, call, &unpack.namespace,
                            (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = service_required(request->name, "name", err)) ||
        (rc = check_snapshotter(request->snapshotter, err)) ||
        (rc = image_store_manifest(unpack.supervisor->images, unpack.namespace, request->name, NULL,
                                   &manifest, err)))
        goto out;
    if (manifest->layer_count == 0) {
        rc = berr_set(err, BERR_INVALID, "image %s has no layers to unpack", request->name);
        goto out;
    }
    if ((rc = protect_layers(unpack.supervisor, unpack.namespace, manifest, &lease, err)) ||
        (rc = unpack_layers(&unpack, manifest, chain_id, err)) ||
        (rc = label_config(unpack.supervisor, unpack.namespace, manifest, err)))
        goto out;
    rc = send_unpacked(call, manifest, chain_id, err);
out:
    if (lease)
        leases_delete(unpack.supervisor->metadata, unpack.namespace, lease, NULL);
    free(lease);
    image_manifest_free(manifest);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

/* ---- Config ---- */

static void descriptor_from(Berth__Supervisor__V1__Descriptor *out,
                            const struct image_descriptor *in)
{
    berth__supervisor__v1__descriptor__init(out);
    out->media_type = in->media_type ? in->media_type : "";
    out->digest = (char *)in->digest;
    out->size = in->size;
}

static int config(struct rpc_call *call, void *data, struct berr *err)
{
    struct supervisor *supervisor = data;
    Berth__Supervisor__V1__ImageConfigResponse response =
        BERTH__SUPERVISOR__V1__IMAGE_CONFIG_RESPONSE__INIT;
    Berth__Supervisor__V1__Descriptor manifest_descriptor, config_descriptor;
    Berth__Supervisor__V1__ImageConfigRequest *request;
    struct image_manifest *manifest = NULL;
    const char *namespace;
    int rc;

    if ((rc = service_begin(supervisor, call, &namespace, (ProtobufCMessage **)&request, err)))
        return rc;
    if ((rc = service_required(request->name, "name", err)) == 0 &&
        (rc = image_store_manifest(supervisor->images, namespace, request->name, NULL, &manifest,
                                   err)) == 0) {
        descriptor_from(&manifest_descriptor, &manifest->manifest);
        descriptor_from(&config_descriptor, &manifest->config);
        response.manifest = &manifest_descriptor;
        response.config = &config_descriptor;
        response.config_json.data = (uint8_t *)manifest->config_json;
        response.config_json.len = manifest->config_size;
        rc = rpc_call_send(call, &response.base, err);
    }
    image_manifest_free(manifest);
    protobuf_c_message_free_unpacked(&request->base, NULL);
    return rc;
}

/* ---- Pull, Push ---- */

static int registry(struct rpc_call *call, void *data, struct berr *err)
{
    const struct rpc_method *method = rpc_call_method(call);

    (void)data;
    return berr_set(err, BERR_UNSUPPORTED,
                    "%s: registry pull and push are not implemented in berth-supervisord yet "
                    "(a later stage); import images with Images.Import",
                    method && method->path ? method->path : "registry");
}

int service_images_register(struct rpc_server *server, struct supervisor *supervisor,
                            struct berr *err)
{
    static const struct {
        int method;
        rpc_handler handler;
    } handlers[] = {
        {BERTH_SUPERVISOR_V1_IMAGES_GET, get},
        {BERTH_SUPERVISOR_V1_IMAGES_LIST, list},
        {BERTH_SUPERVISOR_V1_IMAGES_CREATE, create},
        {BERTH_SUPERVISOR_V1_IMAGES_UPDATE, update},
        {BERTH_SUPERVISOR_V1_IMAGES_DELETE, delete},
        {BERTH_SUPERVISOR_V1_IMAGES_IMPORT, import_images},
        {BERTH_SUPERVISOR_V1_IMAGES_UNPACK, unpack},
        {BERTH_SUPERVISOR_V1_IMAGES_CONFIG, config},
        {BERTH_SUPERVISOR_V1_IMAGES_PULL, registry},
        {BERTH_SUPERVISOR_V1_IMAGES_PUSH, registry},
    };
    size_t i;
    int rc;

    for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
        if ((rc = rpc_server_register(server,
                                      &berth_supervisor_v1_images_methods[handlers[i].method],
                                      handlers[i].handler, supervisor, err)))
            return rc;
    return 0;
}
