"""Fixtures of the berth-supervisord tests: a daemon of its own per test
module (root, state and socket in a temporary directory), gRPC stubs for
every service, and a clean-up that leaves nothing behind whatever the test
did: tasks killed and deleted through the API, then, should the daemon be
dead, shims killed by the pid they wrote, containers deleted with the
runtime, and every mount under the directory undone."""
import glob
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import grpc
import pytest

BUILD_DIR = pathlib.Path(os.environ.get("BERTH_BUILD_DIR",
                                        pathlib.Path(__file__).resolve().parents[3] / "build"))
sys.path.insert(0, str(BUILD_DIR / "generated" / "python"))

from berth.supervisor.v1 import (containers_pb2, containers_pb2_grpc, content_pb2,  # noqa: E402
                                 content_pb2_grpc, events_pb2, events_pb2_grpc, images_pb2,
                                 images_pb2_grpc, leases_pb2, leases_pb2_grpc, namespaces_pb2,
                                 namespaces_pb2_grpc, snapshots_pb2, snapshots_pb2_grpc,
                                 tasks_pb2, tasks_pb2_grpc, types_pb2, version_pb2,
                                 version_pb2_grpc)

pb = {
    "containers": containers_pb2, "content": content_pb2, "events": events_pb2,
    "images": images_pb2, "leases": leases_pb2, "namespaces": namespaces_pb2,
    "snapshots": snapshots_pb2, "tasks": tasks_pb2, "types": types_pb2,
    "version": version_pb2,
}


def process_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def wait_until(condition, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def mounts_under(directory):
    """Mount points at or below directory, deepest first."""
    prefix = str(directory).rstrip("/") + "/"
    points = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            point = line.split()[4].replace("\\040", " ")
            if point.startswith(prefix):
                points.append(point)
    return sorted(points, key=len, reverse=True)


class Client:
    """Stubs of every service on one channel; `ns` picks the namespace."""

    def __init__(self, address, namespace="default"):
        self.channel = grpc.insecure_channel(address)
        self.namespace = namespace
        self.version = version_pb2_grpc.VersionStub(self.channel)
        self.namespaces = namespaces_pb2_grpc.NamespacesStub(self.channel)
        self.content = content_pb2_grpc.ContentStub(self.channel)
        self.images = images_pb2_grpc.ImagesStub(self.channel)
        self.snapshots = snapshots_pb2_grpc.SnapshotsStub(self.channel)
        self.leases = leases_pb2_grpc.LeasesStub(self.channel)
        self.containers = containers_pb2_grpc.ContainersStub(self.channel)
        self.tasks = tasks_pb2_grpc.TasksStub(self.channel)
        self.events = events_pb2_grpc.EventsStub(self.channel)

    @property
    def md(self):
        """Call metadata naming the namespace: stub.Method(request, metadata=c.md)."""
        return (("berth-namespace", self.namespace),)

    def close(self):
        self.channel.close()


def default_runtime(build_dir):
    """RUNTIME=runc (or a path) runs the suite with another default runtime."""
    name = os.environ.get("RUNTIME", "berth-runtime")
    if name == "berth-runtime":
        return str(pathlib.Path(build_dir) / "ociruntime" / "berth-runtime")
    path = shutil.which(name)
    if not path:
        pytest.skip("runtime %s is not installed" % name)
    return path


class Daemon:
    """One berth-supervisord with all its state under a temporary directory."""

    def __init__(self, build_dir, runtime=None):
        self.build_dir = pathlib.Path(build_dir)
        self.directory = tempfile.mkdtemp(prefix="bsupd-")
        self.root = os.path.join(self.directory, "root")
        self.state = os.path.join(self.directory, "state")
        self.socket = os.path.join(self.directory, "supervisord.sock")
        self.address = "unix:" + self.socket
        self.runtime = runtime or default_runtime(self.build_dir)
        self.log_path = os.path.join(self.directory, "supervisord.log")
        self.process = None
        self.clients = []

    def start(self, extra_args=()):
        binary = os.environ.get("BERTH_SUPERVISORD_BINARY",
                                str(self.build_dir / "supervisord" / "berth-supervisord"))
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [binary, "--root", self.root, "--state", self.state, "--address", self.address,
             "--shim", str(self.build_dir / "shim" / "berth-shim"), "--runtime", self.runtime,
             "--log-level", "debug", *extra_args],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("berth-supervisord exited (%d): %s" %
                                     (self.process.returncode, self.log()))
            if os.path.exists(self.socket):
                client = Client(self.address)
                try:
                    client.version.Version(types_pb2.Empty(), timeout=2)
                    client.close()
                    return self
                except grpc.RpcError:
                    client.close()
            time.sleep(0.02)
        raise AssertionError("berth-supervisord did not come up: " + self.log())

    def client(self, namespace="default"):
        client = Client(self.address, namespace)
        self.clients.append(client)
        return client

    def log(self):
        try:
            with open(self.log_path, errors="replace") as log:
                return log.read()[-4000:]
        except FileNotFoundError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stops the daemon (containers keep running); returns its exit code."""
        for client in self.clients:
            client.close()
        self.clients = []
        if not self.process:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
            raise AssertionError("berth-supervisord ignored signal %d" % sig)
        self.process = None
        return code

    def shim_pids(self):
        pids = []
        for pid_file in pathlib.Path(self.state).glob("*/*/shim.pid"):
            try:
                pids.append(int(pid_file.read_text().strip()))
            except (ValueError, OSError):
                pass
        return pids

    def namespaces(self):
        """Namespaces that ran tasks (the runtime has a root per namespace)."""
        try:
            return sorted(os.listdir(os.path.join(self.state, "runtime")))
        except FileNotFoundError:
            return []

    def _delete_tasks(self):
        """Through the API while the daemon is up: the normal path."""
        client = Client(self.address)
        for namespace in self.namespaces():
            md = (("berth-namespace", namespace),)
            try:
                tasks = client.tasks.List(tasks_pb2.ListTasksRequest(), metadata=md,
                                          timeout=10).tasks
            except grpc.RpcError:
                continue
            for task in tasks:
                try:
                    client.tasks.Kill(tasks_pb2.KillRequest(container_id=task.container_id,
                                                            signal=9, all=True),
                                      metadata=md, timeout=10)
                except grpc.RpcError:
                    pass
                try:
                    client.tasks.Wait(tasks_pb2.WaitRequest(container_id=task.container_id),
                                      metadata=md, timeout=10)
                except grpc.RpcError:
                    pass
                try:
                    client.tasks.Delete(tasks_pb2.DeleteTaskRequest(
                        container_id=task.container_id), metadata=md, timeout=10)
                except grpc.RpcError:
                    pass
        client.close()

    def _force_cleanup(self):
        """Whatever the API could not take down."""
        runtime_roots = list(pathlib.Path(self.state).glob("runtime/*"))
        for pid in self.shim_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for root in runtime_roots:
            for container in root.iterdir() if root.is_dir() else []:
                for runtime in {self.runtime, shutil.which("runc") or self.runtime}:
                    subprocess.run([runtime, "--root", str(root), "delete", "--force",
                                    container.name], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        for point in mounts_under(self.directory):
            subprocess.run(["umount", "-l", point], stderr=subprocess.DEVNULL)
        # The daemon removes a namespace's parent cgroup with its last task;
        # after a crash nobody did.
        for namespace in self.namespaces():
            for cgroup in glob.glob("/sys/fs/cgroup/*/" + namespace) + \
                    glob.glob("/sys/fs/cgroup/" + namespace):
                try:
                    os.rmdir(cgroup)
                except OSError:
                    pass

    def destroy(self):
        try:
            if self.process and self.process.poll() is None:
                self._delete_tasks()
        finally:
            try:
                self.stop()
            except AssertionError:
                pass
            self._force_cleanup()
            shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def daemon(build_dir):
    """A fresh daemon for one test."""
    instance = Daemon(build_dir)
    try:
        instance.start()
        yield instance
    finally:
        instance.destroy()


@pytest.fixture
def client(daemon):
    return daemon.client()
