"""The containers core with the images and system API: an image a
container uses cannot go without force, /system/df and /info count the
containers, /events carries their lifecycle."""
import json
import threading
import time


def test_image_in_use_cannot_be_removed(stack):
    container = stack.out("create", "--name", "user", "busybox", "true")
    result = stack.docker("rmi", "busybox", check=False)
    assert result.returncode != 0 and "container %s is using its referenced image" % \
        container[:12] in result.stderr
    stack.out("rm", "user")
    # (the image stays for the other tests: only the refusal is checked)


def test_info_and_df_count_containers(stack):
    stack.run("--name", "up", "busybox", "sleep", "1000")
    stack.out("create", "--name", "idle", "busybox", "true")
    info = stack.client.info()
    assert info["Containers"] == 2 and info["ContainersRunning"] == 1
    assert info["ContainersStopped"] == 1
    df = stack.api("GET", "/system/df").json()
    names = sorted(name for c in df["Containers"] for name in c["Names"])
    assert names == ["/idle", "/up"]
    stack.out("rename", "idle", "resting")
    df = stack.api("GET", "/system/df").json()
    assert sorted(name for c in df["Containers"] for name in c["Names"]) == ["/resting", "/up"]


def test_events_of_a_lifecycle(stack):
    events = []
    since = time.time()

    def read():
        response = stack.api("GET", "/events", query={
            "since": "%.9f" % since, "until": "%.9f" % (since + 6),
            "filters": json.dumps({"type": ["container"]})}, timeout=20)
        events.extend(json.loads(line) for line in response.body.splitlines() if line.strip())

    reader = threading.Thread(target=read)
    reader.start()
    container = stack.run("--name", "evented", "-l", "team=a", "busybox", "sh", "-c", "exit 3")
    stack.out("wait", container)
    stack.out("rename", "evented", "renamed")
    stack.out("rm", "renamed")
    reader.join(30)
    actions = [event["Action"] for event in events if event["Actor"]["ID"] == container]
    assert actions == ["create", "start", "die", "rename", "destroy"]
    die = next(event for event in events if event["Action"] == "die")
    assert die["Actor"]["Attributes"]["exitCode"] == "3"
    assert die["Actor"]["Attributes"]["name"] == "evented"
    assert die["Actor"]["Attributes"]["image"] == "busybox"
    assert die["Actor"]["Attributes"]["team"] == "a"
    rename = next(event for event in events if event["Action"] == "rename")
    assert rename["Actor"]["Attributes"]["oldName"] == "/evented"
