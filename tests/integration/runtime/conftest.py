"""Fixtures of the OCI runtime suite.

The suite drives an OCI runtime with runc's command line, chosen by RUNTIME:

    RUNTIME unset or "berth-runtime"  <build_dir>/ociruntime/berth-runtime
    RUNTIME=runc                      runc on PATH (the reference)
    RUNTIME=/some/path                that binary

Every test gets a private state directory (--root) and unique container ids.
The `runtime` fixture's teardown force-deletes whatever is left in that root
and then fails the test if anything was left behind on the host: state
entries, cgroup directories named after the test's containers, mounts or
processes under the test's temporary directories. It cleans those up first, so
that one broken test cannot break the next ones.
"""
import contextlib
import json
import os
import pathlib
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

CGROUP_ROOT = pathlib.Path("/sys/fs/cgroup")
DEFAULT_TIMEOUT = 30

# Runs argv[2:] with the fds listed in argv[1] renumbered 3, 4, ... and every
# other fd above 2 closed: how a caller hands fds to `--preserve-fds`.
FD_WRAPPER = """
import fcntl, os, sys
fds = [int(fd) for fd in sys.argv[1].split(",")]
high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 1000) for fd in fds]
for number, fd in enumerate(high):
    os.dup2(fd, 3 + number, inheritable=True)
os.closerange(3 + len(fds), 65536)
os.execv(sys.argv[2], sys.argv[2:])
"""


# --------------------------------------------------------------------------
# Host helpers shared by the tests


# A shell snippet printing the shell's own open fds ("0 1 2 "): a pipeline or
# a glob would show the shell's transient fds too.
LIST_FDS = ('for fd in $(seq 0 1023); do [ -L /proc/$$/fd/$fd ] && printf "%s " $fd; done;'
            ' echo')


def cgroup_paths(pid):
    """{controller: host directory} of a process's cgroups (v1 and v2)."""
    paths = {}
    for line in pathlib.Path("/proc/%d/cgroup" % pid).read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            paths["unified"] = CGROUP_ROOT / "unified" / path.lstrip("/")
            continue
        for controller in controllers.split(","):
            name = controller[len("name="):] if controller.startswith("name=") else controller
            paths[name] = CGROUP_ROOT / name / path.lstrip("/")
    return paths


def read_cgroup_file(pid, controller, filename):
    return (cgroup_paths(pid)[controller] / filename).read_text().strip()


def parse_mountinfo(text):
    """Parse /proc/<pid>/mountinfo text into dicts."""
    mounts = []
    for line in text.splitlines():
        left, right = line.split(" - ", 1)
        fields = left.split()
        fstype, source, super_options = (right.split(" ", 2) + [""])[:3]
        mounts.append({
            "id": int(fields[0]),
            "parent": int(fields[1]),
            "root": unescape(fields[3]),
            "mountpoint": unescape(fields[4]),
            "options": set(fields[5].split(",")),
            "optional": fields[6:],
            "fstype": fstype,
            "source": unescape(source),
            "super_options": set(super_options.split(",")),
        })
    return mounts


def unescape(path):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), path)


def capability_mask(names):
    """Bit mask of capability names, as in /proc/<pid>/status."""
    mask = 0
    for name in names:
        mask |= 1 << CAPABILITIES[name]
    return mask


CAPABILITIES = {name: number for number, name in enumerate([
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"])}


def status_fields(text):
    """Parse /proc/<pid>/status text into {field: value}."""
    fields = {}
    for line in text.splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            fields[key.strip()] = value.strip()
    return fields


def wait_for(predicate, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def read_when_written(path, timeout=10.0):
    """Wait for a file that a container writes with one `echo ... > file`; its text.

    Waiting for mere existence would race with the write itself."""
    path = pathlib.Path(path)
    return wait_for(lambda: path.exists() and path.read_text().endswith("\n") and
                    path.read_text(), timeout, what="%s to be written" % path)


def pid_alive(pid):
    try:
        state = pathlib.Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


# --------------------------------------------------------------------------
# The runtime under test


def _runtime_binary(build_dir):
    value = os.environ.get("RUNTIME", "") or "berth-runtime"
    if value == "berth-runtime":
        path = pathlib.Path(build_dir) / "ociruntime" / "berth-runtime"
    elif value == "runc":
        found = shutil.which("runc")
        if not found:
            pytest.fail("RUNTIME=runc but runc is not on PATH")
        path = pathlib.Path(found)
    else:
        path = pathlib.Path(value).resolve()
    if not os.access(path, os.X_OK):
        pytest.fail("the runtime under test %s is missing or not executable (RUNTIME=%r)"
                    % (path, value))
    name = "runc" if path.name.startswith("runc") else "berth-runtime"
    return path, name


def _runc_version(binary):
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout
    match = re.search(r"runc version (\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(part) for part in match.groups()) if match else None


class Runtime:
    """Calls the runtime under test with a private --root; see the module doc."""

    def __init__(self, binary, name, tmp_path, version=None, canary=None):
        self.canary = canary
        self.binary = pathlib.Path(binary)
        self.name = name
        self.version = version
        self.tmp_path = tmp_path
        self.root = tmp_path / "state"
        self.root.mkdir(exist_ok=True)
        self.ids = []
        self.watched_dirs = [tmp_path]
        self._io = tmp_path / "io"
        self._io.mkdir(exist_ok=True)
        self._calls = 0
        self._popens = []
        self._deferred = []
        self._helpers = []

    # -- calling ----------------------------------------------------------

    def command(self, *args, global_args=()):
        return [str(self.binary), "--root", str(self.root), *map(str, global_args),
                *map(str, args)]

    def __call__(self, *args, input=None, timeout=DEFAULT_TIMEOUT, check=False, fds=(),
                 cwd=None, global_args=(), stdin=None, env=None):
        """Run the runtime; returns CompletedProcess (text stdout/stderr).

        Output goes through files, not pipes: a container started by create,
        run -d or exec -d inherits them and must not keep this call waiting.
        fds: file descriptors that the runtime gets as its 3, 4, ...
        """
        self._calls += 1
        out_path = self._io / ("%d.out" % self._calls)
        err_path = self._io / ("%d.err" % self._calls)
        cmd = self.command(*args, global_args=global_args)
        if fds:
            cmd = ["/usr/bin/python3", "-c", FD_WRAPPER, ",".join(map(str, fds))] + cmd
        with open(out_path, "w+b") as out, open(err_path, "w+b") as err:
            if input is not None:
                stdin_arg = subprocess.PIPE
            else:
                stdin_arg = stdin if stdin is not None else subprocess.DEVNULL
            process = subprocess.Popen(cmd, stdin=stdin_arg, stdout=out, stderr=err,
                                       pass_fds=tuple(fds), cwd=cwd or self.tmp_path, env=env)
            try:
                process.communicate(input=input.encode() if isinstance(input, str) else input,
                                    timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise AssertionError("%s did not finish within %ss" % (" ".join(cmd), timeout))
        result = subprocess.CompletedProcess(
            cmd, process.returncode,
            out_path.read_bytes().decode(errors="replace"),
            err_path.read_bytes().decode(errors="replace"))
        if check and result.returncode != 0:
            raise AssertionError("%s failed with %d:\nstdout: %s\nstderr: %s" % (
                " ".join(cmd), result.returncode, result.stdout, result.stderr))
        return result

    def ok(self, *args, **kwargs):
        """Like calling the runtime, but asserts that it succeeded."""
        return self(*args, check=True, **kwargs)

    def popen(self, *args, global_args=(), **kwargs):
        """Start the runtime without waiting; killed and reaped at teardown."""
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        kwargs.setdefault("cwd", self.tmp_path)
        process = subprocess.Popen(self.command(*args, global_args=global_args), **kwargs)
        self._popens.append(process)
        return process

    # -- containers ---------------------------------------------------------

    def new_id(self, prefix="rt"):
        cid = "%s-%s" % (prefix, uuid.uuid4().hex[:12])
        self.ids.append(cid)
        return cid

    def run_fg(self, bundle, cid=None, flags=(), timeout=DEFAULT_TIMEOUT, **kwargs):
        """`run` in the foreground: CompletedProcess of the container's output and status."""
        bundle.save()
        cid = cid or self.new_id()
        return self("run", "--bundle", bundle.path, *flags, cid, timeout=timeout, **kwargs)

    def create(self, bundle, cid=None, flags=(), **kwargs):
        """`create`, asserting success; returns the container id."""
        bundle.save()
        cid = cid or self.new_id()
        self.ok("create", "--bundle", bundle.path, *flags, cid, **kwargs)
        return cid

    def run_detached(self, bundle, cid=None, flags=(), **kwargs):
        """`run --detach`, asserting success; returns the container id."""
        bundle.save()
        cid = cid or self.new_id()
        self.ok("run", "--detach", "--bundle", bundle.path, *flags, cid, **kwargs)
        return cid

    def state(self, cid):
        result = self.ok("state", cid)
        return json.loads(result.stdout)

    def status(self, cid):
        result = self("state", cid)
        if result.returncode != 0:
            return None
        return json.loads(result.stdout)["status"]

    def pid(self, cid):
        return self.state(cid)["pid"]

    def wait_status(self, cid, status, timeout=10):
        wait_for(lambda: self.status(cid) == status, timeout,
                 what="container %s to be %s" % (cid, status))

    def list(self):
        """Containers from `list --format json` ([] when none; runc prints null)."""
        result = self.ok("list", "--format", "json")
        return json.loads(result.stdout or "null") or []

    def exec_output(self, cid, *args, flags=(), **kwargs):
        """`exec` a command, asserting success; returns its stdout."""
        return self.ok("exec", *flags, cid, *args, **kwargs).stdout

    def expect_failure(self):
        """Call in a test that checks that something fails: such a test proves
        nothing while the runtime cannot run even a trivial container."""
        if self.canary is not None and not self.canary[0]:
            pytest.fail("the runtime cannot run a trivial container, so a failure proves"
                        " nothing: %s" % self.canary[1])

    # -- skipping -----------------------------------------------------------

    def requires_runc(self, version, feature):
        """Skip, for runc older than `version` only, a test of `feature`."""
        if self.name == "runc" and self.version is not None and self.version < version:
            pytest.skip("runc %s does not support %s (runc >= %s does)" % (
                ".".join(map(str, self.version)), feature, ".".join(map(str, version))))

    def skip_on_runc(self, reason):
        """Skip for runc only, where it behaves differently from the OCI spec."""
        if self.name == "runc":
            pytest.skip("runc: " + reason)

    # -- host resources the test creates ------------------------------------

    def defer(self, function, *args):
        """Run function(*args) at teardown, after the containers are deleted (LIFO)."""
        self._deferred.append((function, args))

    def helper(self, argv):
        """Start a host helper process (e.g. one holding namespaces), killed at teardown."""
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        self._helpers.append(process)
        return process

    def short_dir(self):
        """A fresh directory with a short path (for AF_UNIX sockets), traversable by all."""
        path = pathlib.Path(tempfile.mkdtemp(prefix="brt-", dir="/tmp"))
        path.chmod(0o711)
        self.watched_dirs.append(path)
        return path

    def host_mount(self, *mount_args, target):
        """mount(8) on the host, unmounted at teardown."""
        subprocess.run(["mount", *map(str, mount_args), str(target)], check=True)
        self.defer(subprocess.run, ["umount", "-l", str(target)])

    # -- leak checks ----------------------------------------------------------

    def leftover_cgroups(self):
        found = []
        ids = tuple(self.ids)
        if not ids:
            return found
        for hierarchy in CGROUP_ROOT.iterdir():
            for directory, subdirs, _ in os.walk(hierarchy):
                for sub in subdirs:
                    if any(cid in sub for cid in ids):
                        found.append(pathlib.Path(directory) / sub)
        return found

    def leftover_mounts(self):
        text = pathlib.Path("/proc/self/mountinfo").read_text()
        return [m["mountpoint"] for m in parse_mountinfo(text)
                if any(str(d) in m["mountpoint"] or str(d) in m["root"]
                       for d in self.watched_dirs)]

    def leftover_processes(self):
        found = []
        prefixes = tuple(str(d) for d in self.watched_dirs)
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            for link in ("root", "cwd", "exe"):
                try:
                    target = os.readlink("/proc/%s/%s" % (entry, link))
                except OSError:
                    continue
                if target.startswith(prefixes) and pid_alive(int(entry)):
                    found.append((int(entry), link, target))
                    break
        return found

    def leftover_state(self):
        entries = [entry for entry in self.root.iterdir()
                   if any(cid in entry.name for cid in self.ids)] if self.root.exists() else []
        listed = []
        try:
            listed = [c.get("id") for c in self.list()]
        except (AssertionError, ValueError):
            pass
        return entries, listed

    def leftovers(self):
        """What is left behind on the host; {} when nothing."""
        found = {}
        entries, listed = self.leftover_state()
        if entries:
            found["state entries"] = [str(e) for e in entries]
        if listed:
            found["listed containers"] = listed
        cgroups = self.leftover_cgroups()
        if cgroups:
            found["cgroups"] = [str(c) for c in cgroups]
        mounts = self.leftover_mounts()
        if mounts:
            found["mounts"] = mounts
        processes = self.leftover_processes()
        if processes:
            found["processes"] = processes
        return found

    def assert_clean(self):
        """Assert that no container, state, cgroup, mount or process is left."""
        found = self.leftovers()
        assert not found, "left behind: %r" % found

    # -- teardown -------------------------------------------------------------

    def force_delete_all(self):
        ids = set()
        try:
            ids.update(c["id"] for c in self.list())
        except Exception:  # a broken runtime must not stop the cleanup
            pass
        if self.root.exists():
            ids.update(entry.name for entry in self.root.iterdir() if entry.is_dir())
        for cid in sorted(ids):
            try:
                self("delete", "--force", cid, timeout=15)
            except AssertionError:
                pass

    def teardown(self):
        for process in self._popens:
            if process.poll() is None:
                process.kill()
        self.force_delete_all()
        for process in self._popens:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        for function, args in reversed(self._deferred):
            with contextlib.suppress(Exception):
                function(*args)
        for process in self._helpers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        # The runtime may need a moment to reap after delete --force.
        found = {}
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            found = self.leftovers()
            if not found:
                break
            time.sleep(0.1)
        if found:
            self.scrub()
        for directory in self.watched_dirs[1:]:
            shutil.rmtree(directory, ignore_errors=True)
        return found

    def scrub(self):
        """Remove by force what the runtime left behind, so later tests start clean."""
        for pid, _, _ in self.leftover_processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for directory in sorted(self.leftover_cgroups(), key=lambda p: -len(p.parts)):
            for sub in sorted((p for p in directory.rglob("*") if p.is_dir()),
                              key=lambda p: -len(p.parts)) + [directory]:
                freezer = sub / "freezer.state"
                if freezer.exists():
                    with contextlib.suppress(OSError):
                        freezer.write_text("THAWED")
                with contextlib.suppress(OSError):
                    for pid in (sub / "cgroup.procs").read_text().split():
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(int(pid), signal.SIGKILL)
                for _ in range(50):
                    try:
                        sub.rmdir()
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        time.sleep(0.05)
        for mountpoint in sorted(self.leftover_mounts(), key=len, reverse=True):
            subprocess.run(["umount", "-l", mountpoint], capture_output=True)
        if self.root.exists():
            for entry in self.root.iterdir():
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)


@pytest.fixture(scope="session")
def runtime_binary(build_dir):
    binary, name = _runtime_binary(build_dir)
    version = _runc_version(binary) if name == "runc" else None
    return binary, name, version


@pytest.fixture(scope="session")
def container_canary(runtime_binary, bundle_template, tmp_path_factory):
    """(True, "") if the runtime runs a trivial container, else (False, why)."""
    binary, name, version = runtime_binary
    path = tmp_path_factory.mktemp("canary")
    subprocess.run(["cp", "-a", str(bundle_template), str(path / "bundle")], check=True)
    rt = Runtime(binary, name, path, version)
    rt.ids.append("canary")
    try:
        result = rt("run", "--bundle", path / "bundle", "canary", timeout=30)
        ok = result.returncode == 0
        why = "" if ok else "`run` exited %d: %s" % (result.returncode, result.stderr.strip())
    except AssertionError as error:
        ok, why = False, str(error)
    rt.teardown()
    return ok, why


@pytest.fixture
def runtime(runtime_binary, tmp_path, container_canary):
    binary, name, version = runtime_binary
    rt = Runtime(binary, name, tmp_path, version, container_canary)
    yield rt
    found = rt.teardown()
    if found:
        pytest.fail("the test left things behind (now removed by force): %r" % found)


# --------------------------------------------------------------------------
# Bundles


class Bundle:
    """An OCI bundle: `config` is config.json as a dict, written by save()."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.rootfs = self.path / "rootfs"
        self.config_path = self.path / "config.json"
        self.config = json.loads(self.config_path.read_text())

    def save(self):
        self.config_path.write_text(json.dumps(self.config, indent=2) + "\n")

    @property
    def process(self):
        return self.config["process"]

    @property
    def linux(self):
        return self.config["linux"]

    def set_args(self, *args):
        self.process["args"] = list(args)

    def sh(self, script):
        """Make the container's process `sh -c script`."""
        self.set_args("sh", "-c", script)

    def add_mount(self, destination, source, type="bind", options=("rbind", "rw")):
        mount = {"destination": destination, "source": str(source), "options": list(options)}
        if type:
            mount["type"] = type
        self.config["mounts"].append(mount)
        return mount

    def share(self, destination="/shared", name=None):
        """A host directory bind-mounted read-write at destination; returns its host path."""
        host = self.path.parent / (name or "shared" + destination.replace("/", "-"))
        host.mkdir(exist_ok=True)
        host.chmod(0o777)
        self.add_mount(destination, host, options=("bind", "rw"))
        return host

    def namespace_types(self):
        return [ns["type"] for ns in self.linux["namespaces"]]

    def add_namespace(self, type, path=None):
        self.remove_namespace(type)
        entry = {"type": type}
        if path:
            entry["path"] = str(path)
        self.linux["namespaces"].append(entry)

    def remove_namespace(self, type):
        self.linux["namespaces"] = [ns for ns in self.linux["namespaces"]
                                    if ns["type"] != type]

    def write_file(self, path, content, mode=0o644):
        """Write a file into the rootfs (path absolute inside the container)."""
        target = self.rootfs / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        target.chmod(mode)
        return target


@pytest.fixture(scope="session")
def bundle_template(source_dir, busybox_layout, tmp_path_factory):
    """A bundle made once by scripts/mkbundle, copied for every test."""
    path = tmp_path_factory.mktemp("runtime-template") / "bundle"
    subprocess.run([str(source_dir / "scripts" / "mkbundle"), "--image", str(busybox_layout),
                    str(path), "--", "true"], check=True, capture_output=True)
    return path


@pytest.fixture
def make_bundle(bundle_template, runtime):
    """make_bundle(name="bundle", public=False) -> a fresh Bundle.

    public=True puts it in a directory traversable by any user, for tests
    whose container root is an unprivileged host uid (user namespaces).
    """
    counter = [0]

    def make(name=None, public=False):
        counter[0] += 1
        parent = runtime.short_dir() if public else runtime.tmp_path
        path = parent / (name or "bundle%d" % counter[0])
        subprocess.run(["cp", "-a", str(bundle_template), str(path)], check=True)
        return Bundle(path)

    return make


@pytest.fixture
def bundle(make_bundle):
    return make_bundle("bundle")


# --------------------------------------------------------------------------
# Console sockets (--console-socket)


class ConsoleSocket:
    """An AF_UNIX listener receiving a pty master through SCM_RIGHTS."""

    def __init__(self, directory):
        self.path = pathlib.Path(directory) / "console.sock"
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(self.path))
        self.listener.listen(4)
        self.fds = []
        self.messages = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        self.listener.settimeout(30)
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(30)
            try:
                message, fds, _, _ = socket.recv_fds(conn, 4096, 4)
            except OSError:
                return
            self.messages.append(message)
            self.fds.extend(fds)

    def master(self, timeout=10):
        """The received pty master fd."""
        self._thread.join(timeout)
        assert self.fds, "no file descriptor was received on the console socket"
        return self.fds[0]

    def close(self):
        self.listener.close()
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
def console_socket(runtime):
    sockets = []

    def make():
        console = ConsoleSocket(runtime.short_dir())
        sockets.append(console)
        return console

    yield make
    for console in sockets:
        console.close()


def read_pty(fd, until=None, timeout=10):
    """Read a pty master until EOF/EIO, until `until` appears, or timeout."""
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
        if until is not None and until.encode() in data:
            break
    return data.decode(errors="replace")
