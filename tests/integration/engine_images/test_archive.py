"""docker load and docker save: formats in and out, round trips, and
archives that must be refused without leaving anything behind."""
import http.client
import io
import json
import os
import tarfile

import docker
import pytest

from conftest import add_file, layer_tar, make_image_tar, query


def members(data):
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {member.name: (tar.extractfile(member).read() if member.isfile() else None)
                for member in tar.getmembers()}


def blob_count(stack):
    directory = stack.directory / "supervisor" / "content" / "blobs" / "sha256"
    return len(os.listdir(directory)) if directory.exists() else 0


def test_save_format(cli, api, loaded):
    cli.run("tag", "busybox", "me/app:v1")
    status, response, data = api.request("GET", query("/images/get", names="busybox") +
                                         "&names=me/app:v1")
    assert status == 200 and response.getheader("Content-Type") == "application/x-tar"
    files = members(data)
    manifest = json.loads(files["manifest.json"])
    assert manifest == [{"Config": "blobs/sha256/" + loaded[7:],
                         "RepoTags": ["busybox:latest", "me/app:v1"],
                         "Layers": manifest[0]["Layers"]}]
    for path in [manifest[0]["Config"], *manifest[0]["Layers"]]:
        assert path in files and files[path] is not None
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(files["index.json"])
    names = sorted(m["annotations"]["io.containerd.image.name"] for m in index["manifests"])
    assert names == ["docker.io/library/busybox:latest", "docker.io/me/app:v1"]
    assert json.loads(files["repositories"]) == {"busybox": {"latest": loaded[7:]},
                                                 "me/app": {"v1": loaded[7:]}}
    # Every blob is what its name says.
    import hashlib
    for name, data in files.items():
        if name.startswith("blobs/sha256/") and data is not None:
            assert hashlib.sha256(data).hexdigest() == name.split("/")[-1]


def test_save_repository_takes_every_tag(cli, api, loaded):
    cli.run("tag", "busybox", "busybox:other")
    status, _, data = api.request("GET", "/images/busybox/get")
    assert status == 200
    manifest = json.loads(members(data)["manifest.json"])
    assert manifest[0]["RepoTags"] == ["busybox:latest", "busybox:other"]


def test_save_load_round_trip_cli(cli, client, stack, tmp_path, loaded):
    cli.run("tag", "busybox", "me/app:v1")
    archive = tmp_path / "saved.tar"
    cli.run("save", "-o", str(archive), "busybox", "me/app:v1")
    cli.run("rmi", "-f", loaded)
    assert client.images.list(all=True) == []
    result = cli.run("load", "-i", str(archive))
    assert result.stdout.splitlines() == ["Loaded image: busybox:latest",
                                          "Loaded image: me/app:v1"]
    assert sorted(client.images.get(loaded).tags) == ["busybox:latest", "me/app:v1"]
    # docker save | docker load through pipes, and quiet.
    saved = cli.run("save", "busybox", input=b"").stdout
    result = cli.run("load", "-q", input=saved)
    assert b"Loaded image: busybox:latest" in result.stdout


def test_save_by_id_loads_untagged(cli, client, api, loaded):
    status, _, data = api.request("GET", "/images/%s/get" % loaded[7:19])
    assert status == 200
    assert json.loads(members(data)["manifest.json"])[0]["RepoTags"] == []
    cli.run("rmi", "busybox")
    loaded_images = client.images.load(data)
    assert [image.id for image in loaded_images] == [loaded]
    status, _, body = api.request("POST", "/images/load", body=data)
    assert status == 200
    assert json.loads(body.splitlines()[0]) == {"stream": "Loaded image ID: %s\n" % loaded}
    [summary] = client.api.images(all=True)
    assert summary["RepoTags"] == [] and summary["Id"] == loaded


def test_python_docker_load_and_save(client, busybox_tar, loaded):
    data = b"".join(client.api.get_image("busybox"))
    client.images.remove("busybox")
    [again] = client.images.load(data)
    assert again.id == loaded and again.tags == ["busybox:latest"]
    with open(busybox_tar, "rb") as file:
        assert [i.id for i in client.images.load(file.read())] == [loaded]


def test_load_formats(cli, client, tmp_path):
    for oci, gzip_layers, tag in [(False, False, "legacy:1"), (True, True, "oci:gz"),
                                  (False, True, "legacy:gz")]:
        path = tmp_path / (tag.replace(":", "-") + ".tar")
        image_id, _ = make_image_tar(path, [tag], [layer_tar({"a": b"a" * 1000}),
                                                   layer_tar({"b": tag.encode()})],
                                     oci=oci, gzip_layers=gzip_layers)
        assert cli.run("load", "-i", str(path)).stdout == "Loaded image: %s\n" % tag
        assert client.images.get(tag).id == image_id
    # A saved image with gzip layers goes out as stored and loads again.
    data = b"".join(client.api.get_image("oci:gz"))
    client.images.remove("oci:gz")
    assert client.images.load(data)[0].tags == ["oci:gz"]


def test_load_replaces_a_tag(cli, client, tmp_path, loaded):
    path = tmp_path / "new-busybox.tar"
    new_id, _ = make_image_tar(path, ["busybox:latest"], [layer_tar({"x": b"x"})])
    result = cli.run("load", "-i", str(path))
    assert result.stdout.splitlines() == [
        "The image busybox:latest already exists, renaming the old one with ID %s to empty "
        "string" % loaded,
        "Loaded image: busybox:latest"]
    assert client.images.get("busybox").id == new_id
    # The old image stays, untagged.
    assert [i.id for i in client.images.list(filters={"dangling": True})] == [loaded]


def hostile_archives(tmp_path, busybox_tar):
    good = busybox_tar.read_bytes()
    archives = {}
    path = tmp_path / "dotdot.tar"
    with tarfile.open(path, "w") as tar:
        add_file(tar, "../../escape", b"pwned")
        add_file(tar, "manifest.json", b'[{"Config":"c.json","RepoTags":["evil:1"],"Layers":[]}]')
    archives["dotdot"] = path.read_bytes()
    path = tmp_path / "absolute.tar"
    with tarfile.open(path, "w") as tar:
        add_file(tar, "/etc/evil", b"pwned")
    archives["absolute"] = path.read_bytes()
    path = tmp_path / "symlink.tar"
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("blobs")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc"
        tar.addfile(info)
    archives["symlink"] = path.read_bytes()
    archives["truncated"] = good[:len(good) // 2]
    archives["garbage"] = b"this is not an archive\n" * 100
    archives["empty"] = b""
    # A complete archive whose layer does not match its digest.
    with tarfile.open(fileobj=io.BytesIO(good)) as source:
        files = {m.name: (source.extractfile(m).read() if m.isfile() else None)
                 for m in source.getmembers()}
    path = tmp_path / "corrupt.tar"
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            if data is None:
                continue
            if len(data) > 100000:
                data = data[:-1] + b"!"
            add_file(tar, name, data)
    archives["corrupt"] = path.read_bytes()
    return archives


def test_hostile_archives_leave_nothing(cli, client, api, stack, supervisor, tmp_path,
                                        busybox_tar):
    # Busybox's blobs must not be in the store already: the corrupt archive
    # carries a damaged copy of its layer.
    make_image_tar(tmp_path / "small.tar", ["small:1"], [layer_tar({"s": b"s"})])
    cli.run("load", "-i", str(tmp_path / "small.tar"))
    small = client.images.get("small:1").id
    names_before = supervisor.image_names()
    blobs_before = blob_count(stack)
    for what, data in hostile_archives(tmp_path, busybox_tar).items():
        status, _, body = api.request("POST", "/images/load", body=data,
                                      headers={"Content-Type": "application/x-tar"})
        assert status == 400, (what, status, body)
        message = json.loads(body)["message"]
        assert message.startswith("invalid image archive: "), (what, message)
        assert supervisor.image_names() == names_before, what
        assert blob_count(stack) == blobs_before, what
    assert not (stack.directory / "escape").exists()
    assert not os.path.exists("/etc/evil")
    # The CLI shows the refusal.
    result = cli.run("load", "-i", str(tmp_path / "dotdot.tar"), check=False)
    assert result.returncode != 0
    assert "invalid image archive" in result.stderr and ".." in result.stderr
    with pytest.raises(docker.errors.APIError) as error:
        client.images.load(b"garbage" * 10)
    assert error.value.status_code == 400
    assert [i.id for i in client.images.list(all=True)] == [small]


def test_save_errors(cli, api, tmp_path, loaded):
    status, body = api.json("GET", "/images/nosuch/get")
    assert status == 404 and body["message"] == "No such image: nosuch:latest"
    status, body = api.json("GET", query("/images/get", names="busybox") + "&names=nosuch:2")
    assert status == 404 and body["message"] == "No such image: nosuch:2"
    status, body = api.json("GET", "/images/get")
    assert status == 400
    result = cli.run("save", "-o", str(tmp_path / "x.tar"), "nosuch", check=False)
    assert result.returncode != 0 and "No such image: nosuch:latest" in result.stderr


def test_save_breaks_the_connection_when_content_is_missing(cli, api, stack, tmp_path):
    image_id, diff_ids = make_image_tar(tmp_path / "m.tar", ["missing:1"],
                                        [layer_tar({"m": b"m" * 70000})])
    cli.run("load", "-i", str(tmp_path / "m.tar"))
    # Damage the store behind the supervisor's back: the layer's blob goes.
    (stack.directory / "supervisor" / "content" / "blobs" / "sha256" / diff_ids[0][7:]).unlink()
    # The answer started (200) before the blob was read, so the error is a
    # cut connection, never a short archive that looks whole.
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        api.request("GET", "/images/missing:1/get")
    result = cli.run("save", "-o", str(tmp_path / "out.tar"), "missing:1", check=False)
    assert result.returncode != 0
