"""Container commands end to end: run, ps, logs, stop, rm, wait, exec, inspect,
stats, events, attach, cp and the interactive paths through tmux."""
import json
import os
import subprocess
import time

from conftest import wait_until


def test_run_rm_echo(berth):
    result = berth("run", "--rm", "busybox", "echo", "hello", "world")
    assert result.returncode == 0
    assert result.stdout == "hello world\n"
    assert result.stderr == ""


def test_run_separates_stdout_and_stderr(berth):
    result = berth("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2")
    assert result.stdout == "out\n"
    assert result.stderr == "err\n"
    result = berth("run", "--rm", "-a", "stderr", "busybox", "sh", "-c", "echo out; echo err >&2")
    assert result.stdout == ""
    assert result.stderr == "err\n"


def test_run_tty_is_raw(berth):
    result = berth("run", "--rm", "-t", "busybox", "echo", "hi", input=b"")
    assert result.returncode == 0
    assert result.stdout == b"hi\r\n"


def test_run_stdin(berth):
    result = berth("run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo done", input="piped\n")
    assert result.returncode == 0
    assert result.stdout == "piped\ndone\n"


def test_run_env_workdir_user_entrypoint(berth, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nFROM_FILE=1\n\nOTHER=two\n")
    out = berth.ok("run", "--rm", "-e", "A=1", "--env", "B=2", "--env-file", str(env_file), "-w",
                   "/tmp", "-u", "65534", "busybox", "sh", "-c",
                   "echo $A $B $FROM_FILE $OTHER; pwd; id -u")
    assert out == "1 2 1 two\n/tmp\n65534\n"
    out = berth.ok("run", "--rm", "--entrypoint", "echo", "busybox", "via", "entrypoint")
    assert out == "via entrypoint\n"


def test_run_detached_lifecycle(berth, name):
    cid = berth.ok("run", "-d", "--name", name, "-l", "purpose=test", "busybox", "sh", "-c",
                   "echo started; while true; do sleep 0.2; done").strip()
    assert len(cid) == 64
    ps = berth.ok("ps", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.State}}")
    assert "%s %s running" % (cid, name) in ps
    assert name in berth.ok("ps", "-f", "label=purpose=test", "--format", "{{.Names}}")
    wait_until(lambda: "started" in berth.ok("logs", name), what="the first log line")
    assert berth.ok("stop", "-t", "1", name) == name + "\n"
    assert berth.ok("inspect", "-f", "{{.State.Status}}", name) == "exited\n"
    assert name in berth.ok("ps", "-a", "--format", "{{.Names}}")
    assert name not in berth.ok("ps", "--format", "{{.Names}}")
    assert berth.ok("rm", name) == name + "\n"
    assert berth("inspect", name).returncode == 1


def test_logs_follow_and_streams(berth, name):
    berth.ok("run", "-d", "--name", name, "busybox", "sh", "-c",
             "for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.3; done")
    result = berth("logs", "-f", name, timeout=30)
    assert result.returncode == 0
    assert result.stdout == "out1\nout2\nout3\n"
    assert result.stderr == "err1\nerr2\nerr3\n"
    tail = berth("logs", "--tail", "2", name)
    assert (tail.stdout, tail.stderr) == ("out3\n", "err3\n")
    stamped = berth.ok("logs", "-t", name).splitlines()
    assert stamped[0].endswith(" out1") and stamped[0][4] == "-" and "T" in stamped[0]
    assert berth.ok("logs", "--since", "1h", name) == "out1\nout2\nout3\n"
    assert berth.ok("logs", "--until", "2000-01-01T00:00:00Z", name) == ""


def test_logs_tty_is_raw(berth, name):
    berth.ok("run", "-t", "--name", name, "busybox", "sh", "-c", "echo a; echo b >&2")
    assert berth.ok("logs", name, input=b"") == b"a\r\nb\r\n"


def test_wait(berth, name):
    berth.ok("run", "-d", "--name", name, "busybox", "sh", "-c", "sleep 0.5; exit 4")
    assert berth.ok("wait", name) == "4\n"
    result = berth("wait", name, "berth-no-such-container")
    assert result.returncode == 1
    assert result.stdout == "4\n"
    assert "No such container: berth-no-such-container" in result.stderr


def test_exec(berth, name):
    berth.ok("run", "-d", "--name", name, "busybox", "sleep", "60")
    assert berth.ok("exec", name, "echo", "inside") == "inside\n"
    result = berth("exec", "-e", "X=y", "-w", "/etc", name, "sh", "-c", "echo $X; pwd; exit 3")
    assert result.returncode == 3
    assert result.stdout == "y\n/etc\n"
    assert berth.ok("exec", "-i", name, "cat", input="from stdin\n") == "from stdin\n"
    result = berth("exec", name, "sh", "-c", "echo to-stderr >&2")
    assert result.stderr == "to-stderr\n"
    assert berth("exec", name, "no-such-command").returncode in (126, 127)
    assert berth.ok("exec", "-d", name, "touch", "/tmp/detached") == ""
    wait_until(lambda: berth("exec", name, "test", "-e", "/tmp/detached").returncode == 0)
    result = berth("exec", "berth-no-such-container", "true")
    assert result.returncode == 1
    assert "No such container" in result.stderr


def test_exec_stopped_container(berth, name):
    berth.ok("create", "--name", name, "busybox", "true")
    result = berth("exec", name, "true")
    assert result.returncode == 1
    assert "is not running" in result.stderr


def test_inspect_format(berth, name):
    berth.ok("run", "-d", "--name", name, "-l", "a=1", "-l", "b=2", "busybox", "sleep", "60")
    assert berth.ok("inspect", "--format", "{{.State.Status}}", name) == "running\n"
    assert berth.ok("inspect", "-f", "{{.Name}}", name) == "/%s\n" % name
    assert berth.ok("inspect", "-f", "{{json .Config.Labels}}", name) == '{"a":"1","b":"2"}\n'
    assert berth.ok("inspect", "-f", "{{.Config.Labels}}", name) == "map[a:1 b:2]\n"
    assert berth.ok("inspect", "-f", "{{index .Config.Labels \"b\"}}", name) == "2\n"
    assert berth.ok("inspect", "-f",
                    "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}", name) == "a=1 b=2 \n"
    assert berth.ok("inspect", "-f", "{{if .State.Running}}up{{else}}down{{end}}", name) == "up\n"
    config = json.loads(berth.ok("inspect", "-f", "{{json .Config}}", name))
    assert config["Cmd"] == ["sleep", "60"]
    whole = json.loads(berth.ok("inspect", name))
    assert isinstance(whole, list) and whole[0]["Name"] == "/" + name
    result = berth("inspect", "-f", "{{.Config.NoSuchField}}", name)
    assert result.returncode == 1
    assert 'map has no entry for key "NoSuchField"' in result.stderr
    result = berth("inspect", "-f", "{{.Name", name)
    assert result.returncode == 64
    assert result.stderr.startswith("template parsing error: template: :1: unclosed action")


def test_ps_formats(berth, name):
    berth.ok("run", "-d", "--name", name, "busybox", "sleep", "60")
    table = berth.ok("ps", "--format", "table {{.ID}}\t{{.Names}}").splitlines()
    assert table[0] == "CONTAINER ID   NAMES"
    assert any(line.endswith("   " + name) for line in table[1:])
    default = berth.ok("ps").splitlines()
    assert default[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS",
                                  "PORTS", "NAMES"]
    rows = [json.loads(line) for line in berth.ok("ps", "--format", "json").splitlines()]
    mine = [row for row in rows if row["Names"] == name][0]
    assert mine["Command"] == '"sleep 60"'
    assert mine["State"] == "running"
    assert len(mine["ID"]) == 12
    ids = berth.ok("ps", "-q").split()
    assert mine["ID"] in ids
    assert berth.ok("ps", "-n", "1", "-q").strip() == mine["ID"]
    assert berth.ok("ps", "-l", "--format", "{{.Names}}").strip() == name
    sized = berth.ok("ps", "-s", "--filter", "name=" + name).splitlines()
    assert sized[0].endswith("SIZE")


def test_stats_no_stream(berth, name):
    berth.ok("run", "-d", "--name", name, "busybox", "sleep", "60")
    out = berth.ok("stats", "--no-stream", name).splitlines()
    assert out[0].split()[:4] == ["CONTAINER", "ID", "NAME", "CPU"]
    assert name in out[1]
    row = json.loads(berth.ok("stats", "--no-stream", "--format", "json", name))
    assert row["Name"] == name
    assert row["CPUPerc"].endswith("%")
    assert " / " in row["MemUsage"]
    assert row["PIDs"] == "1"


def test_events_since_until(berth, name):
    start = time.time() - 1
    berth.ok("run", "--rm", "--name", name, "busybox", "true")
    time.sleep(1.1)
    end = time.time()
    out = berth.ok("events", "--since", "%.3f" % start, "--until", "%.3f" % end,
                   "--filter", "container=" + name)
    lines = out.splitlines()
    actions = [line.split()[2] for line in lines]
    assert "create" in actions and "start" in actions and "die" in actions
    assert all(" container " in line and "name=%s" % name in line for line in lines)
    formatted = berth.ok("events", "--since", "%.3f" % start, "--until", "%.3f" % end,
                         "--filter", "container=" + name, "--filter", "event=create",
                         "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}")
    assert formatted == "container create %s\n" % name
    relative = berth.ok("events", "--since", "1m", "--until", "0s",
                        "--filter", "container=" + name, "--format", "{{json .}}")
    assert json.loads(relative.splitlines()[0])["Actor"]["Attributes"]["name"] == name


def test_stop_kill_restart_pause(berth, name):
    berth.ok("run", "-d", "--name", name, "busybox", "sleep", "60")
    assert berth.ok("pause", name) == name + "\n"
    assert berth.ok("inspect", "-f", "{{.State.Status}}", name) == "paused\n"
    assert berth.ok("unpause", name) == name + "\n"
    assert berth.ok("restart", "-t", "1", name) == name + "\n"
    assert berth.ok("inspect", "-f", "{{.State.Running}}", name) == "true\n"
    assert berth.ok("kill", "-s", "KILL", name) == name + "\n"
    wait_until(lambda: berth.ok("inspect", "-f", "{{.State.Running}}", name) == "false\n")
    result = berth("rm", name, "berth-no-such-container")
    assert result.returncode == 1
    assert result.stdout == name + "\n"


def test_rm_force_and_rename(berth, name):
    berth.ok("run", "-d", "--name", name, "busybox", "sleep", "60")
    assert berth("rm", name).returncode == 1
    berth.ok("rename", name, name + "-new")
    assert berth.ok("inspect", "-f", "{{.Name}}", name + "-new") == "/%s-new\n" % name
    assert berth.ok("rm", "-f", name + "-new") == name + "-new\n"


def test_top_and_port(berth, name):
    berth.ok("run", "-d", "--name", name, "busybox", "sleep", "60")
    top = berth.ok("top", name).splitlines()
    assert top[0].split()[:3] == ["UID", "PID", "PPID"]
    assert top[1].endswith("sleep 60")
    assert berth.ok("port", name) == ""
    result = berth("port", name, "80")
    assert result.returncode == 1
    assert result.stderr == "Error: No public port '80' published for %s\n" % name


def test_create_start_attach_output(berth, name):
    cid = berth.ok("create", "--name", name, "busybox", "echo", "created").strip()
    assert len(cid) == 64
    assert berth.ok("start", "-a", name) == "created\n"
    result = berth("start", "berth-no-such-container")
    assert result.returncode == 1
    assert result.stderr.endswith("Error: failed to start containers: berth-no-such-container\n")


def test_update(berth, name):
    berth.ok("run", "-d", "--name", name, "busybox", "sleep", "60")
    assert berth.ok("update", "--cpu-shares", "512", name) == name + "\n"
    assert berth.ok("inspect", "-f", "{{.HostConfig.CpuShares}}", name) == "512\n"
    result = berth("update", name)
    assert result.returncode == 1
    assert result.stderr == "you must provide one or more flags when using this command\n"


def test_cp_both_ways(berth, name, tmp_path):
    berth.ok("run", "-d", "--name", name, "busybox", "sleep", "60")
    source = tmp_path / "dir"
    source.mkdir()
    (source / "f.txt").write_text("payload\n")
    berth.ok("cp", str(source), name + ":/tmp/")
    assert berth.ok("exec", name, "cat", "/tmp/dir/f.txt") == "payload\n"
    berth.ok("cp", str(source / "f.txt"), name + ":/tmp/renamed.txt")
    assert berth.ok("exec", name, "cat", "/tmp/renamed.txt") == "payload\n"
    out = tmp_path / "out"
    out.mkdir()
    berth.ok("cp", name + ":/tmp/dir", str(out))
    assert (out / "dir" / "f.txt").read_text() == "payload\n"
    berth.ok("cp", name + ":/etc/passwd", str(out / "pw"))
    assert (out / "pw").read_text().startswith("root:")
    result = berth("cp", name + ":/no/such/file", str(out))
    assert result.returncode == 1
    assert "Error response from daemon" in result.stderr


def test_export(berth, name, tmp_path):
    berth.ok("create", "--name", name, "busybox")
    target = tmp_path / "fs.tar"
    berth.ok("export", "-o", str(target), name)
    listing = subprocess.run(["tar", "tf", str(target)], capture_output=True, text=True,
                             check=True).stdout.split()
    assert "bin/busybox" in listing or "./bin/busybox" in listing


def test_run_it_through_tmux(berth, name, tmux):
    session = tmux.start("%s run -it --rm --name %s busybox sh" % (berth.binary, name))
    tmux.wait_for(session, "/ #")
    tmux.send(session, "stty size; echo tty-$((6*7))", "Enter")
    tmux.wait_for(session, "tty-42")
    assert "30 100" in tmux.screen(session)
    tmux.send(session, "exit 7", "Enter")
    tmux.wait_for(session, "EXIT=7")


def test_run_it_window_resize(berth, name, tmux):
    session = tmux.start("%s run -it --rm --name %s busybox sh" % (berth.binary, name))
    tmux.wait_for(session, "/ #")
    subprocess.run(["tmux", "resize-window", "-t", session, "-x", "80", "-y", "20"], check=True)
    time.sleep(0.5)
    tmux.send(session, "stty size", "Enter")
    tmux.wait_for(session, "20 80")
    tmux.send(session, "exit", "Enter")
    tmux.wait_for(session, "EXIT=0")


def test_detach_keys_and_attach(berth, name, tmux):
    session = tmux.start("%s run -it --name %s busybox sh" % (berth.binary, name))
    tmux.wait_for(session, "/ #")
    tmux.send(session, "C-p", "C-q")
    tmux.wait_for(session, "EXIT=0")
    assert berth.ok("inspect", "-f", "{{.State.Running}}", name) == "true\n"
    second = tmux.start("%s attach %s" % (berth.binary, name))
    time.sleep(1)
    tmux.send(second, "echo attached-$((2+3))", "Enter")
    tmux.wait_for(second, "attached-5")
    tmux.send(second, "exit 5", "Enter")
    tmux.wait_for(second, "EXIT=5")


def test_exec_it_through_tmux(berth, name, tmux):
    berth.ok("run", "-d", "--name", name, "busybox", "sleep", "60")
    session = tmux.start("%s exec -it %s sh" % (berth.binary, name))
    tmux.wait_for(session, "/ #")
    tmux.send(session, "tty; echo exec-$((40+2))", "Enter")
    tmux.wait_for(session, "exec-42")
    assert "/dev/pts/" in tmux.screen(session)
    tmux.send(session, "exit 9", "Enter")
    tmux.wait_for(session, "EXIT=9")


def test_terminal_restored(berth, name, tmux, tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    session = tmux.start("stty -g > %s; %s run -it --rm --name %s busybox sh; stty -g > %s" %
                         (before, berth.binary, name, after))
    tmux.wait_for(session, "/ #")
    tmux.send(session, "exit", "Enter")
    tmux.wait_for(session, "EXIT=0")
    assert before.read_text() == after.read_text()


def test_input_not_a_tty(berth):
    result = berth("run", "-it", "--rm", "busybox", "true", input="")
    assert result.returncode == 1
    assert result.stderr == "the input device is not a TTY\n"


def test_signal_proxy(berth, name):
    process = subprocess.Popen(
        [berth.binary, "run", "--rm", "--name", name, "busybox", "sh", "-c",
         "trap 'echo got-term; exit 12' TERM; echo ready; while true; do sleep 0.1; done"],
        stdout=subprocess.PIPE, text=True, env=berth.env)
    assert process.stdout.readline() == "ready\n"
    process.send_signal(15)
    assert process.stdout.readline() == "got-term\n"
    assert process.wait(timeout=30) == 12
    assert os.WIFEXITED(0)


def test_terminal_restored_on_signal(berth, name, tmux, tmp_path):
    """SIGTERM to berth during run -it: the terminal leaves raw mode before berth dies."""
    before, after, pid = tmp_path / "before", tmp_path / "after", tmp_path / "pid"
    session = tmux.start("stty -g > %s; sh -c 'echo $$ > %s; exec %s run -it --name %s busybox "
                         "sh'; echo RC=$?; stty -g > %s" % (before, pid, berth.binary, name, after))
    tmux.wait_for(session, "/ #")
    os.kill(int(pid.read_text()), 15)
    tmux.wait_for(session, "RC=143")
    tmux.wait_for(session, "EXIT=0")
    assert before.read_text() == after.read_text()
