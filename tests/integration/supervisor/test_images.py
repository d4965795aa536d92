"""The Images service: import (streamed and from a path), records, config,
unpack into snapshots, and what it refuses."""
import json
import os
import threading

import grpc

from conftest import content_pb2, images_pb2, leases_pb2, snapshots_pb2, types_pb2, wait_until
from helpers import (BUSYBOX, BUSYBOX_ZSTD, content_digests, expect_error, import_busybox,
                     import_stream, mounted, snapshot_names, tar_of)

NOT_FOUND = grpc.StatusCode.NOT_FOUND
INVALID = grpc.StatusCode.INVALID_ARGUMENT


def image_names(client, *filters):
    return sorted(image.name for image in client.images.List(
        images_pb2.ListImagesRequest(filters=list(filters)), metadata=client.md,
        timeout=10).images)


def test_import_streamed_tar_then_list_and_get(client, busybox_layout):
    assert import_busybox(client, busybox_layout) == [BUSYBOX, BUSYBOX_ZSTD]
    assert image_names(client) == [BUSYBOX, BUSYBOX_ZSTD]
    image = client.images.Get(images_pb2.GetImageRequest(name=BUSYBOX), metadata=client.md,
                              timeout=10)
    assert image.target.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert image.target.digest.startswith("sha256:") and image.target.size > 0
    assert image.created_at.seconds > 0
    assert image_names(client, "name==" + BUSYBOX_ZSTD) == [BUSYBOX_ZSTD]
    # Everything the images need is content of the namespace now.
    assert image.target.digest in content_digests(client)


def test_import_again_retags_and_keeps_content(client, busybox_layout):
    import_busybox(client, busybox_layout)
    before = content_digests(client)
    response = import_stream(client, tar_of(busybox_layout), labels={"batch": "2"})
    assert {image.labels["batch"] for image in response.images} == {"2"}
    assert content_digests(client) == before


def test_import_from_a_path_on_the_host(client, busybox_layout):
    response = client.images.Import(iter([images_pb2.ImportRequest(
        path=str(busybox_layout))]), metadata=client.md, timeout=60)
    assert sorted(image.name for image in response.images) == [BUSYBOX, BUSYBOX_ZSTD]


def test_import_refuses_garbage_and_leaves_nothing(client, busybox_layout):
    data = tar_of(busybox_layout)
    expect_error(INVALID, import_stream, client, b"this is not a tarball" * 1000)
    # A truncated tarball: the blobs that did arrive are collected again.
    expect_error(INVALID, import_stream, client, data[:len(data) // 2])
    assert image_names(client) == []
    assert content_digests(client) == set()
    # Options belong in the first message; a path and data do not mix.
    messages = [images_pb2.ImportRequest(), images_pb2.ImportRequest(data=data[:1024],
                                                                     ref_prefix="late")]
    expect_error(INVALID, client.images.Import, iter(messages), metadata=client.md, timeout=30)
    messages = [images_pb2.ImportRequest(path=str(busybox_layout), data=b"x")]
    expect_error(INVALID, client.images.Import, iter(messages), metadata=client.md, timeout=30)
    expect_error(NOT_FOUND, client.images.Import,
                 iter([images_pb2.ImportRequest(path="/nonexistent/layout")]),
                 metadata=client.md, timeout=30)
    assert image_names(client) == []


def test_a_cancelled_import_leaves_nothing(client, busybox_layout):
    data = tar_of(busybox_layout)
    sent, release = threading.Event(), threading.Event()

    def messages():
        yield images_pb2.ImportRequest()
        yield images_pb2.ImportRequest(data=data[:len(data) // 2])
        sent.set()
        release.wait(30)  # then nothing more: the client gives up
    call = client.images.Import.future(messages(), metadata=client.md, timeout=60)
    assert sent.wait(10)
    wait_until(lambda: content_digests(client), timeout=15, what="the first blobs to arrive")
    call.cancel()
    release.set()
    wait_until(lambda: not content_digests(client) and not client.leases.List(
        leases_pb2.ListLeasesRequest(), metadata=client.md, timeout=10).leases, timeout=15,
        what="the cancelled import to clean up")
    assert image_names(client) == []


def test_config_is_the_platform_config(client, busybox_layout):
    import_busybox(client, busybox_layout)
    response = client.images.Config(images_pb2.ImageConfigRequest(name=BUSYBOX),
                                    metadata=client.md, timeout=10)
    config = json.loads(response.config_json)
    assert config["os"] == "linux"
    assert config["rootfs"]["type"] == "layers"
    assert response.config.digest in content_digests(client)
    assert response.manifest.media_type == "application/vnd.oci.image.manifest.v1+json"
    # Short Docker names resolve for the reading calls.
    short = client.images.Config(images_pb2.ImageConfigRequest(name="busybox"),
                                 metadata=client.md, timeout=10)
    assert short.config.digest == response.config.digest
    expect_error(NOT_FOUND, client.images.Config, images_pb2.ImageConfigRequest(name="nope"),
                 metadata=client.md, timeout=10)


def test_unpack_then_mount_a_view_and_read_busybox(daemon, client, busybox_layout):
    import_busybox(client, busybox_layout)
    unpacked = client.images.Unpack(images_pb2.UnpackRequest(name=BUSYBOX), metadata=client.md,
                                    timeout=120)
    assert unpacked.chain_id.startswith("sha256:")
    assert unpacked.layer_chain_ids[-1] == unpacked.chain_id
    info = client.snapshots.Stat(snapshots_pb2.StatSnapshotRequest(key=unpacked.chain_id),
                                 metadata=client.md, timeout=10)
    assert info.kind == snapshots_pb2.SNAPSHOT_KIND_COMMITTED
    # The config now names the snapshot, which keeps it from the collector.
    config = client.images.Config(images_pb2.ImageConfigRequest(name=BUSYBOX),
                                  metadata=client.md, timeout=10).config
    labels = client.content.Info(content_pb2.InfoRequest(digest=config.digest),
                                 metadata=client.md, timeout=10).labels
    assert labels["berth.gc.ref.snapshot.overlayfs"] == unpacked.chain_id
    # No unpack lease is left behind.
    assert not client.leases.List(leases_pb2.ListLeasesRequest(), metadata=client.md,
                                  timeout=10).leases

    view = client.snapshots.View(snapshots_pb2.ViewSnapshotRequest(
        key="busybox-view", parent=unpacked.chain_id), metadata=client.md, timeout=10)
    with mounted(view.mounts, daemon.directory) as root:
        with open(os.path.join(root, "bin", "busybox"), "rb") as binary:
            assert binary.read(4) == b"\x7fELF"
        assert os.statvfs(root).f_flag & os.ST_RDONLY
    client.snapshots.Remove(snapshots_pb2.RemoveSnapshotRequest(key="busybox-view"),
                            metadata=client.md, timeout=10)

    # Again: the chain ID is there already; the zstd variant has the same layers.
    again = client.images.Unpack(images_pb2.UnpackRequest(name=BUSYBOX_ZSTD,
                                                          snapshotter="overlayfs"),
                                 metadata=client.md, timeout=60)
    assert again.chain_id == unpacked.chain_id
    assert snapshot_names(client) == {unpacked.chain_id}


def test_unpack_refuses_bad_requests(client, busybox_layout):
    expect_error(INVALID, client.images.Unpack, images_pb2.UnpackRequest(), metadata=client.md,
                 timeout=10)
    expect_error(NOT_FOUND, client.images.Unpack, images_pb2.UnpackRequest(name="missing"),
                 metadata=client.md, timeout=10)
    import_busybox(client, busybox_layout)
    expect_error(INVALID, client.images.Unpack,
                 images_pb2.UnpackRequest(name=BUSYBOX, snapshotter="btrfs"), metadata=client.md,
                 timeout=10)
    assert snapshot_names(client) == set()


def test_create_update_delete(client, busybox_layout):
    import_busybox(client, busybox_layout)
    target = client.images.Get(images_pb2.GetImageRequest(name=BUSYBOX), metadata=client.md,
                               timeout=10).target
    created = client.images.Create(images_pb2.CreateImageRequest(image=images_pb2.Image(
        name="example.com/mine:1", target=target, labels={"a": "1"})), metadata=client.md,
        timeout=10)
    assert created.labels["a"] == "1" and created.created_at.seconds > 0
    expect_error(grpc.StatusCode.ALREADY_EXISTS, client.images.Create,
                 images_pb2.CreateImageRequest(image=images_pb2.Image(
                     name="example.com/mine:1", target=target)), metadata=client.md, timeout=10)
    updated = client.images.Update(images_pb2.UpdateImageRequest(
        image=images_pb2.Image(name="example.com/mine:1", labels={"b": "2"}),
        update_mask=["labels.b"]), metadata=client.md, timeout=10)
    assert dict(updated.labels) == {"a": "1", "b": "2"}
    client.images.Delete(images_pb2.DeleteImageRequest(name="example.com/mine:1"),
                         metadata=client.md, timeout=10)
    expect_error(NOT_FOUND, client.images.Get, images_pb2.GetImageRequest(
        name="example.com/mine:1"), metadata=client.md, timeout=10)
    expect_error(NOT_FOUND, client.images.Delete, images_pb2.DeleteImageRequest(
        name="example.com/mine:1"), metadata=client.md, timeout=10)


def test_record_calls_refuse_bad_input(client):
    expect_error(INVALID, client.images.Create, images_pb2.CreateImageRequest(),
                 metadata=client.md, timeout=10)
    expect_error(INVALID, client.images.Create, images_pb2.CreateImageRequest(
        image=images_pb2.Image(name="x")), metadata=client.md, timeout=10)
    expect_error(INVALID, client.images.Create, images_pb2.CreateImageRequest(
        image=images_pb2.Image(name="x", target=types_pb2.Descriptor(
            media_type="application/vnd.oci.image.manifest.v1+json", digest="sha256:nothex",
            size=1))), metadata=client.md, timeout=10)
    expect_error(INVALID, client.images.Get, images_pb2.GetImageRequest(), metadata=client.md,
                 timeout=10)
    expect_error(NOT_FOUND, client.images.Update, images_pb2.UpdateImageRequest(
        image=images_pb2.Image(name="missing")), metadata=client.md, timeout=10)
    assert image_names(client) == []


def test_namespaces_do_not_see_each_other(daemon, busybox_layout):
    first, second = daemon.client("team-a"), daemon.client("team-b")
    import_busybox(first, busybox_layout)
    assert image_names(second) == []
    expect_error(NOT_FOUND, second.images.Get, images_pb2.GetImageRequest(name=BUSYBOX),
                 metadata=second.md, timeout=10)
    expect_error(NOT_FOUND, second.images.Unpack, images_pb2.UnpackRequest(name=BUSYBOX),
                 metadata=second.md, timeout=10)
    assert content_digests(second) == set()
    bad = daemon.client("Bad Namespace")
    expect_error(INVALID, bad.images.List, images_pb2.ListImagesRequest(), metadata=bad.md,
                 timeout=10)


def test_pull_and_push_say_they_are_not_there_yet(client):
    details = expect_error(grpc.StatusCode.UNIMPLEMENTED, client.images.Pull,
                           images_pb2.PullRequest(reference="busybox"), metadata=client.md,
                           timeout=10)
    assert "not implemented" in details and "Import" in details
    expect_error(grpc.StatusCode.UNIMPLEMENTED, client.images.Push,
                 images_pb2.PushRequest(name="busybox"), metadata=client.md, timeout=10)
