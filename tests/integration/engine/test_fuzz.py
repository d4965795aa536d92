"""Malformed input, at random but reproducibly: create bodies mutated
field by field (wrong types, huge numbers, empty and long strings, unknown
keys, truncated JSON) and hostile ids, paths and query arguments on the
other endpoints. The engine answers every one with a status (never a
dropped connection or a 500 of its own), keeps running, and leaves nothing
behind."""
import json
import random

WEIRD = [None, True, False, 0, -1, 2**63, -2**63, 1.5, "", "x" * 5000, [], {}, [None],
         {"": None}, "../../etc", "\u0000", "\u00ff", [1, 2], {"a": [{}]}]

BASE = {
    "Image": "busybox", "Cmd": ["true"], "Env": ["A=1"], "Labels": {"a": "b"},
    "WorkingDir": "/", "User": "root", "StopSignal": "SIGTERM",
    "ExposedPorts": {"80/tcp": {}},
    "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1000000000},
    "HostConfig": {
        "Memory": 67108864, "CpuShares": 512, "PidsLimit": 10, "Binds": [],
        "Tmpfs": {"/t": "size=1m"}, "RestartPolicy": {"Name": "no"}, "CapAdd": ["NET_ADMIN"],
        "Ulimits": [{"Name": "nofile", "Soft": 100, "Hard": 100}],
        "SecurityOpt": ["no-new-privileges"], "Devices": [],
        "LogConfig": {"Type": "json-file", "Config": {"max-size": "1m"}},
        "Mounts": [{"Type": "tmpfs", "Target": "/m"}]},
}

PATHS = ["/containers/%s/json", "/containers/%s/start", "/containers/%s/stop?t=x",
         "/containers/%s/kill?signal=FOO", "/containers/%s/logs?stdout=1&tail=-5",
         "/containers/%s/archive?path=/../../", "/containers/%s/top?ps_args=-%%00",
         "/containers/%s/update", "/containers/%s/rename?name=/..", "/containers/%s/exec",
         "/containers/%s/wait?condition=bogus", "/containers/%s/resize?h=-1&w=99999999"]
OTHERS = ["/images/json?filters=%7B", "/images/nope/json", "/images/sha256:zz/json",
          "/events?until=x&since=y", "/containers/json?filters=%7B%22status%22:[%22x%22]}",
          "/system/df?type=zz", "/containers/prune?filters=[", "/exec/nope/start",
          "/exec/..%2f/json"]


def mutate(rng, value, rate):
    if isinstance(value, dict):
        value = dict(value)
        for key in list(value):
            roll = rng.random()
            if roll < rate:
                value[key] = rng.choice(WEIRD)
            elif roll < rate + 0.05:
                del value[key]
            elif roll < 0.6:
                value[key] = mutate(rng, value[key], rate)
        if rng.random() < 0.1:
            value[rng.choice(["Foo", "HostConfig", "Cmd", "Entrypoint", "NetworkMode"])] = \
                rng.choice(WEIRD)
        return value
    if isinstance(value, list):
        value = [mutate(rng, item, rate) for item in value]
        if rng.random() < 0.2:
            value.append(rng.choice(WEIRD))
        return value
    return rng.choice(WEIRD) if rng.random() < 0.3 else value


def answer(stack, method, path, body=None):
    response = stack.api(method, path, raw=body, timeout=60)
    assert response.status is not None
    # A 500 only when the runtime refused what the engine accepted (a
    # 5000-byte command, say): the engine itself never fails.
    assert response.status < 500 or response.status == 501 or \
        response.message.startswith("failed to create task"), (method, path, body,
                                                                response.status, response.body)
    return response


def test_malformed_requests_get_answers(stack):
    engine = stack.engine_pid()
    created = []
    for seed, rate in ((1, 0.15), (2, 0.03)):
        rng = random.Random(seed)
        for _ in range(150):
            roll = rng.random()
            if roll < 0.6:
                body = json.dumps(mutate(rng, BASE, rate)).encode()
                if rng.random() < 0.1:
                    body = body[:rng.randint(0, len(body))]
                response = answer(stack, "POST", "/v1.43/containers/create", body)
                if response.status == 201:
                    created.append(response.json()["Id"])
            elif roll < 0.8:
                target = rng.choice(created + ["nope", "..", "a" * 300])
                path = rng.choice(PATHS) % target
                read = any(word in path for word in ("json", "logs", "top", "archive"))
                body = None if read else json.dumps(
                    mutate(rng, {"Cmd": ["true"], "Memory": 1, "AttachStdout": True},
                           rate)).encode()
                answer(stack, "GET" if read else "POST", path, body)
            else:
                answer(stack, rng.choice(["GET", "POST", "DELETE"]), rng.choice(OTHERS),
                       b"{garbage")
    assert created, "no mutation was valid: the test exercises nothing past parsing"
    assert stack.engine_pid() == engine
    assert stack.api("GET", "/containers/json", query={"all": "1"}).status == 200
