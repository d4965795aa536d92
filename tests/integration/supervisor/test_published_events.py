"""The events the Namespaces, Content, Images and Snapshots services publish,
seen through Events.Subscribe. Skipped while the daemon has no Events
service (it comes from another branch)."""
import queue
import threading
import time

import grpc
import pytest

from conftest import content_pb2, events_pb2, images_pb2, namespaces_pb2, snapshots_pb2
from helpers import BUSYBOX, BUSYBOX_ZSTD, import_busybox, sha256, write_blob


class Recorder:
    """A subscription read by a thread into a queue."""

    def __init__(self, client):
        self.client = client
        self.call = client.events.Subscribe(events_pb2.SubscribeRequest(), timeout=120)
        self.queue = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for envelope in self.call:
                self.queue.put(envelope)
        except grpc.RpcError as error:
            self.queue.put(error)

    def next(self, deadline):
        item = self.queue.get(timeout=max(0.01, deadline - time.monotonic()))
        if isinstance(item, grpc.RpcError):
            if item.code() == grpc.StatusCode.UNIMPLEMENTED:
                pytest.skip("no Events service in this daemon yet")
            if item.code() != grpc.StatusCode.CANCELLED:
                raise item
        return item

    def ready(self):
        """Subscribed: a probe namespace's creation comes through."""
        deadline = time.monotonic() + 10
        for attempt in range(1000):
            name = "probe-%d" % attempt
            self.client.namespaces.Create(namespaces_pb2.CreateNamespaceRequest(
                namespace=namespaces_pb2.Namespace(name=name)), timeout=10)
            try:
                while True:
                    envelope = self.next(min(deadline, time.monotonic() + 0.2))
                    if envelope.topic == "/namespaces/create" and \
                            envelope.namespace_event.name == name:
                        return
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise AssertionError("the subscription never saw an event")

    def expect(self, topic, namespace, **fields):
        """The next event of topic; returns its payload."""
        deadline = time.monotonic() + 10
        while True:
            try:
                envelope = self.next(deadline)
            except queue.Empty:
                raise AssertionError("no %s event with %s" % (topic, fields))
            if envelope.topic != topic:
                continue
            payload = getattr(envelope, envelope.WhichOneof("event"))
            if all(getattr(payload, key) == value for key, value in fields.items()):
                assert envelope.namespace == namespace
                assert envelope.timestamp.seconds > 0
                return payload

    def close(self):
        self.call.cancel()


@pytest.fixture
def events(client):
    recorder = Recorder(client)
    try:
        recorder.ready()
        yield recorder
    finally:
        recorder.close()


def test_namespace_and_content_events(client, events):
    client.namespaces.Create(namespaces_pb2.CreateNamespaceRequest(
        namespace=namespaces_pb2.Namespace(name="watched")), timeout=10)
    events.expect("/namespaces/create", "watched", name="watched")
    client.namespaces.Delete(namespaces_pb2.DeleteNamespaceRequest(name="watched"), timeout=10)
    events.expect("/namespaces/delete", "watched", name="watched")

    data = b"an event when I go"
    write_blob(client, data)
    client.content.Delete(content_pb2.DeleteContentRequest(digest=sha256(data)),
                          metadata=client.md, timeout=10)
    events.expect("/content/delete", "default", digest=sha256(data))


def test_image_events(client, events, busybox_layout):
    import_busybox(client, busybox_layout)
    events.expect("/images/create", "default", name=BUSYBOX)
    events.expect("/images/create", "default", name=BUSYBOX_ZSTD)
    import_busybox(client, busybox_layout)  # a retag
    events.expect("/images/update", "default", name=BUSYBOX)

    target = client.images.Get(images_pb2.GetImageRequest(name=BUSYBOX), metadata=client.md,
                               timeout=10).target
    client.images.Create(images_pb2.CreateImageRequest(image=images_pb2.Image(
        name="mine", target=target, labels={"k": "v"})), metadata=client.md, timeout=10)
    assert dict(events.expect("/images/create", "default", name="mine").labels) == {"k": "v"}
    client.images.Update(images_pb2.UpdateImageRequest(image=images_pb2.Image(
        name="mine", labels={"k": "w"}), update_mask=["labels"]), metadata=client.md, timeout=10)
    assert dict(events.expect("/images/update", "default", name="mine").labels) == {"k": "w"}
    client.images.Delete(images_pb2.DeleteImageRequest(name="mine"), metadata=client.md,
                         timeout=10)
    events.expect("/images/delete", "default", name="mine")


def test_snapshot_events(daemon, events):
    other = daemon.client("snaps")
    S = snapshots_pb2
    other.snapshots.Prepare(S.PrepareSnapshotRequest(key="work"), metadata=other.md, timeout=10)
    events.expect("/snapshot/prepare", "snaps", key="work", parent="")
    other.snapshots.Commit(S.CommitSnapshotRequest(key="work", name="layer"), metadata=other.md,
                           timeout=10)
    events.expect("/snapshot/commit", "snaps", key="work", name="layer")
    other.snapshots.Prepare(S.PrepareSnapshotRequest(key="child", parent="layer"),
                            metadata=other.md, timeout=10)
    events.expect("/snapshot/prepare", "snaps", key="child", parent="layer")
    other.snapshots.Remove(S.RemoveSnapshotRequest(key="child"), metadata=other.md, timeout=10)
    events.expect("/snapshot/remove", "snaps", key="child")
