"""A small client of berth-shim's protocol (proto/berth/shim/v1/shim.proto):
4-byte big-endian length, then one protobuf message."""
import itertools
import os
import socket
import struct
import sys

BUILD_DIR = os.environ.get("BERTH_BUILD_DIR",
                           os.path.join(os.path.dirname(__file__), "..", "..", "..", "build"))
sys.path.insert(0, os.path.join(BUILD_DIR, "generated", "python"))

from berth.shim.v1 import shim_pb2 as pb  # noqa: E402

# lib/berr.h
BERR_INVALID = 1
BERR_NOT_FOUND = 2
BERR_EXISTS = 3
BERR_CONFLICT = 4


class ShimError(Exception):
    def __init__(self, code, message):
        super().__init__("%d: %s" % (code, message))
        self.code = code
        self.message = message


def connect_path(path):
    """A unix socket path of any length (through /proc/self/fd when too long)."""
    if len(path.encode()) < 108:
        return path, None
    fd = os.open(os.path.dirname(path), os.O_PATH | os.O_DIRECTORY)
    return "/proc/self/fd/%d/%s" % (fd, os.path.basename(path)), fd


class Connection:
    def __init__(self, path, timeout=60):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        address, fd = connect_path(path)
        try:
            self.sock.connect(address)
        except BaseException:
            self.sock.close()
            raise
        finally:
            if fd is not None:
                os.close(fd)
        self.ids = itertools.count(1)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, payload):
        self.sock.sendall(struct.pack(">I", len(payload)) + payload)

    def _exactly(self, size):
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise EOFError("the shim closed the connection")
            data += chunk
        return data

    def recv_raw(self):
        (length,) = struct.unpack(">I", self._exactly(4))
        return self._exactly(length)

    def send(self, message):
        self.send_raw(message.SerializeToString())

    def recv_response(self):
        return pb.Response.FromString(self.recv_raw())

    def recv_frame(self):
        return pb.AttachFrame.FromString(self.recv_raw())

    def start_request(self, **kind):
        """Sends a request without waiting; returns its id."""
        request_id = next(self.ids)
        self.send(pb.Request(id=request_id, **kind))
        return request_id

    def finish_request(self, request_id):
        response = self.recv_response()
        assert response.id == request_id, (response.id, request_id)
        if response.error_code:
            raise ShimError(response.error_code, response.error)
        return response

    def request(self, **kind):
        return self.finish_request(self.start_request(**kind))

    # Shortcuts.
    def state(self):
        return self.request(state=pb.StateRequest()).state

    def create(self, **io):
        return self.request(create=pb.CreateRequest(io=pb.IO(**io))).create.pid

    def start(self, exec_id=""):
        return self.request(start=pb.StartRequest(exec_id=exec_id)).start.pid

    def wait(self, exec_id=""):
        return self.request(wait=pb.WaitRequest(exec_id=exec_id)).wait

    def kill(self, signal=15, exec_id="", all=False):
        self.request(kill=pb.KillRequest(exec_id=exec_id, signal=signal, all=all))

    def delete(self, exec_id="", force=False):
        return self.request(delete=pb.DeleteRequest(exec_id=exec_id, force=force)).delete

    def exec(self, exec_id, process, **io):
        import json
        self.request(exec=pb.ExecRequest(exec_id=exec_id, process=json.dumps(process).encode(),
                                         io=pb.IO(**io)))

    def shutdown(self, force=False):
        self.request(shutdown=pb.ShutdownRequest(force=force))

    def attach(self, exec_id="", stdin=False, stdout=True, stderr=True):
        self.request(attach=pb.AttachRequest(exec_id=exec_id, stdin=stdin, stdout=stdout,
                                             stderr=stderr))
        return self

    def subscribe(self):
        self.request(subscribe=pb.SubscribeRequest())
        return self

    def recv_event(self):
        response = self.recv_response()
        assert response.id == 0 and response.HasField("event"), response
        return response.event
