"""Fixtures of the health check and docker cp tests: the engine suites'
stack (../engine_stack.py), one per test module, plus an image whose
config carries a HEALTHCHECK."""
import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from engine_stack import (DOCKER, Stack, alive, pytest_configure, stack,  # noqa: E402,F401
                          stack_module, wait_until)


@pytest.fixture(scope="module")
def health_image(stack_module, build_dir, tmp_path_factory):
    """busybox with a HEALTHCHECK in its config (CMD-SHELL "echo from-image",
    every 1 s, 2 retries), loaded as health-busybox:latest."""
    import hashlib
    import io
    import tarfile
    source = build_dir / "images" / "busybox" / "busybox.tar"
    with tarfile.open(source) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))[0]
        config = json.load(tar.extractfile(manifest["Config"]))
        layers = {name: tar.extractfile(name).read() for name in manifest["Layers"]}
    config["config"]["Healthcheck"] = {"Test": ["CMD-SHELL", "echo from-image"],
                                       "Interval": 1000000000, "Retries": 2}
    config_bytes = json.dumps(config).encode()
    config_name = "blobs/sha256/" + hashlib.sha256(config_bytes).hexdigest()
    path = tmp_path_factory.mktemp("image") / "health-busybox.tar"

    def add(tar, name, data):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with tarfile.open(path, "w") as tar:
        add(tar, config_name, config_bytes)
        for name, data in layers.items():
            add(tar, name, data)
        add(tar, "manifest.json", json.dumps([{
            "Config": config_name, "RepoTags": ["health-busybox:latest"],
            "Layers": manifest["Layers"]}]).encode())
    stack_module.out("load", "-i", str(path))
    return "health-busybox"
