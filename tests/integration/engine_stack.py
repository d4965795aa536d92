"""The engine test suites' stack: one supervisor and engine
(scripts/stack up, all state in a temporary directory) per test module,
the bundled busybox image loaded through the supervisor's Images.Import,
and clients for it: the docker CLI (/usr/local/bin/docker with
DOCKER_HOST), berth's own CLI (build/cli/berth with BERTH_HOST), Debian's
python3-docker, and raw HTTP for the error cases. Every test starts with no
container; the stack is taken down (scripts/stack down) and the berth
cgroups removed afterwards, also when a test fails.

A module, not a conftest: the suites (engine, engine_health,
engine_streams) each have a conftest.py that imports the fixtures from
here, so one copy serves them all. Run under `unshare --net` (ctest
does): containers get network namespaces, and nothing here needs the
outside world."""
import glob
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

import pytest

DOCKER = os.environ.get("BERTH_DOCKER_CLI", "/usr/local/bin/docker")


def wait_until(condition, timeout=10.0, what="condition", interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting for " + what)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body) if self.body else None

    @property
    def message(self):
        return (self.json() or {}).get("message", "")


class Stack:
    """One supervisor + engine under a temporary directory."""

    def __init__(self, source_dir, build_dir):
        self.source_dir = source_dir
        self.build_dir = build_dir
        self.directory = tempfile.mkdtemp(prefix="bengine-")
        self.socket = os.path.join(self.directory, "engine.sock")
        self.supervisor_socket = os.path.join(self.directory, "supervisord.sock")
        self.docker_config = os.path.join(self.directory, "docker-config")
        os.makedirs(self.docker_config)
        self._client = None

    # ---- the daemons ----

    def _stack(self, command):
        result = subprocess.run([str(self.source_dir / "scripts" / "stack"), command,
                                 self.directory], capture_output=True, text=True, timeout=180)
        if result.returncode != 0:
            raise AssertionError("stack %s failed: %s\n%s" % (command, result.stderr,
                                                              self.log()))
        return result

    def up(self):
        return self._stack("up")

    def down(self):
        if self._client:
            self._client.close()
            self._client = None
        return self._stack("down")

    def engine_pid(self):
        with open(os.path.join(self.directory, "engined.pid")) as pid_file:
            return int(pid_file.read())

    def kill_engine(self, sig=signal.SIGKILL):
        """Stops the engine alone (containers keep running)."""
        pid = self.engine_pid()
        os.kill(pid, sig)
        wait_until(lambda: not alive(pid), 30, "the engine to exit")

    def log(self):
        try:
            with open(os.path.join(self.directory, "engined.log"), errors="replace") as log:
                return log.read()[-6000:]
        except FileNotFoundError:
            return ""

    def load_busybox(self):
        sys.path.insert(0, str(self.build_dir / "generated" / "python"))
        import grpc
        from berth.supervisor.v1 import images_pb2, images_pb2_grpc
        channel = grpc.insecure_channel("unix://" + self.supervisor_socket)
        try:
            images_pb2_grpc.ImagesStub(channel).Import(
                iter([images_pb2.ImportRequest(
                    path=str(self.build_dir / "images" / "busybox" / "busybox.tar"))]),
                metadata=(("berth-namespace", "berth"),), timeout=120)
        finally:
            channel.close()

    # ---- clients ----

    def docker(self, *args, check=True, timeout=120, input=None):
        env = dict(os.environ, DOCKER_HOST="unix://" + self.socket,
                   DOCKER_CONFIG=self.docker_config, DOCKER_CLI_HINTS="false")
        env.pop("DOCKER_API_VERSION", None)
        result = subprocess.run([DOCKER, *args], capture_output=True, text=True, env=env,
                                timeout=timeout, input=input)
        if check and result.returncode != 0:
            raise AssertionError("docker %s: exit %d: %s%s" % (" ".join(args), result.returncode,
                                                              result.stderr, result.stdout))
        return result

    def out(self, *args, **kwargs):
        return self.docker(*args, **kwargs).stdout.strip()

    def berth(self, *args, check=True, timeout=120, input=None, cwd=None):
        """berth's own CLI (build/cli/berth) against the stack."""
        env = dict(os.environ, BERTH_HOST="unix://" + self.socket)
        env.pop("DOCKER_HOST", None)
        result = subprocess.run([str(self.build_dir / "cli" / "berth"), *args],
                                capture_output=True, text=True, env=env, timeout=timeout,
                                input=input, cwd=cwd)
        if check and result.returncode != 0:
            raise AssertionError("berth %s: exit %d: %s%s" % (" ".join(args), result.returncode,
                                                             result.stderr, result.stdout))
        return result

    def health(self, ref):
        return self.inspect(ref)["State"].get("Health")

    def wait_health(self, ref, status, timeout=30):
        return wait_until(lambda: (self.health(ref) or {}).get("Status") == status and
                          self.health(ref), timeout, "health %s of %s" % (status, ref),
                          interval=0.1)

    def events(self, since, until, filters=None):
        """The engine's events between two Unix times, as a list."""
        query = {"since": "%.9f" % since, "until": "%.9f" % until}
        if filters:
            query["filters"] = json.dumps(filters)
        response = self.api("GET", "/events", query=query)
        assert response.status == 200, response.body
        return [json.loads(line) for line in response.body.decode().splitlines() if line]

    @property
    def client(self):
        if not self._client:
            import docker
            self._client = docker.DockerClient(base_url="unix://" + self.socket,
                                               version="1.43", timeout=120)
        return self._client

    def api(self, method, path, body=None, query=None, raw=None, timeout=60):
        connection = UnixConnection(self.socket, timeout)
        if query:
            path += "?" + urllib.parse.urlencode(query)
        headers = {}
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            return Response(response.status, dict(response.getheaders()), response.read())
        finally:
            connection.close()

    # ---- containers ----

    def inspect(self, ref):
        response = self.api("GET", "/containers/%s/json" % ref)
        assert response.status == 200, response.body
        return response.json()

    def run(self, *args):
        """docker run -d ARGS; the container's id."""
        return self.out("run", "-d", *args)

    def logs(self, ref):
        """The container's output, from its json-file log (the logs API is not
        the containers core's)."""
        path = self.inspect(ref)["LogPath"]
        text = ""
        for name in sorted(glob.glob(path + ".*"), reverse=True) + [path]:
            try:
                with open(name) as log:
                    text += "".join(json.loads(line)["log"] for line in log if line.strip())
            except FileNotFoundError:
                pass
        return text

    def run_output(self, *args, timeout=60):
        """Runs a container to its end; (exit code, output)."""
        container = self.run(*args)
        code = int(self.out("wait", container, timeout=timeout))
        return code, self.logs(container)

    def remove_all(self):
        response = self.api("GET", "/containers/json", query={"all": "1"})
        if response.status != 200:
            return
        for container in response.json():
            self.api("DELETE", "/containers/" + container["Id"], query={"force": "1"})

    def cleanup(self):
        try:
            if os.path.exists(self.socket):
                self.remove_all()
        finally:
            try:
                self.down()
            except AssertionError:
                pass
            for cgroup in glob.glob("/sys/fs/cgroup/*/berth") + glob.glob("/sys/fs/cgroup/berth"):
                for child in sorted(glob.glob(cgroup + "/*/"), reverse=True):
                    try:
                        os.rmdir(child)
                    except OSError:
                        pass
                try:
                    os.rmdir(cgroup)
                except OSError:
                    pass
            shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture(scope="module")
def stack_module(source_dir, build_dir):
    if not os.path.exists(DOCKER):
        pytest.skip("the docker CLI (%s) is not installed" % DOCKER)
    instance = Stack(source_dir, build_dir)
    try:
        instance.up()
        instance.load_busybox()
        yield instance
    finally:
        instance.cleanup()


@pytest.fixture
def stack(stack_module):
    """The module's stack, with no container before and after the test."""
    stack_module.up()  # restarts an engine a previous test stopped
    stack_module.remove_all()
    yield stack_module
    stack_module.up()
    stack_module.remove_all()


def pytest_configure(config):
    # python3-docker 5 compares versions with distutils.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:docker.utils.utils")
