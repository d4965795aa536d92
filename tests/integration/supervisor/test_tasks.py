"""Containers and tasks through berth-supervisord: the lifecycle, exec,
attach, logs, signals, pause, metrics, events, namespaces, the runtime
choice, bad input, and what survives a daemon or shim crash."""
import glob
import json
import os
import shutil
import signal
import tempfile
import threading
import time

import grpc
import pytest

from conftest import (Daemon, containers_pb2, mounts_under, process_alive, tasks_pb2,
                      wait_until)
from taskutil import (EventCollector, attach, base_fixture, create_container, create_task,
                      new_id, process_of, rootfs_mounts)

STATUS = tasks_pb2.Status


@pytest.fixture(scope="module")
def base(source_dir, busybox_layout):
    directory = tempfile.mkdtemp(prefix="bsupd-base-")
    try:
        yield base_fixture(source_dir, busybox_layout, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def code_of(call, *args, **kwargs):
    with pytest.raises(grpc.RpcError) as error:
        call(*args, **kwargs)
    return error.value.code()


def test_lifecycle_and_events_in_order(client, base):
    events = EventCollector(client, ["namespace==default"])
    try:
        container_id = create_task(client, base, ["sh", "-c", "exit 7"])
        assert process_of(client, container_id).status == STATUS.STATUS_CREATED
        pid = client.tasks.Start(tasks_pb2.StartRequest(container_id=container_id),
                                 metadata=client.md, timeout=10).pid
        assert pid > 0
        waited = client.tasks.Wait(tasks_pb2.WaitRequest(container_id=container_id),
                                   metadata=client.md, timeout=30)
        assert waited.exit_status == 7
        assert waited.exited_at.seconds > 0
        process = process_of(client, container_id)
        assert process.status == STATUS.STATUS_STOPPED and process.exit_status == 7
        deleted = client.tasks.Delete(tasks_pb2.DeleteTaskRequest(container_id=container_id),
                                      metadata=client.md, timeout=10)
        assert deleted.exit_status == 7 and deleted.pid == pid
        client.containers.Delete(containers_pb2.DeleteContainerRequest(id=container_id),
                                 metadata=client.md, timeout=10)
        seen = events.until("/containers/delete")
        topics = [envelope.topic for envelope in seen]
        assert topics == ["/containers/create", "/tasks/create", "/tasks/start", "/tasks/exit",
                          "/tasks/delete", "/containers/delete"]
        assert seen[3].task_exit.exit_status == 7 and seen[3].task_exit.pid == pid
        assert all(envelope.namespace == "default" for envelope in seen)
    finally:
        events.close()


def test_attach_carries_stdin_and_output(client, base):
    container_id = create_task(client, base, ["sh", "-c", "cat; echo oops >&2; exit 3"],
                               io=tasks_pb2.IO(stdin=True))
    client.tasks.Start(tasks_pb2.StartRequest(container_id=container_id), metadata=client.md,
                       timeout=10)
    out, err, status = attach(client, container_id, stdin_chunks=[b"hello ", b"world\n"],
                              attach_stdin=True)
    assert out == b"hello world\n"
    assert err == b"oops\n"
    assert status == 3


def test_attach_before_start_gets_all_output(client, base):
    """The headers come once the attach is in place: attach, wait for them,
    start, and nothing the process wrote is missing (docker run's order)."""
    for _ in range(5):
        container_id = create_task(client, base, ["sh", "-c", "echo first; echo second >&2"])
        done = threading.Event()

        def requests():
            yield tasks_pb2.AttachRequest(container_id=container_id, stdout=True, stderr=True)
            done.wait(30)

        call = client.tasks.Attach(requests(), metadata=client.md, timeout=30)
        call.initial_metadata()
        client.tasks.Start(tasks_pb2.StartRequest(container_id=container_id),
                           metadata=client.md, timeout=10)
        out, err, status = b"", b"", None
        for response in call:
            if response.stream == 2:
                err += response.data
            else:
                out += response.data
            if response.exited:
                status = response.exit_status
                done.set()
        done.set()
        assert (out, err, status) == (b"first\n", b"second\n", 0)


def test_attach_after_exit_reports_the_exit(client, base):
    container_id = create_task(client, base, ["true"])
    client.tasks.Start(tasks_pb2.StartRequest(container_id=container_id), metadata=client.md,
                       timeout=10)
    client.tasks.Wait(tasks_pb2.WaitRequest(container_id=container_id), metadata=client.md,
                      timeout=30)
    out, err, status = attach(client, container_id)
    assert (out, err, status) == (b"", b"", 0)


def test_attach_stdin_without_open_stdin_is_refused(client, base):
    container_id = create_task(client, base, ["sleep", "100"])
    with pytest.raises(grpc.RpcError) as error:
        attach(client, container_id, attach_stdin=True, timeout=10)
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_exec_with_logs(client, base):
    directory = tempfile.mkdtemp(prefix="bsupd-logs-")
    try:
        container_id = create_task(client, base, ["sleep", "100"])
        client.tasks.Start(tasks_pb2.StartRequest(container_id=container_id),
                           metadata=client.md, timeout=10)
        log_path = os.path.join(directory, "exec.log")
        process = {"args": ["sh", "-c", "echo out; echo err >&2; exit 4"], "cwd": "/",
                   "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}}
        client.tasks.Exec(tasks_pb2.ExecProcessRequest(
            container_id=container_id, exec_id="e1", spec=json.dumps(process).encode(),
            io=tasks_pb2.IO(log_path=log_path)), metadata=client.md, timeout=10)
        assert process_of(client, container_id, "e1").status == STATUS.STATUS_CREATED
        pid = client.tasks.Start(tasks_pb2.StartRequest(container_id=container_id,
                                                        exec_id="e1"),
                                 metadata=client.md, timeout=10).pid
        assert pid > 0
        waited = client.tasks.Wait(tasks_pb2.WaitRequest(container_id=container_id,
                                                         exec_id="e1"),
                                   metadata=client.md, timeout=30)
        assert waited.exit_status == 4
        with open(log_path) as log:
            lines = [json.loads(line) for line in log]
        assert sorted((line["stream"], line["log"]) for line in lines) == [
            ("stderr", "err\n"), ("stdout", "out\n")]
        deleted = client.tasks.DeleteProcess(tasks_pb2.DeleteProcessRequest(
            container_id=container_id, exec_id="e1"), metadata=client.md, timeout=10)
        assert deleted.exit_status == 4 and deleted.id == "e1"
        assert code_of(client.tasks.Get, tasks_pb2.GetTaskRequest(container_id=container_id,
                                                                  exec_id="e1"),
                       metadata=client.md, timeout=10) == grpc.StatusCode.NOT_FOUND
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_kill_pause_resume_pids_metrics(client, base):
    container_id = create_task(client, base, ["sleep", "100"])
    pid = client.tasks.Start(tasks_pb2.StartRequest(container_id=container_id),
                             metadata=client.md, timeout=10).pid
    pids = client.tasks.ListPids(tasks_pb2.ListPidsRequest(container_id=container_id),
                                 metadata=client.md, timeout=10).processes
    assert [info.pid for info in pids] == [pid]
    metrics = client.tasks.Metrics(tasks_pb2.MetricsRequest(filters=["id==" + container_id]),
                                   metadata=client.md, timeout=10).metrics
    assert len(metrics) == 1 and metrics[0].container_id == container_id
    assert isinstance(json.loads(metrics[0].data), dict)
    client.tasks.Pause(tasks_pb2.PauseTaskRequest(container_id=container_id),
                       metadata=client.md, timeout=10)
    assert process_of(client, container_id).status == STATUS.STATUS_PAUSED
    client.tasks.Resume(tasks_pb2.ResumeTaskRequest(container_id=container_id),
                        metadata=client.md, timeout=10)
    assert process_of(client, container_id).status == STATUS.STATUS_RUNNING
    client.tasks.Kill(tasks_pb2.KillRequest(container_id=container_id, signal=9),
                      metadata=client.md, timeout=10)
    waited = client.tasks.Wait(tasks_pb2.WaitRequest(container_id=container_id),
                               metadata=client.md, timeout=30)
    assert waited.exit_status == 137
    listed = client.tasks.List(tasks_pb2.ListTasksRequest(filters=["status==stopped"]),
                               metadata=client.md, timeout=10).tasks
    assert [task.container_id for task in listed] == [container_id]


def test_calls_racing_a_delete_find_no_task(client, base):
    """Kills racing the deletion of an exited task (as an engine's remove
    races its monitor) get NOT_FOUND once the task goes, never UNAVAILABLE:
    the shim went away on purpose, it did not die."""
    for _ in range(50):  # without the fix, the race showed within tens of runs
        container_id = create_task(client, base, ["true"])
        client.tasks.Start(tasks_pb2.StartRequest(container_id=container_id),
                           metadata=client.md, timeout=10)
        client.tasks.Wait(tasks_pb2.WaitRequest(container_id=container_id),
                          metadata=client.md, timeout=30)
        codes = []

        def kill_until_gone():
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    client.tasks.Kill(tasks_pb2.KillRequest(container_id=container_id, signal=9),
                                      metadata=client.md, timeout=10)
                except grpc.RpcError as error:
                    codes.append(error.code())
                    if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE):
                        return
        killer = threading.Thread(target=kill_until_gone)
        killer.start()
        client.tasks.Delete(tasks_pb2.DeleteTaskRequest(container_id=container_id),
                            metadata=client.md, timeout=30)
        killer.join(30)
        client.containers.Delete(containers_pb2.DeleteContainerRequest(id=container_id),
                                 metadata=client.md, timeout=10)
        assert grpc.StatusCode.UNAVAILABLE not in codes, codes
        assert codes and codes[-1] == grpc.StatusCode.NOT_FOUND, codes


def test_wait_is_cancelled_with_its_call(client, base, daemon):
    container_id = create_task(client, base, ["sleep", "100"])
    with pytest.raises(grpc.RpcError) as error:
        client.tasks.Wait(tasks_pb2.WaitRequest(container_id=container_id), metadata=client.md,
                          timeout=0.5)
    assert error.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # The daemon is not left with a stuck handler: it still stops at once.
    start = time.monotonic()
    daemon._delete_tasks()
    assert time.monotonic() - start < 10


def test_namespaces_are_isolated(daemon, base):
    red, blue = daemon.client("red"), daemon.client("blue")
    red_id = create_task(red, base, ["sleep", "100"], container_id="same")
    blue_id = create_task(blue, base, ["sleep", "100"], container_id="same")
    assert red_id == blue_id == "same"
    assert [task.container_id for task in red.tasks.List(tasks_pb2.ListTasksRequest(),
                                                         metadata=red.md, timeout=10).tasks] \
        == ["same"]
    red.tasks.Delete(tasks_pb2.DeleteTaskRequest(container_id="same"), metadata=red.md,
                     timeout=10)
    assert code_of(red.tasks.Get, tasks_pb2.GetTaskRequest(container_id="same"),
                   metadata=red.md, timeout=10) == grpc.StatusCode.NOT_FOUND
    assert process_of(blue, "same").status == STATUS.STATUS_CREATED
    # The last task of "red" took the namespace's parent cgroup with it.
    assert glob.glob("/sys/fs/cgroup/*/red") == []
    assert glob.glob("/sys/fs/cgroup/*/blue") != []


def test_bad_input(client, base):
    md = client.md
    assert code_of(client.tasks.Create, tasks_pb2.CreateTaskRequest(container_id="nope"),
                   metadata=md, timeout=10) == grpc.StatusCode.NOT_FOUND
    assert code_of(client.tasks.Start, tasks_pb2.StartRequest(container_id="nope"),
                   metadata=md, timeout=10) == grpc.StatusCode.NOT_FOUND
    assert code_of(client.tasks.Start, tasks_pb2.StartRequest(), metadata=md,
                   timeout=10) == grpc.StatusCode.INVALID_ARGUMENT
    bad_spec = containers_pb2.Container(id="badspec", spec=b"{not json")
    assert code_of(client.containers.Create,
                   containers_pb2.CreateContainerRequest(container=bad_spec), metadata=md,
                   timeout=10) == grpc.StatusCode.INVALID_ARGUMENT
    bad_id = containers_pb2.Container(id="../escape", spec=b"{}")
    assert code_of(client.containers.Create,
                   containers_pb2.CreateContainerRequest(container=bad_id), metadata=md,
                   timeout=10) == grpc.StatusCode.INVALID_ARGUMENT
    container_id = create_task(client, base, ["sleep", "100"])
    assert code_of(client.tasks.Create, tasks_pb2.CreateTaskRequest(
        container_id=container_id, rootfs=rootfs_mounts(base)), metadata=md,
        timeout=10) == grpc.StatusCode.ALREADY_EXISTS
    assert code_of(client.containers.Create, containers_pb2.CreateContainerRequest(
        container=containers_pb2.Container(id=container_id, spec=b"{}")), metadata=md,
        timeout=10) == grpc.StatusCode.ALREADY_EXISTS
    assert code_of(client.containers.Delete, containers_pb2.DeleteContainerRequest(
        id=container_id), metadata=md, timeout=10) == grpc.StatusCode.FAILED_PRECONDITION
    assert code_of(client.tasks.Kill, tasks_pb2.KillRequest(container_id=container_id,
                                                            signal=999),
                   metadata=md, timeout=10) == grpc.StatusCode.INVALID_ARGUMENT
    assert code_of(client.tasks.Exec, tasks_pb2.ExecProcessRequest(
        container_id=container_id, exec_id="x", spec=b"{}"), metadata=md,
        timeout=10) == grpc.StatusCode.FAILED_PRECONDITION  # not running yet
    client.tasks.Start(tasks_pb2.StartRequest(container_id=container_id), metadata=md,
                       timeout=10)
    assert code_of(client.tasks.Exec, tasks_pb2.ExecProcessRequest(
        container_id=container_id, exec_id="x", spec=b"[]"), metadata=md,
        timeout=10) == grpc.StatusCode.INVALID_ARGUMENT
    bad_namespace = (("berth-namespace", "Bad/Name"),)
    assert code_of(client.tasks.List, tasks_pb2.ListTasksRequest(), metadata=bad_namespace,
                   timeout=10) == grpc.StatusCode.INVALID_ARGUMENT
    assert code_of(client.tasks.List, tasks_pb2.ListTasksRequest(filters=["status~=["]),
                   metadata=md, timeout=10) == grpc.StatusCode.INVALID_ARGUMENT


def test_task_with_a_broken_spec_leaves_nothing(client, base, daemon):
    container_id = new_id()
    spec = {"ociVersion": "1.0.2", "process": {"args": ["sh"], "cwd": "relative"},
            "root": {"path": "rootfs"}}
    client.containers.Create(containers_pb2.CreateContainerRequest(
        container=containers_pb2.Container(id=container_id, spec=json.dumps(spec).encode())),
        metadata=client.md, timeout=10)
    assert code_of(client.tasks.Create, tasks_pb2.CreateTaskRequest(
        container_id=container_id, rootfs=rootfs_mounts(base)), metadata=client.md,
        timeout=30) != grpc.StatusCode.OK
    assert mounts_under(daemon.state) == []
    assert not os.path.exists(os.path.join(daemon.state, "default", container_id))
    assert daemon.shim_pids() == []
    # The container record can go: no task was left behind.
    client.containers.Delete(containers_pb2.DeleteContainerRequest(id=container_id),
                             metadata=client.md, timeout=10)


def test_runc_as_the_runtime(client, base):
    if not shutil.which("runc"):
        pytest.skip("runc is not installed")
    container_id = create_task(client, base, ["sh", "-c", "echo via runc"], runtime="runc")
    client.tasks.Start(tasks_pb2.StartRequest(container_id=container_id), metadata=client.md,
                       timeout=10)
    out, _, status = attach(client, container_id)
    assert status == 0
    assert out in (b"", b"via runc\n")  # attached after the output, or before it
    client.tasks.Delete(tasks_pb2.DeleteTaskRequest(container_id=container_id),
                        metadata=client.md, timeout=10)


def test_containers_survive_a_killed_daemon(daemon, base):
    client = daemon.client()
    running = create_task(client, base, ["sleep", "100"])
    running_pid = client.tasks.Start(tasks_pb2.StartRequest(container_id=running),
                                     metadata=client.md, timeout=10).pid
    short = create_task(client, base, ["sh", "-c", "sleep 0.3; exit 5"])
    client.tasks.Start(tasks_pb2.StartRequest(container_id=short), metadata=client.md,
                       timeout=10)
    daemon.stop(signal.SIGKILL)
    time.sleep(0.6)  # the short one exits while nobody supervises it
    assert process_alive(running_pid)
    daemon.start()
    client = daemon.client()
    assert process_of(client, running).status == STATUS.STATUS_RUNNING
    stopped = process_of(client, short)
    assert stopped.status == STATUS.STATUS_STOPPED and stopped.exit_status == 5
    events = EventCollector(client, ['topic=="/tasks/exit"'])
    try:
        client.tasks.Kill(tasks_pb2.KillRequest(container_id=running, signal=9),
                          metadata=client.md, timeout=10)
        assert events.next().task_exit.container_id == running
    finally:
        events.close()
    assert client.tasks.Wait(tasks_pb2.WaitRequest(container_id=running), metadata=client.md,
                             timeout=30).exit_status == 137


def test_a_dead_shim_is_cleaned_up(daemon, base):
    client = daemon.client()
    container_id = create_task(client, base, ["sleep", "100"])
    pid = client.tasks.Start(tasks_pb2.StartRequest(container_id=container_id),
                             metadata=client.md, timeout=10).pid
    events = EventCollector(client, ['topic=="/tasks/exit"'])
    try:
        shim_pid = daemon.shim_pids()[0]
        os.kill(shim_pid, signal.SIGKILL)
        exit_event = events.next(timeout=20).task_exit
        assert exit_event.container_id == container_id and exit_event.exit_status == 255
    finally:
        events.close()
    wait_until(lambda: not process_alive(pid), what="the container's process to go")
    assert code_of(client.tasks.Get, tasks_pb2.GetTaskRequest(container_id=container_id),
                   metadata=client.md, timeout=10) == grpc.StatusCode.NOT_FOUND
    assert mounts_under(daemon.state) == []
    client.containers.Delete(containers_pb2.DeleteContainerRequest(id=container_id),
                             metadata=client.md, timeout=10)


def test_sigterm_leaves_containers_running(build_dir, base):
    daemon = Daemon(build_dir)
    try:
        daemon.start()
        client = daemon.client()
        container_id = create_task(client, base, ["sleep", "100"])
        pid = client.tasks.Start(tasks_pb2.StartRequest(container_id=container_id),
                                 metadata=client.md, timeout=10).pid
        assert daemon.stop(signal.SIGTERM, timeout=15) == 0
        assert process_alive(pid)
        daemon.start()
        assert process_of(daemon.client(), container_id).pid == pid
    finally:
        daemon.destroy()
