"""The Snapshots service: prepare, write through the mounts, commit, build
on a parent, views, records, usage, and what it refuses."""
import os

import grpc

from conftest import snapshots_pb2
from helpers import expect_error, mounted, snapshot_names

NOT_FOUND = grpc.StatusCode.NOT_FOUND
INVALID = grpc.StatusCode.INVALID_ARGUMENT
CONFLICT = grpc.StatusCode.FAILED_PRECONDITION
S = snapshots_pb2


def prepare(client, key, parent="", **labels):
    return client.snapshots.Prepare(S.PrepareSnapshotRequest(key=key, parent=parent,
                                                             labels=labels),
                                    metadata=client.md, timeout=10).mounts


def commit(client, name, key):
    client.snapshots.Commit(S.CommitSnapshotRequest(name=name, key=key), metadata=client.md,
                            timeout=10)


def stat(client, key):
    return client.snapshots.Stat(S.StatSnapshotRequest(key=key), metadata=client.md, timeout=10)


def remove(client, key):
    client.snapshots.Remove(S.RemoveSnapshotRequest(key=key), metadata=client.md, timeout=10)


def write_file(daemon, mounts, name, data):
    with mounted(mounts, daemon.directory) as root:
        with open(os.path.join(root, name), "wb") as file:
            file.write(data)


def test_layers_prepare_write_commit_and_stack(daemon, client):
    mounts = prepare(client, "base-work", team="a")
    assert [m.type for m in mounts] == ["bind"]
    assert "rw" in mounts[0].options and os.path.isabs(mounts[0].source)
    write_file(daemon, mounts, "base.txt", b"from the base")
    commit(client, "base", "base-work")
    assert stat(client, "base").kind == S.SNAPSHOT_KIND_COMMITTED
    assert stat(client, "base").labels["team"] == "a"
    expect_error(NOT_FOUND, stat, client, "base-work")

    mounts = prepare(client, "top-work", parent="base")
    assert [m.type for m in mounts] == ["overlay"]
    assert any(o.startswith("lowerdir=") for o in mounts[0].options)
    with mounted(mounts, daemon.directory) as root:
        assert open(os.path.join(root, "base.txt"), "rb").read() == b"from the base"
        with open(os.path.join(root, "top.txt"), "wb") as file:
            file.write(b"on top")
    # Mounts gives the same again.
    again = client.snapshots.Mounts(S.MountsRequest(key="top-work"), metadata=client.md,
                                    timeout=10).mounts
    assert list(again) == list(mounts)
    commit(client, "top", "top-work")
    assert stat(client, "top").parent == "base"

    view = client.snapshots.View(S.ViewSnapshotRequest(key="look", parent="top"),
                                 metadata=client.md, timeout=10).mounts
    with mounted(view, daemon.directory) as root:
        assert sorted(os.listdir(root)) == ["base.txt", "top.txt"]
        assert os.statvfs(root).f_flag & os.ST_RDONLY
    assert stat(client, "look").kind == S.SNAPSHOT_KIND_VIEW
    usage = client.snapshots.Usage(S.UsageRequest(key="top"), metadata=client.md, timeout=10)
    assert usage.size > 0 and usage.inodes >= 2

    # Parents go last.
    expect_error(CONFLICT, remove, client, "top")
    remove(client, "look")
    expect_error(CONFLICT, remove, client, "base")
    remove(client, "top")
    remove(client, "base")
    assert snapshot_names(client) == set()


def test_list_filters_and_update(client):
    prepare(client, "one", color="red")
    prepare(client, "two", color="blue")
    commit(client, "two-done", "two")

    def names(*filters):
        return sorted(info.name for response in client.snapshots.List(
            S.ListSnapshotsRequest(filters=list(filters)), metadata=client.md, timeout=10)
            for info in response.info)
    assert names() == ["one", "two-done"]
    assert names("kind==committed") == ["two-done"]
    assert names("labels.color==red") == ["one"]
    updated = client.snapshots.Update(S.UpdateSnapshotRequest(
        info=S.SnapshotInfo(name="one", labels={"size": "big"}), update_mask=["labels.size"]),
        metadata=client.md, timeout=10)
    assert dict(updated.labels) == {"color": "red", "size": "big"}
    updated = client.snapshots.Update(S.UpdateSnapshotRequest(
        info=S.SnapshotInfo(name="one", labels={"only": "this"})), metadata=client.md, timeout=10)
    assert dict(updated.labels) == {"only": "this"}
    expect_error(INVALID, client.snapshots.Update, S.UpdateSnapshotRequest(
        info=S.SnapshotInfo(name="one", parent="x"), update_mask=["parent"]),
        metadata=client.md, timeout=10)
    expect_error(INVALID, client.snapshots.Update, S.UpdateSnapshotRequest(),
                 metadata=client.md, timeout=10)


def test_list_filters_read_as_containerd_does(client):
    """Each field of containerd's snapshot adaptor, and its matcher's rules:
    parent always present ("" for none), kind in lower case, != true of a
    missing label, unknown fields absent rather than errors."""
    prepare(client, "base-work", **{"team": "a", "com.example/role": "base"})
    commit(client, "base", "base-work")
    prepare(client, "mid-work", parent="base", team="b")
    commit(client, "mid", "mid-work")
    prepare(client, "top", parent="mid")
    client.snapshots.View(S.ViewSnapshotRequest(key="look", parent="base"), metadata=client.md,
                          timeout=10)

    def names(*filters):
        return sorted(info.name for response in client.snapshots.List(
            S.ListSnapshotsRequest(filters=list(filters)), metadata=client.md, timeout=10)
            for info in response.info)
    every = ["base", "look", "mid", "top"]
    assert names() == every
    assert names("name==mid") == ["mid"]
    assert names("name==top", "name==look") == ["look", "top"]
    assert names("name~=^(ba|mi)") == ["base", "mid"]
    assert names("name~=/^(ba|mi)/") == ["base", "mid"]
    assert names("name~=|o|") == ["look", "top"]
    assert names("parent==base") == ["look", "mid"]
    assert names('parent==""') == ["base"]
    assert names("parent") == every
    assert names("kind==committed") == ["base", "mid"]
    assert names("kind==view") == ["look"]
    assert names("kind==active") == ["top"]
    assert names("kind==Committed") == []
    assert names("kind!=committed") == ["look", "top"]
    assert names("labels.team") == ["base", "mid"]
    assert names("labels.team!=a") == ["look", "mid", "top"]
    assert names("kind==committed,labels.team==b") == ["mid"]
    assert names('labels."com.example/role"==base') == ["base"]
    assert names("labels.com.example/role==base") == ["base"]
    assert names("bogus==1") == []
    assert names("bogus!=1") == every
    for bad in ['name=="open', "name~=/open", r'name~=/a\.b/', "name~=(", "name=x"]:
        expect_error(INVALID, names, bad)


def test_bad_requests_change_nothing(client):
    prepare(client, "active")
    expect_error(INVALID, client.snapshots.Prepare, S.PrepareSnapshotRequest(),
                 metadata=client.md, timeout=10)
    expect_error(INVALID, client.snapshots.Prepare, S.PrepareSnapshotRequest(
        key="x", snapshotter="zfs"), metadata=client.md, timeout=10)
    expect_error(NOT_FOUND, client.snapshots.Prepare, S.PrepareSnapshotRequest(
        key="x", parent="missing"), metadata=client.md, timeout=10)
    expect_error(INVALID, client.snapshots.Prepare, S.PrepareSnapshotRequest(
        key="x", parent="active"), metadata=client.md, timeout=10)
    expect_error(grpc.StatusCode.ALREADY_EXISTS, client.snapshots.Prepare,
                 S.PrepareSnapshotRequest(key="active"), metadata=client.md, timeout=10)
    expect_error(INVALID, client.snapshots.Prepare, S.PrepareSnapshotRequest(
        key="x", labels={"": "v"}), metadata=client.md, timeout=10)
    expect_error(INVALID, client.snapshots.Prepare, S.PrepareSnapshotRequest(
        key="k" * 1000), metadata=client.md, timeout=10)
    expect_error(NOT_FOUND, client.snapshots.Commit, S.CommitSnapshotRequest(
        name="n", key="missing"), metadata=client.md, timeout=10)
    expect_error(INVALID, client.snapshots.Commit, S.CommitSnapshotRequest(key="active"),
                 metadata=client.md, timeout=10)
    expect_error(NOT_FOUND, client.snapshots.Remove, S.RemoveSnapshotRequest(key="missing"),
                 metadata=client.md, timeout=10)
    expect_error(NOT_FOUND, client.snapshots.Stat, S.StatSnapshotRequest(key="missing"),
                 metadata=client.md, timeout=10)
    expect_error(NOT_FOUND, client.snapshots.Usage, S.UsageRequest(key="missing"),
                 metadata=client.md, timeout=10)
    commit(client, "done", "active")
    expect_error(CONFLICT, client.snapshots.Mounts, S.MountsRequest(key="done"),
                 metadata=client.md, timeout=10)
    prepare(client, "view-base")
    expect_error(grpc.StatusCode.ALREADY_EXISTS, client.snapshots.Commit,
                 S.CommitSnapshotRequest(name="done", key="view-base"), metadata=client.md,
                 timeout=10)
    client.snapshots.View(S.ViewSnapshotRequest(key="v", parent="done"), metadata=client.md,
                          timeout=10)
    expect_error(CONFLICT, client.snapshots.Commit, S.CommitSnapshotRequest(name="w", key="v"),
                 metadata=client.md, timeout=10)
    assert snapshot_names(client) == {"done", "view-base", "v"}


def test_namespaces_do_not_see_each_other(daemon):
    first, second = daemon.client("ns-one"), daemon.client("ns-two")
    prepare(first, "mine")
    commit(first, "layer", "mine")
    assert snapshot_names(second) == set()
    expect_error(NOT_FOUND, stat, second, "layer")
    expect_error(NOT_FOUND, prepare, second, "child", parent="layer")
    expect_error(NOT_FOUND, remove, second, "layer")
    # The same key in the other namespace is another snapshot.
    prepare(second, "layer")
    assert stat(second, "layer").kind == S.SNAPSHOT_KIND_ACTIVE
    assert stat(first, "layer").kind == S.SNAPSHOT_KIND_COMMITTED
