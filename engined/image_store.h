/*
 * image_store: the engine's view of images, Docker's model over the
 * supervisor's.
 *
 * The supervisor keeps containerd's model: an image is a name pointing at
 * a manifest (or an index of them) in the content store. Docker's model,
 * which the API shows, is different: an image is its config, identified by
 * the config's digest (the image ID, "sha256:..."), and names point at it.
 * This module maps one onto the other:
 *  - Names live in the supervisor (namespace "berth") fully qualified,
 *    "docker.io/library/busybox:latest" or "...busybox@sha256:<manifest>";
 *    the API shows them familiar ("busybox:latest"). Other names are
 *    hidden: they keep an image alive but are not tags. The engine's own
 *    hidden names are IMAGE_DANGLING_PREFIX "@" + the target digest: an
 *    image that lost its last tag but must stay (a container uses it, or a
 *    tag moved away from it, which in Docker leaves the old image
 *    "<none>:<none>") keeps one so the supervisor's collector leaves it.
 *  - Grouping by ID: each name's target leads (Images.Config, then the
 *    manifest through Content.Read) to a config; names whose configs have
 *    the same digest are one image. What a target leads to never changes
 *    (content addressing), so it is cached by target digest.
 *  - Resolving a user's string follows dockerd: a full ID ("sha256:<64
 *    hex>" or 64 hex), a name with or without tag (default "latest"), a
 *    digest reference (a stored name@digest, or a name of the same
 *    repository whose target has that digest), then an unambiguous ID
 *    prefix. A malformed reference is BERR_INVALID; nothing found is
 *    BERR_NOT_FOUND "No such image: busybox:latest" (Docker's wording).
 *
 * Thread-safe: API handlers call it from many threads; the cache has a
 * lock, and image_info objects are immutable and reference counted.
 */
#ifndef BERTH_ENGINED_IMAGE_STORE_H
#define BERTH_ENGINED_IMAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>

#include "berr.h"
#include "digest.h"
#include "grpc_client.h"

#define IMAGE_DANGLING_PREFIX "berth-dangling"
/* Container label the containers API sets: the image ID it was made from. */
#define IMAGE_CONTAINER_LABEL_ID "berth.image.id"

struct image_store;

int image_store_create(struct rpc_client *supervisor, struct image_store **out, struct berr *err);
void image_store_destroy(struct image_store *store);

/* ---- what an image is ---- */

struct image_layer_info {
    char digest[DIGEST_STRING_SIZE]; /* the blob as stored (maybe compressed) */
    char *media_type;
    int64_t size; /* the blob's */
    char diff_id[DIGEST_STRING_SIZE];
    char chain_id[DIGEST_STRING_SIZE];
};

/* Immutable once made; shared (image_info_hold/release). */
struct image_info {
    int references;                  /* internal */
    char id[DIGEST_STRING_SIZE];     /* the config digest: the image ID */
    char target[DIGEST_STRING_SIZE]; /* what the supervisor name points at */
    char manifest[DIGEST_STRING_SIZE];
    char *manifest_media_type;
    int64_t manifest_size;
    int64_t config_size;
    char *config_json; /* NUL-terminated */
    size_t config_length;
    yajl_val config;  /* config_json parsed */
    int64_t created;  /* the config's "created", Unix ns */
    bool has_created; /* false: the config has no (valid) "created" */
    size_t layer_count;
    struct image_layer_info *layers;
    char chain_id[DIGEST_STRING_SIZE]; /* the top layer's; "" for none */
};

void image_info_hold(struct image_info *info);
void image_info_release(struct image_info *info);
/* A string field of the config's "config" object ("User"...), or NULL. */
yajl_val image_info_config_field(const struct image_info *info, const char *field);

/* ---- names ---- */

enum image_name_kind {
    IMAGE_NAME_TAG,    /* docker.io/library/busybox:latest */
    IMAGE_NAME_DIGEST, /* docker.io/library/busybox@sha256:... */
    IMAGE_NAME_HIDDEN, /* berth-dangling@..., or anything not a Docker name */
};
enum image_name_kind image_name_kind(const char *name);

/* ---- listing ---- */

/* One image: its info and every supervisor name pointing at it. */
struct image_entry {
    struct image_info *info;
    size_t name_count;
    char **names;          /* full supervisor names, sorted */
    char **name_targets;   /* each name's target digest */
    int64_t last_tag_time; /* latest update of a tag name, Unix ns */
};

struct image_list {
    size_t count;
    struct image_entry *entries;
};

/* Every image of the engine, grouped by ID. Names whose target cannot be
 * read (content missing) are skipped, with a warning in the log. */
int image_store_list(struct image_store *store, struct image_list *out, struct berr *err);
void image_list_free(struct image_list *list);
/* The entry with this ID, or NULL. */
struct image_entry *image_list_find(const struct image_list *list, const char *id);
/* Tag names of entry (full), or digest names: counts them. */
size_t image_entry_count_names(const struct image_entry *entry, enum image_name_kind kind);

/* ---- lookups ---- */

/* What a user's string names. */
struct image_lookup {
    struct image_info *info;
    char *name;   /* the supervisor name it was found by; by ID, a name of the image */
    char *target; /* that name's target digest */
    bool by_id;   /* the string was an ID or an ID prefix */
    char *wanted; /* the string normalised ("docker.io/library/x:latest"); NULL for IDs */
};

int image_store_lookup(struct image_store *store, const char *text, struct image_lookup *out,
                       struct berr *err);
void image_lookup_free(struct image_lookup *lookup);

/*
 * For the containers API, at container create. Resolves text as
 * image_store_lookup does, unpacks the image's layers into snapshots
 * (Images.Unpack, once per chain ID: a no-op when done before), and gives
 *  - id: the image ID (store it as the container's label
 *    IMAGE_CONTAINER_LABEL_ID, "berth.image.id": the in-use check of
 *    image removal reads it);
 *  - name: the full supervisor name (store it in Container.image);
 *  - config_json: the image config (Docker's / OCI's JSON: config.Env,
 *    Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes, ...);
 *  - chain_id: the top layer's chain ID, the parent to give
 *    Snapshots.Prepare for the container's rootfs ("" for an image
 *    without layers).
 * Errors: BERR_INVALID (malformed name, 400), BERR_NOT_FOUND ("No such
 * image: x:latest", 404: what makes `docker run` pull), others from the
 * supervisor.
 */
struct image_resolved {
    char id[DIGEST_STRING_SIZE];
    char *name;
    char *config_json;
    size_t config_length;
    char chain_id[DIGEST_STRING_SIZE];
};
int image_store_resolve(struct image_store *store, const char *text, struct image_resolved *out,
                        struct berr *err);
void image_resolved_free(struct image_resolved *resolved);

/* ---- who uses an image ---- */

struct image_user {
    char *container_id;
    bool running; /* its task runs (or is paused) */
};

struct image_users {
    size_t count;
    struct image_user *users;
};

/*
 * The containers that use the image: supervisor containers (namespace
 * "berth") labelled IMAGE_CONTAINER_LABEL_ID = id, or, without that label,
 * whose Container.image is one of names. Running means a task in state
 * RUNNING, PAUSED or PAUSING (Docker counts paused containers as running).
 */
int image_store_users(struct image_store *store, const char *id, const char *const *names,
                      size_t name_count, struct image_users *out, struct berr *err);
void image_users_free(struct image_users *users);
/* Shortcut: *in_use when any container uses image id. */
int image_store_in_use(struct image_store *store, const char *id, bool *in_use, struct berr *err);

/* ---- changes ---- */

/* Points full_name at source_name's target (creates or moves the name).
 * When the name moves away from another image whose last name it was,
 * that image is kept, dangling. *replaced: that other image's ID when the
 * name moved between two images (malloc'ed), else NULL. */
int image_store_set_name(struct image_store *store, const char *full_name, const char *source_name,
                         char **replaced, struct berr *err);
/* Deletes a supervisor name. sync: collect garbage before answering. */
int image_store_delete_name(struct image_store *store, const char *name, bool sync,
                            struct berr *err);
/* Makes sure name's target keeps a hidden name (IMAGE_DANGLING_PREFIX@target),
 * so the image stays when its tags go. */
int image_store_keep(struct image_store *store, const char *name, struct berr *err);
/* Unpacks the image reached through name; *chain_id gets the top chain ID. */
int image_store_unpack(struct image_store *store, const char *name,
                       char chain_id[DIGEST_STRING_SIZE], struct berr *err);
/* Bytes the image's layers take: committed snapshots' usage, or the blob
 * size for layers not unpacked. *per_layer (may be NULL) gets each layer's
 * (malloc'ed, layer_count entries). */
int image_store_size(struct image_store *store, const struct image_info *info, int64_t *size,
                     int64_t **per_layer, struct berr *err);
/* The usage of a snapshot by key (container rootfs); BERR_NOT_FOUND. */
int image_store_snapshot_usage(struct image_store *store, const char *key, int64_t *size,
                               struct berr *err);

/* ---- content ---- */

/* Streams a blob: write(user, data, length) for each chunk; a non-zero
 * return stops and is returned. */
typedef int (*image_blob_writer)(void *user, const void *data, size_t length, struct berr *err);
int image_store_read_blob(struct image_store *store, const char *digest, image_blob_writer write,
                          void *user, struct berr *err);
/* A whole small blob (manifests), at most max bytes. */
int image_store_read_small_blob(struct image_store *store, const char *digest, size_t max,
                                char **data, size_t *length, struct berr *err);

/* ---- load ---- */

/* read(user, buffer, size, err): up to size bytes of the tarball; 0 at its
 * end; negative with err set on failure. */
typedef ssize_t (*image_tar_reader)(void *user, void *buffer, size_t size, struct berr *err);

struct image_loaded {
    char *name;     /* full supervisor name */
    char *target;   /* its target */
    char *replaced; /* the target the name had before (another image), or NULL */
};

struct image_load_result {
    size_t count;
    struct image_loaded *images;
};

/* Streams a `docker save` tarball or an OCI layout into Images.Import
 * (unnamed images get IMAGE_DANGLING_PREFIX names), keeps images whose
 * tags moved to the new ones (as dangling), and unpacks what was loaded. */
int image_store_load(struct image_store *store, image_tar_reader read, void *user,
                     struct image_load_result *out, struct berr *err);
void image_load_result_free(struct image_load_result *result);
/* The info behind a target digest of a name (cached). */
int image_store_info(struct image_store *store, const char *name, const char *target,
                     struct image_info **out, struct berr *err);

#endif
