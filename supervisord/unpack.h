/*
 * unpack: image layers (tar streams, gzip / zstd / uncompressed) into
 * snapshots, once per chain ID.
 *
 * unpack_layer applies one layer onto a directory, the upperdir of an
 * active snapshot, converting OCI whiteouts to overlayfs's form as it goes
 * (".wh.NAME" becomes a 0:0 character device NAME, ".wh..wh..opq" the
 * xattr trusted.overlay.opaque="y" on its directory), so the snapshot is
 * ready to be an overlay lower layer without a second pass. It computes the
 * layer's diff ID (sha256 of the uncompressed stream) while it reads.
 *
 * Why so strict: a layer comes from a registry, i.e. from anyone. An entry
 * that is absolute, has a ".." component, or would be created through a
 * symlink leading out of the directory (planted by the same layer, or not)
 * makes the whole layer BERR_INVALID; every create resolves its parent with
 * SAFE_PATH_BENEATH and creates the last component itself without following
 * it, so nothing is ever written outside the directory. Symlinks themselves
 * may point anywhere (they are only followed inside the container's root).
 * A hard link must name an earlier entry of the same layer. Device nodes
 * are refused unless the caller allows them. Extended attributes in the
 * trusted.overlay.* namespace are dropped: they steer overlayfs (redirects,
 * metacopy) and are the unpacker's own to set.
 *
 * unpack_image turns an image's ordered layers into committed snapshots
 * named by chain ID (chainID(L0) = diffID(L0), chainID(Ln) =
 * sha256(chainID(Ln-1) + " " + diffID(Ln))): each missing layer is unpacked
 * into a prepared snapshot, its diff ID checked against the image config's,
 * then committed; a chain ID already committed in the namespace is skipped,
 * and one that another namespace has verified is shared (snapshots.h).
 * Concurrent unpacks of the same layers wait for each other on a lock per
 * chain ID. It reads blobs through a callback, so it does not depend on how
 * the content store keeps them.
 */
#ifndef BERTH_SUPERVISOR_UNPACK_H
#define BERTH_SUPERVISOR_UNPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berr.h"
#include "digest.h"
#include "snapshots.h"

struct unpack_options {
    bool allow_devices; /* character and block device entries (fifos are always fine) */
    /* The layer is the bottom one: whiteouts and opaque markers have nothing
     * to hide, so they are skipped (a 0:0 device would show through a bind
     * mount otherwise). unpack_image sets it for the first layer. */
    bool base_layer;
};

struct unpack_result {
    char diff_id[DIGEST_STRING_SIZE]; /* sha256 of the uncompressed stream */
    uint64_t uncompressed_size;       /* its length */
    uint64_t entries;                 /* tar entries applied */
};

/* Applies the layer read from layer_fd (compression detected) onto the
 * directory directory_fd. On failure the directory holds a partial layer;
 * the caller removes it (unpack_image removes the snapshot). A full disk is
 * BERR_NOSPACE, a hostile or malformed layer BERR_INVALID. The data is on
 * disk (syncfs) when it returns 0. */
int unpack_layer(int directory_fd, int layer_fd, const struct unpack_options *options,
                 struct unpack_result *result, struct berr *err);

/* chain_id_out = chainID of a layer with diff_id on top of parent_chain_id
 * (NULL or "" for the bottom layer). */
int unpack_chain_id(const char *parent_chain_id, const char *diff_id,
                    char chain_id_out[DIGEST_STRING_SIZE], struct berr *err);

/* One layer of an image, as its manifest and config describe it. */
struct unpack_layer_ref {
    const char *digest;     /* the blob's digest (the manifest's layer descriptor) */
    const char *media_type; /* its media type; NULL or "" to detect the compression */
    const char *diff_id;    /* the config's rootfs.diff_ids entry */
};

/* Opens the blob digest for reading: *fd_out is the caller's to close. */
typedef int (*unpack_open_blob)(void *context, const char *digest, int *fd_out, struct berr *err);

/* Told about each layer as unpack_image gets past it, for progress events. */
enum unpack_layer_outcome {
    UNPACK_LAYER_EXISTED,  /* committed in the namespace already */
    UNPACK_LAYER_SHARED,   /* taken from another namespace's verified copy */
    UNPACK_LAYER_UNPACKED, /* unpacked and committed now */
};
typedef void (*unpack_progress)(void *context, size_t index, const char *chain_id,
                                enum unpack_layer_outcome outcome,
                                const struct unpack_result *result /* NULL unless unpacked */);

struct unpack_image_options {
    struct unpack_options layer; /* base_layer is set by unpack_image */
    /* Added to every snapshot it commits (e.g. a GC reference). */
    const struct snapshot_label *labels;
    size_t label_count;
    unpack_progress progress; /* may be NULL */
    void *progress_context;
};

/* Unpacks layers[0..count) (bottom first) into the namespace; the top chain
 * ID, the image's rootfs parent, goes to chain_id_out. On a diff ID
 * mismatch (BERR_INVALID) or any other failure, the failing layer is not
 * committed, nothing above it is, and its partial snapshot is removed;
 * layers below it were verified and stay committed for the next attempt,
 * as in containerd. Media types other than OCI / Docker tar, tar+gzip and
 * tar+zstd layers are BERR_UNSUPPORTED. */
int unpack_image(struct snapshotter *snapshotter, const char *namespace,
                 const struct unpack_layer_ref *layers, size_t count, unpack_open_blob open_blob,
                 void *open_context, const struct unpack_image_options *options,
                 char chain_id_out[DIGEST_STRING_SIZE], struct berr *err);

/* Removes the active snapshots that unpack_image left behind when the
 * process died mid-unpack (in every namespace). Call at startup, before
 * serving requests. */
int unpack_cleanup(struct snapshotter *snapshotter, struct metadata *metadata, struct berr *err);

#endif
