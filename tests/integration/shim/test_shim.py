"""berth-shim end to end: a real shim driving a real runtime (berth-runtime,
and runc when installed) on a busybox bundle, through the framed protobuf
protocol of proto/berth/shim/v1/shim.proto."""
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import process_alive, wait_until
from shimclient import (BERR_CONFLICT, BERR_EXISTS, BERR_INVALID, BERR_NOT_FOUND, Connection,
                        ShimError, pb)

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
ENV = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"]


def exec_process(args, terminal=False):
    return {"args": args, "cwd": "/", "env": ENV, "user": {"uid": 0, "gid": 0},
            "terminal": terminal}


def read_attach(connection, until=None):
    """Output frames until until(stdout, stderr) holds, or the exited frame.
    Returns (stdout, stderr, exit_status or None)."""
    output = {pb.AttachFrame.STDOUT: b"", pb.AttachFrame.STDERR: b""}
    while True:
        frame = connection.recv_frame()
        if frame.exited:
            return output[pb.AttachFrame.STDOUT], output[pb.AttachFrame.STDERR], frame.exit_status
        output[frame.stream] += frame.data
        if until and until(output[pb.AttachFrame.STDOUT], output[pb.AttachFrame.STDERR]):
            return output[pb.AttachFrame.STDOUT], output[pb.AttachFrame.STDERR], None


def stdin_frame(data=b"", close=False):
    return pb.AttachFrame(stream=pb.AttachFrame.STDIN, data=data, close_stdin=close)


def running_container(container, args=("sleep", "1000"), **io):
    item = container(list(args))
    connection = item.connect()
    pid = connection.create(log_path=item.log_path, **io)
    assert connection.start() == pid
    return item, connection, pid


def expect_error(code, call, *args, **kwargs):
    with pytest.raises(ShimError) as error:
        call(*args, **kwargs)
    assert error.value.code == code, error.value
    return error.value


# --- lifecycle, logs, exit status ------------------------------------------

def test_create_start_wait_writes_the_log_and_the_exit(container):
    item = container(["sh", "-c", "echo out1; echo err1 >&2; echo out2; printf partial; exit 3"])
    connection = item.connect()
    pid = connection.create(log_path=item.log_path)
    (init,) = connection.state().processes
    assert (init.exec_id, init.pid, init.status) == ("", pid, pb.STATUS_CREATED)

    assert connection.start() == pid
    waited = connection.wait()
    assert waited.exit_status == 3 and waited.exited_at.seconds > 0

    with open(item.log_path) as log:
        lines = log.read().splitlines()
    for line in lines:  # dockerd's key order and compact form
        assert re.match(r'^\{"log":".*","stream":"std(out|err)","time":"[^"]+"\}$', line), line
    entries = [json.loads(line) for line in lines]
    assert [e["log"] for e in entries if e["stream"] == "stdout"] == ["out1\n", "out2\n", "partial"]
    assert [e["log"] for e in entries if e["stream"] == "stderr"] == ["err1\n"]
    assert all(TIME.match(e["time"]) for e in entries)

    with open(os.path.join(item.bundle, "exit.json")) as exit_file:
        recorded = json.load(exit_file)
    assert (recorded["pid"], recorded["exit_status"], recorded["exec_id"]) == (pid, 3, "")
    (init,) = connection.state().processes
    assert (init.status, init.exit_status) == (pb.STATUS_STOPPED, 3)
    assert init.exited_at == waited.exited_at

    deleted = connection.delete()
    assert (deleted.pid, deleted.exit_status) == (pid, 3)
    assert item.runtime_run("state", item.id).returncode != 0
    connection.shutdown()
    wait_until(lambda: not process_alive(item.shim_pid), what="the shim to exit")
    assert not os.path.exists(item.socket)
    assert not os.path.exists(os.path.join(item.bundle, "shim.pid"))


def test_subscribers_get_exit_events(container):
    item = container(["sh", "-c", "read x; exit 9"])
    connection = item.connect()
    events = item.connect().subscribe()
    pid = connection.create(log_path=item.log_path, stdin=True)
    connection.start()
    connection.request(close_io=pb.CloseIORequest())
    event = events.recv_event()
    assert (event.kind, event.exec_id, event.pid, event.exit_status) == (pb.Event.EXIT, "", pid, 9)
    assert connection.wait().exit_status == 9


def test_wait_keeps_only_its_connection_pending(container):
    item, connection, pid = running_container(container)
    waiter = item.connect()
    request_id = waiter.start_request(wait=pb.WaitRequest())
    time.sleep(0.2)
    assert connection.state().processes[0].status == pb.STATUS_RUNNING
    connection.kill(signal.SIGKILL)
    response = waiter.finish_request(request_id)
    assert response.wait.exit_status == 128 + signal.SIGKILL


# --- stdin, attach, terminal ----------------------------------------------

def test_stdin_through_attach(container):
    item = container(["sh", "-c", "read line; echo got:$line; cat; echo done >&2"])
    connection = item.connect()
    connection.create(log_path=item.log_path, stdin=True)
    attach = item.connect().attach(stdin=True)  # before start: nothing is missed
    connection.start()

    attach.send(stdin_frame(b"hello\n"))
    out, _, _ = read_attach(attach, lambda out, err: b"got:hello\n" in out)
    attach.send(stdin_frame(b"more\n"))
    out, _, _ = read_attach(attach, lambda out, err: b"more\n" in out)
    attach.send(stdin_frame(close=True))
    out, err, status = read_attach(attach)
    assert (err, status) == (b"done\n", 0)
    with pytest.raises(EOFError):
        attach.recv_frame()
    logged = [(e["stream"], e["log"]) for e in item.log_entries()]
    assert logged == [("stdout", "got:hello\n"), ("stdout", "more\n"), ("stderr", "done\n")]


def test_attach_to_an_exited_process_gets_its_status(container):
    item, connection, pid = running_container(container, ["sh", "-c", "exit 6"])
    assert connection.wait().exit_status == 6
    attach = item.connect().attach()
    assert read_attach(attach) == (b"", b"", 6)


def test_terminal_with_resize(container):
    item = container(["sh", "-c", "stty size; read x; stty size; read y; stty size"], terminal=True)
    connection = item.connect()
    connection.create(log_path=item.log_path, terminal=True, stdin=True, console_width=100,
                      console_height=30)
    attach = item.connect().attach(stdin=True)
    connection.start()
    read_attach(attach, lambda out, err: b"30 100" in out)

    connection.request(resize=pb.ResizeRequest(width=120, height=40))
    attach.send(stdin_frame(b"\n"))
    read_attach(attach, lambda out, err: b"40 120" in out)

    attach.send(pb.AttachFrame(width=90, height=20))  # resize from the attach stream
    attach.send(stdin_frame(b"\n"))
    out, err, status = read_attach(attach)
    assert b"20 90" in out and err == b"" and status == 0

    logged = "".join(e["log"] for e in item.log_entries())
    assert "30 100\r\n" in logged and "40 120\r\n" in logged and "20 90\r\n" in logged
    assert {e["stream"] for e in item.log_entries()} == {"stdout"}


def test_long_bundle_path_with_a_terminal(container, tmp_path):
    """Socket paths longer than sun_path: the shim binds through its
    directory, and gives the runtime a /proc/PID/fd path for the console."""
    directory = str(tmp_path / ("d" * 60) / ("e" * 60))
    os.makedirs(directory)
    item = container(["sh", "-c", "tty; stty size"], terminal=True, directory=directory)
    assert len(item.socket) > 108
    connection = item.connect()
    connection.create(log_path=item.log_path, terminal=True, console_width=77, console_height=11)
    connection.start()
    assert connection.wait().exit_status == 0
    logged = "".join(e["log"] for e in item.log_entries())
    assert "/dev/pts/" in logged and "11 77" in logged


# --- exec ------------------------------------------------------------------

@pytest.mark.parametrize("terminal", [False, True], ids=["pipes", "tty"])
def test_exec_and_its_exit(container, terminal):
    item, connection, init_pid = running_container(container)
    events = item.connect().subscribe()
    exec_log = os.path.join(item.directory, "exec.log")
    script = "tty; echo exec-out; echo exec-err >&2; exit 7"
    connection.exec("e1", exec_process(["sh", "-c", script]), log_path=exec_log,
                    terminal=terminal)
    (_, e1) = connection.state().processes
    assert (e1.exec_id, e1.status, e1.pid, e1.terminal) == ("e1", pb.STATUS_CREATED, 0, terminal)

    pid = connection.start("e1")
    assert pid > 0 and pid != init_pid
    assert connection.wait("e1").exit_status == 7

    started = events.recv_event()
    assert (started.kind, started.exec_id, started.pid) == (pb.Event.EXEC_STARTED, "e1", pid)
    exited = events.recv_event()
    assert (exited.kind, exited.exec_id, exited.exit_status) == (pb.Event.EXIT, "e1", 7)

    entries = [(e["stream"], e["log"]) for e in item.log_entries(exec_log)]
    if terminal:
        assert entries[0][1].startswith("/dev/pts/")
        assert ("stdout", "exec-out\r\n") in entries and ("stdout", "exec-err\r\n") in entries
    else:
        assert entries == [("stdout", "not a tty\n"), ("stdout", "exec-out\n"),
                           ("stderr", "exec-err\n")]
    with open(os.path.join(item.bundle, "exec-e1.exit.json")) as exit_file:
        assert json.load(exit_file)["exit_status"] == 7

    (init, e1) = connection.state().processes
    assert (init.status, e1.status, e1.exit_status) == (pb.STATUS_RUNNING, pb.STATUS_STOPPED, 7)
    assert connection.delete("e1").exit_status == 7
    assert [p.exec_id for p in connection.state().processes] == [""]
    assert not os.path.exists(os.path.join(item.bundle, "exec-e1.exit.json"))


def test_exec_stdin_kill_and_force_delete(container):
    item, connection, _ = running_container(container)
    connection.exec("cat", exec_process(["cat"]), stdin=True)
    attach = item.connect().attach("cat", stdin=True)
    connection.start("cat")
    attach.send(stdin_frame(b"ping\n"))
    read_attach(attach, lambda out, err: out == b"ping\n")
    expect_error(BERR_EXISTS, connection.exec, "cat", exec_process(["true"]))
    expect_error(BERR_CONFLICT, connection.start, "cat")
    expect_error(BERR_CONFLICT, connection.delete, "cat")
    assert connection.delete("cat", force=True).exit_status == 128 + signal.SIGKILL
    assert read_attach(attach)[2] == 128 + signal.SIGKILL

    connection.exec("sleeper", exec_process(["sleep", "1000"]))
    connection.start("sleeper")
    connection.kill(signal.SIGTERM, exec_id="sleeper")
    assert connection.wait("sleeper").exit_status == 128 + signal.SIGTERM
    expect_error(BERR_NOT_FOUND, connection.kill, signal.SIGTERM, exec_id="sleeper")


# --- kill, pause, resume, pids, stats, update --------------------------------

def test_kill_pause_resume_pids_stats_update(container):
    item, connection, pid = running_container(container)
    assert pid in connection.request(pids=pb.PidsRequest()).pids.pids

    connection.request(pause=pb.PauseRequest())
    assert connection.state().processes[0].status == pb.STATUS_PAUSED
    expect_error(BERR_CONFLICT, connection.request, pause=pb.PauseRequest())
    connection.request(resume=pb.ResumeRequest())
    assert connection.state().processes[0].status == pb.STATUS_RUNNING
    expect_error(BERR_CONFLICT, connection.request, resume=pb.ResumeRequest())

    limit = 256 << 20
    resources = {"memory": {"limit": limit}, "pids": {"limit": 100}}
    connection.request(update=pb.UpdateRequest(resources=json.dumps(resources).encode()))
    stats = json.loads(connection.request(stats=pb.StatsRequest()).stats.data)
    assert "cpu" in stats and stats["memory"]["usage"]["limit"] == limit
    assert stats["pids"]["limit"] == 100

    connection.kill(signal.SIGKILL, all=True)
    assert connection.wait().exit_status == 128 + signal.SIGKILL
    expect_error(BERR_NOT_FOUND, connection.kill, signal.SIGKILL)
    expect_error(BERR_CONFLICT, connection.request, pids=pb.PidsRequest())


def test_oom_is_reported_before_the_exit(container):
    limit = 32 << 20
    item = container(["sh", "-c", "x=aaaaaaaa; while true; do x=$x$x; done"],
                     resources={"memory": {"limit": limit, "swap": limit}})
    connection = item.connect()
    events = item.connect().subscribe()
    pid = connection.create(log_path=item.log_path)
    connection.start()
    assert connection.wait().exit_status == 128 + signal.SIGKILL
    oom, exited = events.recv_event(), events.recv_event()
    assert (oom.kind, oom.exec_id, oom.pid) == (pb.Event.OOM, "", pid)
    assert (exited.kind, exited.exit_status) == (pb.Event.EXIT, 128 + signal.SIGKILL)


def test_delete_of_a_running_container_needs_force(container):
    item, connection, pid = running_container(container)
    expect_error(BERR_CONFLICT, connection.delete)
    expect_error(BERR_CONFLICT, connection.shutdown)
    deleted = connection.delete(force=True)
    assert (deleted.pid, deleted.exit_status) == (pid, 128 + signal.SIGKILL)
    assert item.runtime_run("state", item.id).returncode != 0
    expect_error(BERR_NOT_FOUND, connection.delete)


# --- the shim outlives its clients, and its death shows --------------------

def test_shim_survives_its_starter_and_its_clients(container):
    item = container(["sleep", "1000"], start_shim=False)
    command = " ".join("'%s'" % part for part in item.shim_command())
    starter = subprocess.Popen(["sh", "-c", command + " && sleep 1000"], start_new_session=True)
    wait_until(lambda: os.path.exists(os.path.join(item.bundle, "shim.pid")), what="the shim")
    with open(os.path.join(item.bundle, "shim.pid")) as pid_file:
        item.shim_pid = int(pid_file.read())
    connection = Connection(item.socket)
    pid = connection.create(log_path=item.log_path)
    connection.start()
    os.killpg(starter.pid, signal.SIGKILL)  # the starter and everything in its session
    starter.wait()
    connection.sock.shutdown(socket.SHUT_RDWR)  # the supervisor "crashes" mid-connection
    connection.close()
    time.sleep(0.2)

    assert process_alive(item.shim_pid)
    with open("/proc/%d/stat" % item.shim_pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # fields: state, ppid, pgrp, session: neither the starter's child nor in its session.
    assert int(fields[1]) != starter.pid and int(fields[3]) != starter.pid
    state = item.connect().state()
    assert (state.id, state.namespace, state.bundle, state.shim_pid) == \
        (item.id, "test", item.bundle, item.shim_pid)
    assert (state.processes[0].pid, state.processes[0].status) == (pid, pb.STATUS_RUNNING)


def test_exit_while_nobody_is_connected(container):
    item = container(["sh", "-c", "echo bye; sleep 0.5; exit 4"])
    with Connection(item.socket) as connection:
        pid = connection.create(log_path=item.log_path)
        connection.start()
    wait_until(lambda: os.path.exists(os.path.join(item.bundle, "exit.json")), what="exit.json")
    time.sleep(0.2)
    connection = item.connect()
    (init,) = connection.state().processes
    assert (init.pid, init.status, init.exit_status) == (pid, pb.STATUS_STOPPED, 4)
    assert connection.wait().exit_status == 4
    assert [e["log"] for e in item.log_entries()] == ["bye\n"]


def test_shim_death_is_visible(container):
    item, connection, pid = running_container(container)
    os.kill(item.shim_pid, signal.SIGKILL)
    with pytest.raises((EOFError, ConnectionError)):
        connection.state()
    wait_until(lambda: not process_alive(item.shim_pid), what="the shim to die")
    with pytest.raises(ConnectionRefusedError):
        Connection(item.socket)


def test_sigterm_removes_the_socket_and_leaves_the_container(container):
    item, connection, pid = running_container(container)
    os.kill(item.shim_pid, signal.SIGTERM)
    wait_until(lambda: not process_alive(item.shim_pid), what="the shim to exit")
    assert not os.path.exists(item.socket)
    assert not os.path.exists(os.path.join(item.bundle, "shim.pid"))
    assert process_alive(pid)
    assert '"status": "running"' in item.runtime_run("state", item.id).stdout.replace(
        '":"', '": "')


# --- bad input ---------------------------------------------------------------

def test_bad_requests_get_errors_not_crashes(container):
    item, connection, pid = running_container(container)
    for request in (dict(start=pb.StartRequest(exec_id="nope")),
                    dict(wait=pb.WaitRequest(exec_id="nope")),
                    dict(kill=pb.KillRequest(exec_id="nope", signal=9)),
                    dict(delete=pb.DeleteRequest(exec_id="nope")),
                    dict(resize=pb.ResizeRequest(exec_id="nope", width=1, height=1)),
                    dict(close_io=pb.CloseIORequest(exec_id="nope")),
                    dict(attach=pb.AttachRequest(exec_id="nope"))):
        expect_error(BERR_NOT_FOUND, connection.request, **request)
    error = expect_error(BERR_INVALID, connection.exec, "../x", exec_process(["true"]))
    assert "exec id" in error.message
    expect_error(BERR_INVALID, connection.request,
                 exec=pb.ExecRequest(exec_id="x", process=b"{not json"))
    expect_error(BERR_INVALID, connection.request,
                 update=pb.UpdateRequest(resources=b"[1, 2]"))
    expect_error(BERR_INVALID, connection.request, kill=pb.KillRequest(signal=99))
    expect_error(BERR_EXISTS, connection.create)
    expect_error(BERR_CONFLICT, connection.start)
    expect_error(BERR_CONFLICT, connection.request, attach=pb.AttachRequest(stdin=True))
    expect_error(BERR_INVALID, connection.request)  # no request kind at all

    # Bytes that are no protobuf: an error for request 0, the connection goes on.
    connection.send_raw(b"\xff\xff\xff\xff\x0f")
    response = connection.recv_response()
    assert response.id == 0 and response.error_code == BERR_INVALID
    assert connection.state().processes[0].pid == pid

    # A frame above the limit: an error, then the connection is closed.
    connection.sock.sendall((64 << 20).to_bytes(4, "big"))
    response = connection.recv_response()
    assert response.id == 0 and response.error_code == BERR_INVALID
    assert "limit" in response.error
    with pytest.raises(EOFError):
        connection.recv_raw()

    # A client that goes away mid-frame.
    broken = item.connect()
    broken.sock.sendall(b"\x00\x00\x01\x00partial")
    broken.close()

    state = item.connect().state()
    assert state.processes[0].status == pb.STATUS_RUNNING and process_alive(item.shim_pid)


def test_runtime_errors_carry_the_runtime_message(container):
    item = container(["sh"])
    with open(os.path.join(item.bundle, "config.json")) as config_file:
        config = json.load(config_file)
    config["root"]["path"] = "/nonexistent-rootfs-for-shim-test"
    with open(os.path.join(item.bundle, "config.json"), "w") as config_file:
        json.dump(config, config_file)
    connection = item.connect()
    with pytest.raises(ShimError) as raised:
        connection.create(log_path=item.log_path)
    message = raised.value.message
    assert message.startswith("create: " + item.runtime), message
    assert "nonexistent-rootfs-for-shim-test" in message or "no such file" in message.lower()
    assert len(connection.state().processes) == 0
    with pytest.raises(ShimError):  # and it can be tried again
        connection.create(log_path=item.log_path)


# --- logs --------------------------------------------------------------------

@pytest.mark.parametrize("max_files", [3, 1])
def test_log_rotation(container, max_files):
    script = ("i=0; while [ $i -lt 400 ]; do "
              "echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done")
    item = container(["sh", "-c", script])
    connection = item.connect()
    connection.create(log_path=item.log_path, log_max_size=4096, log_max_files=max_files)
    connection.start()
    assert connection.wait().exit_status == 0

    files = [item.log_path] + ["%s.%d" % (item.log_path, n) for n in range(1, max_files)]
    assert all(os.path.exists(path) for path in files)
    assert not os.path.exists("%s.%d" % (item.log_path, max(max_files, 1)))
    numbers = []
    for path in reversed(files):
        assert os.path.getsize(path) <= 4096 + 200  # one entry past the limit at most
        numbers += [int(e["log"].split("-")[1]) for e in item.log_entries(path)]
    assert numbers[-1] == 399 and numbers == list(range(numbers[0], 400))


def test_long_lines_are_split_and_text_is_escaped(container):
    script = ("head -c 40000 /dev/zero | tr '\\0' a; echo; "
              "printf 'q\"b\\\\t\\t<a>&\\001 caf\\303\\251 bad\\377!\\n'")
    item, connection, pid = running_container(container, ["sh", "-c", script])
    assert connection.wait().exit_status == 0
    logs = [e["log"] for e in item.log_entries()]
    assert logs[:3] == ["a" * 16384, "a" * 16384, "a" * (40000 - 2 * 16384) + "\n"]
    assert logs[3] == 'q"b\\t\t<a>&\x01 caf\u00e9 bad\ufffd!\n'
    with open(item.log_path, "rb") as raw:
        last = raw.read().splitlines()[-1]
    assert b"\\u003ca\\u003e\\u0026" in last and b"\\u0001" in last


def test_a_slow_attach_client_does_not_block_the_container(container):
    script = "yes 0123456789012345678901234567890123456789 | head -c 6000000; echo end"
    item = container(["sh", "-c", script])
    connection = item.connect()
    connection.create(log_path=item.log_path)
    slow = item.connect()
    slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.attach()
    connection.start()
    assert connection.wait().exit_status == 0  # while the attach client reads nothing
    line = "0123456789012345678901234567890123456789\n"
    expected = (line * (6000000 // len(line) + 1))[:6000000] + "end\n"
    assert "".join(e["log"] for e in item.log_entries()) == expected
    with pytest.raises((EOFError, ConnectionError)):
        while True:
            slow.recv_frame()
    assert "dropping it" in item.shim_log()


# --- start-up ----------------------------------------------------------------

def test_start_up_errors(container, shim_binary):
    item = container(["true"])
    second = subprocess.run(item.shim_command(), capture_output=True, text=True, timeout=30)
    assert second.returncode != 0
    assert "another shim (pid %d)" % item.shim_pid in second.stderr

    missing = subprocess.run([shim_binary, "--id", "x"], capture_output=True, text=True)
    assert missing.returncode == 2 and "required" in missing.stderr
    no_bundle = subprocess.run([shim_binary, "--namespace", "n", "--id", "x", "--bundle",
                                "/nonexistent-bundle", "--runtime", "runc"],
                               capture_output=True, text=True)
    assert no_bundle.returncode == 1 and "/nonexistent-bundle" in no_bundle.stderr
    assert item.connect().state().id == item.id


@pytest.mark.skipif("BERTH_SHIM_BINARY" in os.environ, reason="measured on the build's own shim")
def test_idle_shim_memory(container, request):
    item, connection, pid = running_container(container)
    connection.request(stats=pb.StatsRequest())
    connection.close()
    time.sleep(0.3)
    with open("/proc/%d/status" % item.shim_pid) as status:
        fields = dict(line.split(":", 1) for line in status)
    rss = int(fields["VmRSS"].split()[0])
    anon = int(fields["RssAnon"].split()[0])
    print("idle shim: VmRSS %d kB (RssAnon %d kB)" % (rss, anon))
    request.node.user_properties.append(("VmRSS_kB", rss))
    assert rss <= 1024, "idle shim VmRSS %d kB is above 1 MiB" % rss
