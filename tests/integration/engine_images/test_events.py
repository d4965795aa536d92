"""GET /events: image events, replay with since, an end with until, live
streaming, filters and Docker's time spellings, with the CLI and
python3-docker."""
import json
import select
import time

from conftest import query


def now():
    return time.time()


def actions(events):
    return [(e["Type"], e["Action"], e["Actor"]["Attributes"].get("name")) for e in events]


def test_image_events_replay_cli(cli, busybox_tar, tmp_path):
    since = "%.9f" % now()
    time.sleep(0.01)
    cli.run("load", "-i", str(busybox_tar))
    cli.run("tag", "busybox", "ev:1")
    cli.run("rmi", "ev:1")
    cli.run("save", "-o", str(tmp_path / "saved.tar"), "busybox")
    cli.run("rmi", "busybox")
    time.sleep(0.01)
    until = "%.9f" % now()
    out = cli.run("events", "--since", since, "--until", until, "--format", "{{json .}}",
                  timeout=30).stdout
    events = [json.loads(line) for line in out.splitlines()]
    assert actions(events) == [
        ("image", "load", "busybox:latest"), ("image", "tag", "ev:1"),
        ("image", "untag", "ev:1"), ("image", "save", "busybox:latest"),
        ("image", "untag", "busybox:latest"), ("image", "delete", events[-1]["Actor"]["ID"])]
    assert all(e["Actor"]["ID"].startswith("sha256:") for e in events)
    assert all(e["status"] == e["Action"] and e["scope"] == "local" for e in events)
    assert all(e["time"] == e["timeNano"] // 10**9 for e in events)
    # Filters.
    out = cli.run("events", "--since", since, "--until", until, "--filter", "event=untag",
                  "--format", "{{.Actor.Attributes.name}}", timeout=30).stdout
    assert out.split() == ["ev:1", "busybox:latest"]
    out = cli.run("events", "--since", since, "--until", until, "--filter", "image=ev",
                  "--format", "{{.Action}}", timeout=30).stdout
    assert out.split() == ["tag", "untag"]
    out = cli.run("events", "--since", since, "--until", until, "--filter", "type=container",
                  timeout=30).stdout
    assert out == ""
    # The CLI's own spellings of since (a duration, RFC 3339), which it
    # converts to Unix seconds itself.
    for spelling in ["10m", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now() - 60))]:
        out = cli.run("events", "--since", spelling, "--until", until, "--filter", "event=tag",
                      "--format", "{{.Action}}", timeout=30).stdout
        assert "tag" in out.split(), spelling


def test_events_python_until_ends(client, loaded):
    since = now()
    time.sleep(0.01)
    client.images.get("busybox").tag("py", "1")
    client.images.remove("py:1")
    time.sleep(0.01)
    until = now()
    started = time.monotonic()
    events = list(client.events(decode=True, since=since, until=until))
    assert time.monotonic() - started < 5
    assert actions(events) == [("image", "tag", "py:1"), ("image", "untag", "py:1")]
    events = list(client.events(decode=True, since=since, until=until,
                                filters={"event": "untag"}))
    assert actions(events) == [("image", "untag", "py:1")]
    # until in the future: the stream ends by itself then.
    started = time.monotonic()
    events = list(client.events(decode=True, since=now(), until=now() + 1.5))
    assert 1.0 < time.monotonic() - started < 10 and events == []


def test_events_live(cli, client, loaded):
    process = cli.popen("events", "--filter", "type=image", "--format", "{{.Action}} "
                        "{{.Actor.Attributes.name}}")
    try:
        time.sleep(0.5)
        client.images.get("busybox").tag("live", "1")
        ready, _, _ = select.select([process.stdout], [], [], 10)
        assert ready, "no event within 10 s"
        assert process.stdout.readline().split() == ["tag", "live:1"]
    finally:
        process.kill()
        process.wait()


def test_events_labels_of_images(cli, client, tmp_path):
    from conftest import layer_tar, make_image_tar
    make_image_tar(tmp_path / "l.tar", ["lab:1"], [layer_tar({"x": b"x"})],
                   labels={"com.example.team": "blue"})
    since = now()
    cli.run("load", "-i", str(tmp_path / "l.tar"))
    cli.run("tag", "lab:1", "lab:2")
    until = now() + 0.01
    events = list(client.events(decode=True, since=since, until=until,
                                filters={"label": "com.example.team=blue"}))
    assert [e["Action"] for e in events] == ["load", "tag"]
    events = list(client.events(decode=True, since=since, until=until,
                                filters={"label": "com.example.team=red"}))
    assert events == []


def test_events_time_spellings_and_errors(api, client, loaded):
    client.images.get("busybox").tag("spell", "1")
    time.sleep(0.01)
    for since in ["10m", "%d" % (now() - 60),
                  time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now() - 60))]:
        status, _, body = api.request("GET", query("/events", since=since, until="%d" % (now() + 1),
                                                   filters='{"event":["tag"]}'))
        assert status == 200, since
        names = [json.loads(line)["Actor"]["Attributes"]["name"] for line in body.splitlines()]
        assert "spell:1" in names, (since, body)
    for bad in ["yesterday", "2024-13-45", "1.2.3"]:
        status, _, body = api.request("GET", query("/events", since=bad))
        assert status == 400, bad
    status, _, body = api.request("GET", query("/events", since="%d" % now(),
                                               until="%d" % (now() - 100)))
    assert status == 400 and b"cannot be after" in body
    status, _, body = api.request("GET", query("/events", filters='{"bogus":["x"]}'))
    assert status == 400 and b"invalid filter 'bogus'" in body
    # python3-docker swallows the APIError of a refused /events (its
    # CancellableStream turns OSErrors into the end of the stream).
    assert list(client.events(decode=True, filters={"bogus": "x"}, until=now())) == []
