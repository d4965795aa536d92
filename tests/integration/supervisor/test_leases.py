"""The Leases service, and garbage collection: what keeps content and
snapshots, and what goes when an image or a lease does."""
import time

import grpc

from conftest import images_pb2, leases_pb2, snapshots_pb2, wait_until
from helpers import (BUSYBOX, BUSYBOX_ZSTD, collect, content_digests, expect_error,
                     import_busybox, lease, sha256, snapshot_names, write_blob)

L = leases_pb2
S = snapshots_pb2
NOT_FOUND = grpc.StatusCode.NOT_FOUND
INVALID = grpc.StatusCode.INVALID_ARGUMENT
SNAPSHOT = "snapshots/overlayfs"


def resources(client, lease_id):
    return sorted((r.type, r.id) for r in client.leases.ListResources(
        L.ListResourcesRequest(id=lease_id), metadata=client.md, timeout=10).resources)


def lease_ids(client, *filters):
    return sorted(l.id for l in client.leases.List(L.ListLeasesRequest(filters=list(filters)),
                                                   metadata=client.md, timeout=10).leases)


def delete_lease(client, lease_id, sync=True):
    client.leases.Delete(L.DeleteLeaseRequest(id=lease_id, sync=sync), metadata=client.md,
                         timeout=30)


# ---- the Leases service ----

def test_create_list_resources_delete(client):
    made = client.leases.Create(L.CreateLeaseRequest(id="pull", labels={"by": "test"},
                                                     expires_in_seconds=3600),
                                metadata=client.md, timeout=10)
    assert made.id == "pull" and made.expires_in_seconds == 3600 and made.created_at.seconds
    anonymous = client.leases.Create(L.CreateLeaseRequest(), metadata=client.md, timeout=10)
    assert anonymous.id
    assert lease_ids(client) == sorted(["pull", anonymous.id])
    assert lease_ids(client, "labels.by==test") == ["pull"]
    digest = sha256(b"anything")
    for kind, resource in [("content", digest), (SNAPSHOT, "some-key")]:
        client.leases.AddResource(L.AddResourceRequest(
            id="pull", resource=L.LeaseResource(id=resource, type=kind)), metadata=client.md,
            timeout=10)
    assert resources(client, "pull") == [("content", digest), (SNAPSHOT, "some-key")]
    client.leases.DeleteResource(L.DeleteResourceRequest(
        id="pull", resource=L.LeaseResource(id="some-key", type=SNAPSHOT)), metadata=client.md,
        timeout=10)
    assert resources(client, "pull") == [("content", digest)]
    delete_lease(client, "pull", sync=False)
    assert lease_ids(client) == [anonymous.id]


def test_bad_requests(client):
    lease(client, "exists")
    expect_error(grpc.StatusCode.ALREADY_EXISTS, client.leases.Create,
                 L.CreateLeaseRequest(id="exists"), metadata=client.md, timeout=10)
    expect_error(INVALID, client.leases.Create, L.CreateLeaseRequest(id="a/b"),
                 metadata=client.md, timeout=10)
    expect_error(INVALID, client.leases.Create, L.CreateLeaseRequest(expires_in_seconds=-1),
                 metadata=client.md, timeout=10)
    expect_error(NOT_FOUND, client.leases.Delete, L.DeleteLeaseRequest(id="missing"),
                 metadata=client.md, timeout=10)
    add = client.leases.AddResource
    expect_error(NOT_FOUND, add, L.AddResourceRequest(id="missing", resource=L.LeaseResource(
        id=sha256(b"x"), type="content")), metadata=client.md, timeout=10)
    expect_error(INVALID, add, L.AddResourceRequest(id="exists"), metadata=client.md, timeout=10)
    expect_error(INVALID, add, L.AddResourceRequest(id="exists", resource=L.LeaseResource(
        id="not-a-digest", type="content")), metadata=client.md, timeout=10)
    expect_error(INVALID, add, L.AddResourceRequest(id="exists", resource=L.LeaseResource(
        id="k", type="snapshots/zfs")), metadata=client.md, timeout=10)
    expect_error(INVALID, add, L.AddResourceRequest(id="exists", resource=L.LeaseResource(
        id="k", type="volumes")), metadata=client.md, timeout=10)
    expect_error(NOT_FOUND, client.leases.DeleteResource, L.DeleteResourceRequest(
        id="exists", resource=L.LeaseResource(id="k", type=SNAPSHOT)), metadata=client.md,
        timeout=10)
    expect_error(NOT_FOUND, client.leases.ListResources, L.ListResourcesRequest(id="missing"),
                 metadata=client.md, timeout=10)
    assert resources(client, "exists") == []


def test_leases_are_per_namespace(daemon):
    first, second = daemon.client("lease-a"), daemon.client("lease-b")
    lease(first, "mine")
    assert lease_ids(second) == []
    expect_error(NOT_FOUND, second.leases.Delete, L.DeleteLeaseRequest(id="mine"),
                 metadata=second.md, timeout=10)
    lease(second, "mine")  # the same id elsewhere is another lease


# ---- collection: content ----

def test_unreferenced_content_goes_and_leased_content_stays(client):
    loose, held, root = b"nobody wants me", b"a lease holds me", b"a root"
    write_blob(client, loose)
    lease(client, "hold")
    write_blob(client, held, metadata=client.md + (("berth-lease", "hold"),))
    write_blob(client, root, labels={"berth.gc.root": "yes"})
    result = collect(client)
    assert result.removed_content == 1 and result.freed_bytes >= len(loose)
    assert content_digests(client) == {sha256(held), sha256(root)}
    delete_lease(client, "hold")  # sync: collected before the answer
    assert content_digests(client) == {sha256(root)}


def test_content_labels_reference_content(client):
    child, parent = b"referenced", b"referencing"
    write_blob(client, child)
    write_blob(client, parent, labels={"berth.gc.root": "1",
                                       "berth.gc.ref.content.x": sha256(child)})
    collect(client)
    assert content_digests(client) == {sha256(child), sha256(parent)}


def test_an_expired_lease_protects_nothing(client):
    data = b"short-lived"
    lease(client, "brief", ("content", sha256(data)), expires=3)
    created = client.leases.List(L.ListLeasesRequest(), metadata=client.md,
                                 timeout=10).leases[0].created_at.seconds
    write_blob(client, data)
    collect(client)
    assert sha256(data) in content_digests(client)
    time.sleep(max(0.0, created + 3.1 - time.time()))
    collect(client)
    assert content_digests(client) == set()
    assert lease_ids(client) == []


# ---- collection: images and their snapshots ----

def unpack(client, name):
    return client.images.Unpack(images_pb2.UnpackRequest(name=name), metadata=client.md,
                                timeout=120).chain_id


def test_an_image_keeps_its_content_and_snapshots(client, busybox_layout):
    import_busybox(client, busybox_layout)
    chain = unpack(client, BUSYBOX)
    before = content_digests(client)
    result = collect(client)
    assert result.removed_content == 0 and result.removed_snapshots == 0
    assert content_digests(client) == before
    assert snapshot_names(client) == {chain}

    # The zstd tag shares the config and so the snapshot: deleting the gzip
    # tag takes only what is its own (manifest, gzip layer).
    client.images.Delete(images_pb2.DeleteImageRequest(name=BUSYBOX, sync=True),
                         metadata=client.md, timeout=60)
    assert snapshot_names(client) == {chain}
    left = content_digests(client)
    assert 0 < len(left) < len(before)

    client.images.Delete(images_pb2.DeleteImageRequest(name=BUSYBOX_ZSTD, sync=True),
                         metadata=client.md, timeout=60)
    assert content_digests(client) == set()
    assert snapshot_names(client) == set()


def test_delete_without_sync_collects_soon_after(client, busybox_layout):
    import_busybox(client, busybox_layout)
    unpack(client, BUSYBOX)
    for name in (BUSYBOX, BUSYBOX_ZSTD):
        client.images.Delete(images_pb2.DeleteImageRequest(name=name), metadata=client.md,
                             timeout=10)
    wait_until(lambda: not content_digests(client) and not snapshot_names(client), timeout=15,
               what="the scheduled collection")


def test_what_keeps_a_snapshot(client, busybox_layout):
    import_busybox(client, busybox_layout)
    chain = unpack(client, BUSYBOX)
    prepare = client.snapshots.Prepare
    # Kept: a child of a kept snapshot's chain under a lease, a root label,
    # a label reference from a kept snapshot; gone: the rest.
    lease(client, "work", (SNAPSHOT, "leased"))
    prepare(S.PrepareSnapshotRequest(key="leased", parent=chain), metadata=client.md, timeout=10)
    prepare(S.PrepareSnapshotRequest(key="rooted", labels={"berth.gc.root": "x"}),
            metadata=client.md, timeout=10)
    prepare(S.PrepareSnapshotRequest(key="named-base"), metadata=client.md, timeout=10)
    client.snapshots.Commit(S.CommitSnapshotRequest(name="named", key="named-base"),
                            metadata=client.md, timeout=10)
    client.snapshots.Update(S.UpdateSnapshotRequest(info=S.SnapshotInfo(
        name="rooted", labels={"berth.gc.ref.snapshot.overlayfs.extra": "named"}),
        update_mask=["labels.berth.gc.ref.snapshot.overlayfs.extra"]), metadata=client.md,
        timeout=10)
    prepare(S.PrepareSnapshotRequest(key="orphan"), metadata=client.md, timeout=10)
    client.snapshots.View(S.ViewSnapshotRequest(key="orphan-view", parent="named"),
                          metadata=client.md, timeout=10)

    # Content a kept snapshot's label names stays with it.
    data = b"checkpoint of the leased snapshot"
    write_blob(client, data)
    client.snapshots.Update(S.UpdateSnapshotRequest(info=S.SnapshotInfo(
        name="leased", labels={"berth.gc.ref.content.checkpoint": sha256(data)}),
        update_mask=["labels.berth.gc.ref.content.checkpoint"]), metadata=client.md, timeout=10)

    result = collect(client)
    assert result.removed_snapshots == 2
    assert snapshot_names(client) == {chain, "leased", "rooted", "named"}
    assert sha256(data) in content_digests(client)

    # Without the image the layer still stays: the leased snapshot builds on it.
    for name in (BUSYBOX, BUSYBOX_ZSTD):
        client.images.Delete(images_pb2.DeleteImageRequest(name=name, sync=True),
                             metadata=client.md, timeout=60)
    assert chain in snapshot_names(client)
    delete_lease(client, "work")
    assert snapshot_names(client) == {"rooted", "named"}
    assert content_digests(client) == set()


def test_collection_counts_and_namespaces(daemon, busybox_layout):
    first, second = daemon.client("gc-a"), daemon.client("gc-b")
    import_busybox(first, busybox_layout)
    write_blob(second, b"loose in b")
    result = collect(first)  # every namespace at once
    assert result.removed_content == 1
    assert content_digests(second) == set()
    assert len(content_digests(first)) == 5  # two manifests, a config, two layers
