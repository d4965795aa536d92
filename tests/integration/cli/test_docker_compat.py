"""berth and the docker CLI side by side on the same engine: the same
command must print the same thing (docker's name replaced by berth's)."""
import json

import pytest


def same(berth, docker, *args):
    ours = berth(*args)
    theirs = docker(*args)
    expected_err = theirs.stderr.replace("docker ", "berth ").replace("docker:", "berth:")
    assert (ours.returncode, ours.stdout, ours.stderr) == \
        (theirs.returncode, theirs.stdout.replace("docker ", "berth "), expected_err)


@pytest.fixture
def running(berth, name):
    berth.ok("run", "-d", "--name", name, "-l", "k=v", "-l", "z=last", "busybox", "sh", "-c",
             "echo out; echo err >&2; sleep 60")
    return name


@pytest.mark.parametrize("args", [
    ("ps", "--format", "{{.ID}} {{.Image}} {{.Command}} {{.Names}} {{.Labels}} {{.State}}"),
    ("ps", "--format", "table {{.ID}}\t{{.Names}}\t{{.Label \"k\"}}"),
    ("ps", "--no-trunc", "--format", "{{.ID}}\t{{.Command}}"),
    ("images",),
    ("images", "--digests"),
    ("images", "--format", "json"),
    ("history", "busybox"),
    ("history", "--no-trunc", "busybox"),
    ("system", "df"),
    ("system", "df", "--format", "json"),
    ("inspect", "--format", "{{.Os}} {{.Architecture}}", "busybox"),
    ("image", "inspect", "busybox"),
])
def test_list_formats(berth, docker, running, args):
    same(berth, docker, *args)


@pytest.mark.parametrize("template", [
    "{{.State.Status}}",
    "{{json .Config.Labels}}",
    "{{.Config.Labels}}",
    "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}},{{end}}",
    "{{if .State.Running}}up{{else}}down{{end}} {{.HostConfig.ShmSize}} {{len .Config.Cmd}}",
    "{{index .Config.Labels \"z\"}} {{upper .Name}} {{json .State.Running}}",
    "{{.Config.NoSuchField}}",
    "{{.Name",
])
def test_inspect_templates(berth, docker, running, template):
    same(berth, docker, "inspect", "--format", template, running)


def test_ps_json(berth, docker, running):
    """Every field but the two that move with the clock."""
    def rows(cli):
        out = cli.ok("ps", "--format", "json", "--filter", "name=" + running)
        parsed = [json.loads(line) for line in out.splitlines()]
        for row in parsed:
            del row["RunningFor"], row["Status"]
        return parsed
    assert rows(berth) == rows(docker)
    ours = berth.ok("ps", "--format", "json", "--filter", "name=" + running)
    assert list(json.loads(ours)) == sorted(json.loads(ours))


def test_logs(berth, docker, running):
    same(berth, docker, "logs", running)
    same(berth, docker, "logs", "--tail", "1", running)


def test_top(berth, docker, running):
    """The header and the command column (CPU time moves between the two calls)."""
    ours = berth.ok("top", running).splitlines()
    theirs = docker.ok("top", running).splitlines()
    assert ours[0] == theirs[0]
    assert ours[1][-28:] == theirs[1][-28:]


def test_exec(berth, docker, running):
    same(berth, docker, "exec", running, "sh", "-c", "echo a; echo b >&2; exit 3")


@pytest.mark.parametrize("args", [
    ("ps", "--bogus"),
    ("ps", "-n", "x"),
    ("rm",),
    ("logs",),
    ("port", "a", "b", "c"),
    ("rm", "berth-no-such-container"),
    ("inspect", "berth-no-such-container"),
    ("container", "inspect", "berth-no-such-container"),
    ("run", "--cpus", "x", "busybox"),
    ("run", "--restart", "always", "--rm", "busybox"),
    ("run", "--rm", "busybox", "no-such-command"),
    ("stop", "berth-no-such-container"),
])
def test_errors(berth, docker, args):
    same(berth, docker, *args)


def test_run_outputs(berth, docker):
    same(berth, docker, "run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 5")
    same(berth, docker, "run", "--rm", "-t", "busybox", "echo", "tty")


def test_ports(berth, docker, name):
    """docker's DisplayablePorts (ranges folded, IPv6 in brackets) and `port`'s natural order."""
    berth.ok("run", "-d", "--name", name, "-p", "18080:80", "-p", "19000-19002:9000-9002", "-p",
             "127.0.0.1:17000:7001/udp", "--expose", "6000-6001", "busybox", "sleep", "60")
    same(berth, docker, "ps", "--filter", "name=" + name, "--format", "{{.Ports}}")
    same(berth, docker, "port", name)
    same(berth, docker, "port", name, "80")
    same(berth, docker, "port", name, "7001/udp")
    same(berth, docker, "port", name, "81")
