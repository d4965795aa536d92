"""The container lifecycle through the docker CLI and python3-docker:
create, start, stop, kill, restart, rm, ps, inspect, rename, pause,
unpause, update, top, wait, prune, export, diff, `docker run -d`."""
import io
import os
import tarfile
import time

import pytest
from conftest import wait_until


def test_run_detached_then_remove(stack):
    started = time.monotonic()
    container = stack.run("--name", "web", "busybox", "sleep", "1000")
    assert len(container) == 64
    info = stack.inspect("web")
    assert info["Id"] == container and info["Name"] == "/web"
    assert info["State"]["Running"] and info["State"]["Status"] == "running"
    assert info["State"]["Pid"] > 0 and os.path.exists("/proc/%d" % info["State"]["Pid"])
    assert info["Path"] == "sleep" and info["Args"] == ["1000"]
    assert info["Config"]["Image"] == "busybox"
    assert info["Image"].startswith("sha256:")
    assert info["Config"]["Hostname"] == container[:12]
    assert "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in \
        info["Config"]["Env"]
    assert time.monotonic() - started < 10
    stack.out("rm", "-f", "web")
    assert stack.api("GET", "/containers/web/json").status == 404
    assert not os.path.exists("/proc/%d" % info["State"]["Pid"]) or \
        wait_until(lambda: not os.path.exists("/proc/%d" % info["State"]["Pid"]), 5, "exit")


def test_create_start_stop_start(stack):
    container = stack.out("create", "--name", "c1", "busybox", "sleep", "1000")
    info = stack.inspect(container)
    assert info["State"]["Status"] == "created" and not info["State"]["Running"]
    assert info["State"]["StartedAt"] == "0001-01-01T00:00:00Z"
    assert stack.out("ps", "-q") == ""
    assert stack.out("ps", "-aq") == container[:12]
    stack.out("start", "c1")
    assert stack.inspect("c1")["State"]["Running"]
    assert stack.out("ps", "-q") == container[:12]
    # sleep as pid 1 ignores SIGTERM: the timeout, then SIGKILL.
    started = time.monotonic()
    stack.out("stop", "-t", "1", "c1")
    assert 0.9 < time.monotonic() - started < 10
    state = stack.inspect("c1")["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == 137
    assert state["FinishedAt"] != "0001-01-01T00:00:00Z"
    stack.out("start", "c1")
    assert stack.inspect("c1")["State"]["Running"]
    # Start of a running container: 304, the CLI says nothing.
    assert stack.api("POST", "/containers/c1/start").status == 304
    # Stop of a stopped one: 304 too.
    stack.out("kill", "c1")
    assert stack.api("POST", "/containers/c1/stop").status == 304


def test_stop_signal_and_exit_code(stack):
    stack.run("--name", "trap", "busybox", "sh", "-c",
              "trap 'exit 42' TERM; while true; do sleep 0.1; done")
    time.sleep(0.3)
    started = time.monotonic()
    stack.out("stop", "trap")
    assert time.monotonic() - started < 5
    assert stack.inspect("trap")["State"]["ExitCode"] == 42
    stack.run("--name", "usr1", "--stop-signal", "USR1", "busybox", "sh", "-c",
              "trap 'exit 9' USR1; while true; do sleep 0.1; done")
    time.sleep(0.3)
    stack.out("stop", "usr1")
    assert stack.inspect("usr1")["State"]["ExitCode"] == 9
    assert stack.inspect("usr1")["Config"]["StopSignal"] == "USR1"


def test_kill_and_signals(stack):
    stack.run("--name", "killme", "busybox", "sh", "-c",
              "trap 'echo got-hup' HUP; while true; do sleep 0.1; done")
    time.sleep(0.3)
    stack.out("kill", "-s", "HUP", "killme")
    wait_until(lambda: "got-hup" in stack.logs("killme"), 5, "the HUP trap")
    assert stack.inspect("killme")["State"]["Running"]
    stack.out("kill", "killme")
    state = stack.inspect("killme")["State"]
    assert not state["Running"] and state["ExitCode"] == 137
    result = stack.docker("kill", "killme", check=False)
    assert result.returncode != 0 and "is not running" in result.stderr


def test_restart(stack):
    stack.run("--name", "restarter", "busybox", "sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait")
    pid = stack.inspect("restarter")["State"]["Pid"]
    stack.out("restart", "-t", "5", "restarter")
    info = stack.inspect("restarter")
    assert info["State"]["Running"] and info["State"]["Pid"] != pid
    assert info["RestartCount"] == 0


def test_wait_and_exit_codes(stack):
    container = stack.run("busybox", "sh", "-c", "sleep 0.5; exit 7")
    assert stack.out("wait", container) == "7"
    assert stack.inspect(container)["State"]["ExitCode"] == 7
    # An exited container: at once.
    assert stack.out("wait", container) == "7"


def test_wait_conditions_with_the_sdk(stack):
    client = stack.client
    container = client.containers.create("busybox", ["sh", "-c", "sleep 0.3; exit 3"])
    # not-running, on a container that is not running: at once.
    assert container.wait(timeout=10)["StatusCode"] == 0
    container.start()
    assert container.wait(timeout=30)["StatusCode"] == 3
    bad = stack.api("POST", "/containers/%s/wait" % container.id, query={"condition": "later"})
    assert bad.status == 400


def test_wait_headers_come_before_the_exit(stack):
    """`docker run` waits for the headers of its wait before it starts the
    container: they must come at once, the body at the exit."""
    from conftest import UnixConnection
    container = stack.out("create", "busybox", "sh", "-c", "sleep 0.3; exit 5")
    connection = UnixConnection(stack.socket, 30)
    connection.request("POST", "/v1.47/containers/%s/wait?condition=next-exit" % container)
    response = connection.getresponse()  # returns at the headers
    assert response.status == 200
    stack.out("start", container)
    assert b'"StatusCode":5' in response.read()
    connection.close()


def test_run_rm_removes_after_exit(stack):
    """`docker run --rm` (AutoRemove): waits with condition=removed, then the
    container is gone; the exit code comes through the wait."""
    client = stack.client
    container = client.containers.create("busybox", ["sh", "-c", "exit 4"], auto_remove=True)
    stack_response = {}

    import threading

    def waiter():
        stack_response["wait"] = stack.api("POST", "/containers/%s/wait" % container.id,
                                           query={"condition": "removed"}, timeout=30)

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.2)
    container.start()
    thread.join(30)
    assert stack_response["wait"].status == 200
    assert stack_response["wait"].json()["StatusCode"] == 4
    assert stack.api("GET", "/containers/%s/json" % container.id).status == 404


def test_run_rm_detached_with_the_cli(stack):
    container = stack.run("--rm", "busybox", "true")
    wait_until(lambda: stack.api("GET", "/containers/%s/json" % container).status == 404, 10,
               "the --rm container to go")
    assert stack.out("ps", "-aq") == ""


def test_pause_unpause(stack):
    stack.run("--name", "pauser", "busybox", "sh", "-c", "while true; do date +%s%N; sleep 0.05; done")
    time.sleep(0.3)
    stack.out("pause", "pauser")
    info = stack.inspect("pauser")
    assert info["State"]["Status"] == "paused" and info["State"]["Paused"]
    assert "(Paused)" in stack.out("ps", "--format", "{{.Status}}")
    lines = stack.logs("pauser").count("\n")
    time.sleep(0.4)
    assert stack.logs("pauser").count("\n") == lines
    assert stack.docker("pause", "pauser", check=False).returncode != 0
    stack.out("unpause", "pauser")
    assert stack.inspect("pauser")["State"]["Status"] == "running"
    wait_until(lambda: stack.logs("pauser").count("\n") > lines, 5, "output after unpause")
    assert stack.docker("unpause", "pauser", check=False).returncode != 0
    # A paused container stops (it is thawed for its signal).
    stack.out("pause", "pauser")
    stack.out("stop", "-t", "1", "pauser")
    assert not stack.inspect("pauser")["State"]["Running"]


def test_rename(stack):
    container = stack.run("--name", "before", "busybox", "sleep", "1000")
    stack.out("rename", "before", "after")
    assert stack.inspect(container)["Name"] == "/after"
    assert stack.api("GET", "/containers/before/json").status == 404
    stack.run("--name", "other", "busybox", "sleep", "1000")
    result = stack.docker("rename", "after", "other", check=False)
    assert result.returncode != 0 and "already in use" in result.stderr
    result = stack.docker("rename", "after", "bad/name", check=False)
    assert result.returncode != 0
    # The new name survives an engine restart.
    stack.kill_engine()
    stack.up()
    assert stack.inspect(container)["Name"] == "/after"


def test_update_resources(stack):
    container = stack.run("--name", "updater", "-m", "32m", "busybox", "sleep", "1000")
    cgroup = "/sys/fs/cgroup/memory/berth/" + container
    unified = "/sys/fs/cgroup/berth/" + container
    stack.out("update", "-m", "48m", "--memory-swap", "96m", "--cpus", "0.5", "--pids-limit", "64",
              "updater")
    host = stack.inspect("updater")["HostConfig"]
    assert host["Memory"] == 48 * 1024 * 1024 and host["MemorySwap"] == 96 * 1024 * 1024
    assert host["NanoCpus"] == 500000000 and host["PidsLimit"] == 64
    if os.path.exists(cgroup):
        with open(cgroup + "/memory.limit_in_bytes") as limit:
            assert int(limit.read()) == 48 * 1024 * 1024
    elif os.path.exists(unified):
        with open(unified + "/memory.max") as limit:
            assert int(limit.read()) == 48 * 1024 * 1024
    stack.out("update", "--restart", "on-failure:3", "updater")
    policy = stack.inspect("updater")["HostConfig"]["RestartPolicy"]
    assert policy == {"Name": "on-failure", "MaximumRetryCount": 3}
    # The limits apply to the next start too.
    stack.out("restart", "-t", "0", "updater")
    assert stack.inspect("updater")["HostConfig"]["Memory"] == 48 * 1024 * 1024
    result = stack.docker("update", "-m", "1m", "updater", check=False)
    assert result.returncode != 0 and "Minimum memory limit" in result.stderr


def test_top(stack):
    stack.run("--name", "topper", "busybox", "sh", "-c", "sleep 1000 & sleep 2000")
    time.sleep(0.3)
    result = stack.client.containers.get("topper").top()
    assert result["Titles"] == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    commands = [process[-1] for process in result["Processes"]]
    assert "sleep 1000" in commands and "sleep 2000" in commands
    assert all(process[0] == "root" for process in result["Processes"])
    text = stack.out("top", "topper", "aux")
    assert "sleep 1000" in text and "%CPU" in text
    stack.out("kill", "topper")
    assert stack.docker("top", "topper", check=False).returncode != 0


def test_export(stack, tmp_path):
    stack.run("--name", "exporter", "busybox", "sh", "-c", "echo made > /made-here; sleep 1000")
    wait_until(lambda: stack.docker("diff", "exporter").stdout.count("/made-here"), 5, "the file")
    target = tmp_path / "e.tar"
    stack.out("export", "-o", str(target), "exporter")
    with tarfile.open(target) as archive:
        names = archive.getnames()
        assert "made-here" in names and "bin/sh" in names and "etc/passwd" in names
        assert archive.extractfile("made-here").read() == b"made\n"
        # busybox's applets are hard links of one binary: stored once.
        links = [member for member in archive.getmembers() if member.islnk()]
        assert len(links) > 10
    assert os.path.getsize(target) < 16 * 1024 * 1024


def test_diff(stack):
    stack.run("--name", "differ", "busybox", "sh", "-c",
              "echo x > /new-file; rm /etc/group; echo y >> /etc/passwd; sleep 1000")
    wait_until(lambda: "/new-file" in stack.out("diff", "differ"), 5, "changes")
    changes = dict(line.split(" ", 1)[::-1] for line in stack.out("diff", "differ").splitlines())
    assert changes["/new-file"] == "A"
    assert changes["/etc/group"] == "D"
    assert changes["/etc/passwd"] == "C"
    assert changes["/etc"] == "C"


def test_prune(stack):
    keep = stack.run("--name", "running", "busybox", "sleep", "1000")
    stack.out("create", "--name", "created", "--label", "keep=yes", "busybox", "true")
    done = stack.run("--name", "done", "busybox", "true")
    stack.out("wait", done)
    result = stack.client.containers.prune(filters={"label!": "keep=yes"})
    assert result["ContainersDeleted"] == [done]
    assert isinstance(result["SpaceReclaimed"], int)
    names = stack.out("ps", "-a", "--format", "{{.Names}}").split()
    assert sorted(names) == ["created", "running"]
    stack.out("container", "prune", "-f")
    assert stack.out("ps", "-aq") == keep[:12]


def test_rm_volumes_flag_and_force(stack):
    stack.run("--name", "forced", "busybox", "sleep", "1000")
    result = stack.docker("rm", "forced", check=False)
    assert result.returncode != 0 and "stop the container before removing" in result.stderr
    stack.out("rm", "-f", "-v", "forced")
    assert stack.out("ps", "-aq") == ""


def test_sdk_run_detached(stack):
    client = stack.client
    container = client.containers.run("busybox", ["sh", "-c", "echo hello; sleep 1000"],
                                      detach=True, name="sdk", labels={"a": "b"})
    container.reload()
    assert container.status == "running" and container.name == "sdk"
    assert container.labels == {"a": "b"}
    assert [c.name for c in client.containers.list(filters={"label": "a=b"})] == ["sdk"]
    container.stop(timeout=1)
    container.reload()
    assert container.status == "exited"
    container.remove()
    assert client.containers.list(all=True) == []
