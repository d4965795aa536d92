"""Errors: malformed config.json, missing pieces, bad and duplicate ids,
unknown ids, commands in the wrong state. Each must fail with a non-zero
exit and a message on stderr, and leave nothing behind."""
import json

import pytest

COMMANDS_TAKING_AN_ID = [
    ["start"], ["state"], ["kill"], ["kill", "--all"], ["delete"], ["pause"], ["resume"],
    ["ps"], ["ps", "--format", "json"], ["events", "--stats"], ["update", "--pids-limit", "5"],
]


@pytest.fixture(autouse=True)
def failures_prove_something(runtime):
    runtime.expect_failure()


def assert_fails(runtime, result, keyword=None):
    assert result.returncode != 0, "succeeded: %s" % result.stdout
    assert result.stderr.strip(), "no message on stderr"
    if keyword:
        assert keyword.lower() in result.stderr.lower(), result.stderr
    assert "container-ran" not in result.stdout
    runtime.assert_clean()


def create(runtime, bundle, cid=None, save=True):
    if save:
        bundle.save()
    return runtime("create", "--bundle", bundle.path, cid or runtime.new_id())


def run(runtime, bundle, save=True):
    if save:
        bundle.save()
    return runtime("run", "--bundle", bundle.path, runtime.new_id())


# -- malformed config.json -------------------------------------------------------------


@pytest.mark.parametrize("text", ["{not json", "", "[]", "null", '{"ociVersion": "1.0.2"'],
                         ids=["garbage", "empty", "array", "null", "truncated"])
def test_bad_json(runtime, bundle, text):
    bundle.config_path.write_text(text)
    assert_fails(runtime, create(runtime, bundle, save=False))


WRONG_TYPES = {
    "args-string": lambda c: c["process"].__setitem__("args", "echo container-ran"),
    "root-path-number": lambda c: c["root"].__setitem__("path", 5),
    "uid-string": lambda c: c["process"]["user"].__setitem__("uid", "0"),
    "uid-negative": lambda c: c["process"]["user"].__setitem__("uid", -1),
    "namespaces-object": lambda c: c["linux"].__setitem__("namespaces", {}),
    "hostname-number": lambda c: c.__setitem__("hostname", 5),
    "memory-limit-string": lambda c: c["linux"]["resources"].__setitem__(
        "memory", {"limit": "big"}),
    "mount-destination-number": lambda c: c["mounts"][0].__setitem__("destination", 5),
    "env-object": lambda c: c["process"].__setitem__("env", {"A": "b"}),
    "terminal-string": lambda c: c["process"].__setitem__("terminal", "yes"),
    "process-array": lambda c: c.__setitem__("process", []),
}


@pytest.mark.parametrize("name", sorted(WRONG_TYPES))
def test_wrong_types(runtime, bundle, name):
    bundle.set_args("echo", "container-ran")
    WRONG_TYPES[name](bundle.config)
    assert_fails(runtime, create(runtime, bundle))


MISSING = {
    "process": lambda c: c.pop("process"),
    "root": lambda c: c.pop("root"),
    "args": lambda c: c["process"].pop("args"),
    "empty-args": lambda c: c["process"].__setitem__("args", []),
    "cwd": lambda c: c["process"].pop("cwd"),
    "namespace-type": lambda c: c["linux"]["namespaces"][0].pop("type"),
}


@pytest.mark.parametrize("name", sorted(MISSING))
def test_missing_fields(runtime, bundle, name):
    bundle.set_args("echo", "container-ran")
    MISSING[name](bundle.config)
    assert_fails(runtime, create(runtime, bundle))


def test_missing_oci_version(runtime, bundle):
    runtime.skip_on_runc("runc 1.1.5 does not check ociVersion, a required field")
    bundle.set_args("echo", "container-ran")
    del bundle.config["ociVersion"]
    assert_fails(runtime, create(runtime, bundle))


@pytest.mark.parametrize("config_change", [
    lambda c: c["process"].__setitem__("cwd", "relative/dir"),
    lambda c: c["linux"]["namespaces"].append({"type": "no-such-namespace"}),
    lambda c: c["linux"]["namespaces"].append({"type": "pid"}),
    lambda c: c["process"].__setitem__("env", ["NO_EQUALS_SIGN"]),
    lambda c: c["process"].__setitem__("args", ["/no/such/program"]),
    lambda c: c["process"]["rlimits"].append({"type": "RLIMIT_NOFILE", "soft": 10,
                                              "hard": 5}),
], ids=["relative-cwd", "unknown-namespace", "duplicate-namespace", "env-without-equals",
        "missing-program", "soft-above-hard"])
def test_invalid_values(runtime, bundle, config_change):
    bundle.set_args("echo", "container-ran")
    config_change(bundle.config)
    bundle.save()
    cid = runtime.new_id()
    result = runtime("run", "--bundle", bundle.path, cid)
    assert_fails(runtime, result)


def test_hostname_without_uts_namespace(runtime, bundle):
    bundle.remove_namespace("uts")
    bundle.config["hostname"] = "not-allowed"
    bundle.set_args("echo", "container-ran")
    assert_fails(runtime, run(runtime, bundle))


# -- missing pieces --------------------------------------------------------------------


def test_missing_rootfs(runtime, bundle):
    bundle.config["root"]["path"] = "no-such-rootfs"
    assert_fails(runtime, create(runtime, bundle))


def test_rootfs_is_a_file(runtime, bundle):
    (bundle.path / "rootfs-file").write_text("")
    bundle.config["root"]["path"] = "rootfs-file"
    assert_fails(runtime, create(runtime, bundle))


def test_missing_config(runtime, bundle):
    bundle.config_path.unlink()
    assert_fails(runtime, create(runtime, bundle, save=False))


def test_missing_bundle(runtime, tmp_path):
    result = runtime("create", "--bundle", tmp_path / "no-such-bundle", runtime.new_id())
    assert_fails(runtime, result)


def test_pid_file_in_missing_directory(runtime, bundle, tmp_path):
    bundle.set_args("sleep", "600")
    bundle.save()
    cid = runtime.new_id()
    result = runtime("create", "--pid-file", tmp_path / "no" / "such" / "dir" / "pid",
                     "--bundle", bundle.path, cid)
    assert result.returncode != 0
    assert result.stderr.strip()
    if runtime.status(cid) is not None:
        runtime.ok("delete", "--force", cid)
    runtime.assert_clean()


def test_missing_console_socket(runtime, bundle, tmp_path):
    bundle.process["terminal"] = True
    bundle.set_args("echo", "container-ran")
    bundle.save()
    result = runtime("create", "--console-socket", tmp_path / "no-such.sock", "--bundle",
                     bundle.path, runtime.new_id())
    assert_fails(runtime, result)


# -- ids ----------------------------------------------------------------------------------


def test_duplicate_id(runtime, make_bundle):
    first, second = make_bundle(), make_bundle()
    first.set_args("sleep", "600")
    second.sh("echo container-ran")
    cid = runtime.create(first)
    second.save()
    for command in ("create", "run"):
        result = runtime(command, "--bundle", second.path, cid)
        assert result.returncode != 0
        assert result.stderr.strip()
        assert "container-ran" not in result.stdout
    state = runtime.state(cid)
    assert state["status"] == "created"
    assert state["bundle"] == str(first.path)
    runtime.ok("start", cid)
    assert runtime.status(cid) == "running"


@pytest.mark.parametrize("cid", ["", "../escape", "a/b", "..", ".", "/abs"])
def test_invalid_id(runtime, bundle, cid, tmp_path):
    bundle.set_args("echo", "container-ran")
    bundle.save()
    result = runtime("create", "--bundle", bundle.path, cid)
    assert result.returncode != 0
    assert result.stderr.strip()
    assert not (tmp_path / "escape").exists()
    assert runtime.list() == []


@pytest.mark.parametrize("command", COMMANDS_TAKING_AN_ID, ids=" ".join)
def test_unknown_id(runtime, command):
    result = runtime(*command, "no-such-container")
    assert result.returncode != 0
    assert result.stderr.strip()


def test_unknown_id_exec(runtime):
    result = runtime("exec", "no-such-container", "true")
    assert result.returncode != 0
    assert result.stderr.strip()


def test_delete_force_unknown_id_succeeds(runtime):
    # Like runc: forcing the removal of what is not there is not an error.
    assert runtime("delete", "--force", "no-such-container").returncode == 0


# -- wrong state ----------------------------------------------------------------------------


@pytest.fixture
def stopped(runtime, bundle):
    bundle.set_args("true")
    cid = runtime.create(bundle)
    runtime.ok("start", cid)
    runtime.wait_status(cid, "stopped")
    return cid


@pytest.mark.parametrize("command", [["start"], ["kill", "KILL"], ["pause"], ["resume"],
                                     ["exec", "true"]], ids=" ".join)
def test_command_on_stopped_container(runtime, stopped, command):
    result = runtime(command[0], stopped, *command[1:])
    assert result.returncode != 0
    assert result.stderr.strip()
    assert runtime.status(stopped) == "stopped"


def test_exec_without_command_fails(runtime, bundle):
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    result = runtime("exec", cid)
    assert result.returncode != 0
    assert result.stderr.strip() or result.stdout.strip()


def test_exec_bad_process_file(runtime, bundle, tmp_path):
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    (tmp_path / "process.json").write_text("{not json")
    result = runtime("exec", "--process", tmp_path / "process.json", cid)
    assert result.returncode != 0
    assert result.stderr.strip()
    result = runtime("exec", "--process", tmp_path / "missing.json", cid)
    assert result.returncode != 0
    (tmp_path / "process.json").write_text(json.dumps({"cwd": "/", "args": []}))
    result = runtime("exec", "--process", tmp_path / "process.json", cid)
    assert result.returncode != 0
    assert runtime.status(cid) == "running"


# -- the process cannot be run -------------------------------------------------------------


@pytest.mark.parametrize("args, keyword", [
    (["/etc"], "permission denied"),               # a directory
    (["/etc/passwd"], "permission denied"),        # not executable
    (["/no/such/binary"], "no such file"),
    (["no-such-command"], "executable file not found"),
], ids=["directory", "not-executable", "missing-path", "missing-command"])
def test_process_that_cannot_run(runtime, bundle, args, keyword):
    """create refuses it, as runc's LookPath does (Docker turns permission
    denied into exit 126 and not found into 127)."""
    bundle.config["process"]["args"] = args
    assert_fails(runtime, create(runtime, bundle), keyword)
