"""Image commands: images / image ls, inspect, tag, rm, history, save, load."""
import json
import subprocess


def test_images_list(berth):
    out = berth.ok("images").splitlines()
    assert out[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert any(line.split()[:2] == ["busybox", "latest"] for line in out[1:])
    assert berth.ok("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "busybox") == \
        "busybox:latest\n"
    ids = berth.ok("images", "-q", "busybox").split()
    assert len(ids) == 1 and len(ids[0]) == 12
    full = berth.ok("images", "--no-trunc", "--format", "{{.ID}}", "busybox").strip()
    assert full.startswith("sha256:") and full[7:19] == ids[0]
    row = json.loads(berth.ok("images", "--format", "json", "busybox"))
    assert row["Repository"] == "busybox" and row["Digest"] == "<none>"


def test_image_inspect(berth):
    inspected = json.loads(berth.ok("image", "inspect", "busybox"))
    assert inspected[0]["Id"].startswith("sha256:")
    assert "busybox:latest" in inspected[0]["RepoTags"]
    assert berth.ok("image", "inspect", "-f", "{{.Os}}", "busybox") == "linux\n"
    result = berth("image", "inspect", "berth-no-such-image")
    assert result.returncode == 1
    assert result.stdout == "[]\n"
    assert result.stderr.startswith("Error response from daemon: ")


def test_tag_and_rm(berth, prefix):
    target = prefix + "tagged:v1"
    berth.ok("tag", "busybox", target)
    assert berth.ok("images", "--format", "{{.Tag}}", prefix + "tagged") == "v1\n"
    same = berth.ok("image", "inspect", "-f", "{{.Id}}", target)
    assert same == berth.ok("image", "inspect", "-f", "{{.Id}}", "busybox")
    assert berth.ok("image", "rm", target) == "Untagged: %s\n" % target
    result = berth("rmi", target)
    assert result.returncode == 1
    assert result.stderr.startswith("Error response from daemon: ")


def test_history(berth):
    out = berth.ok("history", "busybox").splitlines()
    assert out[0].split() == ["IMAGE", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]
    assert len(out) >= 2
    assert berth.ok("image", "history", "-q", "busybox").split()[0] == \
        berth.ok("images", "-q", "busybox").strip()


def test_save_and_load(berth, prefix, tmp_path):
    target = prefix + "saved:v1"
    berth.ok("tag", "busybox", target)
    archive = tmp_path / "image.tar"
    berth.ok("save", "-o", str(archive), target)
    names = subprocess.run(["tar", "tf", str(archive)], capture_output=True, text=True,
                           check=True).stdout.split()
    assert "manifest.json" in names
    berth.ok("rmi", target)
    assert berth.ok("load", "-i", str(archive)) == "Loaded image: %s\n" % target
    assert berth.ok("images", "-q", target).strip()
    with open(archive, "rb") as stdin:
        result = subprocess.run([berth.binary, "load"], stdin=stdin, capture_output=True,
                                text=True, env=berth.env)
    assert result.returncode == 0
    assert result.stdout == "Loaded image: %s\n" % target
    berth.ok("rmi", target)


def test_save_refuses_terminal(berth):
    result = subprocess.run(["script", "-qec", "%s save busybox" % berth.binary, "/dev/null"],
                            capture_output=True, text=True, env=berth.env)
    assert "cowardly refusing to save to a terminal" in result.stdout + result.stderr


def test_system_df(berth):
    out = berth.ok("system", "df").splitlines()
    assert out[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert [line.split()[0] for line in out[1:]] == ["Images", "Containers", "Local", "Build"]
