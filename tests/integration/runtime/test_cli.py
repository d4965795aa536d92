"""The command line: global flags, help, list, ps, events, features, spec."""
import json
import os
import re
import select
import subprocess

import pytest

from conftest import wait_for

COMMANDS = ["create", "start", "run", "exec", "kill", "delete", "state", "list", "ps",
            "pause", "resume", "update", "events", "features", "spec"]


def test_version(runtime):
    result = runtime.ok("--version")
    assert "version" in result.stdout.lower()


def test_help_lists_every_command(runtime):
    result = runtime.ok("--help")
    for command in COMMANDS:
        assert re.search(r"\b%s\b" % command, result.stdout), command


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help(runtime, command):
    result = runtime(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_unknown_command_fails(runtime):
    result = runtime("no-such-command")
    assert result.returncode != 0
    assert (result.stderr + result.stdout).strip()


def test_unknown_flag_fails(runtime, bundle):
    runtime.expect_failure()
    result = runtime("create", "--no-such-flag", "--bundle", bundle.path, runtime.new_id())
    assert result.returncode != 0
    assert result.stderr.strip()
    runtime.assert_clean()


def test_root_keeps_containers_apart(runtime, bundle, tmp_path):
    bundle.set_args("sleep", "600")
    cid = runtime.create(bundle)
    other_root = tmp_path / "other-root"
    other_root.mkdir()
    listed = runtime.ok("list", "--format", "json", global_args=[]).stdout
    assert cid in listed
    result = subprocess.run([str(runtime.binary), "--root", str(other_root), "list", "--format",
                             "json"], capture_output=True, text=True, check=True)
    assert cid not in result.stdout
    result = subprocess.run([str(runtime.binary), "--root", str(other_root), "state", cid],
                            capture_output=True, text=True)
    assert result.returncode != 0


def read_json_lines(path):
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert entries, "%s is empty" % path
    return entries


def test_log_json_debug(runtime, bundle, tmp_path):
    log = tmp_path / "runtime.log"
    bundle.set_args("true")
    result = runtime.run_fg(bundle, global_args=["--log", log, "--log-format", "json",
                                                  "--debug"])
    assert result.returncode == 0, result.stderr
    for entry in read_json_lines(log):
        assert isinstance(entry, dict) and "msg" in entry and "level" in entry


def test_log_json_error(runtime, bundle, tmp_path):
    log = tmp_path / "runtime.log"
    bundle.config["root"]["path"] = "no-such-rootfs"
    result = runtime.run_fg(bundle, global_args=["--log", log, "--log-format", "json"])
    assert result.returncode != 0
    entries = read_json_lines(log)
    assert any(entry.get("level") == "error" for entry in entries), entries
    runtime.assert_clean()


def test_log_text_error(runtime, bundle, tmp_path):
    log = tmp_path / "runtime.log"
    bundle.config["root"]["path"] = "no-such-rootfs"
    result = runtime.run_fg(bundle, global_args=["--log", log, "--log-format", "text"])
    assert result.returncode != 0
    assert "rootfs" in log.read_text()
    runtime.assert_clean()


def test_debug_flag(runtime, bundle):
    bundle.sh("echo hello")
    result = runtime.run_fg(bundle, global_args=["--debug"])
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello\n"


@pytest.mark.parametrize("value", ["false", "auto"])
def test_rootless_flag(runtime, bundle, value):
    bundle.sh("echo hello")
    result = runtime.run_fg(bundle, global_args=["--rootless", value])
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello\n"


def test_criu_flag_is_accepted(runtime):
    runtime.ok("list", global_args=["--criu", "/nonexistent/criu"])


def test_systemd_cgroup(runtime, bundle):
    cid = runtime.new_id()
    bundle.config["linux"]["cgroupsPath"] = "system.slice:berth-test:%s" % cid
    bundle.set_args("sleep", "600")
    bundle.save()
    result = runtime("run", "--detach", "--bundle", bundle.path, cid,
                     global_args=["--systemd-cgroup"])
    if os.path.isdir("/run/systemd/system"):
        assert result.returncode == 0, result.stderr
        assert runtime.status(cid) == "running"
    else:
        # No systemd on this host: a clear failure, and nothing left behind.
        assert result.returncode != 0
        assert "systemd" in result.stderr
        runtime.assert_clean()


# -- list -------------------------------------------------------------------


def two_containers(runtime, make_bundle):
    first, second = make_bundle(), make_bundle()
    first.set_args("sleep", "600")
    second.set_args("sleep", "600")
    created = runtime.create(first)
    running = runtime.run_detached(second)
    return (created, first), (running, second)


def test_list_json(runtime, make_bundle):
    (created, first), (running, second) = two_containers(runtime, make_bundle)
    listed = {entry["id"]: entry for entry in runtime.list()}
    assert set(listed) == {created, running}
    assert listed[created]["status"] == "created"
    assert listed[running]["status"] == "running"
    assert os.path.samefile(listed[created]["bundle"], first.path)
    assert os.path.samefile(listed[running]["bundle"], second.path)
    for cid, entry in listed.items():
        assert entry["pid"] == runtime.pid(cid)
        assert isinstance(entry["created"], str) and entry["created"]


def test_list_table(runtime, make_bundle):
    (created, _), (running, _) = two_containers(runtime, make_bundle)
    lines = runtime.ok("list").stdout.splitlines()
    header = lines[0].split()
    for column in ("ID", "PID", "STATUS", "BUNDLE"):
        assert column in header
    rows = {line.split()[0]: line.split() for line in lines[1:] if line.strip()}
    assert set(rows) == {created, running}
    assert rows[created][header.index("STATUS")] == "created"
    assert rows[running][header.index("STATUS")] == "running"
    assert rows[running][header.index("PID")] == str(runtime.pid(running))


def test_list_quiet(runtime, make_bundle):
    (created, _), (running, _) = two_containers(runtime, make_bundle)
    assert sorted(runtime.ok("list", "--quiet").stdout.split()) == sorted([created, running])


def test_list_empty(runtime):
    assert runtime.list() == []
    lines = runtime.ok("list").stdout.splitlines()
    assert len(lines) <= 1


# -- ps ---------------------------------------------------------------------


def test_ps_json(runtime, bundle):
    shared = bundle.share("/shared")
    bundle.sh("sleep 600 & echo > /shared/ready; wait")
    cid = runtime.run_detached(bundle)
    wait_for((shared / "ready").exists, what="the child")
    init = runtime.pid(cid)
    pids = wait_for(lambda: (lambda p: p if len(p) == 2 else None)(
        json.loads(runtime.ok("ps", "--format", "json", cid).stdout)), what="two processes")
    assert init in pids
    (child,) = set(pids) - {init}
    assert open("/proc/%d/cmdline" % child).read().split("\0")[0] == "sleep"


def test_ps_table(runtime, bundle):
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    lines = runtime.ok("ps", cid).stdout.splitlines()
    header = lines[0].split()
    assert "PID" in header
    pids = [line.split()[header.index("PID")] for line in lines[1:]]
    assert pids == [str(runtime.pid(cid))]


def test_ps_passes_ps_options(runtime, bundle):
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    lines = runtime.ok("ps", cid, "-o", "pid,args").stdout.splitlines()
    assert lines[0].split() == ["PID", "COMMAND"]
    assert lines[1].split() == [str(runtime.pid(cid)), "sleep", "600"]


# -- events -------------------------------------------------------------------


def test_events_stats(runtime, bundle):
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    event = json.loads(runtime.ok("events", "--stats", cid).stdout)
    assert event["type"] == "stats"
    assert event["id"] == cid
    data = event["data"]
    assert data["cpu"]["usage"]["total"] > 0
    assert data["memory"]["usage"]["usage"] > 0
    assert data["pids"]["current"] == 1


def test_events_stream(runtime, bundle):
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    process = runtime.popen("events", "--interval", "200ms", cid, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    lines = b""
    try:
        while lines.count(b"\n") < 2:
            ready, _, _ = select.select([process.stdout], [], [], 10)
            assert ready, "no event within 10s"
            chunk = os.read(process.stdout.fileno(), 65536)
            assert chunk, "events exited: %r" % process.stderr.read()
            lines += chunk
    finally:
        process.kill()
        process.wait()
    events = [json.loads(line) for line in lines.splitlines()[:2]]
    assert all(event["type"] == "stats" and event["id"] == cid for event in events)


# -- features -----------------------------------------------------------------


def test_features(runtime):
    features = json.loads(runtime.ok("features").stdout)
    # Required by features-schema.json.
    for key in ("ociVersionMin", "ociVersionMax"):
        assert re.match(r"^\d+\.\d+\.\d+", features[key]), key
    assert set(features["hooks"]) >= {"prestart", "createRuntime", "createContainer",
                                      "startContainer", "poststart", "poststop"}
    assert all(isinstance(option, str) for option in features["mountOptions"])
    assert {"ro", "rw", "bind", "rbind", "nosuid", "nodev", "noexec", "rprivate",
            "rslave", "rshared"} <= set(features["mountOptions"])
    assert all(isinstance(value, str) for value in features.get("annotations", {}).values())
    linux = features["linux"]
    assert {"pid", "network", "mount", "ipc", "uts", "user", "cgroup"} <= \
        set(linux["namespaces"])
    assert {"CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_KILL"} <= set(linux["capabilities"])
    assert linux["cgroup"]["v1"] is True
    seccomp = linux["seccomp"]
    assert seccomp["enabled"] is True
    assert {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL"} <= set(seccomp["actions"])
    assert {"SCMP_CMP_EQ", "SCMP_CMP_MASKED_EQ"} <= set(seccomp["operators"])
    assert "SCMP_ARCH_X86_64" in seccomp["archs"]
    for lsm in ("apparmor", "selinux"):
        if lsm in linux:
            assert isinstance(linux[lsm]["enabled"], bool)


# -- spec -------------------------------------------------------------------


def check_spec(config):
    assert re.match(r"^\d+\.\d+\.\d+", config["ociVersion"])
    assert config["root"]["path"] == "rootfs"
    assert config["process"]["args"] and config["process"]["cwd"].startswith("/")
    mounts = {m["destination"]: m for m in config["mounts"]}
    assert mounts["/proc"]["type"] == "proc"
    assert mounts["/dev"]["type"] == "tmpfs"
    types = [ns["type"] for ns in config["linux"]["namespaces"]]
    assert {"pid", "ipc", "uts", "mount"} <= set(types)
    return types


def test_spec_in_current_directory(runtime, tmp_path):
    directory = tmp_path / "spec"
    directory.mkdir()
    runtime.ok("spec", cwd=directory)
    types = check_spec(json.loads((directory / "config.json").read_text()))
    assert "network" in types


def test_spec_bundle_flag(runtime, tmp_path):
    directory = tmp_path / "spec"
    directory.mkdir()
    runtime.ok("spec", "--bundle", directory)
    check_spec(json.loads((directory / "config.json").read_text()))
    assert not (tmp_path / "config.json").exists()


def test_spec_rootless(runtime, tmp_path):
    directory = tmp_path / "spec"
    directory.mkdir()
    runtime.ok("spec", "--rootless", "--bundle", directory)
    config = json.loads((directory / "config.json").read_text())
    types = check_spec(config)
    assert "user" in types
    for key in ("uidMappings", "gidMappings"):
        (mapping,) = config["linux"][key]
        assert mapping["containerID"] == 0 and mapping["size"] == 1
        assert mapping["hostID"] == (os.getuid() if key == "uidMappings" else os.getgid())


def test_spec_refuses_to_overwrite(runtime, tmp_path):
    directory = tmp_path / "spec"
    directory.mkdir()
    (directory / "config.json").write_text("{}")
    result = runtime("spec", "--bundle", directory)
    assert result.returncode != 0
    assert result.stderr.strip()
    assert (directory / "config.json").read_text() == "{}"
    (directory / "config.json").unlink()
    runtime.ok("spec", "--bundle", directory)


def test_spec_output_runs(runtime, bundle):
    """The runtime's own default config runs the bundled busybox."""
    (bundle.path / "config.json").unlink()
    runtime.ok("spec", "--bundle", bundle.path)
    config = json.loads((bundle.path / "config.json").read_text())
    config["process"]["terminal"] = False
    config["process"]["args"] = ["sh", "-c", "echo hello from $(hostname)"]
    bundle.config = config
    result = runtime.run_fg(bundle)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("hello from ")
