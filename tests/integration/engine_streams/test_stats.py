"""docker stats: Docker's StatsJSON from the runtime's statistics, the
stream's pace, one-shot, stopped containers (zeros), the CLI's table and
python3-docker's stats()."""
import time

KEYS = {"read", "preread", "pids_stats", "blkio_stats", "num_procs", "storage_stats",
        "cpu_stats", "precpu_stats", "memory_stats", "name", "id"}


def test_stats_no_stream_of_a_busy_container(stack):
    container = stack.run("--name", "busy", "busybox", "sh", "-c",
                          "while true; do :; done")
    stats = stack.client.api.stats(container, stream=False)
    assert KEYS <= set(stats)
    assert stats["name"] == "/busy" and stats["id"] == container
    cpu, precpu = stats["cpu_stats"], stats["precpu_stats"]
    assert cpu["cpu_usage"]["total_usage"] > precpu["cpu_usage"]["total_usage"] > 0
    assert cpu["system_cpu_usage"] > precpu["system_cpu_usage"] > 0
    assert cpu["online_cpus"] >= 1 and len(cpu["cpu_usage"].get("percpu_usage", [1])) >= 1
    assert set(cpu["throttling_data"]) == {"periods", "throttled_periods", "throttled_time"}
    assert stats["memory_stats"]["usage"] > 0 and stats["memory_stats"]["limit"] > 0
    assert stats["memory_stats"]["stats"]
    assert stats["pids_stats"]["current"] >= 1
    assert stats["read"] > stats["preread"] > "0001"
    assert "networks" not in stats  # only loopback until networks exist


def test_stats_one_shot_and_stream(stack):
    container = stack.run("busybox", "sleep", "1000")
    started = time.monotonic()
    one = stack.api("GET", "/containers/%s/stats" % container,
                    query={"stream": "0", "one-shot": "1"}).json()
    assert time.monotonic() - started < 1
    assert one["preread"] == "0001-01-01T00:00:00Z"
    assert one["precpu_stats"]["cpu_usage"]["total_usage"] == 0
    response = stack.api("GET", "/containers/%s/stats" % container,
                         query={"stream": "1", "one-shot": "1"})
    assert response.status == 400
    stream = stack.client.api.stats(container, stream=True, decode=True)
    first = next(stream)
    started = time.monotonic()
    second = next(stream)
    elapsed = time.monotonic() - started
    stream.close()
    assert 0.5 < elapsed < 3  # a sample a second
    assert first["precpu_stats"]["cpu_usage"]["total_usage"] == 0
    assert second["precpu_stats"] == first["cpu_stats"] and second["preread"] == first["read"]


def test_stats_of_a_stopped_container_are_zeros(stack):
    container = stack.out("create", "--name", "idle", "busybox", "true")
    stats = stack.api("GET", "/containers/%s/stats" % container, query={"stream": "0"}).json()
    assert stats["name"] == "/idle" and stats["id"] == container
    assert stats["read"] == "0001-01-01T00:00:00Z" and stats["memory_stats"] == {}
    assert stats["cpu_stats"]["cpu_usage"]["total_usage"] == 0
    assert stats["blkio_stats"]["io_service_bytes_recursive"] is None


def test_docker_stats_no_stream(stack):
    stack.run("--name", "watched", "busybox", "sleep", "1000")
    started = time.monotonic()
    lines = stack.out("stats", "--no-stream", "watched").splitlines()
    assert time.monotonic() - started < 5
    assert lines[0].split()[:3] == ["CONTAINER", "ID", "NAME"]
    row = lines[1].split()
    assert row[1] == "watched" and row[2].endswith("%") and row[-1] == "1"
    formatted = stack.out("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}",
                          "watched")
    assert formatted.startswith("watched ") and "/" in formatted


def test_stats_of_an_unknown_container(stack):
    assert stack.api("GET", "/containers/nope/stats", query={"stream": "0"}).status == 404
