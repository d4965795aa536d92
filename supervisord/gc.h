/*
 * gc: mark-and-sweep garbage collection of content (and, through hooks, of
 * whatever else a subsystem keeps, such as snapshots).
 *
 * Why mark-and-sweep over reference counts: references live in several
 * places (image targets, the manifests inside blobs, labels, leases, the
 * snapshotter's records) and are written by several modules; counting them
 * everywhere would be fragile. One pass that recomputes reachability is
 * simple and always right.
 *
 * Roots, per namespace:
 *  - every image's target, and everything reachable from it: an index's
 *    manifests (all platforms), a manifest's config and layers;
 *  - content labelled "berth.gc.root" (any value);
 *  - the resources of leases that have not expired (expired leases are
 *    deleted by the collection);
 *  - "berth.gc.ref.content.<anything>" = DIGEST labels on images,
 *    containers and marked content (content → content edges), and whatever
 *    a registered hook marks (the snapshotter marks the content its
 *    snapshots' labels name with gc_mark_label).
 * Content reached only through a label or a lease is not parsed: only
 * images' targets are walked as manifests.
 *
 * Hooks mark in rounds: after every hook's mark the marks are propagated
 * (manifests walked, labels followed), and when that marked anything new,
 * every hook marks again, until nothing changes. So a hook may decide what
 * it keeps from the content marked so far (gc_content_marked: the
 * snapshotter keeps the snapshots that marked image configs name), and what
 * it keeps may mark more content. A hook's mark must therefore be
 * idempotent: each round recomputes from scratch.
 *
 * Sweep: every content record not marked is deleted, then every blob file
 * that no record of any namespace names (which also clears files a crash
 * left between a rename and its record). Ingests are not touched. The run
 * is one LMDB write transaction under the content store's blobs lock, so no
 * commit can slip between mark and sweep; hooks run inside it and must use
 * the transaction they are given (they must not begin their own).
 *
 * Scheduling: gc_collect runs now, in the caller's thread; gc_schedule asks
 * a background thread (started on first use, stopped by gc_close) for a
 * collection a little later, so several deletions in a row cost one run.
 */
#ifndef BERTH_SUPERVISOR_GC_H
#define BERTH_SUPERVISOR_GC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berr.h"
#include "content_store.h"
#include "metadata.h"

#define GC_LABEL_ROOT        "berth.gc.root"
#define GC_LABEL_REF_CONTENT "berth.gc.ref.content."

struct gc;
struct gc_mark; /* one run's marks, for hooks */

struct gc_result {
    int64_t removed_content;   /* records */
    int64_t removed_blobs;     /* files */
    int64_t removed_snapshots; /* what hooks report */
    int64_t removed_leases;    /* expired */
    int64_t freed_bytes;
};

/* A subsystem's part in a collection (any callback may be NULL). */
struct gc_hook {
    const char *name;
    /* Mark phase: gc_mark_content/gc_mark_label for the content it holds;
     * gc_leased tells what leases protect of its own resources. */
    int (*mark)(struct gc_mark *mark, struct metadata_txn *txn, void *user, struct berr *err);
    /* Sweep phase, same transaction: delete its unreferenced records. */
    int (*sweep)(struct gc_mark *mark, struct metadata_txn *txn, void *user,
                 struct gc_result *result, struct berr *err);
    /* After the transaction: committed says whether the records went; a
     * hook removes the files of what it swept only then. */
    void (*finish)(void *user, bool committed);
    void *user;
    /* At gc_close: frees user. */
    void (*destroy)(void *user);
};

int gc_open(struct metadata *metadata, struct content_store *content, struct gc **out,
            struct berr *err);
/* Stops the scheduler thread (a pending collection is dropped), destroys the hooks. */
void gc_close(struct gc *gc);

/* Hooks are registered at start-up, before collections run. */
int gc_register(struct gc *gc, const struct gc_hook *hook, struct berr *err);

/* A full collection over every namespace. result may be NULL. */
int gc_collect(struct gc *gc, struct gc_result *result, struct berr *err);

/* A full collection in the background, delay_ms from now (or sooner when
 * one is already due): what deletions call. Failures are logged. */
void gc_schedule(struct gc *gc, unsigned delay_ms);

/* Collects only the given digests of namespace, when nothing references
 * them: an importer's clean-up of what it wrote but did not use. */
int gc_collect_content(struct gc *gc, const char *namespace, const char *const *digests,
                       size_t count, struct gc_result *result, struct berr *err);

/* For hooks. */
int gc_mark_content(struct gc_mark *mark, const char *namespace, const char *digest);
/* Marks value when key starts with "berth.gc.ref.content."; others are ignored. */
int gc_mark_label(struct gc_mark *mark, const char *namespace, const char *key, const char *value);
/* True when an unexpired lease holds resource of type ("snapshots/overlayfs"). */
bool gc_leased(const struct gc_mark *mark, const char *namespace, const char *type,
               const char *resource);
/* True when namespace's digest is marked so far (it survives the run). */
bool gc_content_marked(const struct gc_mark *mark, const char *namespace, const char *digest);

#endif
