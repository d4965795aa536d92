"""The bundled busybox image: deterministic, a valid OCI layout, a loadable
`docker save` tarball, and a bundle made from it that a runtime runs."""
import gzip
import hashlib
import io
import json
import subprocess
import tarfile

import pytest


def run_mkimage(source_dir, output):
    result = subprocess.run([str(source_dir / "scripts" / "mkimage-busybox"), str(output)],
                            check=True, capture_output=True, text=True)
    return dict(line.rsplit(None, 1) for line in result.stdout.splitlines())


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_two_runs_give_identical_digests(source_dir, tmp_path):
    first = run_mkimage(source_dir, tmp_path / "one")
    second = run_mkimage(source_dir, tmp_path / "two")
    assert first == second
    assert set(first) == {"config", "manifest gzip", "manifest zstd", "manifest tar"}
    assert (tmp_path / "one" / "busybox.tar").read_bytes() == \
        (tmp_path / "two" / "busybox.tar").read_bytes()


def test_layout_blobs_match_their_digests(busybox_layout):
    index = json.loads((busybox_layout / "index.json").read_text())
    assert json.loads((busybox_layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    refs = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in index["manifests"]}
    assert set(refs) == {"latest", "latest-zstd"}

    def blob(descriptor):
        data = (busybox_layout / "blobs" / "sha256" / descriptor["digest"].split(":")[1]).read_bytes()
        assert sha256(data) == descriptor["digest"]
        assert len(data) == descriptor["size"]
        return data

    layers = {}
    for ref, descriptor in refs.items():
        manifest = json.loads(blob(descriptor))
        assert manifest["schemaVersion"] == 2
        config = json.loads(blob(manifest["config"]))
        assert config["os"] == "linux" and config["config"]["Cmd"] == ["sh"]
        (layer,) = manifest["layers"]
        layers[ref] = (layer["mediaType"], blob(layer), config["rootfs"]["diff_ids"][0])
    gzip_type, gzip_data, diff_id = layers["latest"]
    zstd_type, zstd_data, _ = layers["latest-zstd"]
    assert gzip_type.endswith("+gzip") and zstd_type.endswith("+zstd")
    plain = gzip.decompress(gzip_data)
    assert sha256(plain) == diff_id
    unzstd = subprocess.run(["zstd", "-d", "-c", "-q"], input=zstd_data, check=True,
                            capture_output=True).stdout
    assert unzstd == plain


def test_layer_is_normalised(busybox_layout):
    index = json.loads((busybox_layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((busybox_layout / "blobs" / "sha256" / manifest_digest).read_text())
    layer = (busybox_layout / "blobs" / "sha256" /
             manifest["layers"][0]["digest"].split(":")[1]).read_bytes()
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layer))) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert "bin/busybox" in names and "bin/sh" in names and "etc/passwd" in names
    assert all(m.uid == 0 and m.gid == 0 and m.mtime == 0 for m in members)
    applets = [m for m in members if m.name == "bin/ls"]
    assert applets and applets[0].islnk() and applets[0].linkname == "bin/busybox"
    assert names.index("bin/busybox") < names.index("bin/ls")


def test_save_tarball_is_docker_loadable(busybox_layout):
    tarball = busybox_layout.parent / "busybox.tar"
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))
        (entry,) = manifest
        assert entry["RepoTags"] == ["busybox:latest"]
        assert entry["Config"] in names
        for layer in entry["Layers"]:
            data = tar.extractfile(layer).read()
            assert "sha256:" + layer.rsplit("/", 1)[1] == sha256(data)
        config = json.load(tar.extractfile(entry["Config"]))
        assert config["rootfs"]["diff_ids"] == ["sha256:" + entry["Layers"][0].rsplit("/", 1)[1]]
        assert "index.json" in names and "oci-layout" in names and "repositories" in names


@pytest.mark.parametrize("ref", ["latest", "latest-zstd"])
def test_bundle_from_either_manifest(source_dir, busybox_layout, tmp_path, ref):
    bundle = tmp_path / "bundle"
    subprocess.run([str(source_dir / "scripts" / "mkbundle"), "--image", str(busybox_layout),
                    "--ref", ref, str(bundle), "echo", "hello"], check=True)
    config = json.loads((bundle / "config.json").read_text())
    assert config["process"]["args"] == ["echo", "hello"]
    assert config["root"]["path"] == "rootfs"
    assert (bundle / "rootfs" / "bin" / "busybox").stat().st_size > 100000
    assert (bundle / "rootfs" / "bin" / "sh").stat().st_ino == \
        (bundle / "rootfs" / "bin" / "busybox").stat().st_ino
