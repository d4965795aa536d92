"""Archives berth saves load into the real Docker (Debian's dockerd 20.10),
and the real Docker's (legacy format) load into berth.

Opt-in (BERTH_TEST_DOCKER_REFERENCE=1): it starts a dockerd of its own, in
private network, mount and pid namespaces, with no bridge and no iptables
rules and tmpfs over /etc/docker, /run, /var/run and /var/lib/docker, so
nothing of it is seen by the host or outlives the test. It runs no
container and contacts nothing: `docker load` and `docker save` only.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import DOCKER, layer_tar, make_image_tar

pytestmark = pytest.mark.skipif(os.environ.get("BERTH_TEST_DOCKER_REFERENCE") != "1",
                                reason="set BERTH_TEST_DOCKER_REFERENCE=1 to compare with dockerd")

RUNNER = """#!/bin/sh
set -e
ip link set lo up
mount --make-rprivate /
for d in /etc/docker /run /var/run /var/lib/docker; do mkdir -p $d; mount -t tmpfs tmpfs $d; done
exec dockerd --data-root {d}/data --exec-root {d}/exec -H unix://{d}/docker.sock \\
  --pidfile {d}/dockerd.pid --bridge=none --iptables=false --ip6tables=false \\
  --ip-forward=false --ip-masq=false --userland-proxy=false >{d}/dockerd.log 2>&1
"""


def reference_cli(socket_path, *args, check=True, timeout=120):
    result = subprocess.run([DOCKER, "-H", "unix://" + socket_path, *args], capture_output=True,
                            text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError("reference docker %s: %s" % (" ".join(args), result.stderr))
    return result


@pytest.fixture(scope="module")
def reference():
    if not shutil.which("dockerd") or not shutil.which("unshare"):
        pytest.skip("dockerd is not installed")
    directory = tempfile.mkdtemp(prefix="berth-ref-docker-")
    runner = os.path.join(directory, "run.sh")
    with open(runner, "w") as file:
        file.write(RUNNER.format(d=directory))
    os.chmod(runner, 0o755)
    process = subprocess.Popen(["unshare", "--net", "--mount", "--pid", "--fork", "--mount-proc",
                                runner], start_new_session=True, stdin=subprocess.DEVNULL)
    socket_path = os.path.join(directory, "docker.sock")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if os.path.exists(socket_path) and reference_cli(
                    socket_path, "version", check=False, timeout=10).returncode == 0:
                break
            assert process.poll() is None, "dockerd exited"
            time.sleep(0.2)
        else:
            raise AssertionError("the reference dockerd did not come up")
        yield socket_path
    finally:
        # dockerd is the namespace's first process: when it ends, the
        # kernel ends everything else in the namespace (its containerd).
        children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True,
                                  text=True).stdout.split()
        for pid in children:
            os.kill(int(pid), signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            for pid in children:
                os.kill(int(pid), signal.SIGKILL)
            process.wait(10)
        shutil.rmtree(directory, ignore_errors=True)


def test_berth_save_loads_into_docker(cli, client, reference, loaded, tmp_path):
    image_id, _ = make_image_tar(tmp_path / "gz.tar", ["gz:1"],
                                 [layer_tar({"a": b"a" * 4000}), layer_tar({"d/b": b"b"})],
                                 labels={"k": "v"}, gzip_layers=True)
    cli.run("load", "-i", str(tmp_path / "gz.tar"))
    cli.run("tag", "busybox", "me/app:v1")
    archive = tmp_path / "berth.tar"
    cli.run("save", "-o", str(archive), "busybox", "me/app:v1", "gz:1")
    out = reference_cli(reference, "load", "-i", str(archive)).stdout
    assert out.splitlines() == ["Loaded image: busybox:latest", "Loaded image: me/app:v1",
                                "Loaded image: gz:1"]
    for name, wanted in [("busybox", loaded), ("me/app:v1", loaded), ("gz:1", image_id)]:
        got = reference_cli(reference, "image", "inspect", "-f", "{{.Id}}", name).stdout.strip()
        assert got == wanted, name
    reference_cli(reference, "rmi", "-f", loaded, image_id)


def test_docker_save_loads_into_berth(cli, client, reference, busybox_tar, tmp_path):
    reference_cli(reference, "load", "-i", str(busybox_tar))
    reference_cli(reference, "tag", "busybox", "from/docker:20")
    archive = tmp_path / "docker.tar"
    reference_cli(reference, "save", "-o", str(archive), "busybox", "from/docker:20")
    wanted = reference_cli(reference, "image", "inspect", "-f", "{{.Id}}",
                           "busybox").stdout.strip()
    out = cli.run("load", "-i", str(archive)).stdout
    assert out.splitlines() == ["Loaded image: busybox:latest", "Loaded image: from/docker:20"]
    assert sorted(client.images.get(wanted).tags) == ["busybox:latest", "from/docker:20"]
    reference_cli(reference, "rmi", "-f", wanted)
