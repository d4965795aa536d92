"""hooks: prestart, createRuntime, createContainer, startContainer, poststart
and poststop; each records that it ran, in which order, and the state JSON
it got on stdin."""
import json
import os
import time

import pytest

from conftest import wait_for

HOOKS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart",
         "poststop"]


def recording_hook(name, directory, env=None):
    """A hook that appends its name to <directory>/order, then saves its stdin
    (<name>.json, the last thing it writes).

    startContainer runs in the container (its path resolves there), so it
    writes through the bind mount at /shared; the others see the host path.
    """
    target = "/shared" if name == "startContainer" else str(directory)
    script = ('echo %(n)s >> %(d)s/order; env > %(d)s/%(n)s.env; cat > %(d)s/%(n)s.json.tmp;'
              ' mv %(d)s/%(n)s.json.tmp %(d)s/%(n)s.json' % {"d": target, "n": name})
    hook = {"path": "/bin/sh", "args": ["sh", "-c", script]}
    if env:
        hook["env"] = env
    return hook


@pytest.fixture
def hooked(runtime, bundle):
    """A bundle with every hook recording into its shared directory."""
    shared = bundle.share("/shared")
    bundle.config["hooks"] = {name: [recording_hook(name, shared)] for name in HOOKS}
    bundle.set_args("sleep", "600")
    return bundle, shared


def hook_state(shared, name):
    return json.loads((shared / ("%s.json" % name)).read_text())


def hook_order(shared):
    return (shared / "order").read_text().split()


def test_hooks_run_in_order_with_the_state(runtime, hooked):
    bundle, shared = hooked
    del bundle.config["hooks"]["poststart"]  # runc 1.1 runs it at create: see below
    cid = runtime.create(bundle)
    pid = runtime.pid(cid)
    created = ["prestart", "createRuntime", "createContainer"]
    order = hook_order(shared)
    assert sorted(order) == sorted(created)
    assert order.index("createRuntime") < order.index("createContainer")
    assert order.index("prestart") < order.index("createContainer")
    for name in created:
        state = hook_state(shared, name)
        assert state["id"] == cid, name
        assert os.path.samefile(state["bundle"], bundle.path), name
        assert state["status"] == "creating", name
        assert state["ociVersion"], name
    for name in ("prestart", "createRuntime"):
        assert hook_state(shared, name)["pid"] == pid, name

    runtime.ok("start", cid)
    wait_for(lambda: (shared / "startContainer.json").exists(), what="the startContainer hook")
    assert hook_order(shared)[3:] == ["startContainer"]
    assert hook_state(shared, "startContainer")["status"] == "created"

    runtime.ok("kill", cid, "KILL")
    runtime.wait_status(cid, "stopped")
    assert not (shared / "poststop.json").exists()
    runtime.ok("delete", cid)
    assert hook_order(shared)[-1] == "poststop"
    state = hook_state(shared, "poststop")
    assert state["id"] == cid and state["status"] == "stopped"


def test_container_namespace_hooks_get_the_host_pid(runtime, hooked):
    runtime.skip_on_runc("runc 1.1 gives createContainer and startContainer hooks the pid"
                         " inside the container's pid namespace (1), not the pid as seen by"
                         " the host")
    bundle, shared = hooked
    cid = runtime.create(bundle)
    assert hook_state(shared, "createContainer")["pid"] == runtime.pid(cid)
    runtime.ok("start", cid)
    wait_for(lambda: (shared / "startContainer.json").exists(), what="the startContainer hook")
    assert hook_state(shared, "startContainer")["pid"] == runtime.pid(cid)


def test_poststart_runs_after_start(runtime, hooked):
    runtime.requires_runc((1, 2), "poststart hooks run after start: runc 1.1 runs them at"
                                  " create, before the user process is started")
    bundle, shared = hooked
    cid = runtime.create(bundle)
    pid = runtime.pid(cid)
    assert "poststart" not in hook_order(shared)
    runtime.ok("start", cid)
    wait_for(lambda: (shared / "poststart.json").exists(), what="the poststart hook")
    assert hook_order(shared)[3:] == ["startContainer", "poststart"]
    state = hook_state(shared, "poststart")
    assert state["status"] == "running" and state["pid"] == pid


def test_hooks_with_run(runtime, hooked):
    bundle, shared = hooked
    bundle.set_args("true")
    result = runtime.run_fg(bundle)
    assert result.returncode == 0, result.stderr
    order = (shared / "order").read_text().split()
    assert sorted(order) == sorted(HOOKS)
    assert order[-1] == "poststop"


def test_hook_args_and_env(runtime, bundle):
    shared = bundle.share("/shared")
    bundle.config["hooks"] = {"createRuntime": [{
        "path": "/bin/sh",
        "args": ["sh", "-c", 'echo "$0 $1 $2" > %s/args; env > %s/env' % (shared, shared),
                 "zero", "first", "second"],
        "env": ["HOOK_VAR=hook-value", "PATH=/bin:/usr/bin"]}]}
    bundle.set_args("true")
    assert runtime.run_fg(bundle).returncode == 0
    assert (shared / "args").read_text() == "zero first second\n"
    env = (shared / "env").read_text().splitlines()
    assert "HOOK_VAR=hook-value" in env
    assert not any(line.startswith("BERTH_") for line in env)


def test_create_container_hook_runs_in_the_containers_namespaces(runtime, bundle):
    shared = bundle.share("/shared")
    script = ("readlink /proc/self/ns/mnt > %(d)s/mnt; readlink /proc/self/ns/uts > %(d)s/uts;"
              " readlink /proc/self/ns/pid > %(d)s/pid" % {"d": shared})
    bundle.config["hooks"] = {
        "createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", script]}]}
    bundle.set_args("sleep", "600")
    cid = runtime.create(bundle)
    pid = runtime.pid(cid)
    for ns in ("mnt", "uts"):
        assert (shared / ns).read_text().strip() == os.readlink("/proc/%d/ns/%s" % (pid, ns))
        assert (shared / ns).read_text().strip() != os.readlink("/proc/self/ns/%s" % ns)


def test_start_container_hook_path_resolves_in_the_container(runtime, bundle):
    shared = bundle.share("/shared")
    bundle.write_file("/only-in-container", "#!/bin/sh\necho ran > /shared/ran\n", mode=0o755)
    bundle.config["hooks"] = {"startContainer": [{"path": "/only-in-container"}]}
    bundle.set_args("sleep", "600")
    cid = runtime.create(bundle)
    runtime.ok("start", cid)
    assert (shared / "ran").read_text() == "ran\n"


@pytest.mark.parametrize("hook", ["prestart", "createRuntime", "createContainer",
                                  "startContainer"])
def test_failing_hook_stops_the_container(runtime, bundle, hook):
    runtime.expect_failure()
    shared = bundle.share("/shared")
    bundle.config["hooks"] = {hook: [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}
    bundle.sh("echo started > /shared/started")
    cid = runtime.new_id()
    result = runtime.run_fg(bundle, cid)
    assert result.returncode != 0
    assert not (shared / "started").exists()
    assert result.stderr.strip()
    if runtime.status(cid) is not None:
        runtime.ok("delete", "--force", cid)
    runtime.assert_clean()


def test_failing_poststart_hook_is_only_a_warning(runtime, bundle):
    runtime.requires_runc((1, 2), "poststart hooks run after start: runc 1.1 runs them at"
                                  " create, and fails create when one fails")
    shared = bundle.share("/shared")
    bundle.config["hooks"] = {"poststart": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}
    bundle.sh("echo started > /shared/started; sleep 600")
    cid = runtime.create(bundle)
    runtime("start", cid)
    wait_for((shared / "started").exists, what="the process to run despite the hook")
    assert runtime.status(cid) == "running"


def test_failing_poststop_hook_still_deletes(runtime, bundle):
    bundle.config["hooks"] = {"poststop": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    runtime("delete", "--force", cid)
    assert runtime.status(cid) is None
    runtime.assert_clean()


def test_hook_timeout(runtime, bundle):
    runtime.expect_failure()
    bundle.config["hooks"] = {"createRuntime": [
        {"path": "/bin/sh", "args": ["sh", "-c", "exec sleep 30"], "timeout": 1}]}
    bundle.sh("echo started")
    start = time.monotonic()
    result = runtime.run_fg(bundle, timeout=20)
    elapsed = time.monotonic() - start
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert result.stderr.strip()
    assert elapsed < 10, "the hook's 1s timeout was not enforced (took %.1fs)" % elapsed
    runtime.assert_clean()


def test_hook_timeout_with_a_child_holding_its_output(runtime, bundle):
    runtime.expect_failure()
    runtime.skip_on_runc("runc waits for a timed-out hook's stdout and stderr to close, so a"
                         " child of the hook that keeps them open blocks it until the child"
                         " exits")
    bundle.config["hooks"] = {"createRuntime": [
        {"path": "/bin/sh", "args": ["sh", "-c", "sleep 30; true"], "timeout": 1}]}
    bundle.sh("echo started")
    start = time.monotonic()
    result = runtime.run_fg(bundle, timeout=20)
    assert result.returncode != 0
    assert time.monotonic() - start < 10
    runtime.assert_clean()


def test_hook_within_timeout(runtime, bundle):
    shared = bundle.share("/shared")
    bundle.config["hooks"] = {"createRuntime": [
        {"path": "/bin/sh", "args": ["sh", "-c", "sleep 0.2; echo ok > %s/hook" % shared],
         "timeout": 5}]}
    bundle.set_args("true")
    assert runtime.run_fg(bundle).returncode == 0
    assert (shared / "hook").read_text() == "ok\n"


def test_missing_hook_program_fails(runtime, bundle, tmp_path):
    runtime.expect_failure()
    bundle.config["hooks"] = {"createRuntime": [{"path": str(tmp_path / "no-such-hook")}]}
    bundle.sh("echo started")
    result = runtime.run_fg(bundle)
    assert result.returncode != 0
    assert "started" not in result.stdout
    runtime.assert_clean()


def test_several_hooks_of_one_kind_run_in_order(runtime, bundle):
    shared = bundle.share("/shared")
    bundle.config["hooks"] = {"createRuntime": [
        {"path": "/bin/sh", "args": ["sh", "-c", "echo %d >> %s/order" % (n, shared)]}
        for n in range(1, 4)]}
    bundle.set_args("true")
    assert runtime.run_fg(bundle).returncode == 0
    assert (shared / "order").read_text().split() == ["1", "2", "3"]
