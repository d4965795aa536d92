"""Fixtures of the berth-shim tests: a shared busybox root filesystem, and a
`container` factory that writes a bundle, starts a shim on it and, whatever
happens in the test, takes the container and the shim down again."""
import json
import os
import pathlib
import secrets
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from shimclient import Connection, ShimError  # noqa: F401  (re-exported for tests)

RUNTIMES = ["berth-runtime", "runc"]


@pytest.fixture(scope="session")
def shim_binary(build_dir):
    # BERTH_SHIM_BINARY: another build of the shim (a sanitizer build, say).
    path = pathlib.Path(os.environ.get("BERTH_SHIM_BINARY", build_dir / "shim" / "berth-shim"))
    if not path.exists():
        pytest.fail("build berth-shim first")
    return str(path)


@pytest.fixture(scope="session")
def base_bundle(source_dir, busybox_layout):
    """A bundle made once: its rootfs is shared (read-only) by every test."""
    directory = tempfile.mkdtemp(prefix="bshim-rootfs-")
    subprocess.run([str(source_dir / "scripts" / "mkbundle"), "--image", str(busybox_layout),
                    directory, "--", "sh"], check=True)
    with open(os.path.join(directory, "config.json")) as config_file:
        config = json.load(config_file)
    config["root"]["path"] = os.path.join(directory, "rootfs")
    yield config
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=RUNTIMES)
def runtime(request, build_dir):
    if request.param == "runc":
        path = shutil.which("runc")
        if not path:
            pytest.skip("runc is not installed")
        return path
    path = build_dir / "ociruntime" / "berth-runtime"
    if not path.exists():
        pytest.fail("build berth-runtime first")
    return str(path)


def process_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_until(condition, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


class Container:
    """One bundle, one shim. `connect()` opens a new connection."""

    def __init__(self, shim_binary, runtime, base_config, args, terminal=False, directory=None,
                 start_shim=True, resources=None):
        self.directory = directory or tempfile.mkdtemp(prefix="bshim-")
        self.bundle = os.path.join(self.directory, "bundle")
        self.runtime_root = os.path.join(self.directory, "runtime-root")
        self.log_path = os.path.join(self.directory, "container.log")
        os.makedirs(self.bundle, exist_ok=True)
        os.makedirs(self.runtime_root, exist_ok=True)
        self.id = "shimtest-" + secrets.token_hex(6)
        self.runtime = runtime
        self.shim_binary = shim_binary
        self.socket = os.path.join(self.bundle, "shim.sock")
        self.connections = []
        self.shim_pid = None
        config = json.loads(json.dumps(base_config))
        config["process"]["args"] = args
        config["process"]["terminal"] = terminal
        config["linux"]["resources"].update(resources or {})
        with open(os.path.join(self.bundle, "config.json"), "w") as config_file:
            json.dump(config, config_file)
        if start_shim:
            self.start_shim()

    def shim_command(self, *extra):
        return [self.shim_binary, "--namespace", "test", "--id", self.id, "--bundle", self.bundle,
                "--runtime", self.runtime, "--runtime-root", self.runtime_root,
                "--log-level", "debug", *extra]

    def start_shim(self):
        result = subprocess.run(self.shim_command(), capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        with open(os.path.join(self.bundle, "shim.pid")) as pid_file:
            self.shim_pid = int(pid_file.read())

    def connect(self, timeout=60):
        connection = Connection(self.socket, timeout=timeout)
        self.connections.append(connection)
        return connection

    def shim_log(self):
        try:
            with open(os.path.join(self.bundle, "shim.log")) as log:
                return log.read()
        except FileNotFoundError:
            return ""

    def log_entries(self, path=None):
        with open(path or self.log_path) as log:
            return [json.loads(line) for line in log]

    def runtime_run(self, *args):
        return subprocess.run([self.runtime, "--root", self.runtime_root, *args],
                              capture_output=True, text=True, timeout=60)

    def destroy(self):
        for connection in self.connections:
            connection.close()
        if self.shim_pid and process_alive(self.shim_pid):
            try:
                with Connection(self.socket, timeout=30) as connection:
                    connection.shutdown(force=True)
                deadline = time.monotonic() + 10
                while process_alive(self.shim_pid) and time.monotonic() < deadline:
                    time.sleep(0.02)
            except (OSError, EOFError, ShimError):
                pass
        # Whatever is left: the runtime's container, then the shim itself.
        self.runtime_run("delete", "--force", self.id)
        if self.shim_pid and process_alive(self.shim_pid):
            os.kill(self.shim_pid, signal.SIGKILL)
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def container(shim_binary, runtime, base_bundle):
    """container(args, terminal=False) -> Container; all are destroyed at the end."""
    made = []

    def make(args, terminal=False, **options):
        made.append(Container(shim_binary, runtime, base_bundle,
                              args, terminal=terminal, **options))
        return made[-1]

    yield make
    failures = []
    for item in made:
        try:
            item.destroy()
        except Exception as error:  # clean up the others anyway
            failures.append(error)
    if failures:
        raise failures[0]
