"""Attach: docker run (which attaches before it starts), docker start -a,
docker attach, -i with piped stdin, -it in a terminal (tmux) with resizes,
detach keys and re-attaching, logs=1, the events, and bad input."""
import hashlib
import os
import time

import pytest
from conftest import Hijacked, demux, events, joined, wait_until


def test_run_echo_never_loses_a_line(stack):
    started = time.monotonic()
    for attempt in range(50):
        result = stack.docker("run", "--rm", "busybox", "echo", "hi", check=False)
        assert (result.returncode, result.stdout, result.stderr) == (0, "hi\n", ""), attempt
    print("docker run --rm busybox echo hi: %.0f ms each" %
          ((time.monotonic() - started) * 1000 / 50))


def test_run_gets_a_burst_right_after_start(stack):
    expected = "".join("%d\n" % i for i in range(1, 3001))
    for attempt in range(5):
        result = stack.docker("run", "--rm", "busybox", "seq", "1", "3000", check=False)
        assert result.returncode == 0 and result.stdout == expected, attempt


def test_run_exit_code(stack):
    assert stack.docker("run", "--rm", "busybox", "sh", "-c", "exit 3",
                        check=False).returncode == 3


def test_run_keeps_stdout_and_stderr_apart(stack):
    result = stack.docker("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2")
    assert result.stdout == "out\n" and result.stderr == "err\n"


def test_run_interactive_with_piped_stdin(stack):
    result = stack.docker("run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo end",
                          input="hello\nworld\n")
    assert result.stdout == "hello\nworld\nend\n"


def test_run_interactive_carries_a_megabyte(stack):
    data = os.urandom(1 << 20)
    env = dict(os.environ, DOCKER_HOST="unix://" + stack.socket,
               DOCKER_CONFIG=stack.docker_config)
    import subprocess
    result = subprocess.run(["/usr/local/bin/docker", "run", "--rm", "-i", "busybox",
                             "sha256sum"], input=data, capture_output=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()


def test_start_attach(stack):
    stack.out("create", "--name", "later", "busybox", "sh", "-c", "echo from start; exit 2")
    result = stack.docker("start", "-a", "later", check=False)
    assert result.returncode == 2 and result.stdout == "from start\n"


def test_attach_to_a_running_container(stack):
    container = stack.run("busybox", "sh", "-c", "while true; do echo tick; sleep 0.1; done")
    client = Hijacked(stack.socket)
    status, headers = client.request("/v1.47/containers/%s/attach?stream=1&stdout=1&stderr=1"
                                      % container)
    assert status == 101
    assert headers["content-type"] == "application/vnd.docker.multiplexed-stream"
    assert headers["upgrade"] == "tcp"
    time.sleep(0.5)
    stack.out("kill", container)
    frames = demux(client.read_all())
    client.close()
    assert joined(frames, 1).startswith(b"tick\n") and joined(frames, 2) == b""


def test_attach_before_1_42_says_raw_stream(stack):
    container = stack.run("busybox", "sleep", "1")
    client = Hijacked(stack.socket)
    status, headers = client.request("/v1.41/containers/%s/attach?stream=1&stdout=1" % container)
    assert status == 101 and headers["content-type"] == "application/vnd.docker.raw-stream"
    client.read_all()
    client.close()


def test_attach_with_logs_replays_the_log(stack):
    container = stack.run("busybox", "sh", "-c", "echo one; echo two >&2; sleep 1000")
    wait_until(lambda: "two" in stack.logs(container), 10, "the output")
    client = Hijacked(stack.socket)
    status, _ = client.request("/containers/%s/attach?logs=1&stream=0&stdout=1&stderr=1"
                               % container)
    assert status == 101
    frames = demux(client.read_all())
    client.close()
    assert joined(frames, 1) == b"one\n" and joined(frames, 2) == b"two\n"


def test_attach_stdout_only(stack):
    client = Hijacked(stack.socket)
    container = stack.out("create", "busybox", "sh", "-c", "echo out; echo err >&2")
    status, _ = client.request("/containers/%s/attach?stream=1&stdout=1" % container)
    assert status == 101
    stack.out("start", container)
    frames = demux(client.read_all())
    client.close()
    assert frames == [(1, b"out\n")]


def test_attach_without_upgrade_streams_the_output(stack):
    container = stack.out("create", "busybox", "echo", "plain")
    client = Hijacked(stack.socket, upgrade=False)
    status, headers = client.request("/containers/%s/attach?stream=1&stdout=1" % container)
    assert status == 200
    stack.out("start", container)
    body = client.read_until(b"\r\n0\r\n\r\n")  # the chunked body's end
    client.close()
    assert headers["content-type"] == "application/vnd.docker.raw-stream"
    assert b"\x01\0\0\0\0\0\0\x06plain\n" in body


def test_run_tty_sizes_and_resizes(stack, tmux):
    session = tmux.start("run -it --name term busybox sh", width=100, height=30)
    tmux.wait_for(session, "/ #")
    tmux.line(session, "stty size; echo TERM=$TERM")
    tmux.wait_for(session, "30 100")
    tmux.wait_for(session, "TERM=xterm")
    tmux.resize(session, 80, 20)
    time.sleep(0.5)
    tmux.line(session, "clear; stty size")
    tmux.wait_for(session, "20 80")
    tmux.line(session, "exit 5")
    tmux.wait_for(session, "EXIT=5")


def test_detach_keys_and_reattach(stack, tmux):
    since = time.time()
    session = tmux.start("run -it --name detachable busybox sh")
    tmux.wait_for(session, "/ #")
    tmux.send(session, "C-p", "C-q")
    tmux.wait_for(session, "EXIT=0")
    assert stack.inspect("detachable")["State"]["Running"]
    again = tmux.start("attach detachable")
    time.sleep(0.5)
    tmux.line(again, "echo still-$((20+22))")
    tmux.wait_for(again, "still-42")
    tmux.line(again, "exit 7")
    tmux.wait_for(again, "EXIT=7")
    actions = [event["Action"] for event in events(stack, since, container="detachable")]
    assert actions.count("attach") == 2 and "detach" in actions and "resize" in actions


def test_custom_detach_keys(stack, tmux):
    session = tmux.start("run -it --detach-keys ctrl-x,x --name custom busybox sh")
    tmux.wait_for(session, "/ #")
    tmux.send(session, "C-p", "C-q")  # not the keys now: passed on to the shell
    tmux.line(session, "echo alive")
    tmux.wait_for(session, "alive")
    tmux.send(session, "C-x")
    tmux.send(session, "x")
    tmux.wait_for(session, "EXIT=0")
    assert stack.inspect("custom")["State"]["Running"]


def test_resize_of_a_terminal_container(stack):
    container = stack.run("-t", "busybox", "sh", "-c", "sleep 1000")
    since = time.time()
    response = stack.api("POST", "/containers/%s/resize" % container,
                         query={"h": "40", "w": "120"})
    assert response.status == 200
    resized = events(stack, since, container=container, event="resize")
    assert resized[0]["Actor"]["Attributes"]["height"] == "40"
    assert resized[0]["Actor"]["Attributes"]["width"] == "120"
    assert stack.out("exec", container, "sh", "-c", "stty size < /proc/1/fd/0") == "40 120"


def test_python_docker_run(stack):
    client = stack.client
    assert client.containers.run("busybox", ["echo", "from", "python"], remove=True) == \
        b"from python\n"
    container = client.containers.run("busybox", ["sh", "-c", "exit 9"], detach=True)
    assert container.wait()["StatusCode"] == 9
    container.remove()


def test_python_docker_attach_socket(stack):
    client = stack.client
    container = client.containers.create("busybox", ["sh", "-c", "read line; echo got $line"],
                                         stdin_open=True)
    sock = client.api.attach_socket(container.id, params={"stdin": 1, "stdout": 1,
                                                          "stream": 1})
    container.start()
    sock._sock.sendall(b"value\n")
    data = b""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and b"got value" not in data:
        chunk = sock._sock.recv(4096)
        if not chunk:
            break
        data += chunk
    sock.close()
    assert b"got value" in data
    container.remove(force=True)


# ---- bad input ----

def test_attach_errors(stack):
    assert stack.api("POST", "/containers/nope/attach",
                     query={"stream": "1", "stdout": "1"}).status == 404
    container = stack.run("busybox", "sleep", "1000")
    response = stack.api("POST", "/containers/%s/attach" % container,
                         query={"stream": "1", "detachKeys": "ctrl-"})
    assert response.status == 400 and "Invalid detach keys" in response.message
    assert stack.api("GET", "/containers/%s/attach/ws" % container).status == 501
    stack.out("pause", container)
    response = stack.api("POST", "/containers/%s/attach" % container, query={"stream": "1"})
    assert response.status == 409 and "paused" in response.message
    stack.out("unpause", container)


def test_resize_errors(stack):
    container = stack.out("create", "busybox", "true")
    assert stack.api("POST", "/containers/%s/resize" % container,
                     query={"h": "x", "w": "1"}).status == 400
    response = stack.api("POST", "/containers/%s/resize" % container, query={"h": "1", "w": "1"})
    assert response.status == 409 and "is not running" in response.message
    assert stack.api("POST", "/containers/nope/resize", query={"h": "1", "w": "1"}).status == 404


def test_docker_attach_to_a_stopped_container_is_refused(stack):
    container = stack.out("create", "busybox", "true")
    result = stack.docker("attach", container, check=False)
    assert result.returncode != 0 and "start it first" in result.stderr


@pytest.mark.parametrize("tty", [False, True])
def test_kill_while_attached_ends_the_stream(stack, tty):
    args = ["-t"] if tty else []
    container = stack.out("create", *args, "busybox", "sleep", "1000")
    client = Hijacked(stack.socket)
    client.request("/containers/%s/attach?stream=1&stdout=1&stderr=1" % container)
    stack.out("start", container)
    stack.out("kill", container)
    client.read_all()
    client.close()
