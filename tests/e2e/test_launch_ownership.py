"""A launch only ever destroys what it made itself: never another store's instance of the same name.

Clean-up after a failed or interrupted create, and `terminate`, go by the node id the cloud returned or by the
launch token the command chose (recorded in the server's `extra` and set as a tag/label) before the create call.
Two audit stores launching the same name on the real local cloud; a generic libcloud cloud and EC2 on a real
moto server.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from stackscripts.model import CloudSettings
from stackscripts.providers.base import LAUNCH_TAG, SERVER_TAG, LaunchSpec
from stackscripts.providers.ec2 import EC2Provider
from stackscripts.providers.libcloud_provider import LibcloudProvider
from stackscripts.store.base import ServerRecord
from stackscripts.store.sqlite import SQLiteStore
from tests.support.cli import no_traceback, run_cli
from tests.support.ec2moto import (  # noqa: F401
    an_ami,
    boto,
    cloud_config,
    ec2_cloud,
    ec2_compat,
    instance,
    subprocess_env,
)
from tests.support.moto import MotoServer
from tests.support.rightscripts import write_rightscript

from .conftest import Cli, docker_names, local_template

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

TEMPLATE = local_template("Hello", "hello.sh")
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBp6v6H6hH5m9qkDG4GdK1h2XrQ4pnCXxwp8nbpJkMAT stackscripts-test"


def loops_under(folder: Path) -> list[str]:
    """Loop devices whose backing file is under folder (deleted files too)."""
    out = subprocess.run(["losetup", "--list", "--noheadings", "--raw", "--output", "NAME,BACK-FILE"],
                         capture_output=True, text=True, check=True).stdout
    return [line.split(" ", 1)[0] for line in out.splitlines() if f" {folder}/" in line]


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Path]:
    """A private local-cloud state folder; whatever a test leaves under it is destroyed afterwards."""
    folder = tmp_path / "local-cloud"
    yield folder
    from stackscripts.providers.local import LocalNodeDriver
    from stackscripts.providers.local.drives import release

    driver = LocalNodeDriver(ex_state_dir=folder)
    for node in driver.list_nodes():
        if str(node.extra.get("state_dir", "")).startswith(f"{folder}/"):
            driver.destroy_node(node)
    for home in folder.glob("*"):
        release(home.name, home)


def test_a_second_store_launching_the_same_name_leaves_the_first_ones_instance(cli: Cli, tmp_path: Path,
                                                                                 state: Path) -> None:
    name = f"own-{uuid.uuid4().hex[:6]}"
    write_rightscript(tmp_path, "Hello", "echo hello from $STACKSCRIPTS_SERVER\n")
    template = tmp_path / "hello.yaml"
    template.write_text(TEMPLATE)
    env = {**cli.env, "STACKSCRIPTS_LOCAL_STATE": str(state)}
    first, second = Cli(env, tmp_path / "first.db"), Cli(env, tmp_path / "second.db")

    code, launched = first.json("launch", str(template), "--name", name)
    assert code == 0, launched
    assert docker_names(name) == [name] and len(loops_under(state)) == 1
    _, shown = first.json("servers", "show", name)
    node_id, token = shown["data"]["node_id"], shown["data"]["extra"]["launch_token"]
    labels = subprocess.run(["docker", "inspect", "-f", '{{index .Config.Labels "stackscripts.launch"}}', name],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert labels == token  # the token recorded before the create is the instance's label

    code, failed = second.json("launch", str(template), "--name", name)
    assert code == 2 and f"an instance named {name!r} already exists" in failed["error"]["message"]
    assert docker_names(name) == [name], "the second store's clean-up destroyed the first store's instance"
    running = subprocess.run(["docker", "inspect", "-f", "{{.Id}} {{.State.Status}}", name],
                             capture_output=True, text=True, check=True).stdout.split()
    assert running == [node_id, "running"] and len(loops_under(state)) == 1 and (state / name).is_dir()
    _, theirs = second.json("servers", "show", name)
    assert theirs["data"]["state"] == "terminated" and theirs["data"]["extra"]["destroyed"] == []
    assert theirs["data"]["extra"]["launch_token"] != token

    terminated = second.run("terminate", name)  # the second store's record: its launch made nothing
    assert terminated.returncode == 0 and terminated.stdout == f"{name}: terminated (nothing to destroy)\n"
    assert docker_names(name) == [name]
    _, again = first.json("boot", name, "-t", str(template))
    assert again["data"]["state"] == "succeeded", again

    terminated = first.run("terminate", name)
    assert terminated.returncode == 0, terminated.stderr
    assert terminated.stdout.splitlines()[-1] == f"{name}: terminated (destroyed {node_id[:12]})"
    assert docker_names(name) == [] and loops_under(state) == [] and not (state / name).exists()


@pytest.fixture
def generic(ec2_cloud: MotoServer) -> LibcloudProvider:
    """The generic libcloud adapter on libcloud's EC2 driver, against the moto server."""
    options = EC2Provider("ec2", cloud_config(ec2_cloud)).endpoint_options(ec2_cloud.endpoint)
    return LibcloudProvider("generic", {"driver": "ec2", "key": "testing", "secret": "testing",
                                        "region": "us-east-1", "wait_running": 30, "poll_interval": 0.1,
                                        "options": {**options, "signature_version": "4"}})


def live(moto: MotoServer, server: str) -> dict[str, str]:
    """Instance id -> state of the instances tagged for this server."""
    found = boto(moto).describe_instances(Filters=[{"Name": f"tag:{SERVER_TAG}", "Values": [server]}])
    return {i["InstanceId"]: i["State"]["Name"] for r in found["Reservations"] for i in r["Instances"]}


def test_a_failed_create_on_a_libcloud_cloud_spares_the_instance_of_the_same_name(generic: LibcloudProvider,
                                                                                  ec2_cloud: MotoServer) -> None:
    name = f"own-{uuid.uuid4().hex[:6]}"
    settings = CloudSettings("ec2", an_ami(ec2_cloud), "t3.micro", "admin")
    theirs = generic.launch(LaunchSpec(name, settings, KEY, "k", {SERVER_TAG: name}), lambda node_id: None)
    try:
        assert instance(ec2_cloud, theirs.node_id)["State"]["Name"] == "running"
        # The same name from another store: its create fails in the cloud (libcloud's EC2 driver imports the key
        # inside create_node; the pair exists now, and EC2 refuses the import: InvalidKeyPair.Duplicate).
        mine = LaunchSpec(name, settings, KEY, "k", {SERVER_TAG: name})
        with pytest.raises(Exception, match="create_node failed"):
            generic.launch(mine, lambda node_id: None)
        assert live(ec2_cloud, name) == {theirs.node_id: "running"}, "the clean-up destroyed by server name"
        tags = {t["Key"]: t["Value"] for t in instance(ec2_cloud, theirs.node_id)["Tags"]}
        assert tags[LAUNCH_TAG] != mine.token
        assert generic.launched(tags[LAUNCH_TAG]) == [theirs.node_id] and generic.launched(mine.token) == []
    finally:
        generic.destroy(theirs.node_id)
    assert generic.destroy(theirs.node_id) is False  # idempotent, and it says there was nothing


def test_terminate_after_a_killed_launch_destroys_its_instance_and_only_it(ec2_cloud: MotoServer,
                                                                         tmp_path: Path) -> None:
    """The create reached EC2 but the controller died before recording the id: the record holds the token only."""
    name = f"own-{uuid.uuid4().hex[:6]}"
    provider = EC2Provider("ec2", {"provider": "ec2", **cloud_config(ec2_cloud)})
    settings = CloudSettings("ec2", an_ami(ec2_cloud), "t3.micro", "admin")
    theirs = provider.launch(LaunchSpec(name, settings, KEY, "k", {SERVER_TAG: name}), lambda node_id: None)
    killed = LaunchSpec(name, settings, KEY, "k", {SERVER_TAG: name})
    orphan = provider.launch(killed, lambda node_id: None)  # made in the cloud; its id never reaches the store
    db = tmp_path / "killed.db"
    with SQLiteStore(db) as store:
        store.put_server(ServerRecord(name=name, cloud="ec2", state="pending",
                                      extra={"launching": True, "launch_token": killed.token}))
    env = {**subprocess_env(tmp_path / "site"), "STACKSCRIPTS_CLOUDS": str(tmp_path / "clouds.yaml")}
    try:
        done = run_cli("terminate", name, "--db", str(db), env=env, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        no_traceback(done.stdout + done.stderr)
        assert done.stdout == f"{name}: terminated (destroyed {orphan.node_id})\n"
        assert live(ec2_cloud, name) == {theirs.node_id: "running", orphan.node_id: "terminated"}
        again = run_cli("terminate", name, "--db", str(db), env=env, timeout=120)
        assert again.returncode == 0 and again.stdout == f"{name}: terminated (nothing to destroy)\n"
    finally:
        provider.destroy(theirs.node_id)
        provider.destroy(orphan.node_id)
