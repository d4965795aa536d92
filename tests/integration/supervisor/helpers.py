"""What the service tests share: streaming an image in, writing content
through the Write protocol, mounting a snapshot, asserting gRPC errors."""
import contextlib
import hashlib
import io
import subprocess
import tarfile
import tempfile

import grpc
import pytest

from conftest import content_pb2, images_pb2, leases_pb2, snapshots_pb2, types_pb2

BUSYBOX = "docker.io/library/busybox:latest"
BUSYBOX_ZSTD = "docker.io/library/busybox:latest-zstd"
WRITE = content_pb2.WRITE_ACTION_WRITE
STAT = content_pb2.WRITE_ACTION_STAT
COMMIT = content_pb2.WRITE_ACTION_COMMIT


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def expect_error(code, call, *args, **kwargs):
    """Runs call, which must fail with the gRPC status code; returns the details."""
    with pytest.raises(grpc.RpcError) as error:
        result = call(*args, **kwargs)
        if hasattr(result, "__iter__") and not isinstance(result, (bytes, str)):
            list(result)  # a stream fails while it is read
    assert error.value.code() == code, error.value.details()
    return error.value.details()


def tar_of(directory):
    """The directory's files as an uncompressed tar, names relative to it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(directory.rglob("*")):
            archive.add(str(path), arcname=str(path.relative_to(directory)), recursive=False)
    return buffer.getvalue()


def import_stream(client, data, chunk=256 * 1024, ref_prefix="", labels=None, timeout=120):
    """Images.Import of a tarball streamed in chunks after the options message."""
    def messages():
        yield images_pb2.ImportRequest(ref_prefix=ref_prefix, labels=labels or {})
        for start in range(0, len(data), chunk):
            yield images_pb2.ImportRequest(data=data[start:start + chunk])
    return client.images.Import(messages(), metadata=client.md, timeout=timeout)


def import_busybox(client, busybox_layout):
    response = import_stream(client, tar_of(busybox_layout))
    return sorted(image.name for image in response.images)


def write_requests(ref, chunks, offset=0, total=0, expected="", labels=None, commit=True):
    """Write messages: one WRITE per chunk from offset, then a COMMIT."""
    for chunk in chunks:
        yield content_pb2.WriteContentRequest(action=WRITE, ref=ref, offset=offset, data=chunk,
                                              total=total, expected=expected)
        offset += len(chunk)
    if commit:
        yield content_pb2.WriteContentRequest(action=COMMIT, ref=ref, total=total,
                                              expected=expected, labels=labels or {})


def write_blob(client, data, ref=None, chunk=64 * 1024, labels=None, metadata=None):
    """Writes data through Content.Write in chunks and commits it; returns the responses."""
    ref = ref or "test-" + sha256(data)[7:23]
    chunks = [data[i:i + chunk] for i in range(0, len(data), chunk)] or [b""]
    responses = list(client.content.Write(
        write_requests(ref, chunks, total=len(data), expected=sha256(data), labels=labels),
        metadata=metadata or client.md, timeout=30))
    assert responses[-1].action == COMMIT
    assert responses[-1].digest == sha256(data)
    return responses


def read_blob(client, digest, offset=0, size=0):
    return b"".join(part.data for part in client.content.Read(
        content_pb2.ReadContentRequest(digest=digest, offset=offset, size=size),
        metadata=client.md, timeout=30))


def content_digests(client):
    return {info.digest for response in client.content.List(
        content_pb2.ListContentRequest(), metadata=client.md, timeout=10)
        for info in response.info}


def snapshot_names(client):
    return {info.name for response in client.snapshots.List(
        snapshots_pb2.ListSnapshotsRequest(), metadata=client.md, timeout=10)
        for info in response.info}


def collect(client):
    return client.leases.CollectGarbage(types_pb2.Empty(), metadata=client.md, timeout=60)


def lease(client, lease_id, *resources, expires=0):
    client.leases.Create(leases_pb2.CreateLeaseRequest(id=lease_id, expires_in_seconds=expires),
                         metadata=client.md, timeout=10)
    for kind, resource in resources:
        client.leases.AddResource(leases_pb2.AddResourceRequest(
            id=lease_id, resource=leases_pb2.LeaseResource(id=resource, type=kind)),
            metadata=client.md, timeout=10)


@contextlib.contextmanager
def mounted(mounts, directory):
    """Mounts a snapshot's mounts (in order) on a fresh directory under
    directory; unmounts whatever happens."""
    target = tempfile.mkdtemp(prefix="mnt-", dir=directory)
    done = 0
    try:
        for mount in mounts:
            kind = [] if mount.type == "bind" else ["-t", mount.type]
            subprocess.run(["mount", *kind, "-o", ",".join(mount.options), mount.source, target],
                           check=True, capture_output=True)
            done += 1
        yield target
    finally:
        for _ in range(done):
            subprocess.run(["umount", target], capture_output=True)
