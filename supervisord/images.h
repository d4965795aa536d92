/*
 * images: names pointing at a manifest or an index in the content store,
 * and the walk from such a name to what a container needs.
 *
 * Why it looks like this:
 *  - Records are METADATA_IMAGES "NS/NAME" → Image (name, target descriptor,
 *    labels, created/updated), the API's own message. Names are stored as
 *    given, as containerd does; image_reference_normalize gives Docker's
 *    fully qualified form (busybox → docker.io/library/busybox:latest) for
 *    callers that take Docker names, and image_store_resolve looks a name up
 *    as given, then normalised.
 *  - An image is a tree of blobs: an index (per platform) → manifests →
 *    one config and the layers. image_document_parse reads one node of that
 *    tree; the garbage collector and the importer walk it with that.
 *    image_manifest_resolve picks the manifest for a platform (the host's
 *    by default: linux/amd64, linux/arm64/v8, ...), reads the config, and
 *    computes the layers' chain IDs, which is what unpacking into snapshots
 *    needs (one snapshot per chain ID):
 *        chainID(L0) = diffID(L0)
 *        chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln))
 *  - Thread-safe: each call is one LMDB transaction.
 *
 * Image results are heap messages: free them with
 * berth__supervisor__v1__image__free_unpacked(image, NULL).
 */
#ifndef BERTH_SUPERVISOR_IMAGES_H
#define BERTH_SUPERVISOR_IMAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berr.h"
#include "berth/supervisor/v1/images.pb-c.h"
#include "content_store.h"
#include "digest.h"
#include "metadata.h"

#define IMAGE_MEDIA_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define IMAGE_MEDIA_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define IMAGE_MEDIA_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define IMAGE_MEDIA_OCI_LAYER       "application/vnd.oci.image.layer.v1.tar"
#define IMAGE_MEDIA_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define IMAGE_MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define IMAGE_MEDIA_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"
#define IMAGE_MEDIA_DOCKER_LAYER    "application/vnd.docker.image.rootfs.diff.tar"
#define IMAGE_ANNOTATION_NAME       "io.containerd.image.name"
#define IMAGE_ANNOTATION_REF_NAME   "org.opencontainers.image.ref.name"

/* Size limits for the JSON blobs the walk reads into memory. */
#define IMAGE_MANIFEST_MAX (4u << 20)
#define IMAGE_CONFIG_MAX   (16u << 20)

struct image_store;

int image_store_open(struct metadata *metadata, struct content_store *content,
                     struct image_store **out, struct berr *err);
void image_store_close(struct image_store *images);

/* ---- records ---- */

/* BERR_NOT_FOUND when absent. */
int image_store_get(struct image_store *images, const char *namespace, const char *name,
                    Berth__Supervisor__V1__Image **out, struct berr *err);

/* name as given, else its Docker-normalised form ("busybox" finds
 * docker.io/library/busybox:latest). */
int image_store_resolve(struct image_store *images, const char *namespace, const char *name,
                        Berth__Supervisor__V1__Image **out, struct berr *err);

/* Visits images matching filters ("name==X", "target.digest==D",
 * "target.media_type==M", "labels.KEY==VALUE"; see filter.h), in name
 * order. A non-zero return from visit stops the walk and is returned. */
typedef int (*image_store_visit)(const Berth__Supervisor__V1__Image *image, void *user);
int image_store_list(struct image_store *images, const char *namespace, const char *const *filters,
                     size_t filter_count, image_store_visit visit, void *user, struct berr *err);

/* Needs name and target (media type, valid digest). Sets created/updated.
 * BERR_EXISTS when the name is taken. *out (may be NULL): the record. */
int image_store_create(struct image_store *images, const char *namespace,
                       const Berth__Supervisor__V1__Image *image,
                       Berth__Supervisor__V1__Image **out, struct berr *err);

/* Updates the image named image->name. mask: "labels", "labels.KEY",
 * "target"; empty: labels and target both. BERR_NOT_FOUND when absent. */
int image_store_update(struct image_store *images, const char *namespace,
                       const Berth__Supervisor__V1__Image *image, const char *const *mask,
                       size_t mask_count, Berth__Supervisor__V1__Image **out, struct berr *err);

/* BERR_NOT_FOUND when absent. The content stays until the collector runs. */
int image_store_delete(struct image_store *images, const char *namespace, const char *name,
                       struct berr *err);

/* For the importer: creates each image, or points an existing one at the
 * new target and adds the labels given (an import replaces a tag, as
 * `docker load` does). All in one transaction. */
int image_store_create_or_update(struct image_store *images, const char *namespace,
                                 const Berth__Supervisor__V1__Image *const *list, size_t count,
                                 struct berr *err);

/* ---- names ---- */

/* Docker's normalisation: "busybox" → "docker.io/library/busybox:latest",
 * "user/app:1" → "docker.io/user/app:1", "index.docker.io/x" →
 * "docker.io/library/x:latest", "host:5000/x" → "host:5000/x:latest";
 * a digest reference keeps its digest and gets no tag. BERR_INVALID for what
 * Docker refuses (upper case in the path, 64-hex IDs, bad tags). */
int image_reference_normalize(const char *reference, char **out, struct berr *err);

/* ---- platforms ---- */

struct image_platform {
    char os[32];
    char architecture[32];
    char variant[16];
};

/* The running host: linux/amd64, linux/arm64/v8, ... */
void image_platform_host(struct image_platform *out);
/* "os/arch[/variant]" or "arch" (os linux); NULL or "": the host. */
int image_platform_parse(const char *text, struct image_platform *out, struct berr *err);
/* "linux/arm64/v8" */
void image_platform_format(const struct image_platform *platform, char *out, size_t size);
/* True when an image for candidate runs on wanted (same os and architecture;
 * variants normalised, older arm variants run on newer ones). */
bool image_platform_match(const struct image_platform *wanted,
                          const struct image_platform *candidate);

/* ---- the tree of blobs ---- */

bool image_media_type_is_index(const char *media_type);
bool image_media_type_is_manifest(const char *media_type);

struct image_descriptor {
    char *media_type;
    char digest[DIGEST_STRING_SIZE];
    int64_t size;
    bool has_platform;
    struct image_platform platform;
    char *name;     /* annotation io.containerd.image.name, or NULL */
    char *ref_name; /* annotation org.opencontainers.image.ref.name, or NULL */
};

enum image_document_kind {
    IMAGE_DOCUMENT_INDEX,
    IMAGE_DOCUMENT_MANIFEST,
};

/* One parsed index or manifest. */
struct image_document {
    enum image_document_kind kind;
    char *media_type;
    size_t manifest_count; /* an index's entries */
    struct image_descriptor *manifests;
    struct image_descriptor config; /* a manifest's */
    size_t layer_count;
    struct image_descriptor *layers;
};

/* media_type: the descriptor's (may be NULL or unknown; then the document's
 * own mediaType or shape decides). BERR_UNSUPPORTED for other documents
 * (Docker schema 1), BERR_INVALID for malformed ones. */
int image_document_parse(const char *media_type, const char *json, size_t size,
                         struct image_document **out, struct berr *err);
void image_document_free(struct image_document *document);

struct image_layer {
    struct image_descriptor descriptor; /* the blob as stored (maybe compressed) */
    char diff_id[DIGEST_STRING_SIZE];   /* sha256 of the uncompressed tar */
    char chain_id[DIGEST_STRING_SIZE];
};

/* What running an image on one platform needs. */
struct image_manifest {
    struct image_descriptor manifest;
    struct image_descriptor config;
    struct image_platform platform; /* the config's */
    char *config_json;              /* NUL-terminated */
    size_t config_size;
    size_t layer_count;
    struct image_layer *layers;
    char chain_id[DIGEST_STRING_SIZE]; /* the top layer's; "" for no layers */
};

/* From target (an index or a manifest) to the manifest for platform (NULL:
 * the host), its config and layers, read from namespace's content.
 * BERR_NOT_FOUND when no manifest matches the platform or a blob is absent;
 * BERR_INVALID when layers and diff_ids disagree. */
int image_manifest_resolve(struct content_store *content, const char *namespace,
                           const char *target_media_type, const char *target_digest,
                           int64_t target_size, const char *platform, struct image_manifest **out,
                           struct berr *err);

/* The same for an image by name (image_store_resolve's lookup). */
int image_store_manifest(struct image_store *images, const char *namespace, const char *name,
                         const char *platform, struct image_manifest **out, struct berr *err);
void image_manifest_free(struct image_manifest *manifest);

/* Reads an image config: its platform (os, architecture, variant) and its
 * rootfs.diff_ids (malloc'ed, *count of them; NULL when none). */
int image_config_parse(const char *json, size_t size, const char *digest,
                       struct image_platform *platform, char (**diff_ids)[DIGEST_STRING_SIZE],
                       size_t *count, struct berr *err);

/* chain_ids[i] from diff_ids[0..i]. */
int image_chain_ids(const char (*diff_ids)[DIGEST_STRING_SIZE], size_t count,
                    char (*chain_ids)[DIGEST_STRING_SIZE], struct berr *err);

#endif
