/*
 * import: load an OCI image layout or a `docker save` tarball into the
 * content store and name its images.
 *
 * Accepted inputs:
 *  - an OCI image layout: a directory, or a tar of one (oci-layout,
 *    index.json, blobs/sha256/...), possibly gzip/zstd/xz compressed;
 *  - a `docker save` tarball: manifest.json + config + layers, either the
 *    legacy layout ("<id>/layer.tar", "<config hex>.json") or Docker 25's,
 *    which is an OCI layout with a manifest.json beside it.
 * from a path on this host, an open fd, or a stream of chunks pulled from a
 * callback (what the gRPC handler feeds from ImportRequest.data).
 *
 * Why it looks like this:
 *  - A tarball is read once, front to back (a stream cannot seek): every
 *    regular file goes straight through the content store's verified
 *    commit (blobs/sha256/<hex> and <hex>.json against the digest their name
 *    claims), and the small JSON documents are kept in memory. Naming and
 *    checking happen after the last entry.
 *  - The tarball itself is hostile input: an absolute path, a ".."
 *    component, a hard link, a device or fifo, or a symbolic link refuses the
 *    whole import (BERR_INVALID). The one link accepted is the legacy
 *    format's "<id>/layer.tar" → "../<id2>/layer.tar" alias for a layer
 *    saved twice; it is resolved by name, never followed on disk (nothing
 *    is ever extracted to disk).
 *  - A lease (leases.h, 24 hours) holds every blob from its commit until
 *    the images are recorded, so a concurrent collection cannot take them;
 *    the lease is deleted at the end, and the blobs this import added that
 *    no image references are collected (gc_collect_content). On failure
 *    the same clean-up removes everything the import added: nothing is
 *    left behind.
 *  - Names: an index entry's "io.containerd.image.name" annotation, else
 *    its "org.opencontainers.image.ref.name" (a full reference as is, a
 *    bare tag as REF_PREFIX:TAG when a prefix is given), plus manifest.json
 *    RepoTags (normalised: busybox:latest → docker.io/library/busybox:latest).
 *    A manifest with no name at all becomes "REF_PREFIX@DIGEST" ("import@..."
 *    without a prefix), so it is not collected. An existing image of the same
 *    name is pointed at the new target, as `docker load` retags.
 *  - Legacy tarballs have no manifest: one is synthesised (Docker schema 2,
 *    layers typed application/vnd.docker.image.rootfs.diff.tar[.gzip|.zstd]
 *    by their first bytes), and uncompressed layers are checked against the
 *    config's diff_ids.
 *  - Every image must be complete (its manifest for this host's platform,
 *    or for every platform present, with config and layers); manifests of
 *    other platforms may be absent, as in a single-platform `docker save`
 *    of a multi-platform image.
 */
#ifndef BERTH_SUPERVISOR_IMPORT_H
#define BERTH_SUPERVISOR_IMPORT_H

#include <stddef.h>
#include <sys/types.h>

#include "berr.h"
#include "berth/supervisor/v1/images.pb-c.h"
#include "content_store.h"
#include "gc.h"
#include "images.h"
#include "labels.h"
#include "metadata.h"

/* What an import works with. */
struct import_context {
    struct metadata *metadata;
    struct content_store *content;
    struct image_store *images;
    struct gc *gc;
};

struct import_options {
    const char *ref_prefix;     /* for layouts whose names are bare tags; may be NULL */
    const struct label *labels; /* given to every image */
    size_t label_count;
};

struct import_result {
    size_t image_count;
    Berth__Supervisor__V1__Image **images; /* as recorded */
};
void import_result_clear(struct import_result *result);

/* A directory (an OCI layout, or an unpacked docker save) or a tarball. */
int import_path(const struct import_context *context, const char *namespace, const char *path,
                const struct import_options *options, struct import_result *result,
                struct berr *err);

/* A tarball read from fd to its end. */
int import_fd(const struct import_context *context, const char *namespace, int fd,
              const struct import_options *options, struct import_result *result, struct berr *err);

/* A tarball in chunks: read points *data at the next chunk and returns its
 * size, 0 at the end, or -1 with err set (the import fails with that error).
 * The chunk must stay valid until the next call. */
typedef ssize_t (*import_read_fn)(void *user, const void **data, struct berr *err);
int import_stream(const struct import_context *context, const char *namespace, import_read_fn read,
                  void *user, const struct import_options *options, struct import_result *result,
                  struct berr *err);

#endif
