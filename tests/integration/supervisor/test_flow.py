"""The whole orchestrator flow through gRPC alone, as issue 4 describes it:
import the bundled busybox image, unpack it, prepare a snapshot, create a
container on it and a task, start it, read its output from the log, wait
for its exit status, then take everything down again. Plus what must hold
at the edges: a malformed protobuf, and a full disk during an unpack."""
import json
import os
import subprocess

import grpc
import pytest

from conftest import (Daemon, containers_pb2, images_pb2, snapshots_pb2, tasks_pb2, types_pb2,
                      mounts_under)
from helpers import BUSYBOX, expect_error, import_busybox


def busybox_spec(args):
    """A minimal spec of our own (the engine builds richer ones)."""
    return {
        "ociVersion": "1.0.2",
        "process": {"args": args, "cwd": "/", "env": ["PATH=/bin"],
                    "user": {"uid": 0, "gid": 0}},
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "flow",
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {"namespaces": [{"type": t} for t in ("pid", "mount", "ipc", "uts",
                                                        "network")]},
    }


def test_import_unpack_prepare_run_log_wait(daemon, client, busybox_layout):
    names = import_busybox(client, busybox_layout)
    assert BUSYBOX in names
    chain = client.images.Unpack(images_pb2.UnpackRequest(name=BUSYBOX), metadata=client.md,
                                 timeout=120).chain_id
    client.snapshots.Prepare(snapshots_pb2.PrepareSnapshotRequest(key="flow-rootfs",
                                                                  parent=chain),
                             metadata=client.md, timeout=30)
    spec = busybox_spec(["sh", "-c", "echo hello from $(hostname); exit 3"])
    client.containers.Create(containers_pb2.CreateContainerRequest(
        container=containers_pb2.Container(id="flow", image=BUSYBOX, snapshotter="overlayfs",
                                           snapshot_key="flow-rootfs",
                                           spec=json.dumps(spec).encode())),
        metadata=client.md, timeout=10)
    log_path = os.path.join(daemon.directory, "flow.log")
    client.tasks.Create(tasks_pb2.CreateTaskRequest(container_id="flow",
                                                    io=tasks_pb2.IO(log_path=log_path)),
                        metadata=client.md, timeout=30)
    client.tasks.Start(tasks_pb2.StartRequest(container_id="flow"), metadata=client.md,
                       timeout=10)
    waited = client.tasks.Wait(tasks_pb2.WaitRequest(container_id="flow"), metadata=client.md,
                               timeout=30)
    assert waited.exit_status == 3
    with open(log_path) as log:
        lines = [json.loads(line) for line in log]
    assert [(line["stream"], line["log"]) for line in lines] == [("stdout",
                                                                  "hello from flow\n")]
    client.tasks.Delete(tasks_pb2.DeleteTaskRequest(container_id="flow"), metadata=client.md,
                        timeout=10)
    assert mounts_under(daemon.state) == []
    client.containers.Delete(containers_pb2.DeleteContainerRequest(id="flow"),
                             metadata=client.md, timeout=10)
    client.snapshots.Remove(snapshots_pb2.RemoveSnapshotRequest(key="flow-rootfs"),
                            metadata=client.md, timeout=10)


def test_malformed_protobuf_is_invalid_argument(client):
    for method in ("/berth.supervisor.v1.Containers/Create", "/berth.supervisor.v1.Tasks/Start",
                   "/berth.supervisor.v1.Images/Get"):
        call = client.channel.unary_unary(method, request_serializer=lambda raw: raw,
                                          response_deserializer=lambda raw: raw)
        with pytest.raises(grpc.RpcError) as error:
            call(b"\xff\xff\xff\xff\x0f garbage", metadata=client.md, timeout=10)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT, method


def test_full_disk_during_unpack(build_dir, busybox_layout):
    """The daemon's root on a tmpfs with room for the image's blobs but not
    for its unpacked layer: Unpack fails cleanly, nothing half-written stays,
    and the daemon goes on serving."""
    daemon = Daemon(build_dir)
    os.makedirs(daemon.root)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", daemon.root], check=True)
    try:
        daemon.start()
        client = daemon.client()
        import_busybox(client, busybox_layout)
        # Fill what is left, bar a little, so the unpack runs out of room.
        statvfs = os.statvfs(daemon.root)
        free = statvfs.f_bavail * statvfs.f_frsize
        with open(os.path.join(daemon.root, "filler"), "wb") as filler:
            filler.write(b"\0" * max(0, free - 256 * 1024))
        details = expect_error(grpc.StatusCode.RESOURCE_EXHAUSTED, client.images.Unpack,
                               images_pb2.UnpackRequest(name=BUSYBOX), metadata=client.md,
                               timeout=120)
        assert "space" in details.lower()
        snapshots = [info for response in client.snapshots.List(
            snapshots_pb2.ListSnapshotsRequest(), metadata=client.md, timeout=10)
            for info in response.info]
        assert snapshots == []
        os.unlink(os.path.join(daemon.root, "filler"))
        # With room again, the same unpack works.
        chain = client.images.Unpack(images_pb2.UnpackRequest(name=BUSYBOX),
                                     metadata=client.md, timeout=120).chain_id
        assert chain.startswith("sha256:")
        assert client.version.Version(types_pb2.Empty(), timeout=5).version
    finally:
        daemon.destroy()  # also unmounts the tmpfs, which is under its directory
