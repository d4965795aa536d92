"""berth's global behaviour: version, info, engine selection, flag errors and
the exit statuses docker scripts rely on (125, 126, 127, the container's)."""
def test_version(berth):
    out = berth.ok("version")
    assert out.startswith("Client:\n Version:")
    assert "\nServer:\n Engine:\n  Version:" in out
    assert berth.ok("version", "--format", "{{.Client.Version}}").strip()
    api = berth.ok("version", "--format", "{{.Server.ApiVersion}}").strip()
    assert api.count(".") == 1


def test_version_flag(berth):
    out = berth.ok("--version")
    assert out.startswith("berth version ")


def test_api_version_negotiated(berth):
    """Requests go to /vN.NN/ with the lower of the client's and the server's version."""
    server = berth.ok("version", "--format", "{{.Server.ApiVersion}}").strip()
    client = berth.ok("version", "--format", "{{.Client.ApiVersion}}").strip()
    default = berth.ok("version", "--format", "{{.Client.DefaultAPIVersion}}").strip()
    as_tuple = lambda v: tuple(int(x) for x in v.split("."))  # noqa: E731
    assert as_tuple(client) == min(as_tuple(server), as_tuple(default))


def test_info(berth):
    out = berth.ok("info")
    assert out.startswith("Client:\n Version:")
    assert "\nServer:\n Containers: " in out
    assert " Images: " in out
    count = berth.ok("info", "--format", "{{.Containers}}").strip()
    assert count.isdigit()


def test_cannot_connect(berth, tmp_path):
    host = "unix://%s/none.sock" % tmp_path
    result = berth("-H", host, "ps")
    assert result.returncode == 1
    assert result.stderr == ("Cannot connect to the Docker daemon at %s. "
                             "Is the docker daemon running?\n" % host)
    result = berth("-H", host, "run", "busybox")
    assert result.returncode == 125


def test_host_precedence(berth, tmp_path):
    """-H, then BERTH_HOST, then DOCKER_HOST."""
    bad = "unix://%s/none.sock" % tmp_path
    assert berth("ps", env={"BERTH_HOST": bad}).returncode == 1
    assert berth("-H", berth.env["DOCKER_HOST"], "ps", env={"BERTH_HOST": bad}).returncode == 0
    assert berth("ps", env={"DOCKER_HOST": bad}).returncode == 1


def test_unknown_flag(berth):
    result = berth("ps", "--bogus")
    assert result.returncode == 125
    assert result.stderr == ("unknown flag: --bogus\n\nUsage:  berth ps [OPTIONS]\n\n"
                             "Run 'berth ps --help' for more information\n")


def test_bad_flag_value(berth):
    result = berth("ps", "-n", "x")
    assert result.returncode == 125
    assert result.stderr.startswith('invalid argument "x" for "-n, --last" flag: '
                                    'strconv.ParseInt: parsing "x": invalid syntax\n')
    result = berth("run", "-m", "1x", "busybox")
    assert result.returncode == 125
    assert result.stderr.startswith('invalid argument "1x" for "-m, --memory" flag: '
                                    "invalid suffix: 'x'\n")


def test_unknown_command(berth):
    result = berth("bogus")
    assert result.returncode == 1
    assert result.stderr.startswith("berth: unknown command: berth bogus\n")


def test_argument_count(berth):
    result = berth("rm")
    assert result.returncode == 1
    assert result.stderr.startswith("berth: 'berth rm' requires at least 1 argument\n\n"
                                    "Usage:  berth rm [OPTIONS] CONTAINER [CONTAINER...]\n")
    result = berth("logs")
    assert result.returncode == 1
    assert "'berth logs' requires 1 argument" in result.stderr


def test_help(berth):
    result = berth("run", "--help")
    assert result.returncode == 0
    assert "Usage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]" in result.stdout
    assert "--detach-keys string" in result.stdout
    assert berth("--help").returncode == 0


def test_exit_code_of_container(berth):
    result = berth("run", "--rm", "busybox", "sh", "-c", "exit 3")
    assert result.returncode == 3
    assert berth("run", "--rm", "busybox", "false").returncode == 1


def test_exit_127_not_found(berth):
    result = berth("run", "--rm", "busybox", "no-such-command")
    assert result.returncode == 127
    assert result.stderr.startswith("berth: Error response from daemon: ")
    assert result.stderr.endswith("\n\nRun 'berth run --help' for more information\n")


def test_exit_126_cannot_invoke(berth):
    result = berth("run", "--rm", "busybox", "/etc")
    assert result.returncode == 126


def test_exit_125_missing_image(berth):
    result = berth("run", "--rm", "no-such-image-berth-test")
    assert result.returncode == 125
    assert result.stderr.startswith(
        "Unable to find image 'no-such-image-berth-test:latest' locally\n")
    assert "Error response from daemon" in result.stderr or "berth: " in result.stderr


def test_exit_125_bad_option(berth):
    result = berth("run", "--restart", "always", "--rm", "busybox")
    assert result.returncode == 125
    result = berth("run", "--bogus", "busybox")
    assert result.returncode == 125


def test_daemon_error_message(berth):
    result = berth("rm", "berth-no-such-container")
    assert result.returncode == 1
    assert result.stderr == ("Error response from daemon: No such container: "
                             "berth-no-such-container\n")
    result = berth("inspect", "berth-no-such-object")
    assert result.returncode == 1
    assert result.stdout == "[]\n"
    assert result.stderr == "Error: No such object: berth-no-such-object\n"


def test_dash_h_equals(berth):
    assert berth("--host=" + berth.env["DOCKER_HOST"], "version", "-f",
                 "{{.Client.Version}}").returncode == 0
