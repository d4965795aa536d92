"""Bad input gets Docker's status codes and messages: malformed JSON 400,
unknown container 404 "No such container: x", name conflict 409, removing a
running container 409, a bad image name 400, a missing image 404 (what
makes `docker run` pull)."""


def test_malformed_json_body(stack):
    response = stack.api("POST", "/containers/create", raw=b'{"Image": "busybox",')
    assert response.status == 400
    assert "malformed JSON" in response.message
    response = stack.api("POST", "/containers/create", raw=b"[1, 2]")
    assert response.status == 400
    response = stack.api("POST", "/containers/create", body={"Image": "busybox", "Cmd": 5})
    assert response.status == 400
    response = stack.api("POST", "/containers/create", body={"Image": "busybox",
                                                            "HostConfig": {"Memory": "lots"}})
    assert response.status == 400


def test_unknown_container(stack):
    for method, path in (("GET", "/containers/nosuch/json"), ("POST", "/containers/nosuch/start"),
                         ("POST", "/containers/nosuch/stop"), ("POST", "/containers/nosuch/kill"),
                         ("POST", "/containers/nosuch/wait"), ("DELETE", "/containers/nosuch"),
                         ("GET", "/containers/nosuch/top"), ("POST", "/containers/nosuch/pause"),
                         ("GET", "/containers/nosuch/export")):
        response = stack.api(method, path)
        assert response.status == 404, (method, path, response.body)
        assert response.message == "No such container: nosuch"
    result = stack.docker("container", "inspect", "nosuch", check=False)
    assert result.returncode != 0 and "No such container: nosuch" in result.stderr
    result = stack.docker("rm", "nosuch", check=False)
    assert result.returncode != 0 and "No such container: nosuch" in result.stderr


def test_name_conflict(stack):
    first = stack.out("create", "--name", "taken", "busybox", "true")
    result = stack.docker("create", "--name", "taken", "busybox", "true", check=False)
    assert result.returncode != 0
    assert 'The container name "/taken" is already in use by container "%s"' % first in \
        result.stderr
    response = stack.api("POST", "/containers/create", query={"name": "/taken"},
                         body={"Image": "busybox"})
    assert response.status == 409
    # The failed creates left nothing.
    assert stack.out("ps", "-aq") == first[:12]


def test_invalid_names(stack):
    for name in ("a", "-dash", "with space", "sl/ash"):
        response = stack.api("POST", "/containers/create", query={"name": name},
                             body={"Image": "busybox"})
        assert response.status == 400, name
        assert "Invalid container name" in response.message


def test_remove_running_is_a_conflict(stack):
    stack.run("--name", "busy", "busybox", "sleep", "1000")
    response = stack.api("DELETE", "/containers/busy")
    assert response.status == 409
    assert "container is running" in response.message
    assert stack.api("DELETE", "/containers/busy", query={"force": "1"}).status == 204


def test_bad_and_missing_images(stack):
    response = stack.api("POST", "/containers/create", body={"Image": "BusyBox"})
    assert response.status == 400
    assert "must be lowercase" in response.message
    response = stack.api("POST", "/containers/create", body={"Image": "bad::name"})
    assert response.status == 400
    response = stack.api("POST", "/containers/create", body={"Image": "nosuchimage"})
    assert response.status == 404
    assert response.message == "No such image: nosuchimage:latest"
    response = stack.api("POST", "/containers/create", body={})
    assert response.status == 400
    result = stack.docker("create", "nosuchimage:1.0", check=False)
    assert result.returncode != 0 and "Unable to find image 'nosuchimage:1.0' locally" in \
        result.stderr


def test_image_by_id_and_prefix(stack):
    image_id = stack.inspect(stack.out("create", "busybox", "true"))["Image"]
    for ref in (image_id, image_id[len("sha256:"):], image_id[len("sha256:"):][:12],
                "docker.io/library/busybox:latest", "library/busybox"):
        response = stack.api("POST", "/containers/create", body={"Image": ref, "Cmd": ["true"]})
        assert response.status == 201, (ref, response.body)
        assert stack.inspect(response.json()["Id"])["Image"] == image_id


def test_bad_arguments(stack):
    stack.run("--name", "target", "busybox", "sleep", "1000")
    assert stack.api("POST", "/containers/target/kill", query={"signal": "SIGNOPE"}).status == 400
    assert stack.api("POST", "/containers/target/stop", query={"t": "soon"}).status == 400
    assert stack.api("GET", "/containers/json", query={"filters": "{bad"}).status == 400
    response = stack.api("GET", "/containers/json", query={"filters": '{"colour":["red"]}'})
    assert response.status == 400 and response.message == "invalid filter 'colour'"
    response = stack.api("GET", "/containers/json", query={"filters": '{"status":["sleepy"]}'})
    assert response.status == 400
    assert stack.api("POST", "/containers/target/rename").status == 400
    response = stack.api("POST", "/containers/create",
                         body={"Image": "busybox", "HostConfig": {"Binds": ["myvolume:/data"]}})
    assert response.status == 400 and "named volumes are not supported" in response.message
    response = stack.api("POST", "/containers/create",
                         body={"Image": "busybox", "HostConfig": {"CapAdd": ["NOT_A_CAP"]}})
    assert response.status == 400 and "unknown capability" in response.message
    response = stack.api("POST", "/containers/create",
                         body={"Image": "busybox", "HostConfig": {"Memory": 1024}})
    assert response.status == 400 and "Minimum memory limit" in response.message
    response = stack.api("POST", "/containers/create",
                         body={"Image": "busybox",
                               "HostConfig": {"RestartPolicy": {"Name": "sometimes"}}})
    assert response.status == 400
    response = stack.api("POST", "/containers/create",
                         body={"Image": "busybox", "HostConfig": {"Sysctls": {"kernel.hostname":
                                                                               "x"}}})
    assert response.status == 400
    response = stack.api("POST", "/containers/create",
                         body={"Image": "busybox", "HostConfig": {"NetworkMode": "mynet"}})
    assert response.status == 400
    response = stack.api("POST", "/containers/create",
                         body={"Image": "busybox", "HostConfig": {"AutoRemove": True,
                                                                  "RestartPolicy": {
                                                                      "Name": "always"}}})
    assert response.status == 400


def test_start_failures_keep_the_container(stack):
    import threading
    container = stack.out("create", "busybox", "no-such-command")
    waited = {}
    # `docker run` waits for the next exit before it starts: a failed start
    # ends that wait too.
    thread = threading.Thread(target=lambda: waited.update(response=stack.api(
        "POST", "/containers/%s/wait" % container, query={"condition": "next-exit"}, timeout=30)))
    thread.start()
    import time
    time.sleep(0.2)
    result = stack.docker("start", container, check=False)
    thread.join(30)
    assert waited["response"].json()["StatusCode"] == 127
    assert result.returncode != 0 and "executable file not found" in result.stderr
    state = stack.inspect(container)["State"]
    assert state["ExitCode"] == 127 and "executable file not found" in state["Error"]
    assert not state["Running"]
    container = stack.out("create", "-u", "nobody-here", "busybox", "true")
    result = stack.docker("start", container, check=False)
    assert result.returncode != 0 and "unable to find user nobody-here" in result.stderr
    # After a failed start the container can still go.
    assert stack.api("DELETE", "/containers/" + container).status == 204


def test_ambiguous_prefix(stack):
    ids = [stack.out("create", "busybox", "true") for _ in range(24)]
    # With 24 random ids, some first hex digit is shared.
    first = [i[0] for i in ids]
    shared = next(d for d in first if first.count(d) > 1)
    response = stack.api("GET", "/containers/%s/json" % shared)
    assert response.status == 400 and "multiple IDs found" in response.message
    unique = ids[0][:20]
    assert stack.api("GET", "/containers/%s/json" % unique).json()["Id"] == ids[0]
