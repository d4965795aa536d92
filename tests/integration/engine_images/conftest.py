"""Fixtures of the engine's images and system API tests.

One berth stack (supervisor + engine, `scripts/stack up DIR`) serves the
whole session; `scripts/stack down DIR` runs at the end whatever happened.
Every test starts from an engine without images (the autouse `clean`
fixture removes what a test left), and drives it with the real clients:
the docker CLI (/usr/local/bin/docker) and Debian's python3-docker.

`make_image_tar` builds small `docker save` tarballs (legacy layout or
Docker 25's OCI layout) with chosen layers, labels and creation times, so
tests can have several distinct images without a registry.
"""
import gzip
import hashlib
import http.client
import io
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse

import docker
import grpc
import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("BERTH_SOURCE_DIR",
                                         pathlib.Path(__file__).resolve().parents[3]))
BUILD_DIR = pathlib.Path(os.environ.get("BERTH_BUILD_DIR", SOURCE_DIR / "build"))
DOCKER = os.environ.get("DOCKER", "/usr/local/bin/docker")
sys.path.insert(0, str(BUILD_DIR / "generated" / "python"))

from berth.supervisor.v1 import (containers_pb2, containers_pb2_grpc, images_pb2,  # noqa: E402
                                 images_pb2_grpc, snapshots_pb2, snapshots_pb2_grpc, tasks_pb2,
                                 tasks_pb2_grpc)

NAMESPACE = (("berth-namespace", "berth"),)


class Stack:
    """A running berth stack under a temporary directory."""

    def __init__(self, directory):
        self.directory = pathlib.Path(directory)
        self.environment = {}

    def up(self):
        result = subprocess.run([str(SOURCE_DIR / "scripts" / "stack"), "up",
                                 str(self.directory)], capture_output=True, text=True,
                                timeout=120)
        if result.returncode != 0:
            raise AssertionError("stack up failed:\n" + result.stdout + result.stderr)
        for line in result.stdout.splitlines():
            key, _, value = line.partition("=")
            if key in ("DOCKER_HOST", "BERTH_SUPERVISOR"):
                self.environment[key] = value
        assert "DOCKER_HOST" in self.environment, result.stdout
        return self

    def down(self):
        subprocess.run([str(SOURCE_DIR / "scripts" / "stack"), "down", str(self.directory)],
                       capture_output=True, text=True, timeout=180)

    @property
    def docker_host(self):
        return self.environment["DOCKER_HOST"]

    @property
    def socket_path(self):
        return self.docker_host[len("unix://"):]

    @property
    def supervisor_address(self):
        return self.environment.get("BERTH_SUPERVISOR",
                                    "unix://%s" % (self.directory / "supervisord.sock"))

    def log(self, name="engined"):
        try:
            return (self.directory / ("%s.log" % name)).read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""


@pytest.fixture(scope="session")
def stack():
    directory = tempfile.mkdtemp(prefix="berth-engine-images-")
    instance = Stack(directory)
    try:
        instance.up()
        yield instance
    finally:
        instance.down()
        shutil.rmtree(directory, ignore_errors=True)


class DockerCli:
    """The docker CLI pointed at the stack."""

    def __init__(self, stack):
        self.environment = dict(os.environ, DOCKER_HOST=stack.docker_host)
        for key in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONFIG"):
            self.environment.pop(key, None)
        self.environment["DOCKER_CONFIG"] = tempfile.mkdtemp(prefix="berth-docker-config-")

    def run(self, *args, check=True, timeout=120, input=None):
        result = subprocess.run([DOCKER, *args], capture_output=True, timeout=timeout,
                                env=self.environment, input=input,
                                text=not isinstance(input, bytes))
        if check and result.returncode != 0:
            raise AssertionError("docker %s failed (%d):\n%s%s" % (
                " ".join(args), result.returncode, result.stdout, result.stderr))
        return result

    def popen(self, *args):
        return subprocess.Popen([DOCKER, *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.environment, text=True)


@pytest.fixture(scope="session")
def cli(stack):
    instance = DockerCli(stack)
    yield instance
    shutil.rmtree(instance.environment["DOCKER_CONFIG"], ignore_errors=True)


@pytest.fixture(scope="session")
def client(stack):
    c = docker.DockerClient(base_url=stack.docker_host, version="1.47", timeout=120)
    yield c
    c.close()


class RawApi:
    """Plain HTTP requests on the engine's socket (raw status, headers, body)."""

    def __init__(self, socket_path):
        self.socket_path = socket_path

    def request(self, method, path, body=None, headers=None, timeout=60):
        connection = http.client.HTTPConnection("localhost", timeout=timeout)
        connection.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.sock.settimeout(timeout)
        connection.sock.connect(self.socket_path)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, response, data

    def json(self, method, path, **kwargs):
        status, _, data = self.request(method, path, **kwargs)
        return status, json.loads(data) if data else None


@pytest.fixture(scope="session")
def api(stack):
    return RawApi(stack.socket_path)


def query(path, **params):
    return path + "?" + urllib.parse.urlencode(params)


class Supervisor:
    """The stack's supervisor, in the engine's namespace "berth"."""

    def __init__(self, address):
        self.channel = grpc.insecure_channel(address)
        self.images = images_pb2_grpc.ImagesStub(self.channel)
        self.containers = containers_pb2_grpc.ContainersStub(self.channel)
        self.tasks = tasks_pb2_grpc.TasksStub(self.channel)
        self.snapshots = snapshots_pb2_grpc.SnapshotsStub(self.channel)

    def image_names(self):
        response = self.images.List(images_pb2.ListImagesRequest(), metadata=NAMESPACE,
                                    timeout=10)
        return sorted(image.name for image in response.images)


@pytest.fixture(scope="session")
def supervisor(stack):
    s = Supervisor(stack.supervisor_address)
    yield s
    s.channel.close()


@pytest.fixture(scope="session")
def busybox_tar():
    path = BUILD_DIR / "images" / "busybox" / "busybox.tar"
    if not path.exists():
        pytest.fail("the bundled busybox image is missing: build the busybox-image target")
    return path


def remove_all(client, supervisor):
    """Every container the tests made in the supervisor, then every image."""
    for container in supervisor.containers.List(containers_pb2.ListContainersRequest(),
                                                metadata=NAMESPACE, timeout=10).containers:
        remove_supervisor_container(supervisor, container.id)
    for image in client.images.list(all=True):
        try:
            client.images.remove(image.id, force=True)
        except docker.errors.NotFound:
            pass


@pytest.fixture(autouse=True)
def clean(request, stack):
    yield
    if "client" in request.fixturenames or "cli" in request.fixturenames:
        c = docker.DockerClient(base_url=stack.docker_host, version="1.47", timeout=120)
        try:
            remove_all(c, Supervisor(stack.supervisor_address))
        finally:
            c.close()


@pytest.fixture
def loaded(cli, busybox_tar):
    """busybox loaded; its image ID."""
    cli.run("load", "-i", str(busybox_tar))
    return cli.run("image", "inspect", "-f", "{{.Id}}", "busybox").stdout.strip()


# ---- images made up for the tests ----

def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(files):
    """An uncompressed layer: {path: bytes}."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def add_file(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def make_image_tar(path, tags, layers, labels=None, created="2024-01-02T03:04:05Z",
                   history=None, cmd=("sh",), oci=True, gzip_layers=False):
    """A `docker save` tarball of one image; returns (image ID, diff IDs)."""
    diff_ids = [sha256(layer) for layer in layers]
    blobs = [gzip.compress(layer, mtime=0) if gzip_layers else layer for layer in layers]
    config = {
        "architecture": {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine,
                                                                    os.uname().machine),
        "os": "linux",
        "created": created,
        "config": {"Cmd": list(cmd), "Env": ["PATH=/bin"], "Labels": labels},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history if history is not None else [
            {"created": created, "created_by": "layer %d" % i} for i in range(len(layers))],
    }
    if labels is None:
        del config["config"]["Labels"]
    config_bytes = json.dumps(config).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha256(config_bytes), "size": len(config_bytes)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar" +
                    ("+gzip" if gzip_layers else ""),
                    "digest": sha256(blob), "size": len(blob)} for blob in blobs],
    }
    manifest_bytes = json.dumps(manifest).encode()
    with tarfile.open(path, "w") as tar:
        if oci:
            for blob in [config_bytes, manifest_bytes, *blobs]:
                add_file(tar, "blobs/sha256/" + sha256(blob)[7:], blob)
            add_file(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
            add_file(tar, "index.json", json.dumps({
                "schemaVersion": 2, "manifests": [{
                    "mediaType": manifest["mediaType"], "digest": sha256(manifest_bytes),
                    "size": len(manifest_bytes)}]}).encode())
            layer_paths = ["blobs/sha256/" + sha256(blob)[7:] for blob in blobs]
            config_path = "blobs/sha256/" + sha256(config_bytes)[7:]
        else:
            layer_paths = []
            for i, blob in enumerate(blobs):
                layer_id = hashlib.sha256(("%d" % i).encode() + blob).hexdigest()
                add_file(tar, layer_id + "/layer.tar", blob)
                layer_paths.append(layer_id + "/layer.tar")
            config_path = sha256(config_bytes)[7:] + ".json"
            add_file(tar, config_path, config_bytes)
        add_file(tar, "manifest.json", json.dumps([{
            "Config": config_path, "RepoTags": list(tags), "Layers": layer_paths}]).encode())
    return sha256(config_bytes), diff_ids


# ---- containers made directly in the supervisor, as the containers API will ----

def bundle_config(args):
    """The spec scripts/mkbundle writes (runc spec's defaults), for args."""
    directory = tempfile.mkdtemp(prefix="berth-spec-")
    try:
        subprocess.run([str(SOURCE_DIR / "scripts" / "mkbundle"), directory, "--", *args],
                       check=True, capture_output=True, timeout=60)
        with open(os.path.join(directory, "config.json")) as file:
            config = json.load(file)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    config["root"] = {"path": "rootfs", "readonly": False}
    return config


def create_supervisor_container(supervisor, container_id, image_name, image_id, args=None,
                                start=False):
    """A container the way the engine's containers API records one: its
    image's full name in Container.image, its ID in label berth.image.id,
    a snapshot on the image's top layer; with start, a running task.
    image_id None: no label (containers made before the label existed)."""
    chain = supervisor.images.Unpack(images_pb2.UnpackRequest(name=image_name),
                                     metadata=NAMESPACE, timeout=120).chain_id
    supervisor.snapshots.Prepare(snapshots_pb2.PrepareSnapshotRequest(
        key=container_id, parent=chain), metadata=NAMESPACE, timeout=30)
    spec = bundle_config(args or ["sleep", "1000"])
    labels = {"berth.engine/name": "/" + container_id, "user.label": "u"}
    if image_id:
        labels["berth.image.id"] = image_id
    supervisor.containers.Create(containers_pb2.CreateContainerRequest(
        container=containers_pb2.Container(
            id=container_id, image=image_name, labels=labels,
            spec=json.dumps(spec).encode(), snapshotter="overlayfs",
            snapshot_key=container_id)), metadata=NAMESPACE, timeout=10)
    if start:
        supervisor.tasks.Create(tasks_pb2.CreateTaskRequest(container_id=container_id),
                                metadata=NAMESPACE, timeout=60)
        supervisor.tasks.Start(tasks_pb2.StartRequest(container_id=container_id),
                               metadata=NAMESPACE, timeout=60)


def remove_supervisor_container(supervisor, container_id):
    try:
        supervisor.tasks.Kill(tasks_pb2.KillRequest(container_id=container_id, signal=9,
                                                    all=True), metadata=NAMESPACE, timeout=10)
    except grpc.RpcError:
        pass
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            supervisor.tasks.Delete(tasks_pb2.DeleteTaskRequest(container_id=container_id),
                                    metadata=NAMESPACE, timeout=10)
            break
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                break
            time.sleep(0.1)
    for call, request in ((supervisor.containers.Delete,
                           containers_pb2.DeleteContainerRequest(id=container_id)),
                          (supervisor.snapshots.Remove,
                           snapshots_pb2.RemoveSnapshotRequest(key=container_id))):
        try:
            call(request, metadata=NAMESPACE, timeout=10)
        except grpc.RpcError:
            pass
