/*
 * snapshots: berth-supervisord's overlayfs snapshotter, containerd's model.
 *
 * A snapshot is a directory ROOT/snapshots/<id>/ with fs/ (the files) and
 * work/ (overlayfs's scratch space), and a record in the metadata store
 * (table METADATA_SNAPSHOTS, key NAMESPACE/KEY). Snapshots have a kind:
 *  - committed: read-only, usable as a parent; an image layer is one,
 *    named by its chain ID;
 *  - active: writable, made by Prepare on top of an optional committed
 *    parent; a container's rootfs, or a layer being unpacked; Commit turns
 *    it into a committed snapshot without copying (the same directory);
 *  - view: a read-only look at a committed parent (View).
 * An active or view snapshot is used through its mounts: an overlay with
 * lowerdir = the parent chain (top first) and, for an active, upperdir =
 * its own fs/ and workdir = its work/; with no parent, a bind mount of its
 * own fs/ (read-only for a view); a view of a single committed layer is a
 * read-only bind of that layer.
 *
 * Why every change is one LMDB transaction: the record is the truth. A
 * snapshot's directory is made before its record is committed, so a crash
 * in between leaves a directory no record names; snapshotter_open removes
 * such orphans (and the half-removed directories of Remove) before anyone
 * uses the snapshotter. Directory ids come from a counter in the same
 * transaction and are never reused.
 *
 * Namespaces: every record belongs to one namespace, and a namespace sees
 * and changes only its own (containerd's rule). The directories of
 * committed layers are shared, though, when that is safe: when unpack.c has
 * verified a layer's content against its chain ID (snapshot_commit_chain),
 * the directory is listed in a global index, and another namespace that
 * needs the same chain ID gets its own record for the same directory
 * (snapshot_share_chain) instead of unpacking it again. Directories are
 * reference counted and removed with their last record. Snapshots that a
 * client commits itself are never shared: only the unpacker knows that a
 * directory's content is what its name says. (containerd instead keeps one
 * copy per namespace unless a label asks for sharing; a chain ID verified
 * by the daemon is the stronger guarantee.)
 *
 * Every function takes the namespace (a valid namespace name) and returns
 * 0 or a berr code: BERR_NOT_FOUND for a missing key or parent,
 * BERR_EXISTS for a key taken, BERR_INVALID for a parent that is not
 * committed or a bad argument, BERR_CONFLICT for an operation on the wrong
 * kind (Commit of a view, Mounts of a committed snapshot) or a Remove of a
 * snapshot with children. All functions are safe to call from many threads.
 */
#ifndef BERTH_SUPERVISOR_SNAPSHOTS_H
#define BERTH_SUPERVISOR_SNAPSHOTS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "berr.h"
#include "metadata.h"
#include "mount.h"

/* The name clients use in the requests' snapshotter field. */
#define SNAPSHOTTER_NAME "overlayfs"

/* The overlay holds at most this many lower layers (the kernel's limit). */
#define SNAPSHOT_MAX_DEPTH 500

/* The values of proto SnapshotKind, so handlers can cast. */
enum snapshot_kind {
    SNAPSHOT_KIND_UNKNOWN = 0,
    SNAPSHOT_KIND_VIEW = 1,
    SNAPSHOT_KIND_ACTIVE = 2,
    SNAPSHOT_KIND_COMMITTED = 3,
};

struct snapshot_label {
    char *key;
    char *value;
};

struct snapshot_info {
    char *name;   /* the key (active, view) or the name (committed) */
    char *parent; /* "" when none */
    enum snapshot_kind kind;
    struct snapshot_label *labels;
    size_t label_count;
    struct timespec created_at;
    struct timespec updated_at;
};

/* Frees the members of info (not info itself) and zeroes it. */
void snapshot_info_free(struct snapshot_info *info);
void snapshot_info_array_free(struct snapshot_info *infos, size_t count);

struct snapshot_usage {
    int64_t size;   /* bytes allocated, du-like */
    int64_t inodes; /* hard links counted once */
};

struct snapshotter;

/* Opens the snapshotter of the daemon root `root` (snapshots live in
 * ROOT/snapshots, made if missing) over the daemon's metadata store, which
 * stays the caller's and must outlive the snapshotter. Removes orphan
 * directories (see above), so call it before serving requests. root must
 * not contain ',', ':' or '\' (they would need escaping in mount options). */
int snapshotter_open(const char *root, struct metadata *metadata, struct snapshotter **out,
                     struct berr *err);
void snapshotter_close(struct snapshotter *snapshotter);

/* ROOT/snapshots (absolute), for messages and tests. */
const char *snapshotter_directory(const struct snapshotter *snapshotter);

/* Prepare: a new active snapshot `key` on top of the committed `parent`
 * (NULL or "" for none), with labels; its mounts go to mounts_out (may be
 * NULL; free with mount_list_free). */
int snapshot_prepare(struct snapshotter *snapshotter, const char *namespace, const char *key,
                     const char *parent, const struct snapshot_label *labels, size_t label_count,
                     struct mount_list *mounts_out, struct berr *err);

/* View: like Prepare, but the snapshot and its mounts are read-only. */
int snapshot_view(struct snapshotter *snapshotter, const char *namespace, const char *key,
                  const char *parent, const struct snapshot_label *labels, size_t label_count,
                  struct mount_list *mounts_out, struct berr *err);

/* The mounts of an active or view snapshot. */
int snapshot_mounts(struct snapshotter *snapshotter, const char *namespace, const char *key,
                    struct mount_list *mounts_out, struct berr *err);

/* Commit: the active snapshot `key` becomes the committed snapshot `name`
 * (same directory, same parent); `key` is gone afterwards. labels replace
 * the active's labels when label_count > 0. Unmount it first. */
int snapshot_commit(struct snapshotter *snapshotter, const char *namespace, const char *name,
                    const char *key, const struct snapshot_label *labels, size_t label_count,
                    struct berr *err);

/* Removes a snapshot of any kind; BERR_CONFLICT while another snapshot of
 * the namespace has it as parent. The directory goes with its last record. */
int snapshot_remove(struct snapshotter *snapshotter, const char *namespace, const char *key,
                    struct berr *err);

/* Free out with snapshot_info_free. */
int snapshot_stat(struct snapshotter *snapshotter, const char *namespace, const char *key,
                  struct snapshot_info *out, struct berr *err);

/* Update: only labels change. info->name names the snapshot. fieldpaths
 * (proto update_mask): "labels" replaces all labels with info's,
 * "labels.KEY" sets KEY to info's value or removes it when info has none;
 * no fieldpaths means "labels". The updated info goes to out (may be NULL). */
int snapshot_update(struct snapshotter *snapshotter, const char *namespace,
                    const struct snapshot_info *info, const char *const *fieldpaths,
                    size_t fieldpath_count, struct snapshot_info *out, struct berr *err);

/* List: the snapshots of the namespace that match any of filters (all when
 * there are none), in key order; filters as filter.h reads them, on the
 * fields name, parent ("" for none: present all the same, as in
 * containerd), kind (active, view or committed) and labels.KEY.
 * *infos_out is malloc'ed; free with snapshot_info_array_free. */
int snapshot_list(struct snapshotter *snapshotter, const char *namespace,
                  const char *const *filters, size_t filter_count, struct snapshot_info **infos_out,
                  size_t *count_out, struct berr *err);

/* Usage of the snapshot's own fs/ (not its parents): walked now for active
 * and view snapshots, measured once at commit for committed ones. */
int snapshot_usage(struct snapshotter *snapshotter, const char *namespace, const char *key,
                   struct snapshot_usage *out, struct berr *err);

/* ---- for unpack.c ---- */

/* The fs/ directory (malloc'ed absolute path) of an active snapshot: where
 * a layer is unpacked (the overlay's upperdir). */
int snapshot_active_directory(struct snapshotter *snapshotter, const char *namespace,
                              const char *key, char **path_out, struct berr *err);

/* Like snapshot_commit, and records that the directory holds the verified
 * content of chain ID `name`, so other namespaces may share it. */
int snapshot_commit_chain(struct snapshotter *snapshotter, const char *namespace, const char *name,
                          const char *key, const struct snapshot_label *labels, size_t label_count,
                          struct berr *err);

/* If some namespace has a verified directory for chain_id, commits it in
 * namespace as chain_id on top of parent (NULL or "" for none); otherwise
 * BERR_NOT_FOUND. */
int snapshot_share_chain(struct snapshotter *snapshotter, const char *namespace,
                         const char *chain_id, const char *parent,
                         const struct snapshot_label *labels, size_t label_count, struct berr *err);

/* ---- for the garbage collector (snapshot_gc.c) ---- */

/* Visits every snapshot of every namespace in txn, in key order; info is
 * valid during the call. A non-zero return stops the walk and is returned. */
typedef int (*snapshot_walk_visit)(const char *namespace, const struct snapshot_info *info,
                                   void *user);
int snapshot_walk(struct metadata_txn *txn, snapshot_walk_visit visit, void *user,
                  struct berr *err);

/* Removes the record namespace/key inside the caller's write transaction,
 * children or not (the collector removes a snapshot only with all its
 * children). *directory_out: the directory to delete with
 * snapshot_remove_directory once txn has committed, 0 when other records
 * still use it. */
int snapshot_remove_txn(struct metadata_txn *txn, const char *namespace, const char *key,
                        uint64_t *directory_out, struct berr *err);
void snapshot_remove_directory(struct snapshotter *snapshotter, uint64_t directory);

/* A lock per name, across namespaces (unpack takes one per chain ID so that
 * concurrent unpacks of one layer wait for each other instead of racing).
 * Blocks while another thread holds name. */
int snapshotter_lock(struct snapshotter *snapshotter, const char *name, struct berr *err);
void snapshotter_unlock(struct snapshotter *snapshotter, const char *name);

#endif
