"""The images API with the docker CLI and python3-docker: list, inspect,
lookups, history, tag, remove (Docker's untag/delete/conflict rules), prune,
and the registry calls berth does not make yet."""
import json
import time

import docker
import pytest

from conftest import (NAMESPACE, create_supervisor_container, images_pb2, layer_tar,
                      make_image_tar, query, remove_supervisor_container)

BUSYBOX_FULL = "docker.io/library/busybox:latest"


def image_rows(cli, *args):
    out = cli.run("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}", *args).stdout
    return sorted(out.split("\n")[:-1]) if out else []


def test_load_and_list(cli, client, loaded):
    assert loaded.startswith("sha256:") and len(loaded) == 71
    assert image_rows(cli) == ["busybox:latest %s" % loaded[7:19]]
    images = client.images.list()
    assert [image.id for image in images] == [loaded]
    assert images[0].tags == ["busybox:latest"]
    summary = client.api.images()[0]
    assert summary["RepoTags"] == ["busybox:latest"]
    assert summary["RepoDigests"] == []
    assert summary["ParentId"] == ""
    assert summary["SharedSize"] == -1 and summary["Containers"] == -1
    assert summary["Size"] > 1000000
    assert "VirtualSize" not in summary  # gone since API 1.44


def test_inspect(cli, client, loaded):
    [inspect] = json.loads(cli.run("image", "inspect", "busybox").stdout)
    assert inspect["Id"] == loaded
    assert inspect["RepoTags"] == ["busybox:latest"]
    assert inspect["Config"]["Cmd"] == ["sh"]
    assert inspect["Config"]["Env"][0].startswith("PATH=")
    assert inspect["Os"] == "linux" and inspect["Architecture"]
    assert inspect["RootFS"]["Type"] == "layers" and len(inspect["RootFS"]["Layers"]) == 1
    assert inspect["GraphDriver"]["Name"] == "overlay2"
    assert inspect["Created"] == "1970-01-01T00:00:00Z"
    assert inspect["Size"] == client.api.images()[0]["Size"]
    assert inspect["Metadata"]["LastTagTime"].endswith("Z")
    assert client.images.get("busybox").attrs["Id"] == loaded


def test_lookups(api, loaded):
    names = ["busybox", "busybox:latest", "library/busybox", BUSYBOX_FULL, loaded, loaded[7:],
             loaded[7:19], "sha256:" + loaded[7:15], loaded[7:11]]
    for name in names:
        status, body = api.json("GET", "/images/%s/json" % name)
        assert status == 200, (name, body)
        assert body["Id"] == loaded


def test_digest_reference(api, client, loaded, supervisor):
    # The manifest digest: what busybox@sha256:... names.
    [target] = [image.target.digest for image in supervisor.images.List(
        images_pb2.ListImagesRequest(), metadata=NAMESPACE, timeout=10).images
        if image.name == BUSYBOX_FULL]
    assert client.images.get("busybox@" + target).id == loaded
    assert client.images.get("docker.io/library/busybox@" + target).id == loaded
    status, body = api.json("GET", "/images/busybox@sha256:%s/json" % ("0" * 64))
    assert status == 404
    assert body["message"] == "No such image: busybox@sha256:%s" % ("0" * 64)


def test_not_found_and_malformed(cli, api, client):
    result = cli.run("image", "inspect", "nosuch", check=False)
    assert result.returncode != 0
    assert "No such image: nosuch:latest" in result.stderr
    status, body = api.json("GET", "/images/nosuch:1/json")
    assert status == 404 and body["message"] == "No such image: nosuch:1"
    status, body = api.json("GET", "/images/sha256:%s/json" % ("a" * 64))
    assert status == 404 and body["message"] == "No such image: sha256:%s" % ("a" * 64)
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get("nosuch")
    for bad in ["UPPER", "bad::tag", "a/-b", "x@sha256:12"]:
        status, body = api.json("GET", "/images/%s/json" % bad)
        assert status == 400, (bad, body)
        assert "invalid reference format" in body["message"]
    status, body = api.json("DELETE", "/images/nosuch")
    assert status == 404


def test_history(cli, client, loaded, tmp_path):
    out = cli.run("history", "--no-trunc", "--format", "{{.ID}} {{.CreatedBy}}", "busybox").stdout
    assert out.startswith(loaded + " berth scripts/mkimage-busybox")
    history = client.images.get("busybox").history()
    assert len(history) == 1
    assert history[0]["Id"] == loaded and history[0]["Tags"] == ["busybox:latest"]
    assert history[0]["Size"] > 1000000
    # Several entries, empty layers among them, newest first.
    path = tmp_path / "h.tar"
    image_id, _ = make_image_tar(path, ["hist:1"], [layer_tar({"a": b"1" * 5000}),
                                                    layer_tar({"b": b"2" * 9000})], history=[
        {"created": "2024-01-01T00:00:00Z", "created_by": "ADD a"},
        {"created": "2024-01-02T00:00:00Z", "created_by": "ENV x=1", "empty_layer": True},
        {"created": "2024-01-03T00:00:00Z", "created_by": "ADD b", "comment": "c"}])
    cli.run("load", "-i", str(path))
    history = client.images.get("hist:1").history()
    assert [h["CreatedBy"] for h in history] == ["ADD b", "ENV x=1", "ADD a"]
    assert [h["Id"] for h in history] == [image_id, "<missing>", "<missing>"]
    assert history[1]["Size"] == 0 and history[0]["Size"] > 0 and history[2]["Size"] > 0
    assert history[0]["Comment"] == "c" and history[2]["Created"] == 1704067200
    assert history[1]["Tags"] is None


def test_tag(cli, client, api, supervisor, loaded):
    cli.run("tag", "busybox", "me/app:v1")
    cli.run("tag", loaded[7:19], "localhost:5000/x")
    client.images.get("busybox").tag("other", "t")
    assert sorted(client.images.get(loaded).tags) == [
        "busybox:latest", "localhost:5000/x:latest", "me/app:v1", "other:t"]
    assert "docker.io/me/app:v1" in supervisor.image_names()
    assert "localhost:5000/x:latest" in supervisor.image_names()
    # Bad targets.
    for repo, tag, why in [("UPPER", "", "invalid reference format"),
                           ("x", "bad tag", "invalid reference format"),
                           ("x@sha256:" + "0" * 64, "", "digest"),
                           ("sha256", "abc", "ambiguous")]:
        status, body = api.json("POST", query("/images/busybox/tag", repo=repo, tag=tag))
        assert status == 400 and why in body["message"], (repo, tag, body)
    result = cli.run("tag", "nosuch", "x", check=False)
    assert result.returncode != 0 and "No such image: nosuch:latest" in result.stderr


def test_tag_moves_and_leaves_dangling(cli, client, loaded, tmp_path):
    path = tmp_path / "other.tar"
    other, _ = make_image_tar(path, ["other:1"], [layer_tar({"f": b"x" * 100})])
    cli.run("load", "-i", str(path))
    cli.run("tag", "other:1", "busybox:latest")  # busybox:latest moves to the other image
    assert client.images.get("busybox").id == other
    # The old image has no tag left: it stays, dangling, as Docker keeps it.
    dangling = client.images.list(filters={"dangling": True})
    assert [image.id for image in dangling] == [loaded]
    rows = image_rows(cli, "-a")
    assert "<none>:<none> %s" % loaded[7:19] in rows
    assert client.api.images(all=True, filters={"dangling": False})[0]["Id"] == other
    # By ID it is still there to remove (nothing to untag: only Deleted records).
    records = client.api.remove_image(loaded)
    assert records[0] == {"Deleted": loaded}
    assert all(list(record) == ["Deleted"] for record in records)
    assert [image.id for image in client.images.list(all=True)] == [other]


def test_remove_rules(cli, client, api, busybox_tar, loaded):
    cli.run("tag", "busybox", "a:1")
    cli.run("tag", "busybox", "b:1")
    # A name untags.
    assert client.api.remove_image("a:1") == [{"Untagged": "a:1"}]
    # By ID with names in several repositories: force needed.
    status, body = api.json("DELETE", "/images/" + loaded[7:19])
    assert status == 409
    assert body["message"] == ("conflict: unable to delete %s (must be forced) - image is "
                               "referenced in multiple repositories" % loaded[7:19])
    result = cli.run("rmi", "-f", loaded[7:19])
    assert "Untagged: b:1" in result.stdout and "Untagged: busybox:latest" in result.stdout
    assert "Deleted: %s" % loaded in result.stdout
    assert client.images.list(all=True) == []
    # The last name of an image deletes it, with its layers.
    cli.run("load", "-i", str(busybox_tar))
    records = client.api.remove_image("busybox")
    assert records[0] == {"Untagged": "busybox:latest"}
    assert records[1] == {"Deleted": loaded}
    assert len(records) == 3 and records[2]["Deleted"].startswith("sha256:")
    status, body = api.json("DELETE", "/images/busybox")
    assert status == 404 and body["message"] == "No such image: busybox:latest"


def test_remove_by_id_single_repository(cli, client, loaded):
    cli.run("tag", "busybox", "busybox:second")
    # Two tags of one repository are not "one repository"'s single reference either.
    result = cli.run("rmi", loaded[7:19], check=False)
    assert result.returncode != 0 and "must be forced" in result.stderr
    client.api.remove_image("busybox:second")
    # One tag: removing by ID untags and deletes without force.
    result = cli.run("rmi", loaded[7:19])
    assert "Untagged: busybox:latest" in result.stdout
    assert "Deleted: " + loaded in result.stdout


def test_remove_with_stopped_container(cli, client, api, supervisor, loaded):
    create_supervisor_container(supervisor, "c-stopped-1", BUSYBOX_FULL, loaded)
    try:
        status, body = api.json("DELETE", "/images/busybox")
        assert status == 409
        assert body["message"] == (
            'conflict: unable to remove repository reference "busybox" (must force) - '
            "container c-stopped-1 is using its referenced image %s" % loaded[7:19])
        status, body = api.json("DELETE", "/images/" + loaded)
        assert status == 409
        assert body["message"] == ("conflict: unable to delete %s (must be forced) - image is "
                                   "being used by stopped container c-stopped-1" % loaded[7:19])
        # Forcing a name untags; the image stays, dangling, for its container.
        assert client.api.remove_image("busybox", force=True) == [
            {"Untagged": "busybox:latest"}]
        [summary] = client.api.images(all=True)
        assert summary["Id"] == loaded and summary["RepoTags"] == []
        assert any(n.startswith("berth-dangling@") for n in supervisor.image_names())
        assert [i.id for i in client.images.list(filters={"dangling": True})] == [loaded]
        # Prune leaves what a container uses.
        assert client.images.prune()["ImagesDeleted"] in ([], None)
        assert client.api.images(all=True)[0]["Id"] == loaded
        # df counts the container.
        [usage] = client.df()["Images"]
        assert usage["Containers"] == 1
    finally:
        remove_supervisor_container(supervisor, "c-stopped-1")
    pruned = client.images.prune()
    assert {"Deleted": loaded} in pruned["ImagesDeleted"]
    assert pruned["SpaceReclaimed"] > 0
    assert client.images.list(all=True) == []


def test_container_without_image_label(cli, client, api, supervisor, loaded):
    # Without the berth.image.id label, Container.image (a name of the image) tells.
    create_supervisor_container(supervisor, "c-nolabel-1", BUSYBOX_FULL, None)
    try:
        status, body = api.json("DELETE", "/images/busybox")
        assert status == 409 and "c-nolabel-1" in body["message"]
        [container] = client.df()["Containers"]
        assert container["ImageID"] == loaded and container["State"] == "exited"
    finally:
        remove_supervisor_container(supervisor, "c-nolabel-1")


def test_remove_with_running_container(cli, client, api, supervisor, loaded):
    create_supervisor_container(supervisor, "c-running-1", BUSYBOX_FULL, loaded,
                                args=["sh", "-c", "head -c 300000 /dev/zero > /big; sleep 1000"],
                                start=True)
    try:
        status, body = api.json("DELETE", "/images/%s?force=1" % loaded)
        assert status == 409
        assert body["message"] == ("conflict: unable to delete %s (cannot be forced) - image is "
                                   "being used by running container c-running-1" % loaded[7:19])
        info = client.info()
        assert info["ContainersRunning"] == 1 and info["Containers"] == 1
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            [container] = client.df()["Containers"]
            if container["SizeRw"] >= 300000:
                break
            time.sleep(0.2)
        assert container["Id"] == "c-running-1" and container["State"] == "running"
        assert container["ImageID"] == loaded and container["Image"] == "busybox:latest"
        assert container["Names"] == ["/c-running-1"]
        assert container["Labels"] == {"user.label": "u"}
        assert container["SizeRw"] >= 300000
        assert container["SizeRootFs"] > container["SizeRw"]
        # By name with force: untagged, kept.
        assert client.api.remove_image("busybox", force=True) == [{"Untagged": "busybox:latest"}]
        assert client.api.images(all=True)[0]["Id"] == loaded
    finally:
        remove_supervisor_container(supervisor, "c-running-1")


def test_list_filters(cli, client, tmp_path, loaded):
    old = tmp_path / "old.tar"
    new = tmp_path / "new.tar"
    old_id, _ = make_image_tar(old, ["app:old"], [layer_tar({"o": b"o"})],
                               labels={"team": "a", "tier": "web"},
                               created="2020-01-01T00:00:00Z")
    new_id, _ = make_image_tar(new, ["app:new", "web/app:1"], [layer_tar({"n": b"n"})],
                               labels={"team": "b"}, created="2023-06-01T00:00:00Z",
                               oci=False)
    cli.run("load", "-i", str(old))
    cli.run("load", "-i", str(new))

    def ids(**filters):
        return sorted(i["Id"] for i in client.api.images(filters=filters))

    assert ids() == sorted([loaded, old_id, new_id])
    assert ids(label="team") == sorted([old_id, new_id])
    assert ids(label="team=a") == [old_id]
    assert ids(label=["team=a", "tier=web"]) == [old_id]
    assert ids(label=["team=b", "tier"]) == []
    assert ids(reference="app") == sorted([old_id, new_id])
    assert ids(reference="app:n*") == [new_id]
    assert ids(reference="*/app") == [new_id]
    assert ids(reference="busy*") == [loaded]
    assert ids(before="app:new") == sorted([loaded, old_id])
    assert ids(since="app:old") == [new_id]
    assert ids(since=loaded[7:19], before="app:new") == [old_id]
    assert ids(until="2021-01-01T00:00:00Z") == sorted([loaded, old_id])
    assert ids(until="1500000000") == [loaded]
    assert ids(until="1600000000") == sorted([loaded, old_id])
    assert ids(dangling=True) == []
    # The reference filter trims RepoTags to the names it matched.
    [summary] = client.api.images(filters={"reference": "web/*"})
    assert summary["RepoTags"] == ["web/app:1"]
    # Newest first.
    assert [i["Id"] for i in client.api.images()] == [new_id, old_id, loaded]
    assert image_rows(cli, "--filter", "label=team=b") == ["app:new %s" % new_id[7:19],
                                                           "web/app:1 %s" % new_id[7:19]]
    # Bad filters.
    with pytest.raises(docker.errors.APIError) as error:
        client.api.images(filters={"bogus": "x"})
    assert error.value.status_code == 400 and "invalid filter 'bogus'" in str(error.value)
    with pytest.raises(docker.errors.APIError) as error:
        client.api.images(filters={"dangling": "maybe"})
    assert error.value.status_code == 400
    with pytest.raises(docker.errors.NotFound):
        client.api.images(filters={"before": "nosuch"})


def test_old_api_versions(api, cli, loaded, tmp_path):
    path = tmp_path / "x.tar"
    make_image_tar(path, [], [layer_tar({"x": b"x"})])
    cli.run("load", "-i", str(path))
    status, images = api.json("GET", "/v1.41/images/json")
    assert status == 200
    untagged = [i for i in images if i["Id"] != loaded][0]
    assert untagged["RepoTags"] == ["<none>:<none>"]
    assert untagged["RepoDigests"] == ["<none>@<none>"]
    assert all(i["VirtualSize"] == i["Size"] for i in images)
    status, inspect = api.json("GET", "/v1.43/images/busybox/json")
    assert inspect["VirtualSize"] == inspect["Size"] and "ContainerConfig" in inspect
    status, images = api.json("GET", "/v1.47/images/json")
    assert [i for i in images if i["Id"] != loaded][0]["RepoTags"] == []


def test_shared_size(client, cli, api, tmp_path):
    base = layer_tar({"base": b"b" * 200000})
    make_image_tar(tmp_path / "1.tar", ["one:1"], [base, layer_tar({"1": b"1"})])
    make_image_tar(tmp_path / "2.tar", ["two:1"], [base, layer_tar({"2": b"2" * 50000})])
    cli.run("load", "-i", str(tmp_path / "1.tar"))
    cli.run("load", "-i", str(tmp_path / "2.tar"))
    status, listed = api.json("GET", "/images/json?shared-size=1")
    images = {i["RepoTags"][0]: i for i in listed}
    assert images["one:1"]["SharedSize"] == images["two:1"]["SharedSize"] > 200000
    assert images["two:1"]["Size"] > images["one:1"]["Size"]
    df = client.df()
    assert df["LayersSize"] < images["one:1"]["Size"] + images["two:1"]["Size"]
    # Removing one keeps the shared layer: only the unique one is reported gone.
    records = client.api.remove_image("one:1")
    assert len([r for r in records if "Deleted" in r]) == 2  # the image and its top layer


def test_prune(cli, client, tmp_path, loaded):
    make_image_tar(tmp_path / "d.tar", [], [layer_tar({"d": b"d"})], labels={"keep": "no"})
    make_image_tar(tmp_path / "l.tar", ["labelled:1"], [layer_tar({"l": b"l"})],
                   labels={"keep": "yes"}, created="2019-01-01T00:00:00Z")
    cli.run("load", "-i", str(tmp_path / "d.tar"))
    cli.run("load", "-i", str(tmp_path / "l.tar"))
    # Dangling only by default.
    result = cli.run("image", "prune", "-f")
    assert "deleted: sha256:" in result.stdout and "Total reclaimed space" in result.stdout
    assert sorted(t for i in client.images.list(all=True) for t in i.tags) == [
        "busybox:latest", "labelled:1"]
    # All unused, with label and until filters.
    pruned = client.images.prune(filters={"dangling": False, "label!": "keep=yes"})
    assert {"Untagged": "busybox:latest"} in pruned["ImagesDeleted"]
    assert [i.tags for i in client.images.list()] == [["labelled:1"]]
    pruned = client.images.prune(filters={"dangling": False, "until": "2018-01-01T00:00:00Z"})
    assert not pruned["ImagesDeleted"]
    result = cli.run("image", "prune", "-a", "-f", "--filter", "until=2020-01-01T00:00:00Z")
    assert "untagged: labelled:1" in result.stdout
    assert client.images.list(all=True) == []
    with pytest.raises(docker.errors.APIError) as error:
        client.images.prune(filters={"reference": "x"})
    assert error.value.status_code == 400


def test_registry_calls_say_not_implemented(cli, api, client):
    result = cli.run("pull", "alpine", check=False, timeout=60)
    assert result.returncode != 0
    assert "pull is not implemented yet" in result.stderr
    assert "docker load" in result.stderr
    # docker run: create fails with 404 (no such image), the pull fails with
    # 501 and the CLI gives up at once rather than looping.
    started = time.monotonic()
    result = cli.run("run", "--rm", "alpine:3", "true", check=False, timeout=60)
    assert result.returncode != 0 and time.monotonic() - started < 30
    assert "pull is not implemented yet" in result.stderr
    with pytest.raises(docker.errors.APIError) as error:
        client.images.pull("alpine", tag="3")
    assert error.value.status_code == 501
    result = cli.run("push", "busybox", check=False)
    assert result.returncode != 0 and "push is not implemented yet" in result.stderr
    result = cli.run("search", "busybox", check=False)
    assert result.returncode != 0 and "search is not implemented yet" in result.stderr
    status, body = api.json("POST", "/build", body=b"x" * 100000,
                            headers={"Content-Type": "application/x-tar"})
    assert status == 501 and "build is not implemented yet" in body["message"]
    status, body = api.json("POST", query("/images/create", fromSrc="-"), body=b"")
    assert status == 501 and "import is not implemented yet" in body["message"]
