/*
 * snapshot_gc: the snapshotter's part in garbage collection (a gc.h hook).
 *
 * Why a hook rather than a collector of its own: what keeps a snapshot
 * (an image's config, a container, a lease) and what a snapshot keeps (the
 * content its labels name) are the content collector's marks, so both must
 * be decided in one run, in one transaction.
 *
 * A snapshot of any kind survives a collection when
 *  - a container of its namespace names it (snapshot_key, snapshotter ""
 *    or "overlayfs");
 *  - an unexpired lease holds it (resource type "snapshots/overlayfs");
 *  - it carries the label "berth.gc.root";
 *  - a label SNAPSHOT_GC_REF_LABEL ("berth.gc.ref.snapshot.overlayfs", or
 *    that key followed by '.' or '/' and anything) names it, on content the
 *    collector keeps (Images.Unpack puts one on the image's config: its top
 *    chain ID), on an image, a container or another kept snapshot;
 *  - a kept snapshot has it as parent;
 *  - it is an "extract-*" active snapshot: an unpack in progress (the
 *    daemon removes those left by a crash when it starts).
 * A kept snapshot's "berth.gc.ref.content.*" labels keep content. The
 * others go: their records in the collection's transaction, their
 * directories (when no other namespace shares them) after it commits.
 */
#ifndef BERTH_SUPERVISOR_SNAPSHOT_GC_H
#define BERTH_SUPERVISOR_SNAPSHOT_GC_H

#include "berr.h"
#include "gc.h"
#include "snapshots.h"

#define SNAPSHOT_GC_REF_LABEL "berth.gc.ref.snapshot." SNAPSHOTTER_NAME
#define SNAPSHOT_GC_LEASE     "snapshots/" SNAPSHOTTER_NAME

/* Registers the hook; gc_close frees it. The snapshotter must outlive gc. */
int snapshot_gc_register(struct gc *gc, struct snapshotter *snapshotter, struct berr *err);

#endif
