"""linux.cgroupsPath and linux.resources on this host's cgroup v1 hierarchies
(checked in the v1 files), and `update`."""
import json
import os
import pathlib

import pytest

from conftest import CGROUP_ROOT, cgroup_paths, read_cgroup_file

V1_CONTROLLERS = ("memory", "cpu", "cpuacct", "cpuset", "pids", "devices", "freezer", "blkio")
MiB = 1024 * 1024


def running(runtime, bundle, resources=None, script=None):
    """Run a detached container with the given resources; its init pid."""
    if resources:
        bundle.linux.setdefault("resources", {}).update(resources)
    if script:
        bundle.sh(script)
    else:
        bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    return cid, runtime.pid(cid)


def v1(pid, controller, filename):
    return read_cgroup_file(pid, controller, filename)


# -- cgroupsPath ----------------------------------------------------------------


def test_default_cgroup_is_named_after_the_container(runtime, bundle):
    cid, pid = running(runtime, bundle)
    for controller in V1_CONTROLLERS:
        assert cgroup_paths(pid)[controller].name == cid, controller


def test_absolute_cgroups_path(runtime, bundle):
    cid = runtime.new_id()
    bundle.linux["cgroupsPath"] = "/%s-abs" % cid
    bundle.set_args("sleep", "600")
    runtime.run_detached(bundle, cid)
    pid = runtime.pid(cid)
    for line in open("/proc/%d/cgroup" % pid).read().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers and controllers.split(",")[0] in V1_CONTROLLERS:
            assert path == "/%s-abs" % cid, line
    assert (CGROUP_ROOT / "memory" / ("%s-abs" % cid) / "cgroup.procs").exists()
    runtime.ok("delete", "--force", cid)
    assert not (CGROUP_ROOT / "memory" / ("%s-abs" % cid)).exists()


def test_nested_absolute_cgroups_path(runtime, bundle):
    cid = runtime.new_id()
    parent = "%s-parent" % cid
    bundle.linux["cgroupsPath"] = "/%s/%s" % (parent, cid)
    # The runtime creates the parents; like runc, it need not remove them.
    for hierarchy in CGROUP_ROOT.iterdir():
        runtime.defer(lambda h=hierarchy: (h / parent).exists() and (h / parent).rmdir())
    bundle.set_args("sleep", "600")
    runtime.run_detached(bundle, cid)
    pid = runtime.pid(cid)
    for controller in ("memory", "pids", "cpu"):
        assert cgroup_paths(pid)[controller] == CGROUP_ROOT / controller / parent / cid


def test_relative_cgroups_path(runtime, bundle):
    cid = runtime.new_id()
    bundle.linux["cgroupsPath"] = "%s-rel" % cid
    bundle.set_args("sleep", "600")
    runtime.run_detached(bundle, cid)
    pid = runtime.pid(cid)
    for controller in V1_CONTROLLERS:
        path = cgroup_paths(pid)[controller]
        assert path.name == "%s-rel" % cid, controller
        assert path.is_dir()


def test_cgroups_are_removed_on_delete(runtime, bundle):
    cid, pid = running(runtime, bundle)
    paths = cgroup_paths(pid)
    runtime.ok("delete", "--force", cid)
    for controller in V1_CONTROLLERS:
        assert not paths[controller].exists(), controller


# -- resources ------------------------------------------------------------------


def test_memory(runtime, bundle):
    _, pid = running(runtime, bundle, {"memory": {
        "limit": 64 * MiB, "reservation": 32 * MiB, "swap": 128 * MiB, "swappiness": 10,
        "disableOOMKiller": True}})
    assert v1(pid, "memory", "memory.limit_in_bytes") == str(64 * MiB)
    assert v1(pid, "memory", "memory.soft_limit_in_bytes") == str(32 * MiB)
    assert v1(pid, "memory", "memory.memsw.limit_in_bytes") == str(128 * MiB)
    assert v1(pid, "memory", "memory.swappiness") == "10"
    assert "oom_kill_disable 1" in v1(pid, "memory", "memory.oom_control")


def test_memory_limit_is_enforced(runtime, bundle):
    bundle.linux["resources"]["memory"] = {"limit": 16 * MiB, "swap": 16 * MiB}
    bundle.sh("dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo rc=$?")
    result = runtime.run_fg(bundle)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "rc=137\n", "the allocation was not OOM-killed"


def test_cpu(runtime, bundle):
    _, pid = running(runtime, bundle, {"cpu": {"shares": 512, "quota": 50000,
                                               "period": 100000}})
    assert v1(pid, "cpu", "cpu.shares") == "512"
    assert v1(pid, "cpu", "cpu.cfs_quota_us") == "50000"
    assert v1(pid, "cpu", "cpu.cfs_period_us") == "100000"


def test_cpuset(runtime, bundle):
    _, pid = running(runtime, bundle, {"cpu": {"cpus": "0", "mems": "0"}})
    assert v1(pid, "cpuset", "cpuset.cpus") == "0"
    assert v1(pid, "cpuset", "cpuset.mems") == "0"
    allowed = [line for line in open("/proc/%d/status" % pid).read().splitlines()
               if line.startswith("Cpus_allowed_list:")]
    assert allowed[0].split()[1] == "0"


def test_pids(runtime, bundle):
    _, pid = running(runtime, bundle, {"pids": {"limit": 20}})
    assert v1(pid, "pids", "pids.max") == "20"


def test_pids_limit_is_enforced(runtime, bundle):
    bundle.linux["resources"]["pids"] = {"limit": 5}
    bundle.sh("n=0; for i in 1 2 3 4 5 6 7 8; do sleep 30 & [ $? = 0 ] && n=$((n+1)); done;"
              " echo $(cat /sys/fs/cgroup/pids/pids.current) >&2; kill -9 $(jobs -p) 2>/dev/null;"
              " true")
    result = runtime.run_fg(bundle)
    assert "can't fork" in result.stderr or "Resource temporarily unavailable" in result.stderr


def blkio_weight_file(runtime):
    """The blkio weight file of this host's v1 cgroups (seen in a child cgroup), or None."""
    probe = CGROUP_ROOT / "blkio" / ("%s-probe" % runtime.new_id())
    probe.mkdir()
    try:
        for name in ("blkio.bfq.weight", "blkio.weight"):
            if (probe / name).exists():
                return name
        return None
    finally:
        probe.rmdir()


def test_block_io_weight(runtime, bundle):
    bundle.linux["resources"]["blockIO"] = {"weight": 300}
    weight_file = blkio_weight_file(runtime)
    if weight_file is None:
        # This host's block devices have no proportional-weight scheduler:
        # the runtime cannot honour the weight and must say so, cleanly.
        runtime.expect_failure()
        bundle.sh("echo started")
        result = runtime.run_fg(bundle)
        assert result.returncode != 0
        assert "started" not in result.stdout
        assert result.stderr.strip()
        runtime.assert_clean()
    else:
        _, pid = running(runtime, bundle)
        assert v1(pid, "blkio", weight_file).split()[-1] == "300"


def whole_disk_of_root():
    device = os.stat("/").st_dev
    major, minor = os.major(device), os.minor(device)
    sys_path = pathlib.Path("/sys/dev/block/%d:%d" % (major, minor))
    if not sys_path.exists() or (sys_path / "partition").exists():
        return None
    return major, minor


def test_block_io_throttle(runtime, bundle):
    disk = whole_disk_of_root()
    if disk is None:
        pytest.skip("the root file system is not on a whole disk")
    major, minor = disk
    _, pid = running(runtime, bundle, {"blockIO": {
        "throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": MiB}],
        "throttleWriteIOPSDevice": [{"major": major, "minor": minor, "rate": 100}]}})
    assert v1(pid, "blkio", "blkio.throttle.read_bps_device") == "%d:%d %d" % (major, minor, MiB)
    assert v1(pid, "blkio", "blkio.throttle.write_iops_device") == "%d:%d 100" % (major, minor)


def test_devices_rules_in_v1_files(runtime, bundle):
    bundle.linux["resources"]["devices"] = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 240, "minor": 0, "access": "rw"},
    ]
    _, pid = running(runtime, bundle)
    rules = v1(pid, "devices", "devices.list").splitlines()
    assert "c 240:0 rw" in rules
    assert "a *:* rwm" not in rules
    # The default devices stay usable.
    assert "c 1:3 rwm" in rules


def test_denied_device_cannot_be_opened(runtime, bundle):
    # A device node without an allow rule cannot be opened; with one, open
    # gets past the devices cgroup (and fails for lack of a driver).
    bundle.linux["devices"] = [{"path": "/dev/berth-nodriver", "type": "c", "major": 240,
                                "minor": 0, "fileMode": 0o666}]
    bundle.sh("cat /dev/berth-nodriver 2>&1; true")
    out = runtime.run_fg(bundle).stdout
    assert "Operation not permitted" in out
    bundle.linux["resources"]["devices"].append({"allow": True, "type": "c", "major": 240,
                                                 "minor": 0, "access": "rw"})
    out = runtime.run_fg(bundle).stdout
    assert "Operation not permitted" not in out
    assert "No such device" in out


def test_denied_access_mode(runtime, bundle):
    # Read access only: opening for reading gets past the devices cgroup
    # (and fails for lack of a driver), opening for writing does not.
    bundle.linux["devices"] = [{"path": "/dev/berth-nodriver", "type": "c", "major": 240,
                                "minor": 0, "fileMode": 0o666}]
    bundle.linux["resources"]["devices"].append({"allow": True, "type": "c", "major": 240,
                                                 "minor": 0, "access": "r"})
    bundle.sh("cat /dev/berth-nodriver 2>&1; (echo x > /dev/berth-nodriver) 2>&1; true")
    read, write = runtime.run_fg(bundle).stdout.splitlines()
    assert "No such device" in read
    assert "Operation not permitted" in write


# -- update -------------------------------------------------------------------------


def test_update_flags(runtime, bundle):
    cid, pid = running(runtime, bundle, {"memory": {"limit": 256 * MiB}})
    runtime.ok("update", "--memory", str(128 * MiB), "--memory-reservation", str(64 * MiB),
               "--memory-swap", str(192 * MiB), "--cpu-share", "256", "--cpu-period", "50000",
               "--cpu-quota", "25000", "--cpuset-cpus", "1", "--cpuset-mems", "0",
               "--pids-limit", "33", cid)
    assert v1(pid, "memory", "memory.limit_in_bytes") == str(128 * MiB)
    assert v1(pid, "memory", "memory.soft_limit_in_bytes") == str(64 * MiB)
    assert v1(pid, "memory", "memory.memsw.limit_in_bytes") == str(192 * MiB)
    assert v1(pid, "cpu", "cpu.shares") == "256"
    assert v1(pid, "cpu", "cpu.cfs_period_us") == "50000"
    assert v1(pid, "cpu", "cpu.cfs_quota_us") == "25000"
    assert v1(pid, "cpuset", "cpuset.cpus") == "1"
    assert v1(pid, "pids", "pids.max") == "33"


def test_update_blkio_weight(runtime, bundle):
    cid, pid = running(runtime, bundle)
    result = runtime("update", "--blkio-weight", "500", cid)
    weight_file = blkio_weight_file(runtime)
    if weight_file is None:
        assert result.returncode != 0
        assert result.stderr.strip()
    else:
        assert result.returncode == 0, result.stderr
        assert v1(pid, "blkio", weight_file).split()[-1] == "500"
    assert runtime.status(cid) == "running"


def test_update_resources_file(runtime, bundle, tmp_path):
    cid, pid = running(runtime, bundle)
    resources = tmp_path / "resources.json"
    resources.write_text(json.dumps({"memory": {"limit": 96 * MiB, "swap": 96 * MiB},
                                     "cpu": {"shares": 768}, "pids": {"limit": 44}}))
    runtime.ok("update", "--resources", resources, cid)
    assert v1(pid, "memory", "memory.limit_in_bytes") == str(96 * MiB)
    assert v1(pid, "cpu", "cpu.shares") == "768"
    assert v1(pid, "pids", "pids.max") == "44"


def test_update_resources_stdin(runtime, bundle):
    cid, pid = running(runtime, bundle)
    runtime.ok("update", "-r", "-", cid,
               input=json.dumps({"memory": {"limit": 80 * MiB, "swap": 80 * MiB}}))
    assert v1(pid, "memory", "memory.limit_in_bytes") == str(80 * MiB)


def test_update_invalid_resources_fails(runtime, bundle):
    cid, pid = running(runtime, bundle, {"memory": {"limit": 256 * MiB}})
    result = runtime("update", "-r", "-", cid, input="{not json")
    assert result.returncode != 0
    assert result.stderr.strip()
    assert v1(pid, "memory", "memory.limit_in_bytes") == str(256 * MiB)


def test_update_paused_container(runtime, bundle):
    cid, pid = running(runtime, bundle)
    runtime.ok("pause", cid)
    runtime.ok("update", "--pids-limit", "55", cid)
    assert v1(pid, "pids", "pids.max") == "55"
    assert runtime.status(cid) == "paused"


@pytest.mark.parametrize("flag,value", [("--l3-cache-schema", "L3:0=ff"),
                                        ("--mem-bw-schema", "MB:0=50")])
def test_update_intel_rdt_fails_without_rdt(runtime, bundle, flag, value):
    runtime.expect_failure()
    cid, pid = running(runtime, bundle, {"pids": {"limit": 20}})
    result = runtime("update", flag, value, cid)
    assert result.returncode != 0
    assert result.stderr.strip()
    assert runtime.status(cid) == "running"
    assert v1(pid, "pids", "pids.max") == "20"
