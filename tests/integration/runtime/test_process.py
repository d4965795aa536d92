"""The process section of config.json, the root, hostname and domainname,
and the LSM / Intel RDT settings this host cannot honour."""
import resource
import subprocess

import pytest

from conftest import capability_mask, status_fields


def run_ok(runtime, bundle, script):
    bundle.sh(script)
    result = runtime.run_fg(bundle)
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_fails(runtime, bundle, keyword=None):
    """The container must not start: non-zero exit, a message, nothing left."""
    runtime.expect_failure()
    bundle.sh("echo started")
    result = runtime.run_fg(bundle)
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert result.stderr.strip()
    if keyword:
        assert keyword.lower() in result.stderr.lower()
    runtime.assert_clean()
    return result


def test_args(runtime, bundle):
    bundle.set_args("/bin/echo", "one", "two words", "", "$HOME")
    result = runtime.run_fg(bundle)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "one two words  $HOME\n"


def test_args_resolved_through_path(runtime, bundle):
    bundle.set_args("echo", "found")
    bundle.process["env"] = ["PATH=/bin"]
    assert runtime.run_fg(bundle).stdout == "found\n"


def test_env(runtime, bundle):
    bundle.process["env"] = ["PATH=/bin", "FOO=bar", "EMPTY=", "WITH_EQUALS=a=b"]
    lines = run_ok(runtime, bundle, "env").splitlines()
    assert {"PATH=/bin", "FOO=bar", "EMPTY=", "WITH_EQUALS=a=b"} <= set(lines)
    assert not any(line.startswith("BERTH_") for line in lines)


def test_cwd(runtime, bundle):
    bundle.process["cwd"] = "/etc"
    assert run_ok(runtime, bundle, "pwd") == "/etc\n"


def test_user_uid_gid_additional_gids(runtime, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [10, 2000]}
    out = run_ok(runtime, bundle, "id -u; id -g; id -G")
    uid, gid, groups = out.splitlines()
    assert (uid, gid) == ("1000", "1001")
    assert set(groups.split()) == {"1001", "10", "2000"}


def test_user_without_additional_gids_has_no_supplementary_groups(runtime, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    out = run_ok(runtime, bundle, "grep Groups /proc/self/status")
    assert out.split(":", 1)[1].strip() == ""


def test_umask(runtime, bundle):
    bundle.process["user"]["umask"] = 0o027
    assert run_ok(runtime, bundle, "umask") == "0027\n"


def test_default_umask(runtime, bundle):
    assert run_ok(runtime, bundle, "umask") == "0022\n"


def capability_sets(runtime, bundle):
    out = run_ok(runtime, bundle, "cat /proc/self/status")
    fields = status_fields(out)
    return {name: int(fields[key], 16) for name, key in (
        ("bounding", "CapBnd"), ("effective", "CapEff"), ("permitted", "CapPrm"),
        ("inheritable", "CapInh"), ("ambient", "CapAmb"))}


def test_capabilities_of_root(runtime, bundle):
    caps = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"]
    bundle.process["capabilities"] = {
        "bounding": caps, "effective": caps, "permitted": caps,
        "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]}
    sets = capability_sets(runtime, bundle)
    assert sets["bounding"] == capability_mask(caps)
    assert sets["effective"] == capability_mask(caps)
    assert sets["permitted"] == capability_mask(caps)
    assert sets["inheritable"] == capability_mask(["CAP_KILL"])
    assert sets["ambient"] == capability_mask(["CAP_KILL"])


def test_capabilities_all_five_sets_of_a_user(runtime, bundle):
    # For a non-root user, execve keeps permitted = effective = ambient, so
    # the five sets below give five different masks.
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID",
                     "CAP_NET_RAW"],
        "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"],
        "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"],
        "ambient": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
    }
    sets = capability_sets(runtime, bundle)
    assert sets["bounding"] == capability_mask(
        ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_NET_RAW"])
    assert sets["inheritable"] == capability_mask(
        ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"])
    assert sets["ambient"] == capability_mask(["CAP_KILL", "CAP_NET_BIND_SERVICE"])
    assert sets["permitted"] == capability_mask(["CAP_KILL", "CAP_NET_BIND_SERVICE"])
    assert sets["effective"] == capability_mask(["CAP_KILL", "CAP_NET_BIND_SERVICE"])


def test_no_capabilities(runtime, bundle):
    bundle.process["capabilities"] = {}
    sets = capability_sets(runtime, bundle)
    assert sets == {"bounding": 0, "effective": 0, "permitted": 0, "inheritable": 0,
                    "ambient": 0}


def test_capabilities_are_enforced(runtime, bundle):
    bundle.config["root"]["readonly"] = False
    out = run_ok(runtime, bundle, "chown 1000 /etc/passwd 2>&1; echo rc=$?")
    assert "rc=1" in out
    bundle.process["capabilities"]["bounding"].append("CAP_CHOWN")
    bundle.process["capabilities"]["effective"].append("CAP_CHOWN")
    bundle.process["capabilities"]["permitted"].append("CAP_CHOWN")
    out = run_ok(runtime, bundle, "chown 1000 /etc/passwd 2>&1; echo rc=$?")
    assert "rc=0" in out


def test_unknown_capability_is_a_warning(runtime, bundle):
    # The spec: a capability that cannot be granted MUST be logged as a
    # warning, and runtimes SHOULD NOT fail.
    bundle.process["capabilities"]["bounding"].append("CAP_NOT_A_CAPABILITY")
    bundle.sh("echo started")
    result = runtime.run_fg(bundle)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "started\n"
    assert "CAP_NOT_A_CAPABILITY" in result.stderr


def limits(out):
    table = {}
    for line in out.splitlines()[1:]:
        name = line[:26].strip()
        soft, hard = line[26:].split()[:2]
        table[name] = (soft, hard)
    return table


def test_rlimits_lowered(runtime, bundle):
    bundle.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
        {"type": "RLIMIT_NPROC", "soft": 500, "hard": 600},
        {"type": "RLIMIT_STACK", "soft": 4194304, "hard": 8388608},
    ]
    table = limits(run_ok(runtime, bundle, "cat /proc/self/limits"))
    assert table["Max open files"] == ("100", "200")
    assert table["Max core file size"] == ("0", "0")
    assert table["Max processes"] == ("500", "600")
    assert table["Max stack size"] == ("4194304", "8388608")
    assert run_ok(runtime, bundle, "ulimit -n") == "100\n"


def test_rlimit_above_hard_limit_fails(runtime, bundle):
    # This host's root lacks CAP_SYS_RESOURCE: no raising above the hard limit.
    with open("/proc/self/limits") as own:
        hard = limits(own.read())["Max open files"][1]
    if hard == "unlimited":
        pytest.skip("the host's nofile hard limit is unlimited")
    try:
        soft_now, hard_now = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft_now, hard_now + 1))
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft_now, hard_now))
        pytest.skip("root can raise rlimits on this host (it has CAP_SYS_RESOURCE)")
    except (ValueError, OSError):
        pass
    bundle.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": int(hard) * 2, "hard": int(hard) * 2}]
    run_fails(runtime, bundle)


def test_unknown_rlimit_fails(runtime, bundle):
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOT_A_LIMIT", "soft": 1, "hard": 1}]
    run_fails(runtime, bundle)


@pytest.mark.parametrize("enabled", [True, False])
def test_no_new_privileges(runtime, bundle, enabled):
    bundle.process["noNewPrivileges"] = enabled
    fields = status_fields(run_ok(runtime, bundle, "cat /proc/self/status"))
    assert fields["NoNewPrivs"] == ("1" if enabled else "0")


def test_oom_score_adj(runtime, bundle):
    bundle.process["oomScoreAdj"] = 500
    assert run_ok(runtime, bundle, "cat /proc/self/oom_score_adj") == "500\n"


def host_can_lower_oom_score_adj():
    probe = subprocess.run(["sh", "-c", "echo -500 > /proc/self/oom_score_adj"],
                           capture_output=True)
    return probe.returncode == 0


def test_negative_oom_score_adj(runtime, bundle):
    bundle.process["oomScoreAdj"] = -500
    if host_can_lower_oom_score_adj():
        assert run_ok(runtime, bundle, "cat /proc/self/oom_score_adj") == "-500\n"
    else:
        # Lowering needs CAP_SYS_RESOURCE, which root lacks on this host.
        run_fails(runtime, bundle)


def test_io_priority(runtime, bundle):
    runtime.requires_runc((1, 2), "process.ioPriority")
    bundle.process["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 6}
    assert run_ok(runtime, bundle, "ionice -p $$") == "best-effort: prio 6\n"


def test_io_priority_idle(runtime, bundle):
    runtime.requires_runc((1, 2), "process.ioPriority")
    bundle.process["ioPriority"] = {"class": "IOPRIO_CLASS_IDLE", "priority": 0}
    assert run_ok(runtime, bundle, "ionice -p $$").startswith("idle")


@pytest.mark.parametrize("policy,number", [("SCHED_BATCH", 3), ("SCHED_IDLE", 5)])
def test_scheduler(runtime, bundle, policy, number):
    runtime.requires_runc((1, 2), "process.scheduler")
    bundle.process["scheduler"] = {"policy": policy}
    out = run_ok(runtime, bundle, "grep ^policy /proc/$$/sched")
    assert out.split(":")[1].strip() == str(number)


def test_scheduler_nice(runtime, bundle):
    runtime.requires_runc((1, 2), "process.scheduler")
    bundle.process["scheduler"] = {"policy": "SCHED_OTHER", "nice": 7}
    out = run_ok(runtime, bundle, "cut -d' ' -f19 /proc/$$/stat")
    assert out == "7\n"


def test_apparmor_profile_fails_without_apparmor(runtime, bundle):
    bundle.process["apparmorProfile"] = "berth-test-profile"
    run_fails(runtime, bundle, "apparmor")


def test_selinux_label_fails_without_selinux(runtime, bundle):
    bundle.process["selinuxLabel"] = "system_u:system_r:container_t:s0:c1,c2"
    run_fails(runtime, bundle, "selinux")


def test_intel_rdt_fails_without_rdt(runtime, bundle):
    bundle.linux["intelRdt"] = {"closID": "berth-test", "l3CacheSchema": "L3:0=ff"}
    run_fails(runtime, bundle, "rdt")


@pytest.mark.parametrize("readonly", [True, False])
def test_root_readonly(runtime, bundle, readonly):
    bundle.config["root"]["readonly"] = readonly
    out = run_ok(runtime, bundle, "touch /new-file 2>&1; echo rc=$?")
    if readonly:
        assert "Read-only file system" in out and "rc=1" in out
        assert not (bundle.rootfs / "new-file").exists()
    else:
        assert out.strip() == "rc=0"
        assert (bundle.rootfs / "new-file").exists()


def test_hostname(runtime, bundle):
    bundle.config["hostname"] = "berth-test-host"
    assert run_ok(runtime, bundle, "hostname") == "berth-test-host\n"


def test_domainname(runtime, bundle):
    runtime.requires_runc((1, 2), "domainname")
    bundle.config["domainname"] = "berth.example"
    assert run_ok(runtime, bundle, "cat /proc/sys/kernel/domainname") == "berth.example\n"


def test_personality_linux32(runtime, bundle):
    runtime.requires_runc((1, 2), "linux.personality")
    bundle.linux["personality"] = {"domain": "LINUX32"}
    assert run_ok(runtime, bundle, "uname -m") in ("i686\n", "i386\n")


def test_personality_linux(runtime, bundle):
    bundle.linux["personality"] = {"domain": "LINUX"}
    assert run_ok(runtime, bundle, "uname -m") == "x86_64\n"


def test_sysctl(runtime, bundle):
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1",
                              "net.ipv4.ip_local_port_range": "20000\t30000"}
    out = run_ok(runtime, bundle, "cat /proc/sys/net/ipv4/ip_forward"
                                  " /proc/sys/kernel/shm_rmid_forced"
                                  " /proc/sys/net/ipv4/ip_local_port_range")
    assert out.split() == ["1", "1", "20000", "30000"]


def test_sysctl_outside_the_containers_namespaces_fails(runtime, bundle):
    bundle.remove_namespace("network")
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "1"}
    with open("/proc/sys/net/ipv4/ip_forward") as host:
        before = host.read()
    run_fails(runtime, bundle)
    with open("/proc/sys/net/ipv4/ip_forward") as host:
        assert host.read() == before
