"""exec: a new process in a running container, with its flags."""
import json
import os
import time

import pytest

from conftest import (LIST_FDS, capability_mask, cgroup_paths, read_when_written,
                      status_fields, wait_for)


@pytest.fixture
def running(runtime, bundle):
    """A running container (sleep) with /shared bind-mounted; (cid, shared dir)."""
    shared = bundle.share("/shared")
    bundle.process["noNewPrivileges"] = False
    bundle.set_args("sleep", "600")
    return runtime.run_detached(bundle), shared


def test_exec_args_output_and_status(runtime, running):
    cid, _ = running
    result = runtime("exec", cid, "sh", "-c", "echo out; echo err >&2; exit 5")
    assert result.returncode == 5
    assert result.stdout == "out\n"
    assert "err" in result.stderr


def test_exec_stdin(runtime, running):
    cid, _ = running
    result = runtime("exec", cid, "sh", "-c", "read x; echo got:$x", input="abc\n")
    assert result.stdout == "got:abc\n"


def test_exec_joins_the_containers_namespaces_and_cgroups(runtime, running):
    cid, _ = running
    init = runtime.pid(cid)
    out = runtime.exec_output(cid, "sh", "-c",
                              "for ns in pid net ipc uts mnt; do readlink /proc/self/ns/$ns;"
                              " done; echo $$; cat /proc/self/cgroup")
    lines = out.splitlines()
    for index, ns in enumerate(["pid", "net", "ipc", "uts", "mnt"]):
        assert lines[index] == os.readlink("/proc/%d/ns/%s" % (init, ns))
    assert int(lines[5]) > 1
    assert sorted(lines[6:]) == sorted(open("/proc/%d/cgroup" % init).read().splitlines())


def test_exec_env(runtime, running):
    cid, _ = running
    out = runtime.exec_output(cid, "env", flags=["--env", "FOO=bar", "--env", "BAZ=qux"])
    lines = out.splitlines()
    assert "FOO=bar" in lines and "BAZ=qux" in lines
    assert any(line.startswith("PATH=") for line in lines), "the config's env is kept"


def test_exec_cwd(runtime, running):
    cid, _ = running
    assert runtime.exec_output(cid, "pwd", flags=["--cwd", "/etc"]) == "/etc\n"


@pytest.mark.parametrize("user,expected", [("1000", ("1000", "0")),
                                           ("1000:1001", ("1000", "1001"))])
def test_exec_user(runtime, running, user, expected):
    cid, _ = running
    out = runtime.exec_output(cid, "sh", "-c", "id -u; id -g", flags=["--user", user])
    assert tuple(out.split()) == expected


def test_exec_additional_gids(runtime, running):
    cid, _ = running
    out = runtime.exec_output(cid, "id", "-G", flags=["--user", "1000:1000",
                                                      "--additional-gids", "10",
                                                      "--additional-gids", "20"])
    assert set(out.split()) == {"1000", "10", "20"}


def test_exec_cap(runtime, running):
    cid, _ = running
    before = status_fields(runtime.exec_output(cid, "cat", "/proc/self/status"))
    assert not int(before["CapBnd"], 16) & capability_mask(["CAP_SYS_ADMIN"])
    after = status_fields(runtime.exec_output(cid, "cat", "/proc/self/status",
                                              flags=["--cap", "CAP_SYS_ADMIN"]))
    for field in ("CapBnd", "CapEff", "CapPrm"):
        assert int(after[field], 16) & capability_mask(["CAP_SYS_ADMIN"]), field


def test_exec_no_new_privs(runtime, running):
    cid, _ = running
    fields = status_fields(runtime.exec_output(cid, "cat", "/proc/self/status"))
    assert fields["NoNewPrivs"] == "0"
    fields = status_fields(runtime.exec_output(cid, "cat", "/proc/self/status",
                                               flags=["--no-new-privs"]))
    assert fields["NoNewPrivs"] == "1"


def test_exec_detach_and_pid_file(runtime, running):
    cid, shared = running
    pid_file = runtime.tmp_path / "exec.pid"
    runtime.ok("exec", "--detach", "--pid-file", pid_file, cid,
               "sh", "-c", "echo $$ > /shared/inner; exec sleep 600")
    pid = int(pid_file.read_text())
    assert pid in json.loads(runtime.ok("ps", "--format", "json", cid).stdout)
    wait_for((shared / "inner").exists, what="the detached process")
    assert open("/proc/%d/cmdline" % pid).read().split("\0")[0] == "sleep"
    assert cgroup_paths(pid) == cgroup_paths(runtime.pid(cid))


def test_exec_process_file(runtime, running, tmp_path):
    cid, _ = running
    process = {
        "terminal": False,
        "user": {"uid": 1000, "gid": 1002, "additionalGids": [30]},
        "args": ["sh", "-c", "id -u; id -g; id -G; pwd; echo $ONLY_HERE; umask;"
                             " grep NoNewPrivs /proc/self/status"],
        "env": ["PATH=/bin", "ONLY_HERE=yes"],
        "cwd": "/tmp",
        "noNewPrivileges": True,
        "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
                         "permitted": ["CAP_KILL"]},
    }
    (tmp_path / "process.json").write_text(json.dumps(process))
    out = runtime.exec_output(cid, flags=["--process", tmp_path / "process.json"])
    lines = out.splitlines()
    assert lines[0:2] == ["1000", "1002"]
    assert set(lines[2].split()) == {"1002", "30"}
    assert lines[3:5] == ["/tmp", "yes"]
    assert lines[6].split() == ["NoNewPrivs:", "1"]


def test_exec_process_file_rlimits(runtime, running, tmp_path):
    # runc 1.1 sets an exec's rlimits with prlimit on `runc init` while Go's
    # runtime in it raises the NOFILE soft limit to the hard one: about one
    # exec in two shows the hard limit here (runc#4265, fixed in 1.1.13).
    runtime.requires_runc((1, 1, 13), "exec's RLIMIT_NOFILE without a race")
    cid, _ = running
    process = {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["sh", "-c", "ulimit -n"],
               "env": ["PATH=/bin"],
               "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 77, "hard": 88}]}
    (tmp_path / "process.json").write_text(json.dumps(process))
    out = runtime.exec_output(cid, flags=["--process", tmp_path / "process.json"])
    assert out == "77\n"


def test_exec_preserve_fds(runtime, running):
    cid, _ = running
    read, write = os.pipe()
    os.write(write, b"from-fd-3\n")
    os.close(write)
    extra = os.open("/dev/null", os.O_RDONLY)
    try:
        result = runtime("exec", "--preserve-fds", "1", cid, "sh", "-c",
                         LIST_FDS + "; cat <&3",
                         fds=[read, extra])
    finally:
        os.close(read)
        os.close(extra)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["0 1 2 3 ", "from-fd-3"]


def test_exec_in_created_container(runtime, bundle):
    bundle.set_args("sleep", "600")
    cid = runtime.create(bundle)
    assert runtime.exec_output(cid, "echo", "in-created") == "in-created\n"
    assert runtime.status(cid) == "created"


def test_exec_in_paused_container_fails(runtime, running):
    cid, _ = running
    runtime.ok("pause", cid)
    result = runtime("exec", cid, "true")
    assert result.returncode != 0
    assert result.stderr.strip()
    assert runtime.status(cid) == "paused"


def test_exec_in_stopped_container_fails(runtime, bundle):
    bundle.set_args("true")
    cid = runtime.new_id()
    runtime.run_fg(bundle, cid, flags=["--keep"])
    assert runtime.status(cid) == "stopped"
    result = runtime("exec", cid, "true")
    assert result.returncode != 0
    assert result.stderr.strip()


def test_exec_missing_executable_fails(runtime, running):
    cid, _ = running
    result = runtime("exec", cid, "/no/such/program")
    assert result.returncode != 0
    assert result.stderr.strip()
    assert runtime.status(cid) == "running"


def test_exec_apparmor_fails_without_apparmor(runtime, running):
    cid, _ = running
    result = runtime("exec", "--apparmor", "berth-test-profile", cid, "echo", "ran")
    assert result.returncode != 0
    assert "ran" not in result.stdout
    assert result.stderr.strip()


def test_exec_process_label_fails_without_selinux(runtime, running):
    cid, _ = running
    result = runtime("exec", "--process-label", "system_u:system_r:container_t:s0", cid,
                     "echo", "ran")
    assert result.returncode != 0
    assert "ran" not in result.stdout
    assert result.stderr.strip()


def test_exec_processes_die_with_the_container(runtime, running):
    cid, _ = running
    pid_file = runtime.tmp_path / "exec.pid"
    runtime.ok("exec", "--detach", "--pid-file", pid_file, cid, "sleep", "600")
    pid = int(pid_file.read_text())
    runtime.ok("kill", cid, "KILL")
    runtime.wait_status(cid, "stopped")
    wait_for(lambda: not os.path.exists("/proc/%d/cmdline" % pid) or
             open("/proc/%d/cmdline" % pid).read() == "", what="the exec'd process to die")


def test_exec_cgroup(runtime, running):
    cid, _ = running
    parent = cgroup_paths(runtime.pid(cid))["pids"]
    (parent / "sub").mkdir()
    out = runtime.exec_output(cid, "cat", "/proc/self/cgroup", flags=["--cgroup", "pids:sub"])
    pids_line = [line for line in out.splitlines() if line.split(":")[1] == "pids"][0]
    assert pids_line.endswith("/%s/sub" % cid)
    memory_line = [line for line in out.splitlines() if line.split(":")[1] == "memory"][0]
    assert memory_line.endswith("/%s" % cid)


def test_exec_ignore_paused(runtime, running):
    cid, shared = running
    runtime.ok("pause", cid)
    process = runtime.popen("exec", "--detach", "--ignore-paused", cid, "sh", "-c",
                            "echo ran > /shared/ran")
    time.sleep(0.3)
    assert runtime.status(cid) == "paused"
    assert not (shared / "ran").exists(), "a process ran in a paused container"
    runtime.ok("resume", cid)
    assert process.wait(timeout=20) == 0
    assert read_when_written(shared / "ran") == "ran\n"
