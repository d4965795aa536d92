"""Shared fixtures of berth's integration tests.

ctest passes BERTH_BUILD_DIR and BERTH_SOURCE_DIR; run by hand, they default
to ./build and the checkout this file is in.
"""
import os
import pathlib

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("BERTH_SOURCE_DIR",
                                         pathlib.Path(__file__).resolve().parents[2]))
BUILD_DIR = pathlib.Path(os.environ.get("BERTH_BUILD_DIR", SOURCE_DIR / "build"))


@pytest.fixture(scope="session")
def source_dir():
    return SOURCE_DIR


@pytest.fixture(scope="session")
def build_dir():
    return BUILD_DIR


@pytest.fixture(scope="session")
def busybox_layout(build_dir):
    layout = build_dir / "images" / "busybox" / "oci"
    if not (layout / "index.json").exists():
        pytest.fail("the bundled busybox image is missing: build the busybox-image target")
    return layout
