"""docker logs: the json-file log read back, with --tail, --since, --until,
-t, -f (to the container's end, and across rotations), rotated files
(--log-opt max-size/max-file), terminals, python3-docker's logs(), speed,
and bad input."""
import re
import time

import pytest
from conftest import Hijacked, demux, joined, wait_until

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ")


def finished(stack, *args):
    """Runs a container to its end: its id."""
    container = stack.run(*args)
    stack.out("wait", container)
    return container


def test_logs_stdout_and_stderr(stack):
    container = finished(stack, "busybox", "sh", "-c", "echo out; echo err >&2; printf partial")
    result = stack.docker("logs", container)
    assert result.stdout == "out\npartial" and result.stderr == "err\n"
    response = stack.api("GET", "/containers/%s/logs" % container,
                         query={"stdout": "1", "stderr": "1"})
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/vnd.docker.multiplexed-stream"
    assert demux(response.body) == [(1, b"out\n"), (2, b"err\n"), (1, b"partial")]
    only_err = stack.api("GET", "/containers/%s/logs" % container, query={"stderr": "1"})
    assert demux(only_err.body) == [(2, b"err\n")]


def test_logs_tail(stack):
    container = finished(stack, "busybox", "seq", "1", "100")
    assert stack.out("logs", "--tail", "3", container) == "98\n99\n100"
    assert stack.out("logs", "--tail", "0", container) == ""
    assert stack.out("logs", "--tail", "1000", container).split() == [str(i) for i in
                                                                      range(1, 101)]
    assert stack.out("logs", "--tail", "all", container).split()[0] == "1"


def test_logs_timestamps_since_until(stack):
    container = finished(stack, "busybox", "sh", "-c", "echo one; sleep 1.2; echo two; "
                                                       "sleep 1.2; echo three")
    lines = stack.out("logs", "-t", container).splitlines()
    assert len(lines) == 3 and all(TIMESTAMP.match(line) for line in lines), lines
    second = lines[1].split()[0]
    assert stack.out("logs", "--since", second, container).split() == ["two", "three"]
    assert stack.out("logs", "--until", second, container).split() == ["one", "two"]
    assert stack.out("logs", "--since", second, "--until", second, container) == "two"
    assert stack.out("logs", "--since", "2000-01-01", container).split() == \
        ["one", "two", "three"]
    assert stack.out("logs", "--until", "2000-01-01", container) == ""


def test_logs_follow_ends_with_the_container(stack):
    container = stack.run("busybox", "sh", "-c",
                          "for i in 1 2 3 4 5; do echo line $i; sleep 0.2; done")
    started = time.monotonic()
    result = stack.docker("logs", "-f", container, timeout=30)
    assert result.stdout.split("\n")[:-1] == ["line %d" % i for i in range(1, 6)]
    assert time.monotonic() - started < 10


def test_logs_follow_of_a_stopped_container_ends_at_once(stack):
    container = finished(stack, "busybox", "echo", "done")
    assert stack.out("logs", "-f", container, timeout=10) == "done"


def test_logs_follow_with_tail_then_new_lines(stack):
    container = stack.run("busybox", "sh", "-c",
                          "seq 1 5; sleep 1; echo later; sleep 0.5")
    wait_until(lambda: "5" in stack.logs(container), 10, "the first lines")
    result = stack.docker("logs", "-f", "--tail", "2", container, timeout=30)
    assert result.stdout.split() == ["4", "5", "later"]


def test_logs_after_rotation(stack):
    container = finished(stack, "--log-opt", "max-size=1k", "--log-opt", "max-file=3",
                         "busybox", "sh", "-c",
                         "i=0; while [ $i -lt 300 ]; do echo line $i; i=$((i+1)); done")
    path = stack.inspect(container)["LogPath"]
    import os
    assert os.path.exists(path + ".1") and os.path.exists(path + ".2")
    assert not os.path.exists(path + ".3")
    numbers = [int(line.split()[1]) for line in stack.out("logs", container).splitlines()]
    # Whatever the rotation kept: consecutive, ending with the last line.
    assert numbers == list(range(numbers[0], 300)) and numbers[0] > 0
    assert stack.out("logs", "--tail", "2", container) == "line 298\nline 299"


def test_logs_follow_across_rotations(stack):
    container = stack.run("--log-opt", "max-size=1k", "--log-opt", "max-file=3", "busybox",
                          "sh", "-c",
                          "i=0; while [ $i -lt 300 ]; do echo line $i; i=$((i+1)); "
                          "sleep 0.005; done")
    result = stack.docker("logs", "-f", container, timeout=60)
    numbers = [int(line.split()[1]) for line in result.stdout.splitlines()]
    assert numbers == list(range(numbers[0], 300))
    assert numbers[0] < 50  # it started before the first lines were rotated away


def test_logs_of_a_terminal_are_raw(stack):
    container = finished(stack, "-t", "busybox", "sh", "-c", "echo out; echo err >&2")
    response = stack.api("GET", "/containers/%s/logs" % container,
                         query={"stdout": "1", "stderr": "1"})
    assert response.headers["Content-Type"] == "application/vnd.docker.raw-stream"
    assert response.body == b"out\r\nerr\r\n"


def test_logs_of_100k_lines_are_fast(stack):
    container = finished(stack, "busybox", "seq", "1", "100000")
    started = time.monotonic()
    response = stack.api("GET", "/containers/%s/logs" % container,
                         query={"stdout": "1", "stderr": "1"}, timeout=120)
    engine_seconds = time.monotonic() - started
    assert response.status == 200
    frames = demux(response.body)
    assert len(frames) == 100000 and frames[-1] == (1, b"100000\n")
    started = time.monotonic()
    result = stack.docker("logs", container)
    cli_seconds = time.monotonic() - started
    assert result.stdout.count("\n") == 100000
    print("logs of 100k lines: API %.0f ms, docker logs %.0f ms" %
          (engine_seconds * 1000, cli_seconds * 1000))
    assert engine_seconds < 5


def test_python_docker_logs(stack):
    client = stack.client
    container = client.containers.run("busybox", ["sh", "-c", "for i in 1 2 3; do echo l$i; "
                                                  "sleep 0.3; done"], detach=True)
    streamed = list(container.logs(stream=True, follow=True))
    assert b"".join(streamed) == b"l1\nl2\nl3\n" and len(streamed) == 3
    assert container.logs(tail=1) == b"l3\n"
    assert TIMESTAMP.match(container.logs(timestamps=True).decode())
    container.remove()


def test_attach_logs_and_stream_together(stack):
    container = stack.out("create", "busybox", "sh", "-c", "echo first")
    stack.out("start", "-a", container)
    client = Hijacked(stack.socket)
    client.request("/containers/%s/attach?logs=1&stream=1&stdout=1" % container)
    stack.out("start", container)
    frames = demux(client.read_all())
    client.close()
    # The old output from the log, then the new run's live.
    assert joined(frames, 1) == b"first\nfirst\n"


# ---- bad input ----

def test_logs_errors(stack):
    assert stack.api("GET", "/containers/nope/logs", query={"stdout": "1"}).status == 404
    container = stack.out("create", "busybox", "true")
    response = stack.api("GET", "/containers/%s/logs" % container)
    assert response.status == 400 and "at least one stream" in response.message
    response = stack.api("GET", "/containers/%s/logs" % container,
                         query={"stdout": "1", "since": "yesterday"})
    assert response.status == 400
    quiet = stack.out("create", "--log-driver", "none", "busybox", "true")
    response = stack.api("GET", "/containers/%s/logs" % quiet, query={"stdout": "1"})
    assert response.status == 501 and "does not support reading" in response.message


@pytest.mark.parametrize("tail", ["-1", "x"])
def test_logs_odd_tail_means_all(stack, tail):
    container = finished(stack, "busybox", "seq", "1", "3")
    response = stack.api("GET", "/containers/%s/logs" % container,
                         query={"stdout": "1", "tail": tail})
    assert joined(demux(response.body), 1) == b"1\n2\n3\n"
