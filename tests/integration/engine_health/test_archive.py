"""docker cp: HEAD/GET/PUT /containers/{id}/archive through the docker CLI,
berth's CLI and python3-docker (put_archive / get_archive): files,
directories, symlinks kept as symlinks, modes and owners, paths resolved
inside the container (never the host's files), hostile archives refused,
read-only root filesystems and volumes, stopped and paused containers."""
import base64
import io
import json
import os
import stat
import tarfile
import time

import pytest
from conftest import wait_until


def make_tar(entries):
    """A tar from (name, kind, extra) tuples: kind "file" (extra: bytes),
    "dir", "symlink" (extra: target), "link" (extra: target name); keyword
    fields in an optional 4th element (mode, uid, gid, mtime)."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for entry in entries:
            name, kind, extra = entry[:3]
            fields = entry[3] if len(entry) > 3 else {}
            info = tarfile.TarInfo(name)
            info.mtime = fields.get("mtime", 1700000000)
            info.uid = fields.get("uid", 0)
            info.gid = fields.get("gid", 0)
            payload = None
            if kind == "file":
                info.size = len(extra)
                info.mode = fields.get("mode", 0o644)
                payload = io.BytesIO(extra)
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = fields.get("mode", 0o755)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = extra
                info.mode = 0o777
            elif kind == "link":
                info.type = tarfile.LNKTYPE
                info.linkname = extra
            archive.addfile(info, payload)
    return data.getvalue()


def read_tar(chunks):
    data = b"".join(chunks)
    archive = tarfile.open(fileobj=io.BytesIO(data))
    return {member.name: (member, archive.extractfile(member).read() if member.isfile() else None)
            for member in archive.getmembers()}


def rootfs(stack, ref):
    """The container's root as the host sees it (the tests run as root)."""
    return "/proc/%d/root" % stack.inspect(ref)["State"]["Pid"]


def test_put_and_get_files_dirs_symlinks(stack):
    stack.run("--name", "box", "busybox", "sleep", "1000")
    box = stack.client.containers.get("box")
    tar = make_tar([
        ("dir", "dir", None, {"mode": 0o750, "uid": 12, "gid": 34, "mtime": 1600000000}),
        ("dir/file", "file", b"hello\n", {"mode": 0o4755, "uid": 1234, "gid": 5678}),
        ("dir/sub", "dir", None),
        ("dir/sub/deep", "file", b"deep"),
        ("dir/relative", "symlink", "sub/deep"),
        ("dir/sublink", "symlink", "sub"),
        ("dir/absolute", "symlink", "/etc/passwd"),
        ("dir/hard", "link", "dir/file"),
    ])
    assert box.put_archive("/tmp", tar)
    root = rootfs(stack, "box")
    info = os.lstat(root + "/tmp/dir/file")
    assert stat.S_IMODE(info.st_mode) == 0o4755 and (info.st_uid, info.st_gid) == (1234, 5678)
    assert info.st_mtime == 1700000000 and info.st_nlink == 2
    assert open(root + "/tmp/dir/file", "rb").read() == b"hello\n"
    info = os.lstat(root + "/tmp/dir")
    assert stat.S_IMODE(info.st_mode) == 0o750 and (info.st_uid, info.st_gid) == (12, 34)
    assert info.st_mtime == 1600000000  # directory times are set last
    assert os.readlink(root + "/tmp/dir/relative") == "sub/deep"
    assert os.readlink(root + "/tmp/dir/absolute") == "/etc/passwd"
    assert os.lstat(root + "/tmp/dir/hard").st_ino == os.lstat(root + "/tmp/dir/file").st_ino

    chunks, stat_info = box.get_archive("/tmp/dir")
    assert stat_info["name"] == "dir" and stat_info["mode"] == (1 << 31) | 0o750
    assert stat_info["linkTarget"] == ""
    members = read_tar(chunks)
    assert sorted(members) == ["dir", "dir/absolute", "dir/file", "dir/hard", "dir/relative",
                               "dir/sub", "dir/sub/deep", "dir/sublink"]
    member, data = members["dir/file"]
    assert data == b"hello\n" and member.mode == 0o4755 and (member.uid, member.gid) == (1234,
                                                                                        5678)
    assert members["dir/relative"][0].issym() and members["dir/relative"][0].linkname == \
        "sub/deep"
    assert members["dir/absolute"][0].linkname == "/etc/passwd"
    assert members["dir/hard"][0].islnk() and members["dir/hard"][0].linkname == "dir/file"
    # A symlink asked for by name comes as the symlink itself...
    chunks, stat_info = box.get_archive("/tmp/dir/absolute")
    assert stat_info["mode"] == (1 << 27) | 0o777 and stat_info["linkTarget"] == "/etc/passwd"
    assert list(read_tar(chunks)) == ["absolute"]
    # ... a path through one is followed in the container.
    chunks, _ = box.get_archive("/tmp/dir/sublink/")
    assert sorted(read_tar(chunks)) == ["sublink", "sublink/deep"]
    response = stack.api("GET", "/containers/box/archive", query={"path": "/tmp/dir/relative/"})
    assert response.status == 404  # a file is not a directory
    # "dir/." is the directory's content, named "./...".
    chunks, _ = box.get_archive("/tmp/dir/.")
    assert "./file" in read_tar(chunks)


def test_docker_cp_both_ways(stack, tmp_path):
    stack.run("--name", "cp", "busybox", "sleep", "1000")
    source = tmp_path / "source"
    (source / "nested").mkdir(parents=True)
    (source / "nested" / "a.txt").write_text("alpha")
    (source / "exec.sh").write_text("#!/bin/sh\n")
    os.chmod(source / "exec.sh", 0o755)
    os.symlink("nested/a.txt", source / "link")
    stack.out("cp", str(source), "cp:/srv")
    root = rootfs(stack, "cp")
    assert open(root + "/srv/nested/a.txt").read() == "alpha"
    assert stat.S_IMODE(os.stat(root + "/srv/exec.sh").st_mode) == 0o755
    assert os.readlink(root + "/srv/link") == "nested/a.txt"
    # Into an existing directory: the source goes inside it.
    stack.out("cp", str(source / "nested" / "a.txt"), "cp:/srv/nested/b.txt")
    assert open(root + "/srv/nested/b.txt").read() == "alpha"
    # And back, to the host.
    back = tmp_path / "back"
    stack.out("cp", "cp:/srv", str(back))
    assert (back / "nested" / "a.txt").read_text() == "alpha"
    assert os.readlink(back / "link") == "nested/a.txt"
    assert stat.S_IMODE(os.stat(back / "exec.sh").st_mode) == 0o755
    # A big file of the image.
    stack.out("cp", "cp:/bin/busybox", str(tmp_path / "busybox"))
    assert os.path.getsize(tmp_path / "busybox") == os.path.getsize(root + "/bin/busybox")
    # berth's own CLI.
    (tmp_path / "berth.txt").write_text("from berth")
    stack.berth("cp", str(tmp_path / "berth.txt"), "cp:/srv/berth.txt")
    assert open(root + "/srv/berth.txt").read() == "from berth"
    stack.berth("cp", "cp:/srv/berth.txt", str(tmp_path / "berth-back.txt"))
    assert (tmp_path / "berth-back.txt").read_text() == "from berth"
    stack.berth("cp", "cp:/srv", str(tmp_path / "berth-dir"))
    assert (tmp_path / "berth-dir" / "nested" / "a.txt").read_text() == "alpha"


def test_head_stat(stack):
    stack.run("--name", "st", "busybox", "sleep", "1000")
    response = stack.api("HEAD", "/containers/st/archive", query={"path": "/etc/passwd"})
    assert response.status == 200
    info = json.loads(base64.b64decode(response.headers["X-Docker-Container-Path-Stat"]))
    assert info["name"] == "passwd" and info["mode"] == 0o644 and info["size"] > 0
    assert info["linkTarget"] == "" and info["mtime"].endswith("Z")
    response = stack.api("HEAD", "/containers/st/archive", query={"path": "/"})
    info = json.loads(base64.b64decode(response.headers["X-Docker-Container-Path-Stat"]))
    assert info["name"] == "/" and info["mode"] & (1 << 31)
    response = stack.api("HEAD", "/containers/st/archive", query={"path": "/nope"})
    assert response.status == 404
    response = stack.api("GET", "/containers/st/archive", query={"path": "/nope/x"})
    assert response.status == 404
    assert response.message == "Could not find the file /nope/x in container st"
    result = stack.docker("cp", "st:/nope", "/tmp/x", check=False)
    assert result.returncode != 0 and "Could not find the file /nope in container st" in \
        result.stderr
    assert stack.api("GET", "/containers/st/archive").status == 400
    assert stack.api("GET", "/containers/nosuch/archive", query={"path": "/"}).status == 404


def test_symlinks_resolve_inside_the_container(stack, tmp_path):
    secret = tmp_path / "host-secret"
    secret.write_text("the host's secret")
    stack.run("--name", "esc", "busybox", "sleep", "1000")
    box = stack.client.containers.get("esc")
    assert box.put_archive("/tmp", make_tar([
        ("leak", "symlink", str(secret)),
        ("etc", "symlink", "/etc"),
    ]))
    # (A relative symlink leading out of the destination is refused in an
    # archive, as dockerd refuses it: planted from the host instead.)
    os.symlink("../../../../../../../.." + str(tmp_path), rootfs(stack, "esc") + "/tmp/up")
    # Following the symlink (docker cp -L) looks in the container, where the
    # host's file does not exist.
    result = stack.docker("cp", "-L", "esc:/tmp/leak", str(tmp_path / "out"), check=False)
    assert result.returncode != 0 and not (tmp_path / "out").exists()
    response = stack.api("GET", "/containers/esc/archive",
                         query={"path": "/tmp/up/host-secret"})
    assert response.status == 404 and b"the host's secret" not in response.body
    # A directory symlink in the middle of a path resolves in the container too.
    chunks, info = box.get_archive("/tmp/etc/passwd")
    members = read_tar(chunks)
    assert b"root:" in members["passwd"][1]
    # Without -L the symlink itself is copied.
    stack.out("cp", "esc:/tmp/leak", str(tmp_path / "link-copy"))
    assert os.readlink(tmp_path / "link-copy") == str(secret)
    # Nor can a PUT through such a symlink write on the host.
    response = stack.api("PUT", "/containers/esc/archive", query={"path": "/tmp/up"},
                         raw=make_tar([("planted", "file", b"x")]))
    assert not (tmp_path / "planted").exists()
    if response.status == 200:
        assert os.path.exists(rootfs(stack, "esc") + str(tmp_path) + "/planted")


def test_hostile_archives_are_refused(stack, tmp_path):
    stack.run("--name", "target", "busybox", "sleep", "1000")
    root = rootfs(stack, "target")
    os.makedirs(root + "/dest/inner")
    hostile = {
        "dotdot": make_tar([("../escaped", "file", b"x")]),
        "deep dotdot": make_tar([("a/../../escaped", "file", b"x")]),
        "absolute": make_tar([("/escaped", "file", b"x")]),
        "symlink out": make_tar([("out", "symlink", "../../"),
                                 ("out/escaped", "file", b"x")]),
        "absolute symlink then through": make_tar([("abs", "symlink", "/"),
                                                   ("abs/escaped", "file", b"x")]),
        "hard link out": make_tar([("hard", "link", "../etc/passwd")]),
    }
    for what, tar in hostile.items():
        response = stack.api("PUT", "/containers/target/archive", query={"path": "/dest/inner"},
                             raw=tar)
        assert response.status == 400, (what, response.status, response.body)
        assert "invalid archive" in response.message or "outside" in response.message, \
            (what, response.message)
    for where in ("/escaped", "/dest/escaped", "/dest/inner/escaped"):
        assert not os.path.exists(root + where), where
    assert not os.path.exists(root + "/dest/inner/hard")
    # An existing symlink leading out of the destination is not followed either.
    os.symlink("/etc", root + "/dest/inner/etc-link")
    response = stack.api("PUT", "/containers/target/archive", query={"path": "/dest/inner"},
                         raw=make_tar([("etc-link/planted", "file", b"x")]))
    assert response.status == 400 and not os.path.exists(root + "/etc/planted")
    # Not a tar at all.
    response = stack.api("PUT", "/containers/target/archive", query={"path": "/dest"},
                         raw=b"this is not a tar archive" * 100)
    assert response.status == 400
    # Extraction into a file.
    response = stack.api("PUT", "/containers/target/archive", query={"path": "/etc/passwd"},
                         raw=make_tar([("x", "file", b"x")]))
    assert response.status == 400 and response.message == "extraction point is not a directory"
    response = stack.api("PUT", "/containers/target/archive", query={"path": "/no/such"},
                         raw=make_tar([("x", "file", b"x")]))
    assert response.status == 404


def test_no_overwrite_dir_non_dir(stack):
    stack.run("--name", "ow", "busybox", "sleep", "1000")
    root = rootfs(stack, "ow")
    os.makedirs(root + "/d/sub")
    open(root + "/d/file", "w").close()
    for tar in (make_tar([("sub", "file", b"x")]), make_tar([("file", "dir", None)])):
        response = stack.api("PUT", "/containers/ow/archive",
                             query={"path": "/d", "noOverwriteDirNonDir": "true"}, raw=tar)
        assert response.status == 400 and "cannot overwrite" in response.message
    # Without the flag, the entry replaces what was there.
    response = stack.api("PUT", "/containers/ow/archive", query={"path": "/d"},
                         raw=make_tar([("sub", "file", b"now a file")]))
    assert response.status == 200
    assert open(root + "/d/sub").read() == "now a file"


def test_copy_uid_gid(stack, tmp_path):
    stack.run("--name", "owned", "--user", "1234:5678", "busybox", "sleep", "1000")
    tar = make_tar([("mine", "file", b"x", {"uid": 1, "gid": 2})])
    response = stack.api("PUT", "/containers/owned/archive",
                         query={"path": "/tmp", "copyUIDGID": "true"}, raw=tar)
    assert response.status == 200, response.body
    info = os.lstat(rootfs(stack, "owned") + "/tmp/mine")
    assert (info.st_uid, info.st_gid) == (1234, 5678)
    # docker cp -a sends copyUIDGID.
    (tmp_path / "f").write_text("x")
    stack.out("cp", "-a", str(tmp_path / "f"), "owned:/tmp/f")
    info = os.lstat(rootfs(stack, "owned") + "/tmp/f")
    assert (info.st_uid, info.st_gid) == (1234, 5678)
    # A user by name, looked up in the container's /etc/passwd.
    stack.run("--name", "named", "--user", "nobody", "busybox", "sleep", "1000")
    response = stack.api("PUT", "/containers/named/archive",
                         query={"path": "/tmp", "copyUIDGID": "1"}, raw=tar)
    assert response.status == 200
    info = os.lstat(rootfs(stack, "named") + "/tmp/mine")
    assert info.st_uid == 65534


def test_read_only_rootfs(stack, tmp_path):
    volume = tmp_path / "volume"
    volume.mkdir()
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    stack.run("--name", "ro", "--read-only", "--tmpfs", "/scratch", "-v",
              "%s:/data" % volume, "-v", "%s:/frozen:ro" % read_only, "busybox", "sleep",
              "1000")
    (tmp_path / "f").write_text("x")
    for destination in ("/tmp", "/scratch"):
        result = stack.docker("cp", str(tmp_path / "f"), "ro:" + destination, check=False)
        assert result.returncode != 0
        assert "container rootfs is marked read-only" in result.stderr, result.stderr
    response = stack.api("PUT", "/containers/ro/archive", query={"path": "/"},
                         raw=make_tar([("x", "file", b"x")]))
    assert response.status == 400 and response.message == "container rootfs is marked read-only"
    result = stack.docker("cp", str(tmp_path / "f"), "ro:/frozen", check=False)
    assert result.returncode != 0 and "mounted volume is marked read-only" in result.stderr
    # A writable volume is fine, and reading is always fine.
    stack.out("cp", str(tmp_path / "f"), "ro:/data/f")
    assert (volume / "f").read_text() == "x"
    stack.out("cp", "ro:/etc/passwd", str(tmp_path / "passwd"))
    assert "root:" in (tmp_path / "passwd").read_text()


def test_stopped_and_created_containers(stack, tmp_path):
    stack.out("create", "--name", "cold", "busybox", "cat", "/srv/greeting")
    box = stack.client.containers.get("cold")
    assert box.put_archive("/", make_tar([("srv", "dir", None),
                                         ("srv/greeting", "file", b"hello from cp\n")]))
    chunks, info = box.get_archive("/srv/greeting")
    assert read_tar(chunks)["greeting"][1] == b"hello from cp\n" and info["size"] == 14
    (tmp_path / "cli.txt").write_text("cli")
    stack.out("cp", str(tmp_path / "cli.txt"), "cold:/srv/cli.txt")
    stack.out("cp", "cold:/srv/cli.txt", str(tmp_path / "cli-back.txt"))
    assert (tmp_path / "cli-back.txt").read_text() == "cli"
    # What was copied in is the container's: it sees it when it runs.
    stack.out("start", "cold")
    assert int(stack.out("wait", "cold")) == 0
    assert stack.logs("cold") == "hello from cp\n"
    # Exited now: still works, and leaves no mount behind.
    mounts_before = open("/proc/self/mountinfo").read().count("\n")
    chunks, _ = box.get_archive("/srv")
    assert sorted(read_tar(chunks)) == ["srv", "srv/cli.txt", "srv/greeting"]
    assert box.put_archive("/srv", make_tar([("later", "file", b"later")]))
    assert open("/proc/self/mountinfo").read().count("\n") == mounts_before
    chunks, _ = box.get_archive("/srv/later")
    assert read_tar(chunks)["later"][1] == b"later"
    # The bind mounts of a stopped container are there too, as dockerd mounts them.
    bound = tmp_path / "bound"
    bound.mkdir()
    (bound / "on-host").write_text("bound file")
    stack.out("run", "-d", "--name", "withbind", "-v", "%s:/mnt" % bound, "busybox", "true")
    assert int(stack.out("wait", "withbind")) == 0
    chunks, _ = stack.client.containers.get("withbind").get_archive("/mnt/on-host")
    assert read_tar(chunks)["on-host"][1] == b"bound file"


def test_paused_container(stack):
    stack.run("--name", "frozen", "busybox", "sleep", "1000")
    stack.out("pause", "frozen")
    box = stack.client.containers.get("frozen")
    assert box.put_archive("/tmp", make_tar([("p", "file", b"paused")]))
    chunks, _ = box.get_archive("/tmp/p")
    assert read_tar(chunks)["p"][1] == b"paused"
    stack.out("unpause", "frozen")


def test_events_and_mounts_of_a_running_container(stack, tmp_path):
    since = time.time()
    stack.run("--name", "evt", "--tmpfs", "/scratch", "busybox", "sleep", "1000")
    box = stack.client.containers.get("evt")
    # The running container's own mounts are seen: its tmpfs, written and read.
    assert box.put_archive("/scratch", make_tar([("t", "file", b"in tmpfs")]))
    chunks, _ = box.get_archive("/scratch/t")
    assert read_tar(chunks)["t"][1] == b"in tmpfs"
    # /proc of the container is listed, not walked.
    chunks, _ = box.get_archive("/proc")
    assert list(read_tar(chunks)) == ["proc"]
    actions = [e["Action"] for e in stack.events(since, time.time(), {"container": ["evt"]})]
    assert "extract-to-dir" in actions and "archive-path" in actions


def test_special_files_and_deep_trees(stack):
    stack.run("--name", "odd", "busybox", "sleep", "1000")
    root = rootfs(stack, "odd")
    os.makedirs(root + "/odd")
    os.mkfifo(root + "/odd/fifo")
    deep = root + "/odd/deep"
    os.makedirs(deep)
    path = deep
    for level in range(200):
        path = os.path.join(path, "d")
        os.mkdir(path)
    open(os.path.join(path, "bottom"), "w").write("bottom")
    box = stack.client.containers.get("odd")
    # A FIFO is an entry, never opened (reading it would block).
    chunks, _ = box.get_archive("/odd")
    members = read_tar(chunks)
    assert members["odd/fifo"][0].isfifo()
    bottom = "odd/deep/" + "/".join(["d"] * 200) + "/bottom"
    assert members[bottom][1] == b"bottom"
    # And back in, elsewhere: FIFOs and deep trees extract too.
    data = b"".join(box.get_archive("/odd")[0])
    assert box.put_archive("/tmp", data)
    assert stat.S_ISFIFO(os.lstat(root + "/tmp/odd/fifo").st_mode)
    assert open(root + "/tmp/" + bottom).read() == "bottom"


@pytest.mark.parametrize("cli", ["docker", "berth"])
def test_cli_flags_and_symlinks(stack, tmp_path, cli):
    run = (lambda *args: stack.out(*args)) if cli == "docker" else \
        (lambda *args: stack.berth(*args).stdout)
    stack.run("--name", "flags", "--user", "1234:5678", "busybox", "sleep", "1000")
    box = stack.client.containers.get("flags")
    root = rootfs(stack, "flags")
    assert box.put_archive("/", make_tar([
        ("data", "dir", None), ("data/real.txt", "file", b"real content"),
        ("data/link.txt", "symlink", "real.txt"), ("datalink", "symlink", "/data")]))
    # -L: the file a container symlink names, under the symlink's name.
    run("cp", "-L", "flags:/data/link.txt", str(tmp_path / "followed"))
    assert (tmp_path / "followed").read_text() == "real content"
    run("cp", "flags:/data/link.txt", str(tmp_path / "kept"))
    assert os.readlink(tmp_path / "kept") == "real.txt"
    (tmp_path / "into").mkdir()
    run("cp", "-L", "flags:/data/link.txt", str(tmp_path / "into"))
    assert (tmp_path / "into" / "link.txt").read_text() == "real content"
    # A destination that is a symlink to a directory: into that directory.
    (tmp_path / "up.txt").write_text("up")
    run("cp", str(tmp_path / "up.txt"), "flags:/datalink")
    assert open(root + "/data/up.txt").read() == "up"
    assert os.path.islink(root + "/datalink")
    # -a: owned by the container's user; without it, by the local file's owner.
    run("cp", "-a", str(tmp_path / "up.txt"), "flags:/data/owned.txt")
    assert (os.lstat(root + "/data/owned.txt").st_uid,
            os.lstat(root + "/data/owned.txt").st_gid) == (1234, 5678)
    run("cp", str(tmp_path / "up.txt"), "flags:/data/plain.txt")
    assert os.lstat(root + "/data/plain.txt").st_uid == os.getuid()
    # -L on the local side: the file, not the link.
    os.symlink(tmp_path / "up.txt", tmp_path / "locallink")
    run("cp", "-L", str(tmp_path / "locallink"), "flags:/data/")
    assert not os.path.islink(root + "/data/locallink")
    assert open(root + "/data/locallink").read() == "up"
