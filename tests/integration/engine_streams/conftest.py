"""Fixtures of the tests of the engine's streaming endpoints (attach, logs,
exec, resize, stats): the containers core's stack fixture (one stack per
test module, the bundled busybox loaded, no container before and after a
test; see ../engine_stack.py), plus a tmux runner for the interactive
(-it) cases and a raw client for hijacked connections.

Run under `unshare --net` (ctest does)."""
import json
import pathlib
import shutil
import socket
import struct
import subprocess
import sys
import time
import uuid

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from engine_stack import (DOCKER, Stack, alive, pytest_configure, stack,  # noqa: E402,F401
                          stack_module, wait_until)


# ---- hijacked connections by hand ----

class Hijacked:
    """POST a hijacking endpoint over the engine's socket; then a raw,
    bidirectional byte stream."""

    def __init__(self, path, method="POST", body=None, upgrade=True, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buffer = b""
        self.method = method
        self.body = body
        self.upgrade = upgrade

    def request(self, target):
        data = json.dumps(self.body).encode() if self.body is not None else b""
        head = "%s %s HTTP/1.1\r\nHost: docker\r\nContent-Length: %d\r\n" % (
            self.method, target, len(data))
        if self.body is not None:
            head += "Content-Type: application/json\r\n"
        if self.upgrade:
            head += "Connection: Upgrade\r\nUpgrade: tcp\r\n"
        self.sock.sendall(head.encode() + b"\r\n" + data)
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        return status, headers

    def read_all(self):
        """Everything until the engine closes the connection."""
        data = self.buffer
        self.buffer = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise AssertionError("the stream did not end; so far: %r" % data)
            if not chunk:
                return data
            data += chunk

    def read_until(self, marker):
        """Everything up to and including marker (a chunked body's end, say)."""
        data = self.buffer
        self.buffer = b""
        while marker not in data:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise AssertionError("no %r; so far: %r" % (marker, data))
            if not chunk:
                raise AssertionError("closed before %r; so far: %r" % (marker, data))
            data += chunk
        return data

    def send(self, data):
        self.sock.sendall(data)

    def close_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def close(self):
        self.sock.close()


def demux(data):
    """The multiplexed frames of data as [(stream, bytes)]."""
    frames = []
    while data:
        assert len(data) >= 8, "a truncated frame header: %r" % data
        stream, size = data[0], struct.unpack(">I", data[4:8])[0]
        assert data[1:4] == b"\0\0\0", "a malformed frame header: %r" % data[:8]
        frames.append((stream, data[8:8 + size]))
        data = data[8 + size:]
    return frames


def joined(frames, stream):
    return b"".join(payload for kind, payload in frames if kind == stream)


# ---- tmux ----

@pytest.fixture
def tmux(stack):
    """Runs docker commands in detached tmux sessions (a real terminal)."""
    if not shutil.which("tmux"):
        pytest.skip("tmux is not installed")
    sessions = []
    env = "DOCKER_HOST=unix://%s DOCKER_CONFIG=%s DOCKER_CLI_HINTS=false" % (
        stack.socket, stack.docker_config)

    class Tmux:
        def start(self, command, width=100, height=30):
            session = "bstr-" + uuid.uuid4().hex[:8]
            script = "env %s %s %s; echo EXIT=$?; sleep 600" % (env, DOCKER, command)
            subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", str(width),
                            "-y", str(height), script], check=True)
            sessions.append(session)
            return session

        def send(self, session, *keys):
            subprocess.run(["tmux", "send-keys", "-t", session, *keys], check=True)

        def line(self, session, text):
            self.send(session, "-l", text)
            self.send(session, "Enter")

        def resize(self, session, width, height):
            subprocess.run(["tmux", "resize-window", "-t", session, "-x", str(width), "-y",
                            str(height)], check=True)

        def screen(self, session):
            return subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                  capture_output=True, text=True, check=True).stdout

        def wait_for(self, session, text, timeout=20.0):
            wait_until(lambda: text in self.screen(session), timeout,
                       "%r on the screen:\n%s" % (text, self.screen(session)))

    yield Tmux()
    for session in sessions:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def events(stack, since, until=None, **filters):
    """The engine's events between since and until (Unix seconds)."""
    query = {"since": "%.9f" % since, "until": "%.9f" % (until or time.time())}
    if filters:
        query["filters"] = json.dumps({key: [value] for key, value in filters.items()})
    response = stack.api("GET", "/events", query=query)
    assert response.status == 200, response.body
    return [json.loads(line) for line in response.body.decode().splitlines() if line.strip()]
