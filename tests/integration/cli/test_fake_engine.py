"""berth against a small fake engine (Python, on a unix socket in a temporary
directory): the parts of the protocol a real daemon cannot be made to show on
demand. Version negotiation (HEAD then GET /_ping, the Api-Version header,
1.24 without it, the client's maximum), run's request order (create, attach,
wait, start) with a hijacked multiplexed stream, a 404 that makes run pull,
and answers that are not what they should be, which must give an error and
never a crash. These tests need no real engine, so they run everywhere."""
import json
import os
import socketserver
import struct
import tempfile
import threading
from http.server import BaseHTTPRequestHandler

import pytest

FAKE = True  # conftest: these tests run without BERTH_TEST_ENGINE


class Engine(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path, behaviour):
        self.requests = []
        self.behaviour = behaviour
        self.started = threading.Event()
        super().__init__(path, Handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def address_string(self):
        return "fake"

    def record(self):
        self.server.requests.append((self.command, self.path))

    def reply(self, status, body=b"", content_type="application/json", headers=()):
        self.send_response(status)
        version = self.server.behaviour.get("api_version", "1.41")
        if version:
            self.send_header("Api-Version", version)
        self.send_header("Ostype", "linux")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.record()
        if self.path == "/_ping" and self.server.behaviour.get("no_head"):
            self.reply(405, b"")
            return
        self.reply(200, b"", "text/plain; charset=utf-8")

    def do_GET(self):
        self.record()
        path = self.path.split("?")[0]
        special = self.server.behaviour.get("get", {})
        if path in special:
            status, body = special[path]
            self.reply(status, body)
        elif path == "/_ping":
            self.reply(200, b"OK", "text/plain; charset=utf-8")
        elif path.endswith("/version"):
            self.reply(200, json.dumps({"Version": "fake", "ApiVersion": "1.41",
                                        "Components": []}).encode())
        else:
            self.reply(404, b'{"message":"page not found"}')

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_POST(self):
        self.record()
        body = self.read_body()
        path = self.path.split("?")[0]
        if path.endswith("/containers/create"):
            if self.server.behaviour.get("create_404"):
                self.reply(404, b'{"message":"No such image: nosuch:latest"}')
            else:
                self.server.create_body = json.loads(body)
                self.reply(201, b'{"Id":"f00d","Warnings":["careful"]}')
        elif path.endswith("/images/create"):
            self.reply(200, b'{"status":"Pulling from library/nosuch","id":"latest"}\r\n'
                            b'{"errorDetail":{"message":"no registry here"},'
                            b'"error":"no registry here"}\r\n')
        elif path.endswith("/attach"):
            self.hijack()
        elif path.endswith("/wait"):
            self.wait()
        elif path.endswith("/start"):
            self.reply(204)
            self.server.started.set()
        else:
            self.reply(404, b'{"message":"page not found"}')

    def hijack(self):
        self.wfile.write(b"HTTP/1.1 101 UPGRADED\r\n"
                         b"Content-Type: application/vnd.docker.multiplexed-stream\r\n"
                         b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
        self.wfile.flush()
        self.server.started.wait(10)
        for stream, data in ((1, b"hello "), (2, b"oops\n"), (1, b"world\n")):
            self.wfile.write(struct.pack(">BxxxL", stream, len(data)) + data)
        self.wfile.flush()
        self.close_connection = True

    def wait(self):
        self.send_response(200)
        self.send_header("Api-Version", "1.41")
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        self.server.started.wait(10)
        body = b'{"StatusCode":3,"Error":null}\n'
        self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        self.wfile.flush()


@pytest.fixture
def engine(request):
    behaviour = getattr(request, "param", {})
    directory = tempfile.mkdtemp(prefix="bclifake-")
    path = os.path.join(directory, "engine.sock")
    server = Engine(path, behaviour)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.host = "unix://" + path
    yield server
    server.shutdown()
    server.server_close()
    os.unlink(path)
    os.rmdir(directory)


def versioned_paths(engine):
    return [path for method, path in engine.requests if path.startswith("/v")]


@pytest.mark.parametrize("engine,expected", [
    ({"api_version": "1.41"}, "/v1.41/"),
    ({"api_version": "1.99"}, "/v1.47/"),
    ({"api_version": ""}, "/v1.24/"),
], indirect=["engine"])
def test_negotiation(berth, engine, expected):
    result = berth("-H", engine.host, "version", "--format", "{{.Server.Version}}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "fake\n"
    assert engine.requests[0] == ("HEAD", "/_ping")
    assert versioned_paths(engine)[0].startswith(expected)


@pytest.mark.parametrize("engine", [{"no_head": True}], indirect=True)
def test_ping_falls_back_to_get(berth, engine):
    assert berth("-H", engine.host, "version").returncode == 0
    assert engine.requests[:2] == [("HEAD", "/_ping"), ("GET", "/_ping")]


def test_api_version_env_skips_ping(berth, engine):
    result = berth("-H", engine.host, "version", env={"DOCKER_API_VERSION": "1.30"})
    assert result.returncode == 0
    assert ("HEAD", "/_ping") not in engine.requests
    assert versioned_paths(engine)[0].startswith("/v1.30/")


def test_run_sequence_and_stream(berth, engine):
    result = berth("-H", engine.host, "run", "--name", "x", "-e", "A=1", "busybox", "echo", "hi")
    assert (result.returncode, result.stdout) == (3, "hello world\n")
    assert result.stderr == "WARNING: careful\noops\n"
    order = [path.split("?")[0].rsplit("/", 1)[-1] for path in versioned_paths(engine)]
    assert order == ["create", "attach", "wait", "start"]
    create = [p for p in versioned_paths(engine) if "/containers/create" in p][0]
    assert create.endswith("?name=x")
    wait = [p for p in versioned_paths(engine) if "/wait" in p][0]
    assert wait.endswith("?condition=next-exit")
    attach = [p for p in versioned_paths(engine) if "/attach" in p][0]
    assert "stream=1" in attach and "stdin=0" in attach and "stdout=1" in attach
    body = engine.create_body
    assert body["Image"] == "busybox" and body["Cmd"] == ["echo", "hi"]
    assert body["Env"] == ["A=1"]
    assert body["HostConfig"]["AutoRemove"] is False


def test_run_rm_waits_for_removal(berth, engine):
    assert berth("-H", engine.host, "run", "--rm", "busybox").returncode == 3
    wait = [p for p in versioned_paths(engine) if "/wait" in p][0]
    assert wait.endswith("?condition=removed")
    assert engine.create_body["HostConfig"]["AutoRemove"] is True


@pytest.mark.parametrize("engine", [{"create_404": True}], indirect=True)
def test_run_pulls_on_404(berth, engine):
    result = berth("-H", engine.host, "run", "nosuch")
    assert result.returncode == 125
    assert result.stderr == ("Unable to find image 'nosuch:latest' locally\n"
                             "latest: Pulling from library/nosuch\n"
                             "berth: no registry here\n\n"
                             "Run 'berth run --help' for more information\n")
    pull = [p for p in versioned_paths(engine) if "/images/create" in p][0]
    assert "fromImage=docker.io%2Flibrary%2Fnosuch" in pull and "tag=latest" in pull


@pytest.mark.parametrize("engine", [{"get": {
    "/v1.41/containers/json": (200, b"this is not json"),
    "/v1.41/images/json": (200, b'{"unexpected": "object"}'),
    "/v1.41/info": (500, b"plain text failure"),
    "/v1.41/containers/c/json": (200, b'[1, 2, {"Id": 5}]'),
}}], indirect=True)
def test_bad_answers_are_errors_not_crashes(berth, engine):
    result = berth("-H", engine.host, "ps")
    assert result.returncode == 1
    assert "malformed JSON" in result.stderr
    result = berth("-H", engine.host, "images")
    assert result.returncode == 0
    assert result.stdout == "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n"
    result = berth("-H", engine.host, "info", "--format", "{{.ID}}")
    assert result.returncode == 1
    assert result.stderr == "Error response from daemon: plain text failure\n"
    result = berth("-H", engine.host, "inspect", "-f", "{{.Id}}", "c")
    assert result.returncode == 1
    assert result.returncode > 0
    result = berth("-H", engine.host, "logs", "c")
    assert result.returncode == 1


def _differences(theirs, ours, path=""):
    """Where two create bodies differ; empty values (null, "", 0, false, [], {}) on one side
    and absent on the other count as equal (docker sends every field)."""
    empty = (None, "", 0, False, [], {})
    if isinstance(theirs, dict) and isinstance(ours, dict):
        found = []
        for key in sorted(set(theirs) | set(ours)):
            if key not in ours:
                if theirs[key] not in empty:
                    found.append("missing %s%s" % (path, key))
            elif key not in theirs:
                if ours[key] not in empty:
                    found.append("extra %s%s" % (path, key))
            else:
                found += _differences(theirs[key], ours[key], path + key + ".")
        return found
    if theirs != ours and not (theirs in (None, [], {}) and ours in (None, [], {})):
        return ["%s: %r != %r" % (path, theirs, ours)]
    return []


@pytest.mark.parametrize("flags", [
    ["--name", "n1", "-i", "-t", "-e", "A=1", "-w", "/w", "-u", "1:2", "--entrypoint", "/bin/sh",
     "-l", "a=b", "--restart", "on-failure:3", "-m", "64m", "--cpus", "1.5", "--cpu-shares",
     "100", "--pids-limit", "50", "--cap-add", "net_admin", "--cap-drop", "MKNOD", "--privileged",
     "--read-only", "--init", "--health-cmd", "true", "--health-interval", "5s",
     "--health-timeout", "2s", "--health-retries", "3", "--health-start-period", "1s",
     "--security-opt", "no-new-privileges", "--stop-signal", "SIGINT", "--stop-timeout", "5",
     "--ulimit", "nofile=100:200", "--device", "/dev/null:/dev/xnull:r", "--hostname", "h1",
     "--shm-size", "1g", "busybox", "echo", "hi"],
    ["-p", "127.0.0.1:8080:80/tcp", "-p", "9000", "-p", "8000-8001:80-81", "-p", "[::1]:90:90",
     "-v", "/tmp:/data:ro", "-v", "/anon", "--network", "bridge", "--dns", "1.1.1.1", "--mount",
     "type=bind,source=/tmp,target=/m,readonly", "--tmpfs", "/run:size=1m", "--sysctl",
     "net.ipv4.ip_forward=1", "--add-host", "h:1.2.3.4", "busybox"],
    ["-a", "stdin", "-a", "stdout", "--network", "mynet", "--network-alias", "al", "--ip",
     "10.1.2.3", "--link", "other:alias", "--expose", "7000-7001", "-P", "--log-driver",
     "json-file", "--log-opt", "max-size=1m", "--entrypoint", "", "--userns", "host", "--pid",
     "host", "--ipc", "host", "--uts", "host", "--cgroupns", "private", "--oom-score-adj", "10",
     "--oom-kill-disable", "--memory-reservation", "10m", "--memory-swap", "-1", "--cpuset-cpus",
     "0", "--cpu-period", "100000", "--cpu-quota", "50000", "--blkio-weight", "300",
     "--group-add", "10", "--dns-search", "x.y", "--dns-option", "ndots:1", "--volumes-from",
     "other", "busybox"],
], ids=["config", "mounts-and-ports", "namespaces-and-resources"])
def test_create_body_matches_docker(berth, docker, engine, flags):
    bodies = []
    for cli in (docker, berth):
        engine.create_body = None
        cli("-H", engine.host, "create", *flags)
        assert engine.create_body is not None, cli.name
        bodies.append(engine.create_body)
    assert _differences(*bodies) == []
