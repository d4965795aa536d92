"""GET /containers/json: all, limit, size and the filters (id, name, label,
status, ancestor, exited, before, since), through `docker ps` and the SDK."""
import time


def names(stack, *args):
    return stack.out("ps", "--format", "{{.Names}}", *args).split()


def test_list_and_filters(stack):
    first = stack.out("create", "--name", "first", "-l", "tier=db", "busybox", "true")
    time.sleep(0.01)
    ok = stack.run("--name", "ok", "-l", "tier=web", "-l", "env=prod", "busybox", "true")
    stack.out("wait", ok)
    failed = stack.run("--name", "failed", "busybox", "sh", "-c", "exit 3")
    stack.out("wait", failed)
    running = stack.run("--name", "running", "-l", "tier=web", "busybox", "sleep", "1000")
    last = stack.run("--name", "last", "busybox", "sleep", "1000")

    assert names(stack) == ["last", "running"]
    assert names(stack, "-a") == ["last", "running", "failed", "ok", "first"]
    assert names(stack, "-n", "2") == ["last", "running"]
    assert names(stack, "-l") == ["last"]
    assert names(stack, "-a", "-f", "label=tier=web") == ["running", "ok"]
    assert names(stack, "-a", "-f", "label=tier=web", "-f", "label=env") == ["ok"]
    assert names(stack, "-a", "-f", "label=tier") == ["running", "ok", "first"]
    assert names(stack, "-f", "status=exited") == ["failed", "ok"]
    assert names(stack, "-f", "status=created") == ["first"]
    assert names(stack, "-f", "status=running", "-f", "status=created") == ["last", "running",
                                                                              "first"]
    assert names(stack, "-f", "exited=3") == ["failed"]
    assert names(stack, "-f", "exited=0") == ["ok"]
    assert names(stack, "-a", "-f", "name=f") == ["failed", "first"]
    assert names(stack, "-a", "-f", "name=^/first$") == ["first"]
    assert names(stack, "-a", "-f", "id=" + first[:6]) == ["first"]
    assert names(stack, "-a", "-f", "ancestor=busybox") == ["last", "running", "failed", "ok",
                                                            "first"]
    image_id = stack.inspect(first)["Image"]
    assert len(names(stack, "-a", "-f", "ancestor=" + image_id[7:19])) == 5
    assert names(stack, "-a", "-f", "ancestor=nosuchimage") == []
    assert names(stack, "-f", "before=failed") == ["ok", "first"]
    assert names(stack, "-f", "since=failed") == ["last", "running"]
    assert names(stack, "-a", "-f", "network=bridge") == names(stack, "-a")
    assert names(stack, "-a", "-f", "health=none") == names(stack, "-a")
    result = stack.docker("ps", "-f", "before=nosuch", check=False)
    assert result.returncode != 0 and "No such container: nosuch" in result.stderr


def test_summary_shape(stack):
    stack.run("--name", "shape", "-l", "a=b", "busybox", "sleep", "1000")
    (summary,) = stack.api("GET", "/containers/json").json()
    assert summary["Names"] == ["/shape"]
    assert summary["Image"] == "busybox" and summary["ImageID"].startswith("sha256:")
    assert summary["Command"] == "sleep 1000"
    assert summary["State"] == "running" and summary["Status"].startswith("Up ")
    assert abs(summary["Created"] - time.time()) < 60
    assert summary["Labels"] == {"a": "b"} and summary["Ports"] == []
    assert summary["HostConfig"]["NetworkMode"] in ("default", "bridge")
    assert "bridge" in summary["NetworkSettings"]["Networks"]
    assert "SizeRw" not in summary
    (sized,) = stack.api("GET", "/containers/json", query={"size": "1"}).json()
    assert sized["SizeRootFs"] > 1000000 and sized["SizeRw"] >= 0
    # docker ps -s
    assert "virtual" in stack.out("ps", "-s", "--format", "{{.Size}}")


def test_sdk_list(stack):
    client = stack.client
    client.containers.run("busybox", ["sleep", "1000"], detach=True, name="sdk-one")
    client.containers.create("busybox", ["true"], name="sdk-two")
    assert [c.name for c in client.containers.list()] == ["sdk-one"]
    assert sorted(c.name for c in client.containers.list(all=True)) == ["sdk-one", "sdk-two"]
    assert [c.name for c in client.containers.list(all=True, filters={"status": "created"})] == \
        ["sdk-two"]
