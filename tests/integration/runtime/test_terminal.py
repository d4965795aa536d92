"""process.terminal and --console-socket: the runtime hands the pty master
over an AF_UNIX socket (SCM_RIGHTS); exec --tty does the same."""
import json
import os
import pty
import stat

from conftest import read_pty, wait_for


def terminal_bundle(bundle, script, size=None):
    bundle.process["terminal"] = True
    if size:
        bundle.process["consoleSize"] = {"height": size[0], "width": size[1]}
    bundle.sh(script)


def test_create_with_console_socket(runtime, bundle, console_socket):
    terminal_bundle(bundle, "tty; stty size; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-ttys;"
                            " echo done", size=(33, 111))
    console = console_socket()
    cid = runtime.create(bundle, flags=["--console-socket", console.path])
    master = console.master()
    assert stat.S_ISCHR(os.fstat(master).st_mode)
    assert os.isatty(master)
    runtime.ok("start", cid)
    out = read_pty(master, until="done")
    lines = [line.strip() for line in out.splitlines()]
    assert lines[0].startswith("/dev/pts/")
    assert lines[1] == "33 111"
    assert "all-ttys" in lines


def test_terminal_input(runtime, bundle, console_socket):
    terminal_bundle(bundle, "read line; echo got:$line")
    console = console_socket()
    cid = runtime.create(bundle, flags=["--console-socket", console.path])
    master = console.master()
    runtime.ok("start", cid)
    os.write(master, b"typed\n")
    assert "got:typed" in read_pty(master, until="got:typed")


def test_terminal_is_controlling_tty_and_console(runtime, bundle, console_socket):
    terminal_bundle(bundle, "cat /proc/self/stat | cut -d' ' -f7; [ -c /dev/console ] &&"
                            " echo console-ok; echo done")
    console = console_socket()
    cid = runtime.create(bundle, flags=["--console-socket", console.path])
    master = console.master()
    runtime.ok("start", cid)
    lines = [line.strip() for line in read_pty(master, until="done").splitlines()]
    assert int(lines[0]) != 0, "the process has no controlling terminal"
    assert "console-ok" in lines


def test_run_detached_with_console_socket(runtime, bundle, console_socket):
    terminal_bundle(bundle, "echo hello-tty; sleep 600")
    console = console_socket()
    cid = runtime.run_detached(bundle, flags=["--console-socket", console.path])
    assert "hello-tty" in read_pty(console.master(), until="hello-tty")
    assert runtime.status(cid) == "running"


def test_terminal_without_console_socket_fails_when_detached(runtime, bundle):
    runtime.expect_failure()
    terminal_bundle(bundle, "echo hello")
    bundle.save()
    cid = runtime.new_id()
    result = runtime("create", "--bundle", bundle.path, cid)
    assert result.returncode != 0
    assert result.stderr.strip()
    runtime.assert_clean()


def test_console_socket_without_terminal_fails(runtime, bundle, console_socket):
    runtime.expect_failure()
    bundle.sh("echo hello")
    bundle.save()
    console = console_socket()
    cid = runtime.new_id()
    result = runtime("create", "--console-socket", console.path, "--bundle", bundle.path, cid)
    assert result.returncode != 0
    assert result.stderr.strip()
    runtime.assert_clean()


def test_exec_tty_with_console_socket(runtime, bundle, console_socket):
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    console = console_socket()
    runtime.ok("exec", "--detach", "--tty", "--console-socket", console.path, cid,
               "sh", "-c", "tty; echo exec-done; sleep 600")
    out = read_pty(console.master(), until="exec-done")
    assert out.splitlines()[0].strip().startswith("/dev/pts/")


def test_exec_process_file_console_size(runtime, bundle, console_socket):
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    process = dict(bundle.process)
    process.update(terminal=True, consoleSize={"height": 21, "width": 77},
                   args=["sh", "-c", "stty size; echo exec-done; sleep 600"])
    process_file = runtime.tmp_path / "process.json"
    process_file.write_text(json.dumps(process))
    console = console_socket()
    runtime.ok("exec", "--detach", "--process", process_file, "--console-socket", console.path,
               cid)
    out = read_pty(console.master(), until="exec-done")
    assert out.splitlines()[0].strip() == "21 77"


def test_foreground_exec_tty(runtime, bundle):
    """exec --tty in the foreground: the runtime relays between its own
    terminal and the container's pty, and returns the process's status."""
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    master, slave = pty.openpty()
    try:
        process = runtime.popen("exec", "--tty", cid, "sh", "-c", "tty; echo fg-tty; exit 7",
                                stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
        out = read_pty(master, until="fg-tty")
        wait_for(lambda: process.poll() is not None, what="exec to return")
    finally:
        os.close(master)
    assert "fg-tty" in out
    assert out.splitlines()[0].strip().startswith("/dev/pts/")
    assert process.returncode == 7


def test_foreground_run_tty(runtime, bundle):
    terminal_bundle(bundle, "tty; echo fg-run; exit 3")
    bundle.save()
    master, slave = pty.openpty()
    try:
        process = runtime.popen("run", "--bundle", bundle.path, runtime.new_id(),
                                stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
        out = read_pty(master, until="fg-run")
        wait_for(lambda: process.poll() is not None, what="run to return")
    finally:
        os.close(master)
    assert "fg-run" in out
    assert process.returncode == 3
