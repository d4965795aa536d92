"""docker version, docker info and docker system df, with the CLI and
python3-docker."""
import json
import os
import platform


def host_cgroup_version():
    return "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1"


def test_version(cli, client):
    out = json.loads(cli.run("version", "--format", "{{json .Server}}").stdout)
    assert out["ApiVersion"] == "1.47"
    assert client.version()["Os"] == "linux"


def test_info_cli(cli, loaded):
    out = cli.run("info").stdout
    for line in [" Images: 1", " Storage Driver: overlay2", " Cgroup Driver: cgroupfs",
                 " Cgroup Version: %s" % host_cgroup_version(), " Default Runtime: berth-runtime",
                 " OSType: linux", " Architecture: %s" % platform.machine(),
                 "  seccomp", " Live Restore Enabled: true"]:
        assert line in out, line
    info = json.loads(cli.run("info", "--format", "{{json .}}").stdout)
    assert info["Containers"] == 0 and info["ContainersRunning"] == 0
    assert "berth-runtime" in info["Runtimes"]
    assert info["SecurityOptions"][0] == "name=seccomp,profile=builtin"


def test_info_python(client, stack):
    info = client.info()
    for key in ["ID", "Containers", "ContainersRunning", "ContainersPaused", "ContainersStopped",
                "Images", "Driver", "DriverStatus", "Plugins", "MemoryLimit", "SwapLimit",
                "CpuCfsPeriod", "CpuCfsQuota", "CPUShares", "CPUSet", "PidsLimit",
                "OomKillDisable", "IPv4Forwarding", "KernelVersion", "OperatingSystem",
                "OSType", "Architecture", "NCPU", "MemTotal", "DockerRootDir", "Name",
                "ServerVersion", "Runtimes", "DefaultRuntime", "SecurityOptions", "Warnings",
                "CgroupDriver", "CgroupVersion", "LoggingDriver", "RegistryConfig", "Swarm"]:
        assert key in info, key
    assert info["Images"] == 0
    assert info["NCPU"] == os.cpu_count()
    assert info["MemTotal"] > 0
    assert info["KernelVersion"] == platform.release()
    assert info["DockerRootDir"] == str(stack.directory / "engine")
    assert info["Name"] == platform.node()
    assert len(info["ID"]) == 36
    assert client.info()["ID"] == info["ID"]  # kept, not made up each time
    assert info["Swarm"]["LocalNodeState"] == "inactive"
    assert info["Plugins"]["Log"] == ["json-file"]


def test_df(cli, client, api, loaded):
    out = cli.run("system", "df").stdout
    assert out.splitlines()[1].split()[:3] == ["Images", "1", "0"]
    verbose = cli.run("system", "df", "-v").stdout
    assert "busybox" in verbose and loaded[7:19] in verbose
    df = client.df()
    [image] = df["Images"]
    assert image["Id"] == loaded and image["Containers"] == 0 and image["SharedSize"] == 0
    assert df["LayersSize"] == image["Size"] > 0
    assert df["Containers"] == [] and df["Volumes"] == [] and df["BuildCache"] == []
    status, only = api.json("GET", "/system/df?type=image")
    assert status == 200 and "Images" in only and "Containers" not in only
    status, body = api.json("GET", "/system/df?type=bogus")
    assert status == 400
