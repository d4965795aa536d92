"""linux.seccomp: default action, per-syscall actions, errnoRet, argument
conditions, architectures and flags."""
import pathlib
import re

import pytest

from conftest import status_fields

SYSCALL_TABLE = pathlib.Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
ARCHES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]


def all_syscalls():
    names = re.findall(r"#define __NR_(\w+) \d+", SYSCALL_TABLE.read_text())
    assert len(names) > 300
    return names


def seccomp(default="SCMP_ACT_ALLOW", syscalls=(), **extra):
    profile = {"defaultAction": default, "architectures": ARCHES, "syscalls": list(syscalls)}
    profile.update(extra)
    return profile


def run(runtime, bundle, profile, script):
    bundle.linux["seccomp"] = profile
    bundle.config["mounts"].append({"destination": "/scratch", "type": "tmpfs",
                                    "source": "tmpfs"})
    bundle.sh(script)
    result = runtime.run_fg(bundle)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_filter_is_installed(runtime, bundle):
    fields = status_fields(run(runtime, bundle, seccomp(), "cat /proc/self/status"))
    assert fields["Seccomp"] == "2"
    assert int(fields.get("Seccomp_filters", "1")) >= 1


def test_errno_action_default_errno_is_eperm(runtime, bundle):
    profile = seccomp(syscalls=[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}])
    out = run(runtime, bundle, profile, "mkdir /scratch/d 2>&1; touch /scratch/f && echo ok")
    assert "Operation not permitted" in out
    assert "ok" in out


def test_errno_ret(runtime, bundle):
    profile = seccomp(syscalls=[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                                 "errnoRet": 38}])
    out = run(runtime, bundle, profile, "mkdir /scratch/d 2>&1; true")
    assert "Function not implemented" in out


def test_default_action_errno_with_allow_list(runtime, bundle):
    allowed = [name for name in all_syscalls() if name not in ("mkdir", "mkdirat")]
    profile = seccomp(default="SCMP_ACT_ERRNO", defaultErrnoRet=13,
                      syscalls=[{"names": allowed, "action": "SCMP_ACT_ALLOW"}])
    out = run(runtime, bundle, profile, "mkdir /scratch/d 2>&1; touch /scratch/f && echo ok")
    assert "Permission denied" in out
    assert "ok" in out


def test_kill_process_action(runtime, bundle):
    profile = seccomp(syscalls=[{"names": ["sethostname"], "action": "SCMP_ACT_KILL_PROCESS"}])
    out = run(runtime, bundle, profile, "(hostname berth-killed); echo rc=$?")
    assert out.strip().endswith("rc=159")  # 128 + SIGSYS


def test_kill_action(runtime, bundle):
    profile = seccomp(syscalls=[{"names": ["sethostname"], "action": "SCMP_ACT_KILL"}])
    out = run(runtime, bundle, profile, "(hostname berth-killed); echo rc=$?")
    assert out.strip().endswith("rc=159")


def test_argument_condition(runtime, bundle):
    # kill(pid, 0) fails with EACCES; kill(pid, SIGCONT) is allowed.
    profile = seccomp(syscalls=[{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                                 "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]}])
    out = run(runtime, bundle, profile,
              "kill -0 $$ 2>&1; echo rc=$?; kill -CONT $$ 2>&1; echo rc=$?")
    lines = out.splitlines()
    assert "Permission denied" in lines[0]
    assert lines[1] == "rc=1"
    assert lines[2] == "rc=0"


def test_masked_argument_condition(runtime, bundle):
    # Refuse openat() with O_CREAT (0100) set in its flags (argument 2).
    profile = seccomp(syscalls=[{"names": ["openat", "open", "creat"],
                                 "action": "SCMP_ACT_ERRNO", "errnoRet": 30,
                                 "args": [{"index": 2, "value": 0o100, "valueTwo": 0o100,
                                           "op": "SCMP_CMP_MASKED_EQ"}]}])
    out = run(runtime, bundle, profile,
              "head -c 5 /etc/passwd; echo; touch /scratch/new 2>&1; true")
    assert out.startswith("root:\n")
    assert "Read-only file system" in out


def test_several_arguments_are_anded(runtime, bundle):
    profile = seccomp(syscalls=[{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                                 "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                                          {"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]}])
    out = run(runtime, bundle, profile, "kill -0 1 2>&1; echo rc=$?; sleep 60 & kill -0 $!;"
                                        " echo rc=$?; kill $!")
    lines = out.splitlines()
    assert "Permission denied" in lines[0] and lines[1] == "rc=1"
    assert lines[2] == "rc=0"


def test_architectures_native_only(runtime, bundle):
    profile = seccomp(syscalls=[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}])
    profile["architectures"] = ["SCMP_ARCH_X86_64"]
    out = run(runtime, bundle, profile, "mkdir /scratch/d 2>&1; true")
    assert "Operation not permitted" in out


@pytest.mark.parametrize("flag", ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"])
def test_flags(runtime, bundle, flag):
    runtime.requires_runc((1, 2), "linux.seccomp.flags")
    profile = seccomp(syscalls=[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}],
                      flags=[flag])
    out = run(runtime, bundle, profile, "mkdir /scratch/d 2>&1; grep ^Seccomp: /proc/self/status")
    assert "Operation not permitted" in out
    assert out.splitlines()[-1].split() == ["Seccomp:", "2"]


def test_seccomp_without_no_new_privileges(runtime, bundle):
    bundle.process["noNewPrivileges"] = False
    profile = seccomp(syscalls=[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}])
    out = run(runtime, bundle, profile, "mkdir /scratch/d 2>&1; grep NoNewPrivs /proc/self/status")
    assert "Operation not permitted" in out
    assert out.splitlines()[-1].split() == ["NoNewPrivs:", "0"]


def test_exec_gets_the_containers_filter(runtime, bundle):
    bundle.linux["seccomp"] = seccomp(syscalls=[{"names": ["mkdir", "mkdirat"],
                                                 "action": "SCMP_ACT_ERRNO", "errnoRet": 38}])
    bundle.config["mounts"].append({"destination": "/scratch", "type": "tmpfs",
                                    "source": "tmpfs"})
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    result = runtime("exec", cid, "mkdir", "/scratch/d")
    assert result.returncode != 0
    assert "Function not implemented" in result.stderr


@pytest.mark.parametrize("profile", [
    {"defaultAction": "SCMP_ACT_NOT_AN_ACTION"},
    {"defaultAction": "SCMP_ACT_ALLOW",
     "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOT_AN_ACTION"}]},
    {"defaultAction": "SCMP_ACT_ALLOW",
     "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO",
                   "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_NOT_AN_OP"}]}]},
    {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_NOT_AN_ARCH"]},
], ids=["default-action", "action", "operator", "architecture"])
def test_invalid_profile_fails(runtime, bundle, profile):
    runtime.expect_failure()
    bundle.linux["seccomp"] = profile
    bundle.sh("echo started")
    result = runtime.run_fg(bundle)
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert result.stderr.strip()
    runtime.assert_clean()
