"""scripts/stack: up is idempotent and restarts what died; down leaves no
process, mount or cgroup of the stack behind."""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest


def stack(source_dir, command, directory):
    return subprocess.run([str(source_dir / "scripts" / "stack"), command, directory],
                          capture_output=True, text=True, timeout=120)


def pid_of(directory, name):
    with open(os.path.join(directory, name + ".pid")) as pid_file:
        return int(pid_file.read())


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def directory(source_dir):
    path = tempfile.mkdtemp(prefix="bstack-")
    try:
        yield path
    finally:
        stack(source_dir, "down", path)
        shutil.rmtree(path, ignore_errors=True)


def run_task(build_dir, address, busybox_tar):
    """A running container through the supervisor alone (namespace "stacktest")."""
    sys.path.insert(0, str(build_dir / "generated" / "python"))
    import grpc
    from berth.supervisor.v1 import (containers_pb2, containers_pb2_grpc, images_pb2,
                                     images_pb2_grpc, snapshots_pb2, snapshots_pb2_grpc,
                                     tasks_pb2, tasks_pb2_grpc)
    md = (("berth-namespace", "stacktest"),)
    channel = grpc.insecure_channel(address)
    images = images_pb2_grpc.ImagesStub(channel)
    images.Import(iter([images_pb2.ImportRequest(path=busybox_tar)]), metadata=md, timeout=60)
    chain = images.Unpack(images_pb2.UnpackRequest(name="busybox"), metadata=md,
                          timeout=60).chain_id
    snapshots_pb2_grpc.SnapshotsStub(channel).Prepare(
        snapshots_pb2.PrepareSnapshotRequest(key="c1", parent=chain), metadata=md, timeout=30)
    spec = {"ociVersion": "1.0.2",
            "process": {"args": ["sleep", "1000"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
            "root": {"path": "rootfs"},
            "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}}
    containers_pb2_grpc.ContainersStub(channel).Create(containers_pb2.CreateContainerRequest(
        container=containers_pb2.Container(id="c1", snapshot_key="c1",
                                           spec=json.dumps(spec).encode())),
        metadata=md, timeout=10)
    tasks = tasks_pb2_grpc.TasksStub(channel)
    tasks.Create(tasks_pb2.CreateTaskRequest(container_id="c1"), metadata=md, timeout=30)
    pid = tasks.Start(tasks_pb2.StartRequest(container_id="c1"), metadata=md, timeout=10).pid
    channel.close()
    return pid


def test_up_is_idempotent_and_restarts_a_dead_daemon(source_dir, directory):
    first = stack(source_dir, "up", directory)
    assert first.returncode == 0, first.stderr
    assert "DOCKER_HOST=unix://%s/engine.sock" % directory in first.stdout
    supervisor, engine = pid_of(directory, "supervisord"), pid_of(directory, "engined")
    again = stack(source_dir, "up", directory)
    assert again.returncode == 0, again.stderr
    assert (pid_of(directory, "supervisord"), pid_of(directory, "engined")) == (supervisor,
                                                                                 engine)
    os.kill(supervisor, signal.SIGKILL)
    time.sleep(0.2)
    third = stack(source_dir, "up", directory)
    assert third.returncode == 0, third.stderr
    assert pid_of(directory, "supervisord") != supervisor
    assert pid_of(directory, "engined") == engine


def test_down_leaves_nothing(source_dir, build_dir, directory):
    assert stack(source_dir, "up", directory).returncode == 0
    pid = run_task(build_dir, "unix://%s/supervisord.sock" % directory,
                   str(build_dir / "images" / "busybox" / "busybox.tar"))
    assert alive(pid)
    down = stack(source_dir, "down", directory)
    assert down.returncode == 0, down.stderr
    assert not alive(pid)
    with open("/proc/self/mountinfo") as mountinfo:
        assert directory not in mountinfo.read()
    assert glob.glob("/sys/fs/cgroup/*/stacktest") == []
    for name in ("supervisord", "engined"):
        assert not os.path.exists(os.path.join(directory, name + ".pid"))
    assert not os.path.exists(os.path.join(directory, "run"))
    # And up again from there works (the images stayed).
    assert stack(source_dir, "up", directory).returncode == 0
