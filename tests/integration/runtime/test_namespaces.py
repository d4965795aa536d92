"""linux.namespaces: new ones, shared ones, joined ones, user namespace
mappings, and time namespace offsets."""
import os

import pytest

from conftest import wait_for

NS_FILES = {"pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts",
            "user": "user", "cgroup": "cgroup", "time": "time"}


def namespace_links(runtime, bundle, types):
    """{type: readlink /proc/self/ns/<file>} seen from inside the container."""
    files = [NS_FILES[t] for t in types]
    bundle.sh("for ns in %s; do readlink /proc/self/ns/$ns; done" % " ".join(files))
    result = runtime.run_fg(bundle)
    assert result.returncode == 0, result.stderr
    return dict(zip(types, result.stdout.split()))


def host_link(kind, pid="self"):
    return os.readlink("/proc/%s/ns/%s" % (pid, NS_FILES[kind]))


def test_new_namespaces(runtime, bundle):
    types = ["pid", "network", "mount", "ipc", "uts", "cgroup"]
    bundle.add_namespace("cgroup")
    links = namespace_links(runtime, bundle, types)
    for kind in types:
        assert links[kind] != host_link(kind), kind


@pytest.mark.parametrize("kind", ["network", "ipc", "uts", "cgroup"])
def test_namespace_not_listed_is_shared_with_the_host(runtime, bundle, kind):
    bundle.remove_namespace(kind)
    if kind == "uts":
        bundle.config.pop("hostname", None)
    links = namespace_links(runtime, bundle, [kind])
    assert links[kind] == host_link(kind)


def test_pid_namespace(runtime, bundle):
    bundle.sh("echo $$; echo /proc/[0-9]*")
    result = runtime.run_fg(bundle)
    assert result.stdout.split() == ["1", "/proc/1"]


def test_without_pid_namespace_host_processes_are_visible(runtime, bundle):
    bundle.remove_namespace("pid")
    bundle.sh("echo $$; [ -d /proc/%d ] && echo sees-host" % os.getpid())
    out = runtime.run_fg(bundle).stdout.split()
    assert out[0] != "1"
    assert out[1] == "sees-host"


def test_network_namespace_has_only_loopback(runtime, bundle):
    bundle.sh("ls /sys/class/net; cat /proc/net/dev | tail -n +3 | cut -d: -f1")
    out = runtime.run_fg(bundle).stdout.split()
    assert set(out) == {"lo"}


def test_uts_namespace_hostname_does_not_leak(runtime, bundle):
    before = os.uname().nodename
    bundle.config["hostname"] = "berth-uts-test"
    assert runtime.run_fg(bundle, input=None).returncode == 0
    assert os.uname().nodename == before


def test_ipc_namespace(runtime, bundle):
    bundle.sh("cat /proc/sysvipc/shm | wc -l; readlink /proc/self/ns/ipc")
    out = runtime.run_fg(bundle).stdout.split()
    assert out[0] == "1"  # the header only: no host segments
    assert out[1] != host_link("ipc")


def test_cgroup_namespace(runtime, bundle):
    bundle.add_namespace("cgroup")
    bundle.sh("cat /proc/self/cgroup")
    result = runtime.run_fg(bundle)
    assert result.returncode == 0, result.stderr
    for line in result.stdout.splitlines():
        assert line.rsplit(":", 1)[1] == "/", line


def test_mount_namespace_mounts_do_not_leak(runtime, bundle, tmp_path):
    bundle.config["mounts"].append({"destination": "/extra", "type": "tmpfs",
                                    "source": "tmpfs"})
    assert runtime.run_fg(bundle).returncode == 0
    with open("/proc/self/mountinfo") as mountinfo:
        assert str(bundle.path) not in mountinfo.read()


@pytest.fixture
def namespace_holder(runtime):
    """A host `sleep` in fresh uts, ipc and network namespaces (killed at teardown)."""
    process = runtime.helper(["unshare", "--uts", "--ipc", "--net", "sleep", "600"])
    wait_for(lambda: host_link("uts", process.pid) != host_link("uts"),
             what="unshare to enter its namespaces")
    return process.pid


@pytest.mark.parametrize("kind", ["network", "ipc", "uts"])
def test_join_namespace_by_path(runtime, bundle, namespace_holder, kind):
    path = "/proc/%d/ns/%s" % (namespace_holder, NS_FILES[kind])
    bundle.add_namespace(kind, path)
    if kind == "uts":
        bundle.config.pop("hostname", None)
    links = namespace_links(runtime, bundle, [kind])
    assert links[kind] == os.readlink(path)
    assert links[kind] != host_link(kind)


def test_join_pid_namespace_by_path(runtime, bundle):
    holder = runtime.helper(["unshare", "--pid", "--fork", "--mount-proc", "sleep", "600"])
    wait_for(lambda: any(host_link("pid", child) != host_link("pid")
                         for child in children(holder.pid)), what="the pid namespace")
    child = next(c for c in children(holder.pid) if host_link("pid", c) != host_link("pid"))
    path = "/proc/%d/ns/pid" % child
    bundle.add_namespace("pid", path)
    bundle.sh("readlink /proc/self/ns/pid; echo $$")
    result = runtime.run_fg(bundle)
    assert result.returncode == 0, result.stderr
    link, pid = result.stdout.split()
    assert link == os.readlink(path)
    assert pid != "1"  # the namespace's init is the holder's sleep


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(c) for c in f.read().split()]
    except FileNotFoundError:
        return []


def test_join_namespace_of_wrong_type_fails(runtime, bundle, namespace_holder):
    runtime.expect_failure()
    bundle.add_namespace("ipc", "/proc/%d/ns/net" % namespace_holder)
    bundle.sh("echo started")
    result = runtime.run_fg(bundle)
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert result.stderr.strip()
    runtime.assert_clean()


def test_join_missing_namespace_path_fails(runtime, bundle, tmp_path):
    runtime.expect_failure()
    bundle.add_namespace("network", tmp_path / "no-such-ns")
    bundle.sh("echo started")
    result = runtime.run_fg(bundle)
    assert result.returncode != 0
    assert "started" not in result.stdout
    runtime.assert_clean()


# -- user namespaces ----------------------------------------------------------------


def user_namespace_bundle(make_bundle, host_id=100000, size=65536):
    """A bundle in a traversable directory, its rootfs owned by the mapped root."""
    bundle = make_bundle(public=True)
    for directory, dirs, files in os.walk(bundle.rootfs):
        for name in dirs + files + ["."]:
            path = os.path.join(directory, name)
            os.lchown(path, host_id, host_id)
    bundle.add_namespace("user")
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": host_id, "size": size}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": host_id, "size": size}]
    return bundle


def test_user_namespace_mappings(runtime, make_bundle):
    bundle = user_namespace_bundle(make_bundle)
    bundle.sh("id -u; cat /proc/self/uid_map /proc/self/gid_map; readlink /proc/self/ns/user;"
              " stat -c %u /bin/busybox")
    result = runtime.run_fg(bundle)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "0"
    assert lines[1].split() == ["0", "100000", "65536"]
    assert lines[2].split() == ["0", "100000", "65536"]
    assert lines[3] != host_link("user")
    assert lines[4] == "0"


def test_user_namespace_process_runs_as_mapped_host_uid(runtime, make_bundle):
    bundle = user_namespace_bundle(make_bundle)
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    status = open("/proc/%d/status" % runtime.pid(cid)).read()
    uids = [line for line in status.splitlines() if line.startswith("Uid:")][0].split()[1:]
    gids = [line for line in status.splitlines() if line.startswith("Gid:")][0].split()[1:]
    assert set(uids) == {"101000"}
    assert set(gids) == {"101000"}


def test_user_namespace_several_mappings(runtime, make_bundle):
    bundle = user_namespace_bundle(make_bundle, size=1000)
    bundle.linux["uidMappings"].append({"containerID": 1000, "hostID": 200000, "size": 10})
    bundle.linux["gidMappings"].append({"containerID": 1000, "hostID": 200000, "size": 10})
    bundle.sh("cat /proc/self/uid_map")
    result = runtime.run_fg(bundle)
    assert result.returncode == 0, result.stderr
    rows = sorted(line.split() for line in result.stdout.splitlines())
    assert rows == [["0", "100000", "1000"], ["1000", "200000", "10"]]


def test_user_namespace_without_mappings_fails(runtime, make_bundle):
    runtime.expect_failure()
    bundle = make_bundle()
    bundle.add_namespace("user")
    bundle.sh("echo started")
    result = runtime.run_fg(bundle)
    assert result.returncode != 0
    assert "started" not in result.stdout
    runtime.assert_clean()


# -- time namespaces --------------------------------------------------------------


def test_time_namespace_offsets(runtime, bundle):
    runtime.requires_runc((1, 2), "time namespaces (linux.timeOffsets)")
    day = 86400
    bundle.add_namespace("time")
    bundle.linux["timeOffsets"] = {"boottime": {"secs": 1000 * day, "nanosecs": 0},
                                   "monotonic": {"secs": 2000 * day, "nanosecs": 0}}
    bundle.sh("cat /proc/uptime; readlink /proc/self/ns/time")
    result = runtime.run_fg(bundle)
    assert result.returncode == 0, result.stderr
    uptime, link = result.stdout.splitlines()
    host_uptime = float(open("/proc/uptime").read().split()[0])
    assert float(uptime.split()[0]) >= host_uptime + 1000 * day - 60
    assert link != host_link("time")


def test_time_namespace_without_offsets(runtime, bundle):
    runtime.requires_runc((1, 2), "time namespaces")
    bundle.add_namespace("time")
    links = namespace_links(runtime, bundle, ["time"])
    assert links["time"] != host_link("time")


def test_time_offsets_without_time_namespace_fail(runtime, bundle):
    runtime.expect_failure()
    runtime.requires_runc((1, 2), "time namespaces")
    bundle.linux["timeOffsets"] = {"monotonic": {"secs": 100, "nanosecs": 0}}
    bundle.sh("echo started")
    result = runtime.run_fg(bundle)
    assert result.returncode != 0
    runtime.assert_clean()
