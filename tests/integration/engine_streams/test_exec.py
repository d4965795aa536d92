"""docker exec: exit codes, -u, -w, -e, -d, -i, --privileged, -it in a
terminal (tmux) with resizes, exec inspect, the container's ExecIDs,
python3-docker's exec_run, the events, and bad input."""
import time

from conftest import Hijacked, demux, events, joined, wait_until


def sleeper(stack, *args):
    return stack.run(*args, "busybox", "sleep", "1000")


def test_exec_output_and_exit_codes(stack):
    container = sleeper(stack)
    result = stack.docker("exec", container, "sh", "-c", "echo out; echo err >&2; exit 7",
                          check=False)
    assert (result.returncode, result.stdout, result.stderr) == (7, "out\n", "err\n")
    assert stack.docker("exec", container, "true", check=False).returncode == 0
    assert stack.docker("exec", container, "sh", "-c", "kill -9 $$",
                        check=False).returncode == 137


def test_exec_user_workdir_env(stack):
    container = sleeper(stack, "-e", "FROM_RUN=1")
    assert stack.out("exec", "-u", "nobody", container, "id") == \
        "uid=65534(nobody) gid=65534(nogroup)"
    assert stack.out("exec", "-u", "1000:1000", container, "id") == "uid=1000 gid=1000"
    assert stack.out("exec", "-w", "/tmp", container, "pwd") == "/tmp"
    env = stack.out("exec", "-e", "FOO=bar", "-e", "FROM_RUN=2", container, "env").split("\n")
    assert "FOO=bar" in env and "FROM_RUN=2" in env and "FROM_RUN=1" not in env
    assert "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in env
    assert "HOSTNAME=" + container[:12] in env and not any(e.startswith("TERM=") for e in env)


def test_exec_workdir_of_the_container(stack):
    container = sleeper(stack, "-w", "/etc")
    assert stack.out("exec", container, "pwd") == "/etc"


def test_exec_unknown_user_and_command(stack):
    container = sleeper(stack)
    # After the upgrade an error is text in the stream, as dockerd writes it
    # (on stdout); the exit code says what happened.
    result = stack.docker("exec", "-u", "nosuch", container, "id", check=False)
    assert result.returncode == 126 and "unable to find user nosuch" in result.stdout
    result = stack.docker("exec", container, "nonexistent", check=False)
    assert result.returncode == 127 and "executable file not found" in result.stdout


def test_exec_privileged(stack):
    container = sleeper(stack)
    plain = stack.out("exec", container, "grep", "CapEff", "/proc/self/status").split()[1]
    privileged = stack.out("exec", "--privileged", container, "grep", "CapEff",
                           "/proc/self/status").split()[1]
    assert int(privileged, 16) & ~int(plain, 16)  # more capabilities
    assert int(plain, 16) == 0xa80425fb  # Docker's 14


def test_exec_detached(stack):
    container = sleeper(stack)
    since = time.time()
    assert stack.out("exec", "-d", container, "sh", "-c", "echo detached > /tmp/mark; exit 4") \
        == ""
    wait_until(lambda: stack.docker("exec", container, "cat", "/tmp/mark",
                                    check=False).stdout == "detached\n", 10, "the detached exec")
    died = wait_until(lambda: [e for e in events(stack, since, container=container)
                               if e["Action"] == "exec_die" and
                               e["Actor"]["Attributes"]["exitCode"] == "4"], 10, "exec_die")
    exec_id = died[0]["Actor"]["Attributes"]["execID"]
    info = stack.api("GET", "/exec/%s/json" % exec_id).json()
    assert info["ExitCode"] == 4 and not info["Running"]


def test_exec_interactive_stdin(stack):
    container = sleeper(stack)
    result = stack.docker("exec", "-i", container, "sh", "-c", "cat; echo end",
                          input="line one\nline two\n")
    assert result.stdout == "line one\nline two\nend\n"


def test_exec_tty_in_a_terminal(stack, tmux):
    container = sleeper(stack, "--name", "box")
    del container
    session = tmux.start("exec -it box sh", width=90, height=25)
    tmux.wait_for(session, "/ #")
    tmux.line(session, "stty size; echo TERM=$TERM")
    tmux.wait_for(session, "25 90")
    tmux.wait_for(session, "TERM=xterm")
    tmux.resize(session, 70, 15)
    time.sleep(0.5)
    tmux.line(session, "clear; stty size")
    tmux.wait_for(session, "15 70")
    tmux.line(session, "exit 3")
    tmux.wait_for(session, "EXIT=3")
    assert stack.inspect("box")["State"]["Running"]


def test_exec_inspect(stack):
    container = sleeper(stack)
    response = stack.api("POST", "/containers/%s/exec" % container,
                         body={"Cmd": ["sh", "-c", "exit 5"], "AttachStdout": True,
                               "AttachStderr": True, "User": "nobody"})
    assert response.status == 201
    exec_id = response.json()["Id"]
    assert len(exec_id) == 64
    info = stack.api("GET", "/exec/%s/json" % exec_id).json()
    assert info["ID"] == exec_id and info["ContainerID"] == container
    assert info["Running"] is False and info["ExitCode"] is None and info["Pid"] == 0
    assert info["ProcessConfig"] == {"tty": False, "entrypoint": "sh", "arguments": ["-c", "exit 5"],
                                     "privileged": False, "user": "nobody"}
    assert info["OpenStdout"] and info["OpenStderr"] and not info["OpenStdin"]
    assert stack.inspect(container)["ExecIDs"] == [exec_id]
    client = Hijacked(stack.socket, body={"Detach": False, "Tty": False})
    status, headers = client.request("/v1.47/exec/%s/start" % exec_id)
    assert status == 101
    assert headers["content-type"] == "application/vnd.docker.multiplexed-stream"
    assert client.read_all() == b""
    client.close()
    info = stack.api("GET", "/exec/%s/json" % exec_id).json()
    assert info["ExitCode"] == 5 and info["Running"] is False
    response = stack.api("POST", "/exec/%s/start" % exec_id, body={"Detach": True})
    assert response.status == 409 and "has already run" in response.message


def test_exec_start_frames(stack):
    container = sleeper(stack)
    exec_id = stack.api("POST", "/containers/%s/exec" % container,
                        body={"Cmd": ["sh", "-c", "echo o; echo e >&2"], "AttachStdout": True,
                              "AttachStderr": True}).json()["Id"]
    client = Hijacked(stack.socket, body={})
    client.request("/exec/%s/start" % exec_id)
    frames = demux(client.read_all())
    client.close()
    assert joined(frames, 1) == b"o\n" and joined(frames, 2) == b"e\n"


def test_exec_events(stack):
    container = sleeper(stack)
    since = time.time()
    stack.docker("exec", container, "sh", "-c", "exit 2", check=False)
    seen = [(e["Action"], e["Actor"]["Attributes"].get("exitCode"))
            for e in events(stack, since, container=container)]
    assert seen == [("exec_create: sh -c exit 2", None), ("exec_start: sh -c exit 2", None),
                    ("exec_die", "2")]


def test_execs_go_with_their_container(stack):
    container = sleeper(stack)
    exec_id = stack.api("POST", "/containers/%s/exec" % container,
                        body={"Cmd": ["true"]}).json()["Id"]
    assert stack.api("GET", "/exec/%s/json" % exec_id).status == 200
    stack.out("rm", "-f", container)
    assert stack.api("GET", "/exec/%s/json" % exec_id).status == 404


def test_execs_end_with_the_container(stack):
    container = sleeper(stack)
    stack.out("exec", "-d", container, "sleep", "1000")
    exec_id = stack.inspect(container)["ExecIDs"][0]
    wait_until(lambda: stack.api("GET", "/exec/%s/json" % exec_id).json()["Running"], 10,
               "the exec to run")
    stack.out("kill", container)
    wait_until(lambda: stack.api("GET", "/exec/%s/json" % exec_id).json()["ExitCode"] == 137,
               10, "the exec's exit")


def test_python_docker_exec_run(stack):
    container = stack.client.containers.run("busybox", ["sleep", "1000"], detach=True)
    result = container.exec_run(["sh", "-c", "echo o; echo e >&2; exit 3"])
    assert result.exit_code == 3 and result.output == b"o\ne\n"
    result = container.exec_run(["sh", "-c", "echo o; echo e >&2"], demux=True)
    assert result.exit_code == 0 and result.output == (b"o\n", b"e\n")
    result = container.exec_run("pwd", workdir="/tmp", user="nobody")
    assert result.output == b"/tmp\n"
    result = container.exec_run("sleep 1000", detach=True)
    assert result.exit_code is None
    streamed = container.exec_run(["sh", "-c", "echo a; sleep 0.2; echo b"], stream=True)
    assert b"".join(streamed.output) == b"a\nb\n"
    result = container.exec_run(["sh", "-c", "tty"], tty=True)
    assert result.output.startswith(b"/dev/pts/")


# ---- bad input ----

def test_exec_errors(stack):
    stopped = stack.out("create", "busybox", "true")
    response = stack.api("POST", "/containers/%s/exec" % stopped, body={"Cmd": ["true"]})
    assert response.status == 409 and "is not running" in response.message
    result = stack.docker("exec", stopped, "true", check=False)
    assert result.returncode != 0 and "is not running" in result.stderr
    assert stack.api("POST", "/containers/nope/exec", body={"Cmd": ["true"]}).status == 404
    assert stack.api("GET", "/exec/nope/json").status == 404
    assert stack.api("POST", "/exec/nope/start", body={"Detach": True}).status == 404
    assert stack.api("POST", "/exec/nope/resize", query={"h": "1", "w": "1"}).status == 404
    running = sleeper(stack)
    for body, words in (({"Cmd": []}, "No exec command"), ({"Cmd": ["true"], "WorkingDir": "x"},
                                                           "absolute path"),
                        ({"Cmd": ["true"], "DetachKeys": "ctrl-"}, "Invalid detach keys")):
        response = stack.api("POST", "/containers/%s/exec" % running, body=body)
        assert response.status == 400 and words in response.message, response.body
    stack.out("pause", running)
    response = stack.api("POST", "/containers/%s/exec" % running, body={"Cmd": ["true"]})
    assert response.status == 409 and "paused" in response.message
    stack.out("unpause", running)


def test_exec_start_after_the_container_stopped(stack):
    container = sleeper(stack)
    exec_id = stack.api("POST", "/containers/%s/exec" % container,
                        body={"Cmd": ["true"]}).json()["Id"]
    stack.out("kill", container)
    response = stack.api("POST", "/exec/%s/start" % exec_id, body={"Detach": True})
    assert response.status == 409 and "is not running" in response.message
