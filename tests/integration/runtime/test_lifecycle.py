"""The container lifecycle: create, start, run, state, kill, delete, pause,
resume, and the file descriptors the caller hands over (--preserve-fds)."""
import json
import os
import re
import signal
import time

import pytest

from conftest import LIST_FDS, cgroup_paths, pid_alive, read_when_written, wait_for


def marker_bundle(bundle, script="echo started > /shared/marker; sleep 600"):
    shared = bundle.share("/shared")
    bundle.sh(script)
    return shared / "marker"


def test_create_waits_and_start_releases(runtime, bundle):
    marker = marker_bundle(bundle)
    cid = runtime.create(bundle)
    state = runtime.state(cid)
    assert state["status"] == "created"
    assert pid_alive(state["pid"])
    time.sleep(0.5)
    assert not marker.exists(), "the process ran before start"
    runtime.ok("start", cid)
    assert read_when_written(marker) == "started\n"
    assert runtime.status(cid) == "running"
    assert runtime.pid(cid) == state["pid"]


def test_state_fields(runtime, bundle):
    bundle.set_args("sleep", "600")
    cid = runtime.create(bundle)
    state = runtime.state(cid)
    # The required fields of state-schema.json and their types.
    assert isinstance(state["ociVersion"], str) and re.match(r"^\d+\.\d+\.\d+", state["ociVersion"])
    assert state["id"] == cid
    assert state["status"] in ("creating", "created", "running", "stopped")
    assert state["status"] == "created"
    assert isinstance(state["pid"], int) and state["pid"] > 0
    assert os.path.samefile(state["bundle"], bundle.path)
    assert os.path.isabs(state["bundle"])
    runtime.ok("start", cid)
    assert runtime.state(cid)["status"] == "running"
    runtime.ok("kill", cid, "KILL")
    runtime.wait_status(cid, "stopped")
    runtime.ok("delete", cid)
    assert runtime("state", cid).returncode != 0


def test_state_annotations(runtime, bundle):
    bundle.config["annotations"] = {"org.berth.test": "value"}
    bundle.set_args("sleep", "600")
    cid = runtime.create(bundle)
    assert runtime.state(cid)["annotations"] == {"org.berth.test": "value"}


def test_relative_bundle_path(runtime, bundle):
    bundle.set_args("sleep", "600")
    bundle.save()
    cid = runtime.new_id()
    runtime.ok("create", "--bundle", bundle.path.name, cid, cwd=bundle.path.parent)
    assert runtime.state(cid)["bundle"] == str(bundle.path)


def test_bundle_defaults_to_the_current_directory(runtime, bundle):
    bundle.set_args("sleep", "600")
    bundle.save()
    cid = runtime.new_id()
    runtime.ok("create", cid, cwd=bundle.path)
    assert runtime.state(cid)["bundle"] == str(bundle.path)


def test_run_foreground_output_and_exit_status(runtime, bundle):
    bundle.sh("echo to-stdout; echo to-stderr >&2; exit 42")
    result = runtime.run_fg(bundle)
    assert result.returncode == 42
    assert result.stdout == "to-stdout\n"
    assert "to-stderr" in result.stderr


def test_run_foreground_exit_zero_removes_container(runtime, bundle):
    bundle.set_args("true")
    cid = runtime.new_id()
    result = runtime.run_fg(bundle, cid)
    assert result.returncode == 0, result.stderr
    assert runtime("state", cid).returncode != 0
    assert runtime.list() == []


@pytest.mark.parametrize("flag", ["--no-pivot", "--no-new-keyring", "--no-subreaper"])
def test_run_flags(runtime, bundle, flag):
    bundle.sh("ls /; exit 3")
    result = runtime.run_fg(bundle, flags=[flag])
    assert result.returncode == 3, result.stderr
    assert set(result.stdout.split()) >= {"bin", "etc", "proc", "dev"}
    assert "work" not in result.stdout.split()


@pytest.mark.parametrize("flag", ["--no-pivot", "--no-new-keyring"])
def test_create_flags(runtime, bundle, flag):
    marker = marker_bundle(bundle)
    cid = runtime.create(bundle, flags=[flag])
    runtime.ok("start", cid)
    assert read_when_written(marker) == "started\n"


def test_run_foreground_stdin(runtime, bundle):
    bundle.sh("read line; echo got:$line")
    result = runtime.run_fg(bundle, input="hello\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "got:hello\n"


def test_run_killed_container_status_is_128_plus_signal(runtime, bundle):
    bundle.set_args("sleep", "600")
    bundle.save()
    cid = runtime.new_id()
    process = runtime.popen("run", "--bundle", bundle.path, cid)
    runtime.wait_status(cid, "running")
    runtime.ok("kill", cid, "KILL")
    assert process.wait(timeout=20) == 128 + signal.SIGKILL


def test_run_detach(runtime, bundle):
    marker = marker_bundle(bundle)
    start = time.monotonic()
    cid = runtime.run_detached(bundle)
    assert time.monotonic() - start < 10
    assert runtime.status(cid) == "running"
    wait_for(marker.exists, what="the detached container's marker")


def test_run_keep_leaves_stopped_container(runtime, bundle):
    bundle.set_args("true")
    cid = runtime.new_id()
    result = runtime.run_fg(bundle, cid, flags=["--keep"])
    assert result.returncode == 0, result.stderr
    assert runtime.status(cid) == "stopped"
    runtime.ok("delete", cid)
    assert runtime.status(cid) is None


@pytest.mark.parametrize("command", ["create", "run"])
def test_pid_file(runtime, bundle, command):
    bundle.set_args("sleep", "600")
    pid_file = runtime.tmp_path / "container.pid"
    if command == "create":
        cid = runtime.create(bundle, flags=["--pid-file", pid_file])
    else:
        cid = runtime.run_detached(bundle, flags=["--pid-file", pid_file])
    assert int(pid_file.read_text().strip()) == runtime.pid(cid)


def test_process_exit_makes_container_stopped(runtime, bundle):
    bundle.set_args("true")
    cid = runtime.create(bundle)
    runtime.ok("start", cid)
    runtime.wait_status(cid, "stopped")
    state = runtime.state(cid)
    assert state["id"] == cid
    runtime.ok("delete", cid)
    assert runtime.list() == []


def test_start_twice_fails(runtime, bundle):
    bundle.set_args("sleep", "600")
    cid = runtime.create(bundle)
    runtime.ok("start", cid)
    result = runtime("start", cid)
    assert result.returncode != 0
    assert result.stderr.strip()
    assert runtime.status(cid) == "running"


def test_delete_running_needs_force(runtime, bundle):
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    pid = runtime.pid(cid)
    result = runtime("delete", cid)
    assert result.returncode != 0
    assert result.stderr.strip()
    assert runtime.status(cid) == "running"
    runtime.ok("delete", "--force", cid)
    assert runtime.status(cid) is None
    wait_for(lambda: not pid_alive(pid), what="the container's process to die")
    runtime.assert_clean()


def test_delete_force_created_container(runtime, bundle):
    bundle.set_args("sleep", "600")
    cid = runtime.create(bundle)
    pid = runtime.pid(cid)
    runtime.ok("delete", "--force", cid)
    assert runtime.status(cid) is None
    wait_for(lambda: not pid_alive(pid), what="the container's init to die")
    runtime.assert_clean()


def test_delete_stopped_container_removes_its_cgroups(runtime, bundle):
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    paths = cgroup_paths(runtime.pid(cid))
    assert any(cid in str(path) for path in paths.values())
    runtime.ok("kill", cid, "KILL")
    runtime.wait_status(cid, "stopped")
    runtime.ok("delete", cid)
    runtime.assert_clean()


SIGNAL_SPELLINGS = [
    ("TERM", "TERM"), ("SIGTERM", "TERM"), ("15", "TERM"),
    ("USR1", "USR1"), ("SIGUSR1", "USR1"), ("10", "USR1"),
    ("HUP", "HUP"), ("SIGINT", "INT"), ("12", "USR2"),
]


@pytest.mark.parametrize("spelling,name", SIGNAL_SPELLINGS, ids=[s for s, _ in SIGNAL_SPELLINGS])
def test_kill_signal_names_and_numbers(runtime, bundle, spelling, name):
    shared = bundle.share("/shared")
    traps = " ".join('trap "echo %s > /shared/got; exit 0" %s;' % (sig, sig)
                     for sig in ("TERM", "USR1", "USR2", "HUP", "INT"))
    bundle.sh(traps + " echo ready > /shared/ready; while :; do sleep 0.05; done")
    cid = runtime.run_detached(bundle)
    wait_for((shared / "ready").exists, what="the traps to be set")
    runtime.ok("kill", cid, spelling)
    assert read_when_written(shared / "got") == name + "\n"
    runtime.wait_status(cid, "stopped")


def test_kill_default_signal_is_term(runtime, bundle):
    shared = bundle.share("/shared")
    bundle.sh('trap "echo TERM > /shared/got; exit 0" TERM; echo > /shared/ready;'
              ' while :; do sleep 0.05; done')
    cid = runtime.run_detached(bundle)
    wait_for((shared / "ready").exists, what="the trap to be set")
    runtime.ok("kill", cid)
    assert read_when_written(shared / "got") == "TERM\n"


@pytest.mark.parametrize("spelling", ["KILL", "SIGKILL", "9"])
def test_kill_sigkill(runtime, bundle, spelling):
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    runtime.ok("kill", cid, spelling)
    runtime.wait_status(cid, "stopped")


def test_kill_created_container(runtime, bundle):
    marker = marker_bundle(bundle)
    cid = runtime.create(bundle)
    runtime.ok("kill", cid, "KILL")
    runtime.wait_status(cid, "stopped")
    assert not marker.exists()
    runtime.ok("delete", cid)
    runtime.assert_clean()


def test_kill_unknown_signal_fails(runtime, bundle):
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    result = runtime("kill", cid, "SIGNOTASIGNAL")
    assert result.returncode != 0
    assert result.stderr.strip()
    assert runtime.status(cid) == "running"


def container_pids(runtime, cid):
    return json.loads(runtime.ok("ps", "--format", "json", cid).stdout)


def test_kill_all(runtime, bundle):
    # The container's init (pid 1 of its pid namespace, no handler) ignores
    # SIGTERM; its children do not.  Only --all reaches them.
    shared = bundle.share("/shared")
    bundle.sh("sleep 600 & sleep 600 & echo > /shared/ready; wait; sleep 600")
    cid = runtime.run_detached(bundle)
    wait_for((shared / "ready").exists, what="the children to start")
    init = runtime.pid(cid)
    wait_for(lambda: len(container_pids(runtime, cid)) == 3, what="three processes")
    children = set(container_pids(runtime, cid)) - {init}
    runtime.ok("kill", cid, "TERM")
    time.sleep(0.3)
    assert all(pid_alive(pid) for pid in children), "SIGTERM without --all reached the children"
    assert pid_alive(init)
    runtime.ok("kill", "--all", cid, "TERM")
    wait_for(lambda: not any(pid_alive(pid) for pid in children),
             what="the children to die from kill --all")
    runtime.ok("kill", "--all", cid, "KILL")
    runtime.wait_status(cid, "stopped")


def test_pause_and_resume(runtime, bundle):
    shared = bundle.share("/shared")
    bundle.sh("i=0; while :; do i=$((i+1)); echo $i > /shared/counter; sleep 0.02; done")
    cid = runtime.run_detached(bundle)
    counter = shared / "counter"
    wait_for(counter.exists, what="the counter")
    pid = runtime.pid(cid)
    runtime.ok("pause", cid)
    assert runtime.status(cid) == "paused"
    freezer = cgroup_paths(pid)["freezer"] / "freezer.state"
    assert freezer.read_text().strip() == "FROZEN"
    frozen_at = counter.read_text()
    time.sleep(0.3)
    assert counter.read_text() == frozen_at, "the container ran while paused"
    runtime.ok("resume", cid)
    assert runtime.status(cid) == "running"
    assert freezer.read_text().strip() == "THAWED"
    wait_for(lambda: counter.read_text() not in ("", frozen_at), what="the counter to move again")


def test_delete_force_paused_container(runtime, bundle):
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    runtime.ok("pause", cid)
    runtime.ok("delete", "--force", cid)
    assert runtime.status(cid) is None
    runtime.assert_clean()


def test_resume_running_container_fails(runtime, bundle):
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    result = runtime("resume", cid)
    assert result.returncode != 0
    assert result.stderr.strip()
    assert runtime.status(cid) == "running"


def pipe_with(data):
    read, write = os.pipe()
    os.write(write, data)
    os.close(write)
    return read


def test_preserve_fds(runtime, bundle):
    # The runtime gets fds 3, 4 and 5; --preserve-fds 2 hands 3 and 4 on.
    bundle.sh(LIST_FDS + "; cat <&3; cat <&4")
    fds = [pipe_with(b"three\n"), pipe_with(b"four\n"), os.open("/dev/null", os.O_RDONLY)]
    try:
        result = runtime.run_fg(bundle, flags=["--preserve-fds", "2"], fds=fds)
    finally:
        for fd in fds:
            os.close(fd)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["0 1 2 3 4 ", "three", "four"]


def test_inherited_fds_are_not_passed_without_preserve_fds(runtime, bundle):
    bundle.sh(LIST_FDS)
    fds = [pipe_with(b"x"), os.open("/dev/null", os.O_RDONLY)]
    try:
        result = runtime.run_fg(bundle, fds=fds)
    finally:
        for fd in fds:
            os.close(fd)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "0 1 2 \n"
