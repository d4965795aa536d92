"""The engine restarts without touching containers: SIGKILLed or stopped,
a restarted engine finds running containers running, records exits that
happened meanwhile, and applies their restart policies."""
import os
import signal
import time

from conftest import alive, wait_until


def test_sigkilled_engine_keeps_containers_running(stack):
    running = stack.run("--name", "survivor", "busybox", "sleep", "1000")
    pid = stack.inspect(running)["State"]["Pid"]
    created = stack.out("create", "--name", "idle", "busybox", "true")
    engine = stack.engine_pid()
    stack.kill_engine(signal.SIGKILL)
    assert alive(pid)
    stack.up()
    assert stack.engine_pid() != engine
    info = stack.inspect("survivor")
    assert info["State"]["Running"] and info["State"]["Pid"] == pid
    assert stack.out("ps", "--format", "{{.Names}}") == "survivor"
    assert stack.inspect(created)["State"]["Status"] == "created"
    # Still fully manageable.
    stack.out("stop", "-t", "0", "survivor")
    assert not alive(pid) or wait_until(lambda: not alive(pid), 5, "the exit")
    assert stack.inspect("survivor")["State"]["ExitCode"] == 137


def test_logs_and_exec_after_a_sigkilled_engine(stack):
    """What a container printed while no engine ran is in its logs, with no
    line lost, and the restarted engine execs into it."""
    counter = stack.run("--name", "counter", "busybox", "sh", "-c",
                        "i=0; while true; do echo $i; i=$((i+1)); sleep 0.1; done")
    wait_until(lambda: len(stack.out("logs", counter).split()) >= 3, 10, "the first lines")
    stack.kill_engine(signal.SIGKILL)
    time.sleep(1)
    stack.up()
    lines = stack.out("logs", counter).split()
    assert len(lines) >= 10, lines  # a second of output with no engine
    assert lines == [str(number) for number in range(len(lines))]
    assert stack.out("exec", counter, "echo", "exec works") == "exec works"
    assert stack.out("ps", "--format", "{{.Names}}") == "counter"


def test_exit_while_the_engine_is_down(stack):
    short = stack.run("--name", "short", "busybox", "sh", "-c", "sleep 1; exit 5")
    long = stack.run("--name", "long", "busybox", "sleep", "1000")
    stack.kill_engine(signal.SIGKILL)
    time.sleep(1.5)
    stack.up()
    state = stack.inspect(short)["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == 5
    assert state["FinishedAt"] > state["StartedAt"]
    assert stack.inspect(long)["State"]["Running"]
    lines = stack.out("ps", "-a", "--format", "{{.Names}} {{.Status}}").splitlines()
    assert any(line.startswith("short Exited (5)") for line in lines)
    assert any(line.startswith("long Up") for line in lines)
    # The task is gone: the container starts again.
    stack.out("start", "short")
    assert stack.out("wait", "short") == "5"


def test_exit_during_downtime_applies_the_policy(stack):
    container = stack.run("--restart", "on-failure:1", "busybox", "sh", "-c", "sleep 1; exit 2")
    stack.kill_engine(signal.SIGKILL)
    time.sleep(1.5)
    stack.up()
    wait_until(lambda: stack.inspect(container)["RestartCount"] == 1, 10, "the restart")
    stack.out("wait", container)
    wait_until(lambda: stack.inspect(container)["State"]["Status"] == "exited", 10, "the end")


def test_rm_container_exiting_while_down_is_removed(stack):
    container = stack.run("--rm", "busybox", "sh", "-c", "sleep 1")
    stack.kill_engine(signal.SIGKILL)
    time.sleep(1.5)
    stack.up()
    wait_until(lambda: stack.api("GET", "/containers/%s/json" % container).status == 404, 10,
               "the removal")


def test_graceful_engine_stop_keeps_containers(stack):
    container = stack.run("busybox", "sleep", "1000")
    pid = stack.inspect(container)["State"]["Pid"]
    stack.kill_engine(signal.SIGTERM)
    assert alive(pid)
    stack.up()
    assert stack.inspect(container)["State"]["Pid"] == pid


def test_supervisor_restart_is_survived(stack):
    """The supervisor restarts (its shims keep the containers): the engine
    subscribes again and still sees the exits."""
    container = stack.run("busybox", "sh", "-c", "sleep 2; exit 6")
    with open(os.path.join(stack.directory, "supervisord.pid")) as pid_file:
        supervisor = int(pid_file.read())
    os.kill(supervisor, signal.SIGKILL)
    wait_until(lambda: not alive(supervisor), 10, "the supervisor to die")
    stack.up()
    assert stack.out("wait", container, timeout=30) == "6"
    assert stack.inspect(container)["State"]["Status"] == "exited"
