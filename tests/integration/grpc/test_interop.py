"""berth's gRPC binding (lib/grpc_server, lib/grpc_client) against python3-grpcio.

Python is what orchestrators and our own tests will drive the supervisor
with, so the C server must speak real gRPC to it, and the C client must
work against a real gRPC server. grpc_test_peer (tests/integration/grpc/
grpc_test_peer.c) serves berth.test.v1.Echo with the unit tests' handlers,
or calls a Python Echo server. Stubs come from the build
(build/generated/python/grpc_test_pb2*.py).
"""
import concurrent.futures
import os
import pathlib
import select
import signal
import subprocess
import sys
import time

import grpc
import pytest

# As conftest.py does; needed at import time, before fixtures exist.
BUILD_DIR = pathlib.Path(os.environ.get("BERTH_BUILD_DIR",
                                        pathlib.Path(__file__).resolve().parents[3] / "build"))
sys.path.insert(0, str(BUILD_DIR / "generated" / "python"))
try:
    import grpc_test_pb2 as pb
    import grpc_test_pb2_grpc as pb_grpc
except ImportError:  # pragma: no cover - reported by the fixture below
    pb = pb_grpc = None

BERR_NOT_FOUND = 2  # lib/berr.h
BERR_PERMISSION = 5
MESSAGE_LIMIT = 16 * 1024 * 1024
CHANNEL_OPTIONS = [("grpc.max_receive_message_length", MESSAGE_LIMIT),
                   ("grpc.max_send_message_length", MESSAGE_LIMIT)]


@pytest.fixture(scope="session")
def peer():
    if pb is None:
        pytest.fail("Python stubs missing: build the python-grpc-test-stubs target")
    path = BUILD_DIR / "tests" / "integration" / "grpc_test_peer"
    if not path.exists():
        pytest.fail("grpc_test_peer missing: build the grpc_test_peer target")
    return path


class CServer:
    """grpc_test_peer serve, listening on a unix socket in a temporary directory."""

    def __init__(self, peer, directory):
        self.socket = directory / "echo.sock"
        self.address = "unix:%s" % self.socket
        self.output = None
        self.process = subprocess.Popen([str(peer), "serve", self.address],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.process.stdout], [], [], 10)
        line = self.process.stdout.readline() if ready else ""
        if not line.startswith("ready"):
            self.process.kill()
            _, stderr = self.process.communicate()
            raise AssertionError("the C server did not start: %r %s" % (line, stderr))

    def stop(self):
        """SIGTERM; returns what it printed after "ready" (once stopped: again)."""
        if self.output is not None:
            return self.output
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            # Up to 10 s after large messages: gRPC's backup poller (lib/grpc_common.c).
            stdout, stderr = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            raise AssertionError("the C server did not stop on SIGTERM")
        assert self.process.returncode == 0, stderr
        self.output = stdout
        return stdout


@pytest.fixture
def c_server(peer, tmp_path):
    """A server of its own, for tests that stop it or count its cancellations."""
    server = CServer(peer, tmp_path)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shared_server(peer, tmp_path_factory):
    """One server for the tests that only make calls (stopping it can take a while)."""
    server = CServer(peer, tmp_path_factory.mktemp("grpc"))
    yield server
    server.stop()


@pytest.fixture
def stub(shared_server):
    with grpc.insecure_channel(shared_server.address, options=CHANNEL_OPTIONS) as channel:
        yield pb_grpc.EchoStub(channel)


@pytest.fixture
def own_stub(c_server):
    with grpc.insecure_channel(c_server.address, options=CHANNEL_OPTIONS) as channel:
        yield pb_grpc.EchoStub(channel)


LONG_TEXT = "a text longer than twenty-three bytes, from python"


def test_unary_echo_with_namespace(stub):
    for _ in range(50):
        response = stub.Unary(pb.EchoRequest(text=LONG_TEXT, payload=b"p" * 1000),
                              metadata=[("berth-namespace", "ns-py")], timeout=5)
        assert response.text == LONG_TEXT
        assert response.payload == b"p" * 1000
        assert response.namespace == "ns-py"
    assert stub.Unary(pb.EchoRequest(text="x"), timeout=5).namespace == ""


def test_unary_over_4_mib(stub):
    payload = os.urandom(6 * 1024 * 1024)
    response = stub.Unary(pb.EchoRequest(text="big", payload=payload), timeout=30)
    assert response.payload == payload


def test_error_status_and_message(stub):
    with pytest.raises(grpc.RpcError) as error:
        stub.Unary(pb.EchoRequest(fail_code=BERR_NOT_FOUND, fail_message="no such image: x"),
                   timeout=5)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
    assert error.value.details() == "no such image: x"


def test_server_stream(stub):
    indices = [m.index for m in stub.ServerStream(pb.StreamRequest(count=10000, payload_size=32),
                                                  timeout=60)]
    assert indices == list(range(10000))


def test_client_stream(stub):
    requests = (pb.EchoRequest(payload=b"z" * 700) for _ in range(100))
    response = stub.ClientStream(requests, timeout=30)
    assert (response.count, response.bytes) == (100, 70000)


def test_client_stream_error(stub):
    def requests():
        yield pb.EchoRequest(payload=b"a")
        yield pb.EchoRequest(fail_code=BERR_PERMISSION, fail_message="refused")
    with pytest.raises(grpc.RpcError) as error:
        stub.ClientStream(requests(), timeout=10)
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error.value.details() == "refused"


def test_bidi(stub):
    texts = ["message %d of a bidirectional stream" % i for i in range(200)]
    responses = list(stub.Bidi((pb.EchoRequest(text=t) for t in texts),
                               metadata=[("berth-namespace", "ns-bidi")], timeout=30))
    assert [r.text for r in responses] == texts
    assert [r.index for r in responses] == list(range(200))
    assert {r.namespace for r in responses} == {"ns-bidi"}


def test_unknown_method_is_unimplemented_at_once(shared_server):
    with grpc.insecure_channel(shared_server.address) as channel:
        for path in ("/berth.test.v1.Echo/Nope", "/berth.test.v1.Nope/Unary"):
            start = time.monotonic()
            with pytest.raises(grpc.RpcError) as error:
                channel.unary_unary(path)(b"", timeout=5)
            assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED
            assert time.monotonic() - start < 1


def test_malformed_request_is_invalid_argument(shared_server):
    with grpc.insecure_channel(shared_server.address) as channel:
        # Field 1, length-delimited, with a truncated length.
        with pytest.raises(grpc.RpcError) as error:
            channel.unary_unary("/berth.test.v1.Echo/Unary")(b"\x0a\xff", timeout=5)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "malformed" in error.value.details()


def test_deadline_and_cancel_reach_the_handler(c_server, own_stub):
    start = time.monotonic()
    with pytest.raises(grpc.RpcError) as error:
        own_stub.Unary(pb.EchoRequest(wait_for_cancel=True), timeout=0.2)
    assert error.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - start < 2
    stream = own_stub.ServerStream(pb.StreamRequest(count=1, wait_for_cancel=True))
    assert next(stream).index == 0
    stream.cancel()
    time.sleep(0.3)
    # Both handlers saw rpc_call_cancelled: the server reports it on exit.
    assert "2 cancellations seen" in c_server.stop()


def test_shutdown_with_a_stream_open(c_server, own_stub):
    stream = own_stub.ServerStream(pb.StreamRequest(count=2, wait_for_cancel=True))
    assert [next(stream).index, next(stream).index] == [0, 1]
    c_server.stop()
    with pytest.raises(grpc.RpcError) as error:
        next(stream)
    assert error.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
    assert not c_server.socket.exists()


def test_socket_mode_and_second_server_refused(peer, c_server, own_stub):
    assert oct(c_server.socket.stat().st_mode & 0o777) == oct(0o660)
    second = subprocess.run([str(peer), "serve", c_server.address], capture_output=True,
                            text=True, timeout=10)
    assert second.returncode == 1
    assert "another server" in second.stderr
    # The first server still has its socket.
    assert own_stub.Unary(pb.EchoRequest(text=LONG_TEXT), timeout=5).text == LONG_TEXT


# --- the C client against a Python server -----------------------------------

class PythonEcho(pb_grpc.EchoServicer if pb_grpc else object):
    @staticmethod
    def _namespace(context):
        return dict(context.invocation_metadata()).get("berth-namespace", "")

    def Unary(self, request, context):
        if request.fail_code == BERR_NOT_FOUND:
            context.abort(grpc.StatusCode.NOT_FOUND, request.fail_message)
        return pb.EchoResponse(text=request.text, payload=request.payload,
                               namespace=self._namespace(context))

    def ServerStream(self, request, context):
        for i in range(request.count):
            yield pb.EchoResponse(index=i, payload=b"s" * request.payload_size)

    def ClientStream(self, request_iterator, context):
        count = size = 0
        for request in request_iterator:
            count += 1
            size += len(request.payload)
        return pb.CountResponse(count=count, bytes=size)

    def Bidi(self, request_iterator, context):
        namespace = self._namespace(context)
        for i, request in enumerate(request_iterator):
            yield pb.EchoResponse(text=request.text, index=i, namespace=namespace)


def test_c_client_against_python_server(peer, tmp_path):
    address = "unix:%s" % (tmp_path / "python.sock")
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_EchoServicer_to_server(PythonEcho(), server)
    server.add_insecure_port(address)
    server.start()
    try:
        result = subprocess.run([str(peer), "call", address], capture_output=True, text=True,
                                timeout=60)
    finally:
        server.stop(grace=None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split("\n")[:-1] == [
        "ok unary", "ok unary error status", "ok server stream", "ok client stream", "ok bidi"]
