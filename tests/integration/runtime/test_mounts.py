"""mounts, rootfsPropagation, maskedPaths, readonlyPaths, /dev and linux.devices."""
import os
import subprocess

import pytest

from conftest import parse_mountinfo, wait_for


def container_mounts(runtime, bundle, script="true"):
    """Run the container; returns ({mountpoint: mount} of its mountinfo, script output)."""
    bundle.sh("cat /proc/self/mountinfo; echo ===; " + script)
    result = runtime.run_fg(bundle)
    assert result.returncode == 0, result.stderr
    mountinfo, _, out = result.stdout.partition("===\n")
    return {m["mountpoint"]: m for m in parse_mountinfo(mountinfo)}, out


def run_ok(runtime, bundle, script):
    bundle.sh(script)
    result = runtime.run_fg(bundle)
    assert result.returncode == 0, result.stderr
    return result.stdout


def host_dir(runtime, name, files=()):
    path = runtime.tmp_path / name
    path.mkdir()
    for file in files:
        (path / file).write_text(file + "\n")
    return path


def test_bind_mount_read_write(runtime, bundle):
    source = host_dir(runtime, "data", ["from-host"])
    bundle.add_mount("/data", source, options=["bind", "rw"])
    out = run_ok(runtime, bundle, "cat /data/from-host; echo written > /data/from-container")
    assert out == "from-host\n"
    assert (source / "from-container").read_text() == "written\n"


def test_bind_mount_read_only(runtime, bundle):
    source = host_dir(runtime, "data", ["from-host"])
    bundle.add_mount("/data", source, options=["bind", "ro"])
    mounts, out = container_mounts(runtime, bundle, "cat /data/from-host;"
                                   " touch /data/new 2>&1; echo rc=$?")
    assert "ro" in mounts["/data"]["options"]
    assert "from-host" in out and "Read-only file system" in out and "rc=1" in out
    assert not (source / "new").exists()


def test_bind_mount_of_a_file(runtime, bundle):
    source = runtime.tmp_path / "hosts"
    source.write_text("127.0.0.1 berth-test\n")
    bundle.add_mount("/etc/hosts", source, options=["bind", "ro"])
    assert run_ok(runtime, bundle, "cat /etc/hosts") == "127.0.0.1 berth-test\n"


def test_bind_mount_creates_nested_destination(runtime, bundle):
    source = host_dir(runtime, "data", ["file"])
    bundle.add_mount("/a/b/c", source, options=["bind", "ro"])
    assert run_ok(runtime, bundle, "cat /a/b/c/file") == "file\n"


@pytest.fixture
def source_with_submount(runtime):
    """A host directory with a tmpfs mounted on its sub/ (unmounted at teardown)."""
    source = host_dir(runtime, "tree", ["top"])
    (source / "sub").mkdir()
    runtime.host_mount("-t", "tmpfs", "tmpfs", target=source / "sub")
    (source / "sub" / "inner").write_text("inner\n")
    return source


def test_bind_excludes_submounts_and_rbind_includes_them(runtime, bundle,
                                                         source_with_submount):
    bundle.add_mount("/bind", source_with_submount, options=["bind", "ro"])
    bundle.add_mount("/rbind", source_with_submount, options=["rbind", "ro"])
    out = run_ok(runtime, bundle, "ls /bind/sub; echo ---; ls /rbind/sub; cat /rbind/top")
    assert out == "---\ninner\ntop\n"


@pytest.mark.parametrize("option,mount_flag", [("nosuid", "nosuid"), ("nodev", "nodev"),
                                               ("noexec", "noexec")])
def test_mount_flags(runtime, bundle, option, mount_flag):
    source = host_dir(runtime, "data")
    bundle.add_mount("/data", source, options=["bind", "rw", option])
    mounts, _ = container_mounts(runtime, bundle)
    assert mount_flag in mounts["/data"]["options"]


def test_noexec_is_enforced(runtime, bundle):
    source = host_dir(runtime, "data")
    (source / "script").write_text("#!/bin/sh\necho executed\n")
    (source / "script").chmod(0o755)
    bundle.add_mount("/exec", source, options=["bind", "ro"])
    bundle.add_mount("/noexec", source, options=["bind", "ro", "noexec"])
    out = run_ok(runtime, bundle, "/exec/script; /noexec/script 2>&1; echo rc=$?")
    lines = out.splitlines()
    assert lines[0] == "executed"
    assert "Permission denied" in out and lines[-1] == "rc=126"


def test_nodev_is_enforced(runtime, bundle):
    bundle.config["mounts"].append({"destination": "/devdir", "type": "tmpfs",
                                    "source": "tmpfs", "options": ["nodev", "mode=755"]})
    bundle.process["capabilities"]["bounding"].append("CAP_MKNOD")
    bundle.process["capabilities"]["effective"].append("CAP_MKNOD")
    bundle.process["capabilities"]["permitted"].append("CAP_MKNOD")
    bundle.linux["resources"]["devices"].append({"allow": True, "type": "c", "major": 1,
                                                 "minor": 3, "access": "rwm"})
    out = run_ok(runtime, bundle, "mknod /devdir/null c 1 3 2>&1 && echo made;"
                                  " (echo x > /devdir/null) 2>&1; echo rc=$?")
    assert out.startswith("made\n")
    assert "Permission denied" in out and out.strip().endswith("rc=1")


@pytest.fixture
def shared_source(runtime):
    """A host directory that is a shared mount (for propagation tests)."""
    source = host_dir(runtime, "propagation")
    runtime.host_mount("--bind", source, target=source)
    subprocess.run(["mount", "--make-shared", str(source)], check=True)
    return source


def test_mount_propagation_flags(runtime, bundle, shared_source):
    bundle.add_mount("/private", shared_source, options=["rbind", "rprivate"])
    bundle.add_mount("/slave", shared_source, options=["rbind", "rslave"])
    bundle.add_mount("/shared", shared_source, options=["rbind", "rshared"])
    mounts, _ = container_mounts(runtime, bundle)

    def tags(point):
        return {tag.split(":")[0] for tag in mounts[point]["optional"]}

    assert tags("/private") == set()
    assert tags("/slave") == {"master"}
    assert "shared" in tags("/shared")


@pytest.mark.parametrize("propagation,propagates", [("rslave", True), ("rprivate", False)])
def test_mount_propagation_from_host(runtime, bundle, shared_source, propagation, propagates):
    (shared_source / "later").mkdir()
    bundle.add_mount("/prop", shared_source, options=["rbind", propagation])
    out = bundle.share("/out")
    bundle.sh("echo > /out/ready; i=0; while [ $i -lt 20 ] && [ ! -e /prop/later/marker ];"
              " do sleep 0.05; i=$((i+1)); done; ls /prop/later > /out/seen.tmp;"
              " mv /out/seen.tmp /out/seen; sleep 600")
    cid = runtime.run_detached(bundle)
    wait_for((out / "ready").exists, what="the container")
    runtime.host_mount("-t", "tmpfs", "tmpfs", target=shared_source / "later")
    (shared_source / "later" / "marker").write_text("")
    wait_for((out / "seen").exists, what="the container to look")
    assert ("marker" in (out / "seen").read_text()) == propagates
    runtime.ok("delete", "--force", cid)


def test_tmpfs_options(runtime, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1001}
    bundle.config["mounts"].append({
        "destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
        "options": ["nosuid", "nodev", "size=1m", "mode=1770", "uid=1000", "gid=1001"]})
    mounts, out = container_mounts(runtime, bundle, "stat -c '%a %u %g' /scratch;"
                                   " dd if=/dev/zero of=/scratch/big bs=1k count=2048 2>&1;"
                                   " du -k /scratch/big")
    scratch = mounts["/scratch"]
    assert scratch["fstype"] == "tmpfs"
    assert {"nosuid", "nodev"} <= scratch["options"]
    assert {"size=1024k", "mode=1770", "uid=1000", "gid=1001"} <= scratch["super_options"]
    lines = out.splitlines()
    assert lines[0] == "1770 1000 1001"
    assert "No space left on device" in out
    assert int(lines[-1].split()[0]) <= 1024


def test_tmpfs_read_only(runtime, bundle):
    bundle.config["mounts"].append({"destination": "/scratch", "type": "tmpfs",
                                    "source": "tmpfs", "options": ["ro"]})
    mounts, out = container_mounts(runtime, bundle, "touch /scratch/x 2>&1; echo rc=$?")
    assert "ro" in mounts["/scratch"]["options"]
    assert "rc=1" in out


def test_default_filesystems(runtime, bundle):
    mounts, out = container_mounts(runtime, bundle, "ls /sys/fs/cgroup;"
                                   " cat /sys/fs/cgroup/pids/cgroup.procs")
    assert mounts["/proc"]["fstype"] == "proc"
    assert mounts["/sys"]["fstype"] == "sysfs" and "ro" in mounts["/sys"]["options"]
    assert mounts["/dev"]["fstype"] == "tmpfs"
    assert {"mode=755", "size=65536k"} <= mounts["/dev"]["super_options"]
    pts = mounts["/dev/pts"]
    assert pts["fstype"] == "devpts"
    assert {"ptmxmode=666", "mode=620", "gid=5"} <= pts["super_options"]
    assert {"nosuid", "noexec"} <= pts["options"]
    assert mounts["/dev/shm"]["fstype"] == "tmpfs"
    assert mounts["/dev/mqueue"]["fstype"] == "mqueue"
    # cgroup v1: one read-only directory per hierarchy, showing the container's cgroup.
    controllers = out.split()
    assert {"memory", "pids", "cpu", "cpuacct", "devices", "freezer"} <= set(controllers)
    assert controllers[-1] == "1"
    for controller in ("memory", "pids", "devices"):
        mount = mounts["/sys/fs/cgroup/" + controller]
        assert mount["fstype"] == "cgroup" and "ro" in mount["options"]


def test_cgroup_mount_is_read_only(runtime, bundle):
    out = run_ok(runtime, bundle, "(echo 5 > /sys/fs/cgroup/pids/pids.max) 2>&1; echo rc=$?")
    assert "rc=1" in out
    assert "Read-only file system" in out


def test_proc_is_the_containers(runtime, bundle):
    out = run_ok(runtime, bundle, "echo /proc/[0-9]*; cat /proc/1/cmdline; true")
    pids, cmdline = out.splitlines()
    assert pids == "/proc/1"
    assert cmdline.startswith("sh")


def test_mount_destination_symlink_stays_in_rootfs(runtime, bundle, tmp_path):
    """A destination that is a symlink to an absolute host path resolves in the rootfs."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "host-file").write_text("host\n")
    (bundle.rootfs / "escape").symlink_to(victim)
    source = host_dir(runtime, "source", ["from-source"])
    bundle.add_mount("/escape", source, options=["bind", "rw"])
    mounts, out = container_mounts(runtime, bundle, "ls /escape; echo x > /escape/written")
    assert out == "from-source\n"
    assert str(victim) in mounts, "the mount is not at the symlink's target inside the rootfs"
    assert sorted(os.listdir(victim)) == ["host-file"]
    assert (source / "written").exists()
    assert (bundle.rootfs / str(victim).lstrip("/")).is_dir()


def test_mount_destination_dotdot_stays_in_rootfs(runtime, bundle, tmp_path):
    source = host_dir(runtime, "source", ["from-source"])
    bundle.add_mount("/../../../../../../../tmp/berth-dotdot", source, options=["bind", "ro"])
    mounts, out = container_mounts(runtime, bundle, "ls /tmp/berth-dotdot")
    assert out == "from-source\n"
    assert not os.path.exists("/tmp/berth-dotdot")


def test_mounts_are_applied_in_order(runtime, bundle):
    source = host_dir(runtime, "inner", ["inner-file"])
    bundle.config["mounts"].append({"destination": "/stack", "type": "tmpfs",
                                    "source": "tmpfs", "options": ["mode=755"]})
    bundle.add_mount("/stack/inner", source, options=["bind", "ro"])
    assert run_ok(runtime, bundle, "ls /stack/inner") == "inner-file\n"


def test_unknown_filesystem_type_fails(runtime, bundle):
    runtime.expect_failure()
    bundle.config["mounts"].append({"destination": "/bad", "type": "no-such-fs",
                                    "source": "none"})
    bundle.sh("echo started")
    result = runtime.run_fg(bundle)
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert result.stderr.strip()
    runtime.assert_clean()


def test_missing_bind_source_fails(runtime, bundle, tmp_path):
    runtime.expect_failure()
    bundle.add_mount("/data", tmp_path / "no-such-dir", options=["bind", "ro"])
    bundle.sh("echo started")
    result = runtime.run_fg(bundle)
    assert result.returncode != 0
    assert "started" not in result.stdout
    runtime.assert_clean()


# -- rootfsPropagation --------------------------------------------------------


def root_tags(runtime, bundle):
    mounts, _ = container_mounts(runtime, bundle)
    return {tag.split(":")[0] for tag in mounts["/"]["optional"]}


@pytest.fixture
def shared_rootfs(runtime, bundle):
    """Make the bundle's rootfs a shared mount on the host."""
    runtime.host_mount("--bind", bundle.rootfs, target=bundle.rootfs)
    subprocess.run(["mount", "--make-rshared", str(bundle.rootfs)], check=True)
    return bundle.rootfs


@pytest.mark.parametrize("propagation", ["private", "rprivate"])
def test_rootfs_propagation_private(runtime, bundle, shared_rootfs, propagation):
    bundle.linux["rootfsPropagation"] = propagation
    assert root_tags(runtime, bundle) == set()


@pytest.mark.parametrize("propagation", ["slave", "rslave"])
def test_rootfs_propagation_slave(runtime, bundle, shared_rootfs, propagation):
    if propagation == "slave":
        runtime.skip_on_runc("runc 1.1.5 applies a non-recursive rootfsPropagation to the"
                             " mount namespace's / only, not to the rootfs mount")
    bundle.linux["rootfsPropagation"] = propagation
    assert root_tags(runtime, bundle) == {"master"}


def test_rootfs_propagation_slave_receives_host_mounts(runtime, bundle, shared_rootfs):
    (bundle.rootfs / "later").mkdir()
    bundle.linux["rootfsPropagation"] = "rslave"
    out = bundle.share("/out")
    bundle.sh("echo > /out/ready; i=0; while [ $i -lt 100 ] && [ ! -e /later/marker ];"
              " do sleep 0.05; i=$((i+1)); done; ls /later > /out/seen.tmp;"
              " mv /out/seen.tmp /out/seen; sleep 600")
    runtime.run_detached(bundle)
    wait_for((out / "ready").exists, what="the container")
    runtime.host_mount("-t", "tmpfs", "tmpfs", target=bundle.rootfs / "later")
    (bundle.rootfs / "later" / "marker").write_text("")
    wait_for((out / "seen").exists, what="the container to look")
    assert "marker" in (out / "seen").read_text()


@pytest.mark.parametrize("propagation", ["shared", "rshared"])
def test_rootfs_propagation_shared(runtime, bundle, shared_rootfs, propagation):
    runtime.skip_on_runc("runc 1.1.5 makes the rootfs's parent mount private for pivot_root"
                         " and never makes / shared again: rootfsPropagation shared has no"
                         " effect")
    bundle.linux["rootfsPropagation"] = propagation
    assert "shared" in root_tags(runtime, bundle)


# -- maskedPaths and readonlyPaths ------------------------------------------------


def test_default_masked_paths(runtime, bundle):
    out = run_ok(runtime, bundle, "wc -c < /proc/timer_list; wc -c < /proc/keys;"
                                  " ls -A /sys/firmware | wc -l; ls -A /proc/acpi | wc -l")
    assert out.split() == ["0", "0", "0", "0"]


def test_custom_masked_paths(runtime, bundle):
    bundle.write_file("/secret-file", "secret\n")
    bundle.write_file("/secret-dir/file", "secret\n")
    bundle.linux["maskedPaths"] += ["/secret-file", "/secret-dir", "/does/not/exist"]
    out = run_ok(runtime, bundle, "cat /secret-file; ls -A /secret-dir; echo done;"
                                  " echo x > /secret-dir/new 2>&1 || echo write-refused")
    assert "secret" not in out
    assert "done" in out
    assert "write-refused" in out


def test_default_readonly_paths(runtime, bundle):
    bundle.process["capabilities"]["bounding"].append("CAP_SYS_ADMIN")
    bundle.process["capabilities"]["effective"].append("CAP_SYS_ADMIN")
    bundle.process["capabilities"]["permitted"].append("CAP_SYS_ADMIN")
    mounts, out = container_mounts(runtime, bundle,
                                   "(echo berth > /proc/sys/kernel/hostname) 2>&1; echo rc=$?")
    for path in ("/proc/sys", "/proc/bus", "/proc/fs", "/proc/irq"):
        assert "ro" in mounts[path]["options"], path
    assert "rc=1" in out
    assert "Read-only file system" in out


def test_custom_readonly_path(runtime, bundle):
    bundle.share("/data")
    bundle.linux["readonlyPaths"].append("/data")
    mounts, out = container_mounts(runtime, bundle, "touch /data/x 2>&1; echo rc=$?")
    assert "ro" in mounts["/data"]["options"]
    assert "rc=1" in out


# -- /dev ---------------------------------------------------------------------------

DEFAULT_DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8),
                   "urandom": (1, 9), "tty": (5, 0)}


def test_default_devices(runtime, bundle):
    script = "; ".join("stat -c '%%n %%F %%t %%T %%a' /dev/%s" % name
                       for name in DEFAULT_DEVICES)
    out = run_ok(runtime, bundle, script)
    assert len(out.splitlines()) == len(DEFAULT_DEVICES)
    for line in out.splitlines():
        name = line.split()[0].rsplit("/", 1)[1]
        assert "character special file" in line, line
        major, minor, mode = line.split()[-3:]
        assert (int(major, 16), int(minor, 16)) == DEFAULT_DEVICES[name], line
        assert mode == "666", line


def test_default_devices_work(runtime, bundle):
    out = run_ok(runtime, bundle, "echo x > /dev/null && echo null-ok;"
                                  " head -c 4 /dev/zero | od -An -tx1;"
                                  " head -c 16 /dev/urandom | wc -c;"
                                  " echo x > /dev/full 2>&1 || echo full-ok")
    lines = out.split("\n")
    assert lines[0] == "null-ok"
    assert lines[1].split() == ["00", "00", "00", "00"]
    assert lines[2].strip() == "16"
    assert "full-ok" in out


def test_dev_links(runtime, bundle):
    out = run_ok(runtime, bundle, "for l in fd stdin stdout stderr ptmx; do"
                                  " echo $l $(readlink /dev/$l); done")
    links = dict(line.split() for line in out.splitlines())
    assert links == {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
                     "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
                     "ptmx": "pts/ptmx"}


def test_no_host_devices(runtime, bundle):
    out = run_ok(runtime, bundle, "ls /dev")
    names = set(out.split())
    assert not names & {"sda", "vda", "mem", "kmsg", "loop0", "tty0", "console"}


def test_linux_devices(runtime, bundle):
    bundle.linux["devices"] = [
        {"path": "/dev/berth-char", "type": "c", "major": 240, "minor": 7,
         "fileMode": 0o620, "uid": 1000, "gid": 1001},
        {"path": "/dev/sub/berth-block", "type": "b", "major": 7, "minor": 200,
         "fileMode": 0o600, "uid": 0, "gid": 0},
        {"path": "/dev/berth-fifo", "type": "p", "fileMode": 0o644},
    ]
    out = run_ok(runtime, bundle, "stat -c '%F %t %T %a %u %g' /dev/berth-char"
                                  " /dev/sub/berth-block; stat -c '%F %a' /dev/berth-fifo")
    char, block, fifo = out.splitlines()
    assert char == "character special file f0 7 620 1000 1001"
    assert block == "block special file 7 c8 600 0 0"
    assert fifo == "fifo 644"
