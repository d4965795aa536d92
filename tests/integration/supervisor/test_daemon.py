"""The daemon itself: start-up, flags, locking, shutdown."""
import os
import signal
import subprocess

import grpc
import pytest

from conftest import Daemon, types_pb2, version_pb2


def test_version(client):
    response = client.version.Version(types_pb2.Empty(), timeout=5)
    assert response.version
    assert response.revision


def test_unknown_method_is_unimplemented(client):
    call = client.channel.unary_unary("/berth.supervisor.v1.Version/Nope",
                                      request_serializer=types_pb2.Empty.SerializeToString,
                                      response_deserializer=version_pb2.VersionResponse.FromString)
    with pytest.raises(grpc.RpcError) as error:
        call(types_pb2.Empty(), timeout=5)
    assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_second_daemon_on_the_same_root_is_refused(daemon, build_dir):
    second = Daemon(build_dir)
    second.root = daemon.root
    try:
        with pytest.raises(AssertionError, match="another berth-supervisord"):
            second.start()
    finally:
        second.destroy()


def test_sigterm_exits_cleanly_and_quickly(daemon):
    assert daemon.stop(signal.SIGTERM, timeout=10) == 0


def test_bad_flags(build_dir):
    binary = str(build_dir / "supervisord" / "berth-supervisord")
    result = subprocess.run([binary, "--bogus"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "unknown or incomplete option --bogus" in result.stderr
    result = subprocess.run([binary, "--log-level", "loud"], capture_output=True, text=True)
    assert result.returncode == 2
    result = subprocess.run([binary, "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "--root" in result.stdout


def test_restart_keeps_state(daemon):
    daemon.stop()
    daemon.start()
    client = daemon.client()
    assert client.version.Version(types_pb2.Empty(), timeout=5).version
    assert os.path.exists(os.path.join(daemon.root, "meta.lmdb"))
