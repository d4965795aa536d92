"""What a container gets from its Config and HostConfig, seen from inside:
command, environment, user, working directory, hostname, capabilities,
seccomp, privileged, read-only root, mounts, limits, init, network."""
import os

import pytest


def test_entrypoint_and_cmd(stack):
    code, output = stack.run_output("busybox", "echo", "a", "b")
    assert (code, output) == (0, "a b\n")
    code, output = stack.run_output("--entrypoint", "echo", "busybox", "x")
    assert output == "x\n"
    code, output = stack.run_output("--entrypoint", "/bin/sh", "busybox", "-c", "exit 3")
    assert code == 3
    # The image's Cmd (sh) with a closed stdin: exits at once.
    assert stack.run_output("busybox")[0] == 0


def test_environment_and_working_directory(stack):
    code, output = stack.run_output("-e", "FOO=bar", "-e", "PATH=/bin", "-w", "/tmp", "-t",
                                    "--hostname", "box", "busybox", "sh", "-c",
                                    "echo $FOO $PATH $HOSTNAME $TERM $HOME; pwd")
    assert output.replace("\r", "") == "bar /bin box xterm /root\n/tmp\n"
    info = stack.inspect(stack.out("ps", "-lq"))
    assert "FOO=bar" in info["Config"]["Env"] and info["Config"]["WorkingDir"] == "/tmp"


def test_users(stack):
    assert stack.run_output("busybox", "id")[1] == "uid=0(root) gid=0(root)\n"
    assert stack.run_output("-u", "nobody", "busybox", "id")[1] == \
        "uid=65534(nobody) gid=65534(nogroup)\n"
    assert stack.run_output("-u", "daemon:root", "busybox", "id")[1] == \
        "uid=1(daemon) gid=0(root)\n"
    assert stack.run_output("-u", "1234:5678", "busybox", "id")[1] == "uid=1234 gid=5678\n"
    output = stack.run_output("-u", "nobody", "--group-add", "daemon", "busybox", "id")[1]
    assert "groups=" in output and "1(daemon)" in output


def test_hostname_and_etc_files(stack):
    code, output = stack.run_output("--add-host", "db:10.1.2.3", "--dns", "192.0.2.53",
                                    "--dns-search", "example.test", "busybox", "sh", "-c",
                                    "hostname; cat /etc/hostname /etc/hosts /etc/resolv.conf")
    lines = output.splitlines()
    assert len(lines[0]) == 12 and lines[1] == lines[0]
    assert "127.0.0.1\tlocalhost" in lines and "10.1.2.3\tdb" in lines
    assert "nameserver 192.0.2.53" in lines and "search example.test" in lines


def test_network_namespace_has_only_loopback(stack):
    output = stack.run_output("busybox", "sh", "-c", "ls /sys/class/net; ping -c1 -W1 127.0.0.1 "
                              ">/dev/null && echo ping-ok")[1]
    assert output.split() == ["lo", "ping-ok"]
    info = stack.inspect(stack.out("ps", "-lq"))
    assert info["NetworkSettings"]["IPAddress"] == ""
    # The host's network: the test's own namespace (ctest runs under
    # unshare --net), whose links this process lists through netlink.
    import socket
    host = stack.run_output("--network", "host", "busybox", "ip", "-o", "link")[1]
    names = [line.split(":")[1].strip().split("@")[0] for line in host.splitlines()]
    assert sorted(names) == sorted(name for _, name in socket.if_nameindex())
    assert stack.run_output("--network", "none", "busybox", "ls", "/sys/class/net")[1] == "lo\n"


def status_field(output, field):
    for line in output.splitlines():
        if line.startswith(field + ":"):
            return line.split()[1]
    return None


def test_default_capabilities_and_seccomp(stack):
    output = stack.run_output("busybox", "cat", "/proc/self/status")[1]
    assert status_field(output, "CapBnd") == "00000000a80425fb"
    assert status_field(output, "Seccomp") == "2"
    assert status_field(output, "NoNewPrivs") == "0"
    output = stack.run_output("busybox", "sh", "-c", "unshare -n true || echo denied")[1]
    assert "denied" in output
    output = stack.run_output("--cap-drop", "ALL", "--cap-add", "CHOWN", "busybox", "cat",
                              "/proc/self/status")[1]
    assert status_field(output, "CapBnd") == "0000000000000001"
    output = stack.run_output("--cap-drop", "NET_RAW", "busybox", "cat", "/proc/self/status")[1]
    assert status_field(output, "CapBnd") == "00000000a80405fb"
    output = stack.run_output("--security-opt", "no-new-privileges", "busybox", "cat",
                              "/proc/self/status")[1]
    assert status_field(output, "NoNewPrivs") == "1"


def test_seccomp_unconfined_and_custom(stack, tmp_path):
    output = stack.run_output("--security-opt", "seccomp=unconfined", "busybox", "cat",
                              "/proc/self/status")[1]
    assert status_field(output, "Seccomp") == "0"
    # A profile that denies mkdir with EACCES and allows the rest (the CLI
    # reads the file and sends its text).
    profile = tmp_path / "profile.json"
    profile.write_text('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": '
                       '["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}')
    output = stack.run_output("--security-opt", "seccomp=%s" % profile, "busybox", "sh", "-c",
                              "mkdir /x 2>&1; echo $?")[1]
    assert "Permission denied" in output
    response = stack.api("POST", "/containers/create",
                         body={"Image": "busybox",
                               "HostConfig": {"SecurityOpt": ["seccomp={not json"]}})
    assert response.status == 400


def test_privileged(stack):
    output = stack.run_output("--privileged", "busybox", "sh", "-c",
                              "grep -E 'CapEff|Seccomp:' /proc/self/status; "
                              "mkdir -p /m && mount -t tmpfs t /m && echo mounted")[1]
    assert status_field(output, "Seccomp") == "0"
    assert int(status_field(output, "CapEff"), 16) & (1 << 21)  # CAP_SYS_ADMIN
    assert "mounted" in output


def test_read_only_rootfs_tmpfs_and_shm(stack):
    output = stack.run_output("--read-only", "--tmpfs", "/run:size=1m", "--shm-size", "8m",
                              "busybox", "sh", "-c",
                              "touch /x 2>/dev/null || echo ro; touch /run/y && echo run-ok; "
                              "grep -E ' /run | /dev/shm ' /proc/mounts")[1]
    assert "ro\n" in output and "run-ok" in output
    run_line = next(line for line in output.splitlines() if " /run " in line)
    assert "noexec" in run_line and "size=1024k" in run_line
    shm_line = next(line for line in output.splitlines() if " /dev/shm " in line)
    assert "size=8192k" in shm_line


def test_masked_and_readonly_paths(stack):
    output = stack.run_output("busybox", "sh", "-c",
                              "cat /proc/keys | wc -c; (echo 1 > /proc/sys/kernel/domainname) "
                              "2>/dev/null || echo sys-ro")[1]
    assert output.split() == ["0", "sys-ro"]


def test_binds(stack, tmp_path):
    source = tmp_path / "data"
    source.mkdir()
    (source / "in").write_text("from host\n")
    code, output = stack.run_output("-v", "%s:/data" % source, "busybox", "sh", "-c",
                                    "cat /data/in; echo back > /data/out")
    assert output == "from host\n" and (source / "out").read_text() == "back\n"
    code, output = stack.run_output("-v", "%s:/data:ro" % source, "busybox", "sh", "-c",
                                    "touch /data/x 2>/dev/null || echo ro")
    assert output == "ro\n"
    missing = tmp_path / "made" / "by" / "engine"
    assert stack.run_output("-v", "%s:/m" % missing, "busybox", "true")[0] == 0
    assert missing.is_dir()
    code, output = stack.run_output("--mount", "type=bind,source=%s,target=/d,readonly" % source,
                                    "busybox", "cat", "/d/in")
    assert output == "from host\n"
    info = stack.inspect(stack.out("ps", "-lq"))
    assert info["Mounts"][0]["Type"] == "bind" and info["Mounts"][0]["Destination"] == "/d"
    result = stack.docker("create", "--mount",
                          "type=bind,source=%s,target=/d" % (missing.parent / "nope"), "busybox",
                          check=False)
    assert result.returncode != 0


def test_limits(stack):
    output = stack.run_output("--ulimit", "nofile=512:1024", "--pids-limit", "32",
                              "--sysctl", "net.ipv4.ip_forward=1", "busybox", "sh", "-c",
                              "ulimit -n; ulimit -Hn; cat /proc/sys/net/ipv4/ip_forward")[1]
    assert output.split() == ["512", "1024", "1"]
    container = stack.out("ps", "-lq")
    full = stack.inspect(container)["Id"]
    for pids in ("/sys/fs/cgroup/pids/berth/%s/pids.max" % full,
                 "/sys/fs/cgroup/berth/%s/pids.max" % full):
        if os.path.exists(pids):
            pytest.fail("the cgroup of an exited container should be gone: " + pids)


def test_memory_and_cpu_limits_reach_the_cgroup(stack):
    container = stack.run("-m", "64m", "--cpus", "0.25", "--cpuset-cpus", "0", "--cpu-shares",
                          "512", "busybox", "sleep", "1000")
    v1 = "/sys/fs/cgroup/%s/berth/" + container
    if os.path.exists(v1 % "memory"):
        assert open(v1 % "memory" + "/memory.limit_in_bytes").read().strip() == str(64 << 20)
        assert open(v1 % "memory" + "/memory.memsw.limit_in_bytes").read().strip() == \
            str(128 << 20)
        assert open(v1 % "cpu" + "/cpu.cfs_quota_us").read().strip() == "25000"
        assert open(v1 % "cpu" + "/cpu.shares").read().strip() == "512"
        assert open(v1 % "cpuset" + "/cpuset.cpus").read().strip() == "0"
    else:
        unified = "/sys/fs/cgroup/berth/" + container
        assert open(unified + "/memory.max").read().strip() == str(64 << 20)
        assert open(unified + "/cpu.max").read().split()[0] == "25000"


def test_init(stack):
    output = stack.run_output("--init", "busybox", "ps", "-o", "pid,args")[1]
    assert "1 /sbin/docker-init -- ps -o pid,args" in output


def test_devices(stack):
    output = stack.run_output("--device", "/dev/null:/dev/mynull", "busybox", "sh", "-c",
                              "echo x > /dev/mynull && ls -l /dev/mynull")[1]
    assert output.startswith("crw")
    result = stack.docker("create", "--device", "/etc/passwd", "busybox", check=False)
    assert result.returncode != 0


def test_labels_merge_with_the_image(stack):
    container = stack.out("create", "-l", "one=1", "--label", "two=2", "busybox")
    labels = stack.inspect(container)["Config"]["Labels"]
    assert labels == {"one": "1", "two": "2"}


def test_inspect_shape(stack):
    container = stack.out("create", "--name", "shape", "busybox", "true")
    info = stack.inspect(container)
    for key in ("Id", "Created", "Path", "Args", "State", "Image", "ResolvConfPath",
                "HostnamePath", "HostsPath", "LogPath", "Name", "RestartCount", "Driver",
                "Platform", "MountLabel", "ProcessLabel", "AppArmorProfile", "ExecIDs",
                "HostConfig", "GraphDriver", "Mounts", "Config", "NetworkSettings"):
        assert key in info, key
    assert info["Driver"] == "overlay2" and info["Platform"] == "linux"
    for key in ("Status", "Running", "Paused", "Restarting", "OOMKilled", "Dead", "Pid",
                "ExitCode", "Error", "StartedAt", "FinishedAt"):
        assert key in info["State"], key
    host = info["HostConfig"]
    assert host["LogConfig"]["Type"] == "json-file"
    assert host["RestartPolicy"] == {"Name": "no", "MaximumRetryCount": 0}
    assert host["ShmSize"] == 64 * 1024 * 1024
    assert "/proc/kcore" in host["MaskedPaths"] and "/proc/sys" in host["ReadonlyPaths"]
    assert info["NetworkSettings"]["Networks"]["bridge"]["IPAddress"] == ""
    assert info["GraphDriver"]["Name"] == "overlay2"
    assert info["LogPath"].endswith("%s-json.log" % container)
    sized = stack.api("GET", "/containers/shape/json", query={"size": "1"}).json()
    assert sized["SizeRootFs"] > 1000000 and sized["SizeRw"] >= 0
