"""Restart policies (no, always, on-failure[:N], unless-stopped) with
Docker's back-off, and what stops them: stop, kill, rm."""
import time

from conftest import wait_until


def state(stack, ref):
    info = stack.inspect(ref)
    return info["State"]["Status"], info["RestartCount"], info["State"]["ExitCode"]


def test_on_failure_with_a_maximum(stack):
    started = time.monotonic()
    stack.run("--name", "fails", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 3")
    wait_until(lambda: state(stack, "fails") == ("exited", 2, 3), 20, "two restarts, then rest")
    # The back-off: 100 ms, then 200 ms.
    assert time.monotonic() - started >= 0.3
    time.sleep(1)
    assert state(stack, "fails") == ("exited", 2, 3)


def test_on_failure_does_not_restart_a_success(stack):
    container = stack.run("--restart", "on-failure", "busybox", "true")
    assert stack.out("wait", container) == "0"
    time.sleep(0.5)
    assert state(stack, container) == ("exited", 0, 0)


def test_always_restarts_until_stopped(stack):
    stack.run("--name", "again", "--restart", "always", "busybox", "sh", "-c", "exit 1")
    wait_until(lambda: stack.inspect("again")["RestartCount"] >= 3, 20, "three restarts")
    stack.out("stop", "-t", "1", "again")
    status, count, _ = state(stack, "again")
    assert status == "exited"
    time.sleep(1.5)
    assert state(stack, "again")[:2] == ("exited", count)
    # A user's start begins the count again.
    stack.out("start", "again")
    wait_until(lambda: stack.inspect("again")["RestartCount"] >= 1, 20, "a restart")


def test_always_restarts_a_long_runner_killed_from_inside(stack):
    container = stack.run("--restart", "always", "busybox", "sh", "-c", "sleep 1000")
    pid = stack.inspect(container)["State"]["Pid"]
    import os
    import signal
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: stack.inspect(container)["RestartCount"] == 1 and
               stack.inspect(container)["State"]["Running"] and
               stack.inspect(container)["State"]["Pid"] not in (0, pid), 10, "the restart")


def test_kill_ends_restarting(stack):
    container = stack.run("--restart", "always", "busybox", "sleep", "1000")
    stack.out("kill", container)
    time.sleep(0.6)
    status, count, code = state(stack, container)
    assert (status, count, code) == ("exited", 0, 137)


def test_unless_stopped(stack):
    container = stack.run("--restart", "unless-stopped", "busybox", "sh", "-c", "sleep 0.2; exit 1")
    wait_until(lambda: stack.inspect(container)["RestartCount"] >= 1, 10, "a restart")
    stack.out("stop", "-t", "1", container)
    assert stack.inspect(container)["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    # Stopped by hand: the engine's restart does not start it again.
    stack.kill_engine()
    stack.up()
    time.sleep(0.5)
    assert not stack.inspect(container)["State"]["Running"]


def test_always_comes_back_with_the_engine(stack):
    """A stopped container with `always` is started when the engine starts
    (dockerd does the same); `no` stays down."""
    always = stack.run("--restart", "always", "busybox", "sleep", "1000")
    plain = stack.run("busybox", "sleep", "1000")
    stack.out("stop", "-t", "0", always, plain)
    stack.kill_engine()
    stack.up()
    wait_until(lambda: stack.inspect(always)["State"]["Running"], 10, "the always container")
    assert not stack.inspect(plain)["State"]["Running"]


def test_remove_while_restarting(stack):
    container = stack.run("--restart", "always", "busybox", "sh", "-c", "exit 1")
    wait_until(lambda: stack.inspect(container)["RestartCount"] >= 2, 20, "restarts")
    stack.out("rm", "-f", container)
    assert stack.api("GET", "/containers/%s/json" % container).status == 404
    time.sleep(1)
    assert stack.out("ps", "-aq") == ""


def test_rm_container_autoremoves_after_failure(stack):
    container = stack.run("--rm", "busybox", "sh", "-c", "exit 12")
    wait_until(lambda: stack.api("GET", "/containers/%s/json" % container).status == 404, 10,
               "the autoremove")


def test_oom_killed(stack):
    container = stack.run("-m", "8m", "--memory-swap", "8m", "busybox", "sh", "-c",
                          "x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; while true; do x=$x$x; done")
    assert stack.out("wait", container, timeout=60) == "137"
    wait_until(lambda: stack.inspect(container)["State"]["OOMKilled"], 5, "OOMKilled")
