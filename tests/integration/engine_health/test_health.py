"""Health checks (Config.Healthcheck, State.Health) through the docker CLI,
berth's CLI and python3-docker: healthy, unhealthy after Retries, timeouts,
the start period, NONE, the image's check merged with the request's, events,
`ps` status and filters, stop/pause/restart, the engine's restart."""
import json
import time

from conftest import wait_until

FAST = ("--health-interval", "1s", "--health-timeout", "5s")


def test_healthy(stack):
    container = stack.run("--name", "ok", "--health-cmd", "echo ok; echo err >&2", *FAST,
                          "busybox", "sleep", "1000")
    health = stack.health("ok")
    assert health["Status"] == "starting" and health["FailingStreak"] == 0
    assert "(health: starting)" in stack.out("ps", "--format", "{{.Status}}")
    health = stack.wait_health("ok", "healthy", 10)
    assert health["FailingStreak"] == 0
    entry = health["Log"][-1]
    assert entry["ExitCode"] == 0 and entry["Output"] == "ok\nerr\n"
    assert entry["Start"] <= entry["End"]
    assert stack.out("inspect", "--format", "{{.State.Health.Status}}", "ok") == "healthy"
    assert stack.berth("inspect", "--format", "{{.State.Health.Status}}",
                       "ok").stdout.strip() == "healthy"
    assert stack.out("ps", "--format", "{{.Status}}").endswith("(healthy)")
    assert stack.berth("ps", "--format", "{{.Status}}").stdout.strip().endswith("(healthy)")
    assert stack.client.containers.get(container).attrs["State"]["Health"]["Status"] == "healthy"
    config = stack.inspect("ok")["Config"]["Healthcheck"]
    assert config == {"Test": ["CMD-SHELL", "echo ok; echo err >&2"], "Interval": 1000000000,
                      "Timeout": 5000000000}
    # The log keeps the last five.
    wait_until(lambda: len(stack.health("ok")["Log"]) == 5, 15, "five log entries")
    time.sleep(1.5)
    assert len(stack.health("ok")["Log"]) == 5


def test_unhealthy_after_retries(stack):
    started = time.time()
    stack.run("--name", "bad", "--health-cmd", "echo failing; exit 1", "--health-retries", "3",
              *FAST, "busybox", "sleep", "1000")
    # Every state seen on the way: "starting" below Retries failures,
    # "unhealthy" from then on.
    seen = set()

    def unhealthy():
        health = stack.health("bad")
        seen.add((health["Status"], min(health["FailingStreak"], 3)))
        assert (health["Status"] == "unhealthy") == (health["FailingStreak"] >= 3), health
        return health["Status"] == "unhealthy" and health
    health = wait_until(unhealthy, 15, "unhealthy", interval=0.1)
    assert ("starting", 1) in seen or ("starting", 2) in seen
    assert all(entry["ExitCode"] == 1 and entry["Output"] == "failing\n"
               for entry in health["Log"])
    assert time.time() - started >= 3
    assert stack.out("ps", "--format", "{{.Status}}").endswith("(unhealthy)")


def test_cmd_form_and_exit_codes(stack):
    # ["CMD", ...] runs without a shell; any non-zero exit is a failure.
    stack.client.containers.run(
        "busybox", ["sleep", "1000"], name="cmd", detach=True,
        healthcheck={"test": ["CMD", "sh", "-c", "exit 2"], "interval": 1000000000,
                     "retries": 1})
    health = stack.wait_health("cmd", "unhealthy", 10)
    assert health["Log"][-1]["ExitCode"] == 2
    stack.client.containers.run(
        "busybox", ["sleep", "1000"], name="missing", detach=True,
        healthcheck={"test": ["CMD", "/no/such/probe"], "interval": 1000000000, "retries": 1})
    health = stack.wait_health("missing", "unhealthy", 10)
    assert health["Log"][-1]["ExitCode"] != 0
    assert health["Log"][-1]["Output"]


def test_timeout(stack):
    stack.run("--name", "slow", "--health-cmd", "echo started; sleep 30",
              "--health-interval", "1s", "--health-timeout", "1s", "--health-retries", "1",
              "busybox", "sleep", "1000")
    started = time.monotonic()
    health = stack.wait_health("slow", "unhealthy", 15)
    assert time.monotonic() - started < 10
    entry = health["Log"][-1]
    assert entry["ExitCode"] == -1
    assert entry["Output"] == "Health check exceeded timeout (1s): started\n"
    # The probe was killed: no `sleep 30` is left in the container.
    time.sleep(0.5)
    processes = stack.api("GET", "/containers/slow/top").json()["Processes"]
    assert [row for row in processes if row[-1].endswith("sleep 1000")]
    assert not [row for row in processes if "sleep 30" in row[-1]], processes


def test_start_period(stack):
    # The container becomes ready after 4 s; its check fails until then.
    stack.run("--name", "boot", "--health-cmd", "test -e /tmp/ready",
              "--health-interval", "1s", "--health-start-period", "60s",
              "--health-start-interval", "1s", "--health-retries", "1",
              "busybox", "sh", "-c", "sleep 4; touch /tmp/ready; exec sleep 1000")
    wait_until(lambda: len(stack.health("boot")["Log"]) >= 2, 10, "two failures")
    health = stack.health("boot")
    # Failures inside the start period do not count.
    assert health["Status"] == "starting" and health["FailingStreak"] == 0
    assert health["Log"][0]["ExitCode"] == 1
    stack.wait_health("boot", "healthy", 10)
    # Past the start period, failures count at once.
    stack.run("--name", "late", "--health-cmd", "exit 1", "--health-interval", "1s",
              "--health-start-period", "1s", "--health-start-interval", "1s",
              "--health-retries", "1", "busybox", "sleep", "1000")
    stack.wait_health("late", "unhealthy", 10)


def test_none_and_no_healthcheck(stack):
    stack.run("--name", "plain", "busybox", "sleep", "1000")
    assert "Health" not in stack.inspect("plain")["State"]
    assert "Healthcheck" not in stack.inspect("plain")["Config"]
    stack.run("--name", "none", "--no-healthcheck", "busybox", "sleep", "1000")
    info = stack.inspect("none")
    assert info["Config"]["Healthcheck"] == {"Test": ["NONE"]}
    time.sleep(1.5)
    assert "Health" not in stack.inspect("none")["State"]
    assert stack.out("inspect", "--format", "{{.State.Health}}", "none") == "<nil>"
    assert stack.out("ps", "--filter", "name=none", "--format", "{{.Status}}").startswith("Up")
    assert "(" not in stack.out("ps", "--filter", "name=none", "--format", "{{.Status}}")


def test_invalid_settings(stack):
    for field, value, message in [
            ("Interval", 500000, "Interval in Healthcheck cannot be less than 1ms"),
            ("Timeout", 10, "Timeout in Healthcheck cannot be less than 1ms"),
            ("StartPeriod", 999999, "StartPeriod in Healthcheck cannot be less than 1ms"),
            ("StartInterval", 1, "StartInterval in Healthcheck cannot be less than 1ms"),
            ("Retries", -1, "Retries in Healthcheck cannot be negative")]:
        response = stack.api("POST", "/containers/create", body={
            "Image": "busybox", "Cmd": ["true"],
            "Healthcheck": {"Test": ["CMD", "true"], field: value}})
        assert response.status == 400 and response.message == message, response.body


def test_events(stack):
    since = time.time()
    container = stack.run("--name", "ev", "--health-cmd", "exit 0", *FAST, "busybox", "sleep",
                          "1000")
    stack.wait_health("ev", "healthy", 10)
    time.sleep(0.3)
    events = stack.events(since, time.time(), {"container": [container]})
    actions = [event["Action"] for event in events]
    assert "exec_create: /bin/sh -c exit 0" in actions
    assert "exec_start: /bin/sh -c exit 0" in actions
    assert "exec_die" in actions
    assert actions.count("health_status: healthy") == 1
    die = next(event for event in events if event["Action"] == "exec_die")
    assert die["Actor"]["Attributes"]["exitCode"] == "0"
    assert len(die["Actor"]["Attributes"]["execID"]) == 64
    assert die["Actor"]["Attributes"]["name"] == "ev"
    # The event filter matches health_status by prefix, as dockerd's does.
    filtered = stack.events(since, time.time(), {"event": ["health_status"],
                                                 "container": ["ev"]})
    assert [event["Action"] for event in filtered] == ["health_status: healthy"]
    # A probe without arguments: dockerd's action ends with a space.
    stack.client.containers.run("busybox", ["sleep", "1000"], name="bare", detach=True,
                                healthcheck={"test": ["CMD", "true"], "interval": 1000000000})
    stack.wait_health("bare", "healthy", 10)
    bare = [event["Action"] for event in stack.events(since, time.time(),
                                                      {"container": ["bare"]})]
    assert "exec_start: true " in bare
    # And through the docker CLI.
    out = stack.out("events", "--since", "%.3f" % since, "--until", "%.3f" % time.time(),
                    "--filter", "event=health_status", "--filter", "container=ev",
                    "--format", "{{.Action}}")
    assert out.splitlines() == ["health_status: healthy"]


def test_ps_filter(stack):
    stack.run("--name", "good", "--health-cmd", "true", *FAST, "busybox", "sleep", "1000")
    stack.run("--name", "sick", "--health-cmd", "false", "--health-retries", "1", *FAST,
              "busybox", "sleep", "1000")
    stack.run("--name", "plain", "busybox", "sleep", "1000")
    stack.wait_health("good", "healthy", 10)
    stack.wait_health("sick", "unhealthy", 10)

    def names(value, cli=None):
        cli = cli or stack.out
        return sorted(cli("ps", "--filter", "health=" + value, "--format",
                          "{{.Names}}").split())
    assert names("healthy") == ["good"]
    assert names("unhealthy") == ["sick"]
    assert names("none") == ["plain"]
    assert names("starting") == []
    assert sorted(c.name for c in stack.client.containers.list(
        filters={"health": "healthy"})) == ["good"]
    berth_ps = lambda *args: stack.berth(*args).stdout.strip()
    assert names("unhealthy", berth_ps) == ["sick"]
    response = stack.api("GET", "/containers/json",
                         query={"filters": json.dumps({"health": ["bogus"]})})
    assert response.status == 400
    assert response.message == "Unrecognised filter value for health: bogus"


def test_stop_pause_restart(stack):
    stack.run("--name", "cycle", "--health-cmd", "true", *FAST, "busybox", "sleep", "1000")
    stack.wait_health("cycle", "healthy", 10)
    stack.out("pause", "cycle")
    health = stack.wait_health("cycle", "unhealthy", 5)
    count = len(health["Log"])
    time.sleep(2)
    assert len(stack.health("cycle")["Log"]) == count  # no probe while paused
    stack.out("unpause", "cycle")
    stack.wait_health("cycle", "healthy", 10)
    stack.out("kill", "cycle")
    health = stack.wait_health("cycle", "unhealthy", 5)
    assert not stack.inspect("cycle")["State"]["Running"]
    stack.out("start", "cycle")
    health = stack.health("cycle")
    assert health["Status"] == "starting" and health["FailingStreak"] == 0
    assert len(health["Log"]) >= 1  # the log survives a restart, as in dockerd
    stack.wait_health("cycle", "healthy", 10)
    stack.out("restart", "-t", "0", "cycle")
    assert stack.health("cycle")["Status"] == "starting"
    stack.wait_health("cycle", "healthy", 10)


def test_restart_policy_restarts_checks(stack):
    # The container dies after ~2 s and its policy starts it again: each run
    # starts over with "starting".
    stack.run("--name", "flappy", "--restart", "always", "--health-cmd", "true", *FAST,
              "busybox", "sh", "-c", "sleep 2; exit 3")
    stack.wait_health("flappy", "healthy", 10)
    wait_until(lambda: stack.inspect("flappy")["RestartCount"] >= 1, 15, "a restart")
    stack.wait_health("flappy", "healthy", 10)


def test_probe_runs_as_the_container(stack):
    stack.run("--name", "env", "--user", "1234:5678", "--workdir", "/tmp", "-e", "FOO=bar",
              "--health-cmd", "echo $FOO $(id -u):$(id -g) $PWD; test \"$FOO\" = bar",
              *FAST, "busybox", "sleep", "1000")
    health = stack.wait_health("env", "healthy", 10)
    assert health["Log"][-1]["Output"] == "bar 1234:5678 /tmp\n"
    # A terminal's TERM is not a probe's.
    stack.run("--name", "tty", "-t", "--health-cmd", "echo TERM=$TERM", *FAST, "busybox",
              "sleep", "1000")
    health = stack.wait_health("tty", "healthy", 10)
    assert health["Log"][-1]["Output"] == "TERM=\n"


def test_output_is_truncated(stack):
    stack.run("--name", "chatty", "--health-cmd", "head -c 5000 /dev/zero | tr '\\0' a",
              *FAST, "busybox", "sleep", "1000")
    health = stack.wait_health("chatty", "healthy", 10)
    assert health["Log"][-1]["Output"] == "a" * 4096 + "..."
    # Bytes that are not UTF-8 come out as U+FFFD, as Go's JSON encoder writes them.
    stack.run("--name", "binary", "--health-cmd", "printf 'ok\\377\\n'", *FAST, "busybox",
              "sleep", "1000")
    health = stack.wait_health("binary", "healthy", 10)
    assert health["Log"][-1]["Output"] == "ok\ufffd\n"


def test_engine_restart(stack):
    stack.run("--name", "kept", "--health-cmd", "true", *FAST, "busybox", "sleep", "1000")
    stack.wait_health("kept", "healthy", 10)
    stack.kill_engine()
    stack.up()
    # dockerd's restore: checks start over ("starting"), the log is kept.
    health = stack.health("kept")
    assert health["Status"] in ("starting", "healthy") and health["Log"]
    stack.wait_health("kept", "healthy", 10)
    last = stack.health("kept")["Log"][-1]["Start"]
    wait_until(lambda: stack.health("kept")["Log"][-1]["Start"] != last, 5,
               "probes after the restart")


def test_image_healthcheck_merged(stack, health_image):
    # The image says CMD-SHELL "exit 0" every 1 s; the request overrides the interval...
    stack.run("--name", "img", "--health-interval", "2s", health_image, "sleep", "1000")
    config = stack.inspect("img")["Config"]["Healthcheck"]
    assert config["Test"] == ["CMD-SHELL", "echo from-image"]
    assert config["Interval"] == 2000000000 and config["Retries"] == 2
    health = stack.wait_health("img", "healthy", 10)
    assert health["Log"][-1]["Output"] == "from-image\n"
    # ... and --no-healthcheck turns it off.
    stack.run("--name", "off", "--no-healthcheck", health_image, "sleep", "1000")
    assert stack.inspect("off")["Config"]["Healthcheck"]["Test"] == ["NONE"]
    time.sleep(1.5)
    assert "Health" not in stack.inspect("off")["State"]


def test_berth_cli(stack):
    """berth's own CLI: run's --health-* flags, inspect --format, ps."""
    stack.berth("run", "-d", "--name", "viaberth", "--health-cmd", "echo fine",
                "--health-interval", "1s", "--health-timeout", "5s", "--health-retries", "2",
                "--health-start-period", "30s", "--health-start-interval", "1s", "busybox",
                "sleep", "1000")
    assert stack.inspect("viaberth")["Config"]["Healthcheck"] == {
        "Test": ["CMD-SHELL", "echo fine"], "Interval": 1000000000, "Timeout": 5000000000,
        "StartPeriod": 30000000000, "StartInterval": 1000000000, "Retries": 2}
    wait_until(lambda: stack.berth("inspect", "--format", "{{.State.Health.Status}}",
                                   "viaberth").stdout.strip() == "healthy", 10, "healthy")
    assert stack.berth("inspect", "--format", "{{(index .State.Health.Log 0).Output}}",
                       "viaberth").stdout == "fine\n\n"
    assert "(healthy)" in stack.berth("ps").stdout
    stack.berth("run", "-d", "--name", "offberth", "--no-healthcheck", "busybox", "sleep", "1000")
    assert stack.inspect("offberth")["Config"]["Healthcheck"] == {"Test": ["NONE"]}
    result = stack.berth("run", "-d", "--no-healthcheck", "--health-cmd", "x", "busybox",
                         check=False)
    assert result.returncode != 0 and "conflicts with --health-* options" in result.stderr


def _epoch(text):
    from datetime import datetime, timezone
    whole, _, fraction = text.rstrip("Z").partition(".")
    return datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=timezone.utc).timestamp() + float("0." + (fraction or "0"))


def test_probe_across_a_pause_does_not_count(stack):
    # A probe in flight when the container is paused (dockerd cancels it)
    # leaves no result: the first result after the unpause is a new probe's.
    stack.run("--name", "midprobe", "--health-cmd", "sleep 2", "--health-interval", "1s",
              "--health-timeout", "20s", "busybox", "sleep", "1000")
    time.sleep(1.7)  # the first probe started at ~1 s and runs until ~3 s
    stack.out("pause", "midprobe")
    time.sleep(1)
    stack.out("unpause", "midprobe")
    unpaused = time.time()
    health = stack.wait_health("midprobe", "healthy", 15)
    assert all(_epoch(entry["Start"]) > unpaused - 0.05 for entry in health["Log"]), \
        (unpaused, health)
