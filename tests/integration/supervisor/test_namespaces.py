"""The Namespaces service: create, list, delete, and Delete's refusal while
a namespace holds anything."""
import grpc

from conftest import content_pb2, leases_pb2, namespaces_pb2, snapshots_pb2, types_pb2
from helpers import expect_error, sha256, write_blob

N = namespaces_pb2


def names(client):
    return sorted(n.name for n in client.namespaces.List(types_pb2.Empty(), timeout=10).namespaces)


def create(client, name, **labels):
    return client.namespaces.Create(N.CreateNamespaceRequest(
        namespace=N.Namespace(name=name, labels=labels)), timeout=10)


def delete(client, name):
    client.namespaces.Delete(N.DeleteNamespaceRequest(name=name), timeout=10)


def test_create_list_delete(client):
    created = create(client, "builds", owner="ci")
    assert created.name == "builds" and created.labels["owner"] == "ci"
    listed = {n.name: dict(n.labels) for n in
              client.namespaces.List(types_pb2.Empty(), timeout=10).namespaces}
    assert listed["builds"] == {"owner": "ci"}
    expect_error(grpc.StatusCode.ALREADY_EXISTS, create, client, "builds")
    delete(client, "builds")
    assert "builds" not in names(client)
    expect_error(grpc.StatusCode.NOT_FOUND, delete, client, "builds")


def test_a_namespace_exists_once_used(daemon):
    user = daemon.client("first-use")
    user.snapshots.Prepare(snapshots_pb2.PrepareSnapshotRequest(key="k"), metadata=user.md,
                           timeout=10)
    assert "first-use" in names(user)
    expect_error(grpc.StatusCode.ALREADY_EXISTS, create, user, "first-use")


def test_bad_names(client):
    for name in ["", "Upper", "-dash", "a/b", "x" * 77, "space here"]:
        expect_error(grpc.StatusCode.INVALID_ARGUMENT, create, client, name)
        expect_error(grpc.StatusCode.INVALID_ARGUMENT, delete, client, name)
    expect_error(grpc.StatusCode.INVALID_ARGUMENT, client.namespaces.Create,
                 N.CreateNamespaceRequest(), timeout=10)
    expect_error(grpc.StatusCode.INVALID_ARGUMENT, create, client, "labelled", **{"": "x"})
    assert "labelled" not in names(client)


def test_delete_refuses_while_the_namespace_holds_things(daemon):
    user = daemon.client("busy")
    data = b"keeps the namespace busy"
    write_blob(user, data)
    details = expect_error(grpc.StatusCode.FAILED_PRECONDITION, delete, user, "busy")
    assert "content" in details
    assert "busy" in names(user)
    user.content.Delete(content_pb2.DeleteContentRequest(digest=sha256(data)), metadata=user.md,
                        timeout=10)

    user.leases.Create(leases_pb2.CreateLeaseRequest(id="l"), metadata=user.md, timeout=10)
    assert "leases" in expect_error(grpc.StatusCode.FAILED_PRECONDITION, delete, user, "busy")
    # sync: no collection left scheduled to race with the checks below
    user.leases.Delete(leases_pb2.DeleteLeaseRequest(id="l", sync=True), metadata=user.md,
                       timeout=10)

    user.snapshots.Prepare(snapshots_pb2.PrepareSnapshotRequest(key="s"), metadata=user.md,
                           timeout=10)
    assert "snapshots" in expect_error(grpc.StatusCode.FAILED_PRECONDITION, delete, user, "busy")
    user.snapshots.Remove(snapshots_pb2.RemoveSnapshotRequest(key="s"), metadata=user.md,
                          timeout=10)

    # A write in progress counts too.
    list(user.content.Write(iter([content_pb2.WriteContentRequest(
        action=content_pb2.WRITE_ACTION_WRITE, ref="partial", data=b"half")]), metadata=user.md,
        timeout=10))
    assert "writes" in expect_error(grpc.StatusCode.FAILED_PRECONDITION, delete, user, "busy")
    user.content.Abort(content_pb2.AbortRequest(ref="partial"), metadata=user.md, timeout=10)

    delete(user, "busy")
    assert "busy" not in names(user)
