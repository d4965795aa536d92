"""The Content service: the Write protocol (chunks, resume after a dropped
stream, verification), reads at offsets, records, ingests, isolation."""
import os
import queue
import threading

import grpc

from conftest import content_pb2, leases_pb2
from helpers import (COMMIT, STAT, WRITE, content_digests, expect_error, lease, read_blob,
                     sha256, write_blob, write_requests)

NOT_FOUND = grpc.StatusCode.NOT_FOUND
INVALID = grpc.StatusCode.INVALID_ARGUMENT


def status(client, ref):
    return client.content.Status(content_pb2.StatusRequest(ref=ref), metadata=client.md,
                                 timeout=10).status


class Session:
    """A Write stream driven one message at a time."""

    def __init__(self, client):
        self.requests = queue.Queue()
        self.call = client.content.Write(iter(self.requests.get, None), metadata=client.md,
                                         timeout=30)

    def send(self, **fields):
        self.requests.put(content_pb2.WriteContentRequest(**fields))
        return next(self.call)

    def close(self):
        self.requests.put(None)
        return list(self.call)


def test_write_in_chunks_then_read_back(client):
    data = os.urandom(300 * 1024 + 17)
    responses = write_blob(client, data, ref="chunks", chunk=100 * 1024, labels={"kind": "test"})
    assert [r.action for r in responses] == [WRITE] * 4 + [COMMIT]
    assert [r.offset for r in responses[:4]] == [100 * 1024, 200 * 1024, 300 * 1024, len(data)]
    assert all(r.total == len(data) for r in responses)
    info = client.content.Info(content_pb2.InfoRequest(digest=sha256(data)), metadata=client.md,
                               timeout=10)
    assert info.size == len(data) and info.labels["kind"] == "test"
    assert read_blob(client, sha256(data)) == data
    assert read_blob(client, sha256(data), offset=1000) == data[1000:]
    assert read_blob(client, sha256(data), offset=1000, size=5000) == data[1000:6000]
    assert read_blob(client, sha256(data), offset=len(data)) == b""
    # The ingest is gone once committed.
    expect_error(NOT_FOUND, client.content.Status, content_pb2.StatusRequest(ref="chunks"),
                 metadata=client.md, timeout=10)


def test_read_streams_chunks_of_at_most_one_mebibyte(client):
    data = os.urandom(2 * 1024 * 1024 + 5)
    write_blob(client, data, chunk=1024 * 1024)
    parts = list(client.content.Read(content_pb2.ReadContentRequest(digest=sha256(data)),
                                     metadata=client.md, timeout=30))
    assert [len(p.data) for p in parts] == [1024 * 1024, 1024 * 1024, 5]
    assert [p.offset for p in parts] == [0, 1024 * 1024, 2 * 1024 * 1024]


def test_resume_after_a_dropped_stream(client):
    data = os.urandom(500 * 1024)
    first = Session(client)
    assert first.send(action=STAT, ref="resume", total=len(data), expected=sha256(data)).offset == 0
    assert first.send(action=WRITE, ref="resume", offset=0, data=data[:200 * 1024]).offset == \
        200 * 1024
    first.call.cancel()  # the client goes away mid-write

    # Status shows the ingest, and a new stream resumes it where it stopped.
    assert status(client, "resume").offset == 200 * 1024
    assert status(client, "resume").expected == sha256(data)
    statuses = client.content.ListStatuses(content_pb2.ListStatusesRequest(),
                                           metadata=client.md, timeout=10).statuses
    assert [s.ref for s in statuses] == ["resume"]
    second = Session(client)
    stat = second.send(action=STAT, ref="resume")
    assert stat.offset == 200 * 1024 and stat.total == len(data)
    assert stat.started_at.seconds > 0
    assert second.send(action=WRITE, offset=stat.offset, data=data[stat.offset:]).offset == \
        len(data)
    committed = second.send(action=COMMIT)
    assert committed.digest == sha256(data) and committed.offset == len(data)
    assert second.close() == []
    assert read_blob(client, sha256(data)) == data


def test_commit_verifies_size_and_digest(client):
    data = b"some bytes to verify" * 100
    details = expect_error(INVALID, lambda: list(client.content.Write(
        write_requests("verify", [data], expected=sha256(b"other")), metadata=client.md,
        timeout=10)))
    assert "sha256" in details
    # The ingest stays for another try (or an abort).
    assert status(client, "verify").offset == len(data)
    expect_error(INVALID, lambda: list(client.content.Write(
        iter([content_pb2.WriteContentRequest(action=COMMIT, ref="verify", total=len(data) + 1)]),
        metadata=client.md, timeout=10)))
    client.content.Abort(content_pb2.AbortRequest(ref="verify"), metadata=client.md, timeout=10)
    expect_error(NOT_FOUND, client.content.Status, content_pb2.StatusRequest(ref="verify"),
                 metadata=client.md, timeout=10)
    expect_error(NOT_FOUND, client.content.Abort, content_pb2.AbortRequest(ref="verify"),
                 metadata=client.md, timeout=10)
    assert content_digests(client) == set()


def test_write_refuses_bad_messages(client):
    def write(*messages):
        return lambda: list(client.content.Write(iter(messages), metadata=client.md, timeout=10))
    Request = content_pb2.WriteContentRequest
    expect_error(INVALID, write(Request(action=WRITE, data=b"no ref")))
    expect_error(INVALID, write(Request(action=WRITE, ref="gap", offset=10, data=b"x")))
    expect_error(INVALID, write(Request(action=STAT, ref="other", total=5),
                                Request(action=WRITE, ref="else", data=b"x")))
    expect_error(INVALID, write(Request(action=STAT, ref="total", total=5),
                                Request(action=WRITE, ref="total", total=6, data=b"x")))
    expect_error(INVALID, write(Request(action=7, ref="action")))
    expect_error(INVALID, write(Request(action=STAT, ref="badexpect", expected="sha256:zz")))
    expect_error(grpc.StatusCode.UNIMPLEMENTED,
                 write(Request(action=STAT, ref="md5", expected="md5:" + "0" * 32)))
    expect_error(INVALID, write(Request(action=STAT, ref="r" * 300)))
    expect_error(INVALID, write(Request(action=COMMIT, ref="label", data=b"x",
                                        labels={"": "empty key"})))
    expect_error(INVALID, write())
    # Nothing committed, and the bad label wrote no data.
    assert content_digests(client) == set()
    assert status(client, "label").offset == 0


def test_oversized_messages_and_labels_are_refused(client):
    huge = content_pb2.WriteContentRequest(action=WRITE, ref="huge", data=b"x" * (17 << 20))
    expect_error(grpc.StatusCode.RESOURCE_EXHAUSTED,
                 lambda: list(client.content.Write(iter([huge]), metadata=client.md, timeout=30)))
    expect_error(NOT_FOUND, client.content.Status, content_pb2.StatusRequest(ref="huge"),
                 metadata=client.md, timeout=10)
    expect_error(INVALID, write_blob, client, b"labelled", labels={"big": "v" * 5000})
    assert content_digests(client) == set()


def test_commit_of_content_already_there(client):
    data = b"twice" * 10
    write_blob(client, data)
    details = expect_error(grpc.StatusCode.ALREADY_EXISTS, write_blob, client, data, ref="again")
    assert sha256(data) in details
    expect_error(NOT_FOUND, client.content.Status, content_pb2.StatusRequest(ref="again"),
                 metadata=client.md, timeout=10)


def test_one_writer_per_ref(client):
    first = Session(client)
    first.send(action=STAT, ref="busy")
    second = Session(client)
    # The second waits a moment for the first to let go, then gives up.
    details = expect_error(grpc.StatusCode.FAILED_PRECONDITION, second.send, action=STAT,
                           ref="busy")
    assert "busy" in details
    first.close()


def test_records_info_update_list_delete(client):
    blobs = [os.urandom(100) for _ in range(3)]
    for blob in blobs:
        write_blob(client, blob)
    assert content_digests(client) == {sha256(blob) for blob in blobs}
    updated = client.content.Update(content_pb2.UpdateContentRequest(
        info=content_pb2.ContentInfo(digest=sha256(blobs[0]), labels={"x": "1", "y": "2"})),
        metadata=client.md, timeout=10)
    assert dict(updated.labels) == {"x": "1", "y": "2"}
    updated = client.content.Update(content_pb2.UpdateContentRequest(
        info=content_pb2.ContentInfo(digest=sha256(blobs[0])), update_mask=["labels.x"]),
        metadata=client.md, timeout=10)
    assert dict(updated.labels) == {"y": "2"}
    listed = [info.digest for response in client.content.List(
        content_pb2.ListContentRequest(filters=["labels.y==2"]), metadata=client.md, timeout=10)
        for info in response.info]
    assert listed == [sha256(blobs[0])]
    client.content.Delete(content_pb2.DeleteContentRequest(digest=sha256(blobs[1])),
                          metadata=client.md, timeout=10)
    assert content_digests(client) == {sha256(blobs[0]), sha256(blobs[2])}
    expect_error(NOT_FOUND, client.content.Delete,
                 content_pb2.DeleteContentRequest(digest=sha256(blobs[1])), metadata=client.md,
                 timeout=10)
    expect_error(NOT_FOUND, client.content.Info, content_pb2.InfoRequest(
        digest=sha256(blobs[1])), metadata=client.md, timeout=10)


def test_list_streams_many_records(client):
    blobs = [b"record %d" % i for i in range(300)]
    for blob in blobs:
        write_blob(client, blob)
    responses = list(client.content.List(content_pb2.ListContentRequest(), metadata=client.md,
                                         timeout=30))
    assert len(responses) >= 2
    assert {info.digest for r in responses for info in r.info} == {sha256(b) for b in blobs}


def test_bad_digests_offsets_and_fields(client):
    data = b"offsets"
    write_blob(client, data)
    expect_error(INVALID, client.content.Info, content_pb2.InfoRequest(digest="sha256:abc"),
                 metadata=client.md, timeout=10)
    expect_error(INVALID, client.content.Info, content_pb2.InfoRequest(), metadata=client.md,
                 timeout=10)
    expect_error(NOT_FOUND, client.content.Info, content_pb2.InfoRequest(digest=sha256(b"?")),
                 metadata=client.md, timeout=10)
    expect_error(INVALID, client.content.Read, content_pb2.ReadContentRequest(
        digest=sha256(data), offset=-1), metadata=client.md, timeout=10)
    expect_error(INVALID, client.content.Read, content_pb2.ReadContentRequest(
        digest=sha256(data), offset=len(data) + 1), metadata=client.md, timeout=10)
    expect_error(INVALID, client.content.Read, content_pb2.ReadContentRequest(
        digest=sha256(data), size=-5), metadata=client.md, timeout=10)
    expect_error(INVALID, client.content.Update, content_pb2.UpdateContentRequest(),
                 metadata=client.md, timeout=10)
    expect_error(INVALID, client.content.Update, content_pb2.UpdateContentRequest(
        info=content_pb2.ContentInfo(digest=sha256(data)), update_mask=["size"]),
        metadata=client.md, timeout=10)
    expect_error(INVALID, client.content.List, content_pb2.ListContentRequest(
        filters=["labels.x~=("]), metadata=client.md, timeout=10)
    expect_error(INVALID, client.content.Abort, content_pb2.AbortRequest(), metadata=client.md,
                 timeout=10)
    assert read_blob(client, sha256(data)) == data


def test_namespaces_do_not_see_each_other(daemon):
    first, second = daemon.client("alpha"), daemon.client("beta")
    data = b"alpha's secret"
    write_blob(first, data)
    assert content_digests(second) == set()
    expect_error(NOT_FOUND, second.content.Info, content_pb2.InfoRequest(digest=sha256(data)),
                 metadata=second.md, timeout=10)
    expect_error(NOT_FOUND, second.content.Read, content_pb2.ReadContentRequest(
        digest=sha256(data)), metadata=second.md, timeout=10)
    expect_error(NOT_FOUND, second.content.Delete, content_pb2.DeleteContentRequest(
        digest=sha256(data)), metadata=second.md, timeout=10)
    # Writing the same bytes gives beta a record of its own; deleting it leaves alpha's.
    write_blob(second, data)
    second.content.Delete(content_pb2.DeleteContentRequest(digest=sha256(data)),
                          metadata=second.md, timeout=10)
    assert read_blob(first, sha256(data)) == data


def test_commit_under_a_lease(client):
    lease(client, "upload")
    data = b"held by a lease"
    write_blob(client, data, metadata=client.md + (("berth-lease", "upload"),))
    resources = client.leases.ListResources(leases_pb2.ListResourcesRequest(id="upload"),
                                            metadata=client.md, timeout=10).resources
    assert [(r.type, r.id) for r in resources] == [("content", sha256(data))]
    expect_error(NOT_FOUND, write_blob, client, b"no such lease",
                 metadata=client.md + (("berth-lease", "missing"),))


def test_concurrent_writes_of_different_refs(client):
    blobs = [os.urandom(256 * 1024) for _ in range(4)]
    errors = []

    def write(blob):
        try:
            write_blob(client, blob, chunk=32 * 1024)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
    threads = [threading.Thread(target=write, args=(blob,)) for blob in blobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert content_digests(client) == {sha256(blob) for blob in blobs}
