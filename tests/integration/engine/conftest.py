"""Fixtures of the berth-engined containers core tests: the engine
suites' stack (../engine_stack.py), one per test module, with the docker
CLI, python3-docker and raw HTTP as clients."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from engine_stack import (DOCKER, Stack, UnixConnection, alive,  # noqa: E402,F401
                          pytest_configure, stack, stack_module, wait_until)
