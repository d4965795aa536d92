"""Helpers of the task tests: a busybox root filesystem shared by every
test (read-only), and containers made from it through the Containers and
Tasks services, with the root filesystem given as a bind mount."""
import json
import os
import queue
import secrets
import threading

from conftest import containers_pb2, events_pb2, tasks_pb2, types_pb2


def new_id(prefix="t"):
    return "%s-%s" % (prefix, secrets.token_hex(4))


def spec_for(base_config, args, terminal=False, env=None):
    config = json.loads(json.dumps(base_config))
    config["process"]["args"] = list(args)
    config["process"]["terminal"] = terminal
    if env:
        config["process"]["env"] = config["process"].get("env", []) + list(env)
    config["root"] = {"path": "rootfs", "readonly": True}
    return config


def create_container(client, base, args, container_id=None, terminal=False, runtime="",
                     labels=None):
    container_id = container_id or new_id()
    container = containers_pb2.Container(
        id=container_id, image="busybox", spec=json.dumps(spec_for(base["config"], args,
                                                                   terminal)).encode(),
        runtime=containers_pb2.Runtime(name=runtime), labels=labels or {})
    client.containers.Create(containers_pb2.CreateContainerRequest(container=container),
                             metadata=client.md, timeout=10)
    return container_id


def rootfs_mounts(base):
    return [types_pb2.Mount(type="bind", source=base["rootfs"], options=["rbind", "ro"])]


def create_task(client, base, args, io=None, **kwargs):
    """A container and its (created, not started) task: returns the id."""
    container_id = create_container(client, base, args, **kwargs)
    client.tasks.Create(tasks_pb2.CreateTaskRequest(container_id=container_id,
                                                    rootfs=rootfs_mounts(base), io=io),
                        metadata=client.md, timeout=30)
    return container_id


def process_of(client, container_id, exec_id=""):
    return client.tasks.Get(tasks_pb2.GetTaskRequest(container_id=container_id, exec_id=exec_id),
                            metadata=client.md, timeout=10).process


class EventCollector:
    """Events.Subscribe read on a thread into a queue."""

    def __init__(self, client, filters=()):
        self.stream = client.events.Subscribe(events_pb2.SubscribeRequest(filters=list(filters)))
        # The server sends its headers once the subscription is in place.
        self.stream.initial_metadata()
        self.queue = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for envelope in self.stream:
                self.queue.put(envelope)
        except Exception as error:  # noqa: BLE001 (cancelled at close)
            self.queue.put(error)

    def next(self, timeout=10):
        item = self.queue.get(timeout=timeout)
        if isinstance(item, Exception):
            raise item
        return item

    def until(self, topic, timeout=10):
        """Envelopes up to and including the first with topic."""
        seen = []
        while True:
            envelope = self.next(timeout)
            seen.append(envelope)
            if envelope.topic == topic:
                return seen

    def close(self):
        self.stream.cancel()
        self.thread.join(5)


def attach(client, container_id, exec_id="", stdin_chunks=(), close_stdin=True,
           attach_stdin=False, timeout=30):
    """Runs an Attach call: sends the chunks, then reads until `exited`.
    Returns (stdout bytes, stderr bytes, exit status)."""
    done = threading.Event()

    def requests():
        yield tasks_pb2.AttachRequest(container_id=container_id, exec_id=exec_id, stdout=True,
                                      stderr=True, attach_stdin=attach_stdin)
        for chunk in stdin_chunks:
            yield tasks_pb2.AttachRequest(stdin=chunk)
        if close_stdin and attach_stdin:
            yield tasks_pb2.AttachRequest(close_stdin=True)
        done.wait(timeout)  # keep our side open until the process exited

    out, err, status = b"", b"", None
    for response in client.tasks.Attach(requests(), metadata=client.md, timeout=timeout):
        if response.data:
            if response.stream == 2:
                err += response.data
            else:
                out += response.data
        if response.exited:
            status = response.exit_status
            done.set()
    done.set()
    return out, err, status


def base_fixture(source_dir, busybox_layout, directory):
    import subprocess
    subprocess.run([str(source_dir / "scripts" / "mkbundle"), "--image", str(busybox_layout),
                    directory, "--", "sh"], check=True)
    with open(os.path.join(directory, "config.json")) as config_file:
        config = json.load(config_file)
    return {"config": config, "rootfs": os.path.join(directory, "rootfs")}
