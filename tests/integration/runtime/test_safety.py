"""Safety: the runtime binary cannot be overwritten from a container
(CVE-2019-5736), no file descriptor of the runtime leaks into a container,
and process.cwd cannot lead outside the rootfs (CVE-2024-21626).

The overwrite tests run a COPY of the runtime binary from the test's
temporary directory, so that a runtime that fails them cannot damage the
real one."""
import hashlib
import os
import pathlib
import shutil
import uuid

import pytest

from conftest import LIST_FDS, cgroup_paths, read_when_written, wait_for


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def binary_copy(runtime, tmp_path):
    """Make the runtime run from a copy in tmp_path; returns (copy, its sha256)."""
    copy = tmp_path / ("runtime-copy-" + runtime.binary.name)
    shutil.copy2(runtime.binary, copy)
    runtime.binary = copy
    return copy, sha256(copy)


def with_ptrace(bundle):
    """Give the container's processes CAP_SYS_PTRACE: the attacker may then open
    /proc/<pid>/exe of any process it can see, dumpable or not."""
    for kind in ("bounding", "effective", "permitted"):
        bundle.process["capabilities"][kind].append("CAP_SYS_PTRACE")
    bundle.process["noNewPrivileges"] = False


# Holds /proc/$1/exe open, then tries to write through it (append, so that a
# success is visible without destroying the file) until /shared/stop exists.
HOLD_AND_WRITE = r"""
target=$1
if exec 3< /proc/$target/exe; then
    echo "opened $(readlink /proc/$target/exe)" >> /shared/log
else
    echo "open-failed" >> /shared/log
fi
echo > /shared/ready
while [ ! -e /shared/go ]; do usleep 10000; done
i=0
while [ $i -lt 50 ] && [ ! -e /shared/stop ]; do
    if (echo BERTH-PWNED >> /proc/self/fd/3) 2>/dev/null; then
        echo wrote >> /shared/log; break
    fi
    i=$((i+1)); usleep 10000
done
echo > /shared/done
"""


def test_attack_works_on_a_writable_binary(runtime, bundle):
    """Control for the tests below: the attack does overwrite an executable
    that is not protected (a copy of busybox, run from a bind mount)."""
    shared = bundle.share("/shared")
    with_ptrace(bundle)
    shutil.copy2(bundle.rootfs / "bin" / "busybox", shared / "sleep")
    bundle.write_file("/attack", "#!/bin/sh\n" + HOLD_AND_WRITE, mode=0o755)
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    pid_file = runtime.tmp_path / "victim.pid"
    runtime.ok("exec", "--detach", "--pid-file", pid_file, cid, "/shared/sleep", "0.5")
    victim = runtime.exec_output(cid, "sh", "-c", "for p in /proc/[0-9]*; do readlink $p/exe |"
                                 " grep -q /shared/sleep && echo ${p#/proc/}; done; true").split()
    assert len(victim) == 1
    runtime.ok("exec", "--detach", cid, "/attack", victim[0])
    wait_for((shared / "ready").exists, what="the attacker")
    wait_for(lambda: not os.path.exists("/proc/%s" % pid_file.read_text().strip()),
             what="the victim to exit")
    (shared / "go").write_text("")
    wait_for((shared / "done").exists, what="the attacker to finish")
    assert "wrote" in (shared / "log").read_text()
    assert (shared / "sleep").read_bytes().endswith(b"BERTH-PWNED\n")


def test_runtime_init_binary_cannot_be_overwritten(runtime, bundle, binary_copy):
    """A process in the container holds /proc/1/exe of the runtime's init
    (waiting in a created container) and writes through it after start."""
    copy, digest = binary_copy
    shared = bundle.share("/shared")
    with_ptrace(bundle)
    bundle.write_file("/attack", "#!/bin/sh\n" + HOLD_AND_WRITE, mode=0o755)
    bundle.set_args("sleep", "600")
    cid = runtime.create(bundle)
    runtime.ok("exec", "--detach", cid, "/attack", "1")
    wait_for((shared / "ready").exists, what="the attacker to hold /proc/1/exe")
    runtime.ok("start", cid)
    (shared / "go").write_text("")
    wait_for((shared / "done").exists, what="the attacker to finish")
    log = (shared / "log").read_text()
    assert sha256(copy) == digest, "the runtime binary was modified: %s" % log
    assert "wrote" not in log


def test_exec_binary_cannot_be_overwritten(runtime, bundle, binary_copy):
    """The attacker holds /proc/<pid>/exe of every non-busybox process it sees
    (the runtime's exec helpers) while the host runs exec repeatedly."""
    copy, digest = binary_copy
    shared = bundle.share("/shared")
    with_ptrace(bundle)
    bundle.write_file("/scan", r"""#!/bin/sh
seen=" "
end=$(( $(date +%s) + 8 ))
echo > /shared/ready
while [ $(date +%s) -lt $end ] && [ ! -e /shared/stop ]; do
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        case "$seen" in *" $pid "*) continue;; esac
        exe=$(readlink $p/exe 2>/dev/null) || continue
        case "$exe" in /bin/busybox|/bin/sh|"") continue;; esac
        seen="$seen$pid "
        ( exec 3< $p/exe || exit 0
          echo "holding $pid $exe" >> /shared/log
          i=0
          while [ $i -lt 100 ]; do
              if (echo BERTH-PWNED >> /proc/self/fd/3) 2>/dev/null; then
                  echo "wrote via $pid" >> /shared/log; fi
              i=$((i+1)); usleep 20000
          done ) &
    done
done
wait
echo > /shared/done
""", mode=0o755)
    bundle.write_file("/evil", "#!/proc/self/exe\n", mode=0o755)
    bundle.set_args("/scan")
    cid = runtime.run_detached(bundle)
    wait_for((shared / "ready").exists, what="the scanner")
    for _ in range(5):
        runtime("exec", cid, "/evil")
        runtime("exec", cid, "true")
    (shared / "stop").write_text("")
    wait_for((shared / "done").exists, timeout=15, what="the scanner to finish")
    log = (shared / "log").read_text() if (shared / "log").exists() else ""
    assert sha256(copy) == digest, "the runtime binary was modified: %s" % log
    assert "wrote" not in log


def test_proc_self_exe_entrypoint(runtime, bundle, binary_copy):
    """The container's entrypoint is a script interpreted by /proc/self/exe."""
    copy, digest = binary_copy
    bundle.write_file("/evil", "#!/proc/self/exe\n", mode=0o755)
    bundle.set_args("/evil")
    runtime.run_fg(bundle, timeout=20)
    assert sha256(copy) == digest
    # The same through exec, into a running container.
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    runtime("exec", cid, "/evil", timeout=20)
    assert sha256(copy) == digest


def test_runtime_init_exe_cannot_be_opened_for_writing(runtime, bundle, binary_copy):
    """/proc/1/exe of a created container is the runtime's init: not writable."""
    copy, digest = binary_copy
    with_ptrace(bundle)
    bundle.set_args("sleep", "600")
    cid = runtime.create(bundle)
    result = runtime("exec", cid, "sh", "-c", "(echo BERTH-PWNED >> /proc/1/exe) 2>&1; echo rc=$?")
    assert result.stdout.strip().endswith("rc=1"), result.stdout
    runtime.ok("start", cid)
    assert sha256(copy) == digest


# -- file descriptors -----------------------------------------------------------------


def test_no_runtime_fd_in_run(runtime, bundle):
    bundle.sh(LIST_FDS)
    result = runtime.run_fg(bundle)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "0 1 2 \n"


def test_no_runtime_fd_after_create_and_start(runtime, bundle):
    shared = bundle.share("/shared")
    # The subshell lists the fds of its parent ($$), which holds no redirection.
    bundle.sh("(" + LIST_FDS + "; for f in /proc/$$/fd/*; do readlink $f; done)"
              " > /shared/fds.tmp; mv /shared/fds.tmp /shared/fds; sleep 600")
    cid = runtime.create(bundle)
    runtime.ok("start", cid)
    fds = read_when_written(shared / "fds")
    assert fds.splitlines()[0] == "0 1 2 ", fds


def test_no_runtime_fd_in_exec(runtime, bundle):
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    assert runtime.exec_output(cid, "sh", "-c", LIST_FDS) == "0 1 2 \n"
    pid_file = runtime.tmp_path / "exec.pid"
    runtime.ok("exec", "--detach", "--pid-file", pid_file, cid, "sleep", "600")
    pid = int(pid_file.read_text())
    assert sorted(os.listdir("/proc/%d/fd" % pid), key=int) == ["0", "1", "2"]


def test_no_runtime_fd_in_init_of_created_container(runtime, bundle):
    """The user process must not inherit what the waiting init held."""
    bundle.set_args("sleep", "600")
    cid = runtime.create(bundle)
    runtime.ok("start", cid)
    pid = runtime.pid(cid)
    wait_for(lambda: open("/proc/%d/cmdline" % pid).read().startswith("sleep"),
             what="the user process")
    assert sorted(os.listdir("/proc/%d/fd" % pid), key=int) == ["0", "1", "2"]


def test_preserve_fds_without_the_fds_passes_nothing_of_the_runtime(runtime, bundle):
    runtime.expect_failure()
    runtime.skip_on_runc("with --preserve-fds N and no fds 3.. open in the caller, runc 1.1.5"
                         " passes its own fds there: an O_PATH fd of the host's /sys/fs/cgroup"
                         " (through which the container reaches the host's root) and an"
                         " epoll fd")
    bundle.sh(LIST_FDS)
    result = runtime.run_fg(bundle, flags=["--preserve-fds", "2"])
    if result.returncode == 0:
        assert result.stdout == "0 1 2 \n"


# -- process.cwd --------------------------------------------------------------------------


@pytest.fixture
def host_secret(tmp_path):
    """A file on the host that a container must not be able to read."""
    secret = "berth-secret-%s" % uuid.uuid4().hex
    (tmp_path / "secret").write_text(secret + "\n")
    (tmp_path / "secret").chmod(0o644)
    return tmp_path / "secret", secret


def escape_script(secret_path):
    up = "../" * 30
    return ("pwd; cat %(up)s%(p)s 2>/dev/null; cat /proc/self/cwd/%(up)s%(p)s 2>/dev/null;"
            " ls -a %(up)s 2>/dev/null; true" % {"up": up, "p": str(secret_path).lstrip("/")})


def assert_no_escape(result, secret):
    assert secret not in result.stdout, "the process reached the host: %s" % result.stdout
    if result.returncode == 0:
        listing = result.stdout.split()
        assert "work" not in listing and "lost+found" not in listing, result.stdout


@pytest.mark.parametrize("fd", range(3, 11))
def test_cwd_proc_self_fd(runtime, bundle, host_secret, fd):
    runtime.expect_failure()
    path, secret = host_secret
    bundle.process["cwd"] = "/proc/self/fd/%d" % fd
    bundle.sh(escape_script(path))
    assert_no_escape(runtime.run_fg(bundle), secret)
    runtime.assert_clean()


@pytest.mark.parametrize("fd", range(3, 11))
def test_exec_cwd_proc_self_fd(runtime, bundle, host_secret, fd):
    path, secret = host_secret
    bundle.set_args("sleep", "600")
    cid = runtime.run_detached(bundle)
    result = runtime("exec", "--cwd", "/proc/self/fd/%d" % fd, cid, "sh", "-c",
                     escape_script(path))
    assert_no_escape(result, secret)


@pytest.mark.parametrize("target", ["/proc/self/fd/7", "/proc/self/fd/8", "/..",
                                    "../../../../.."])
def test_cwd_through_symlink(runtime, bundle, host_secret, target):
    runtime.expect_failure()
    path, secret = host_secret
    (bundle.rootfs / "link").symlink_to(target)
    bundle.process["cwd"] = "/link"
    bundle.sh(escape_script(path))
    result = runtime.run_fg(bundle)
    assert_no_escape(result, secret)
    if target in ("/..", "../../../../.."):
        # These resolve to the container's / : a valid cwd.
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[0] in ("/", "/link")


def test_cwd_dotdot(runtime, bundle, host_secret):
    path, secret = host_secret
    bundle.process["cwd"] = "/../../../../../.."
    bundle.sh(escape_script(path))
    result = runtime.run_fg(bundle)
    assert_no_escape(result, secret)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "/"


def test_container_cannot_read_the_host_through_proc(runtime, bundle, host_secret):
    path, secret = host_secret
    bundle.sh("for p in /proc/[0-9]*; do cat $p/root%s $p/cwd/%s%s 2>/dev/null; done; true"
              % (path, "../" * 30, str(path).lstrip("/")))
    result = runtime.run_fg(bundle)
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout


# -- cgroupsPath --------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "/"], ids=["relative", "absolute"])
def test_cgroups_path_cannot_leave_the_cgroup_file_systems(runtime, bundle, prefix):
    runtime.expect_failure()
    cid = runtime.new_id()
    name = "berth-escape-%s" % cid
    outside = pathlib.Path("/") / name
    runtime.defer(lambda: outside.exists() and shutil.rmtree(outside))
    bundle.linux["cgroupsPath"] = prefix + "../" * 12 + name
    bundle.set_args("sleep", "600")
    bundle.save()
    result = runtime("run", "--detach", "--bundle", bundle.path, cid)
    assert not outside.exists(), "the runtime created %s outside /sys/fs/cgroup" % outside
    if result.returncode == 0:
        for controller, path in cgroup_paths(runtime.pid(cid)).items():
            assert os.path.realpath(path).startswith("/sys/fs/cgroup/"), (controller, path)
        runtime.ok("delete", "--force", cid)
    runtime.assert_clean()
