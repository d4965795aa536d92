"""Fixtures of the berth CLI tests: `berth` driven against the engine that
BERTH_TEST_ENGINE names (a DOCKER_HOST URL such as unix:///tmp/dref/docker.sock,
or a berth-engined socket), or `stack`: a berth stack of this build started
for the session (scripts/stack up in a temporary directory, taken down with
scripts/stack down at the end, also after failures). Without it the whole
suite is skipped, saying why, so CI stays green until an engine runs there.

Every container a test creates is named with this run's prefix and removed at
the end, whatever happened; images the tests tag are removed too. The bundled
busybox image is loaded into the engine when it is missing.
"""
import os
import pathlib
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

BUILD_DIR = pathlib.Path(os.environ.get("BERTH_BUILD_DIR",
                                        pathlib.Path(__file__).resolve().parents[3] / "build"))
SOURCE_DIR = pathlib.Path(os.environ.get("BERTH_SOURCE_DIR",
                                         pathlib.Path(__file__).resolve().parents[3]))
ENGINE = os.environ.get("BERTH_TEST_ENGINE", "")
STACK_DIR = None  # BERTH_TEST_ENGINE=stack: where the session's stack lives
PREFIX = "bclitest-%s-" % uuid.uuid4().hex[:6]
DOCKER = os.environ.get("BERTH_TEST_DOCKER", "/usr/local/bin/docker")


def _stack(command):
    return subprocess.run([str(SOURCE_DIR / "scripts" / "stack"), command, STACK_DIR],
                          capture_output=True, text=True, timeout=180)


def pytest_configure(config):
    """BERTH_TEST_ENGINE=stack: a stack of this build for the session."""
    global ENGINE, STACK_DIR
    if ENGINE != "stack":
        return
    STACK_DIR = tempfile.mkdtemp(prefix="bclistack-")
    result = _stack("up")
    if result.returncode != 0:
        log = pathlib.Path(STACK_DIR, "engined.log")
        _stack("down")
        shutil.rmtree(STACK_DIR, ignore_errors=True)
        raise pytest.UsageError("scripts/stack up failed: %s%s" % (
            result.stderr, log.read_text()[-3000:] if log.exists() else ""))
    ENGINE = "unix://%s/engine.sock" % STACK_DIR


def pytest_unconfigure(config):
    if not STACK_DIR:
        return
    _stack("down")
    shutil.rmtree(STACK_DIR, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    if ENGINE:
        return
    skip = pytest.mark.skip(reason="BERTH_TEST_ENGINE is not set: no engine to drive the CLI "
                                   "against (set it to a DOCKER_HOST URL, e.g. the one "
                                   "shared/tools/docker-reference.sh prints)")
    for item in items:
        if not getattr(item.module, "FAKE", False):  # the fake-engine tests need none
            item.add_marker(skip)


class Cli:
    """Runs a docker-compatible CLI binary against the test engine."""

    def __init__(self, binary, name):
        self.binary = str(binary)
        self.name = name
        self.env = dict(os.environ)
        for var in ("BERTH_HOST", "DOCKER_CONTEXT", "DOCKER_API_VERSION"):
            self.env.pop(var, None)
        self.env["DOCKER_HOST"] = ENGINE
        self.env["TZ"] = "UTC"

    def __call__(self, *args, input=None, timeout=60, env=None, check=False):
        run_env = dict(self.env)
        run_env.update(env or {})
        result = subprocess.run([self.binary, *args], input=input, capture_output=True,
                                timeout=timeout, env=run_env,
                                text=not isinstance(input, bytes))
        if check and result.returncode != 0:
            raise AssertionError("%s %s failed (%d): %s%s" % (
                self.name, " ".join(args), result.returncode, result.stdout, result.stderr))
        return result

    def ok(self, *args, **kwargs):
        return self(*args, check=True, **kwargs).stdout


@pytest.fixture(scope="session")
def berth():
    binary = BUILD_DIR / "cli" / "berth"
    if not binary.exists():
        pytest.fail("build the berth target first: %s is missing" % binary)
    return Cli(binary, "berth")


@pytest.fixture(scope="session")
def docker():
    """The real docker CLI on the same engine, to compare output formats with."""
    if not os.access(DOCKER, os.X_OK):
        pytest.skip("no docker CLI at %s to compare with" % DOCKER)
    return Cli(DOCKER, "docker")


@pytest.fixture(scope="session", autouse=True)
def busybox(request):
    if not ENGINE:
        yield None
        return
    berth = request.getfixturevalue("berth")
    if not berth("images", "-q", "busybox:latest").stdout.strip():
        tar = BUILD_DIR / "images" / "busybox" / "busybox.tar"
        if not tar.exists():
            pytest.fail("the bundled busybox image is missing: build the busybox-image target")
        berth.ok("load", "-i", str(tar))
    yield "busybox"
    # clean-up of everything this run created
    names = berth("ps", "-a", "-q", "--filter", "name=" + PREFIX).stdout.split()
    if names:
        berth("rm", "-f", *names)
    for line in berth("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split():
        if line.startswith(PREFIX):
            berth("rmi", "-f", line)


@pytest.fixture
def name():
    """A fresh container name of this run."""
    return PREFIX + uuid.uuid4().hex[:8]


@pytest.fixture
def prefix():
    return PREFIX


def wait_until(condition, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


@pytest.fixture
def tmux():
    """A tmux session runner for interactive (-it) tests; killed afterwards."""
    if not shutil.which("tmux"):
        pytest.skip("tmux is not installed")
    sessions = []

    class Tmux:
        def start(self, command, width=100, height=30):
            session = "bcli-" + uuid.uuid4().hex[:8]
            script = "export DOCKER_HOST=%s TZ=UTC; unset BERTH_HOST; %s; echo EXIT=$?; sleep 60" % (
                ENGINE, command)
            subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", str(width), "-y",
                            str(height), script], check=True)
            sessions.append(session)
            return session

        def send(self, session, *keys):
            subprocess.run(["tmux", "send-keys", "-t", session, *keys], check=True)

        def screen(self, session):
            return subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                  capture_output=True, text=True, check=True).stdout

        def wait_for(self, session, text, timeout=20.0):
            wait_until(lambda: text in self.screen(session), timeout,
                       "%r on the screen:\n%s" % (text, self.screen(session)))

    yield Tmux()
    for session in sessions:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
