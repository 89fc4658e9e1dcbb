"""EC2 through libcloud against a real moto server: launch, list, terminate, reconcile, `clouds check`.

moto's instances run no sshd, so the boot itself is not exercised here; the Launcher's failure
paths are (SSH never comes up, the cloud API failing after create, Ctrl-C after create).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stackscripts.api.controller import Controller
from stackscripts.api.launcher import Launcher
from stackscripts.clouds import provider_for
from stackscripts.errors import CloudError, ConnectionFailed
from stackscripts.model import CloudSettings, VolumeSpec
from stackscripts.providers.base import (
    DEPLOYMENT_TAG,
    LAUNCH_TAG,
    SERVER_TAG,
    TEMPLATE_TAG,
    LaunchSpec,
)
from stackscripts.store.base import ServerRecord
from tests.support.cli import cli_json
from tests.support.ec2moto import (  # noqa: F401
    an_ami,
    boto,
    cloud_config,
    ec2_cloud,
    ec2_compat,
    instance,
    subprocess_env,
    volumes_of,
    write_clouds,
)
from tests.support.moto import MotoServer, moto_fixture
from tests.support.net import free_port
from tests.support.rightscripts import write_rightscript

pytestmark = pytest.mark.timeout(180)

TEMPLATE = """\
Name: EC2 test
RightScripts:
  Boot:
  - scripts/hello.sh
  Decommission:
  - scripts/hello.sh
MultiCloudImages:
- Name: Debian
  Settings:
  - Cloud: ec2
    Image: {ami}
    Instance Type: t3.micro
    SSH User: admin
    Volumes:
    - {{Name: data, Size: 2}}
    - {{Name: db, Size: 3, Device: /dev/sdh, Ephemeral: false}}
"""
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBp6v6H6hH5m9qkDG4GdK1h2XrQ4pnCXxwp8nbpJkMAT stackscripts-test"


def spec(moto: MotoServer, server: str, volumes: tuple[VolumeSpec, ...] = ()) -> LaunchSpec:
    settings = CloudSettings("ec2", an_ami(moto), "t3.micro", "admin", volumes)
    tags = {SERVER_TAG: server, TEMPLATE_TAG: "f" * 64, DEPLOYMENT_TAG: "shop"}
    return LaunchSpec(server=server, settings=settings, public_key=KEY, key_name="shop", tags=tags)


def tags_of(data: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in data.get("Tags", [])}


def state(moto: MotoServer, node_id: str) -> str:
    return str(instance(moto, node_id)["State"]["Name"])


def delete_kept_volumes(moto: MotoServer, server: str) -> None:
    client = boto(moto)
    for volume in client.describe_volumes(Filters=[{"Name": f"tag:{SERVER_TAG}", "Values": [server]}])["Volumes"]:
        if volume["State"] == "available":
            client.delete_volume(VolumeId=volume["VolumeId"])


@pytest.fixture
def launcher(ec2_cloud: MotoServer, tmp_path: Path) -> Iterator[tuple[Launcher, Path]]:
    write_rightscript(tmp_path / "t" / "scripts", "Hello", "echo hello\n")
    template = tmp_path / "t" / "template.yaml"
    template.write_text(TEMPLATE.format(ami=an_ami(ec2_cloud)))
    with Controller(tmp_path / "audit.db") as controller:
        yield Launcher(controller), template


def test_launch_imports_key_opens_ssh_tags_and_attaches_volumes(ec2_cloud: MotoServer) -> None:
    provider = provider_for("ec2")
    created: list[str] = []
    volumes = (VolumeSpec("data", 2), VolumeSpec("db", 3, "/dev/sdh", ephemeral=False))
    launched = spec(ec2_cloud, "ec2-web1", volumes)
    inst = provider.launch(launched, created.append, lambda message: None)
    client = boto(ec2_cloud)
    try:
        assert created == [inst.node_id] and inst.node_id.startswith("i-") and inst.host and inst.user == "admin"
        data = instance(ec2_cloud, inst.node_id)
        assert data["State"]["Name"] == "running"
        key_pair = inst.extra["key_pair"]
        assert key_pair.startswith("shop-") and data["KeyName"] == key_pair
        assert [k["KeyName"] for k in client.describe_key_pairs(KeyNames=[key_pair])["KeyPairs"]] == [key_pair]
        (group,) = client.describe_security_groups(GroupNames=["stackscripts-ssh"])["SecurityGroups"]
        assert any(p["IpProtocol"] == "tcp" and p["FromPort"] == 22 == p["ToPort"]
                   and {"CidrIp": "0.0.0.0/0"} in p["IpRanges"] for p in group["IpPermissions"])
        assert group["GroupId"] in [g["GroupId"] for g in data["SecurityGroups"]]
        assert tags_of(data) == {"Name": "ec2-web1", SERVER_TAG: "ec2-web1", TEMPLATE_TAG: "f" * 64,
                                 DEPLOYMENT_TAG: "shop", LAUNCH_TAG: launched.token}
        made = {tags_of(v)["stackscripts-volume"]: v for v in volumes_of(ec2_cloud, inst.node_id)}
        assert sorted(made) == ["data", "db"]
        for name, size, device in (("data", 2, "/dev/sdf"), ("db", 3, "/dev/sdh")):
            volume = made[name]
            assert volume["Size"] == size and volume["AvailabilityZone"] == data["Placement"]["AvailabilityZone"]
            assert [(a["InstanceId"], a["Device"]) for a in volume["Attachments"]] == [(inst.node_id, device)]
        recorded = {v["name"]: v for v in inst.extra["volumes"]}
        assert recorded["data"]["ephemeral"] is True and recorded["db"]["ephemeral"] is False

        listed = {i.node_id: i for i in provider.list_instances()}
        assert listed[inst.node_id].server == "ec2-web1"
    finally:
        provider.destroy(inst.node_id, inst.extra)
    assert state(ec2_cloud, inst.node_id) == "terminated"
    assert inst.node_id not in {i.node_id for i in provider.list_instances()}
    kept = {v["VolumeId"]: v["State"] for v in volumes_of(ec2_cloud, inst.node_id)}
    assert kept == {made["db"]["VolumeId"]: "available"}  # the persistent one stays, the ephemeral one is gone

    # relaunching the server attaches its persistent volume again, in the volume's zone
    again = provider.launch(spec(ec2_cloud, "ec2-web1", volumes), lambda node_id: None)
    try:
        db = next(v for v in again.extra["volumes"] if v["name"] == "db")
        assert db["id"] == made["db"]["VolumeId"]
        attached = client.describe_volumes(VolumeIds=[db["id"]])["Volumes"][0]["Attachments"]
        assert [(a["InstanceId"], a["Device"]) for a in attached] == [(again.node_id, "/dev/sdh")]
    finally:
        provider.destroy(again.node_id, again.extra)
        provider.destroy(again.node_id, again.extra)  # idempotent
        delete_kept_volumes(ec2_cloud, "ec2-web1")


def test_list_instances_only_sees_tagged_live_instances(ec2_cloud: MotoServer) -> None:
    provider = provider_for("ec2")
    client = boto(ec2_cloud)
    untagged = client.run_instances(ImageId=an_ami(ec2_cloud), MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    inst = provider.launch(spec(ec2_cloud, "ec2-listed"), lambda node_id: None)
    try:
        listed = {i.node_id: i.server for i in provider.list_instances()}
        assert listed[inst.node_id] == "ec2-listed" and untagged not in listed
    finally:
        provider.destroy(inst.node_id)
        client.terminate_instances(InstanceIds=[untagged])
    assert inst.node_id not in {i.node_id for i in provider.list_instances()}


def test_terminate_destroys_instance_and_ephemeral_volumes(launcher: tuple[Launcher, Path],
                                                           ec2_cloud: MotoServer) -> None:
    launch, _template = launcher
    volumes = (VolumeSpec("data", 2), VolumeSpec("db", 3, "/dev/sdh", ephemeral=False))
    inst = provider_for("ec2").launch(spec(ec2_cloud, "ec2-term", volumes), lambda node_id: None)
    launch.c.store.put_server(ServerRecord(name="ec2-term", host=inst.host, user=inst.user, state="operational",
                                           cloud="ec2", node_id=inst.node_id, extra=dict(inst.extra)))
    assert launch.terminate("ec2-term") is None  # no template recorded: nothing to decommission
    assert state(ec2_cloud, inst.node_id) == "terminated"
    assert launch.c.store.get_server("ec2-term").state == "terminated"
    left = [(tags_of(v)["stackscripts-volume"], v["State"]) for v in volumes_of(ec2_cloud, inst.node_id)]
    assert left == [("db", "available")]
    delete_kept_volumes(ec2_cloud, "ec2-term")


def test_ssh_never_coming_up_destroys_the_instance(launcher: tuple[Launcher, Path], ec2_cloud: MotoServer) -> None:
    launch, template = launcher
    with pytest.raises(ConnectionFailed) as caught:
        launch.launch(template, "ec2-nossh", cloud="ec2")
    assert "SSH never came up" in str(caught.value) and "within 2s" in str(caught.value)
    record = launch.c.store.get_server("ec2-nossh")
    assert record.state == "terminated" and record.node_id
    assert state(ec2_cloud, record.node_id) == "terminated"
    assert [v["name"] for v in record.extra["volumes"]] == ["data", "db"]  # recorded before the wait
    assert [tags_of(v)["stackscripts-volume"] for v in volumes_of(ec2_cloud, record.node_id)] == ["db"]
    delete_kept_volumes(ec2_cloud, "ec2-nossh")


def test_cloud_api_failing_after_create_destroys_the_node(launcher: tuple[Launcher, Path], ec2_cloud: MotoServer,
                                                          tmp_path: Path) -> None:
    """io1 volumes need an Iops setting: EC2 (and moto) refuse CreateVolume after the instance exists."""
    write_clouds(tmp_path / "clouds.yaml", {"ec2": cloud_config(ec2_cloud, ssh_wait=2, volume_type="io1")})
    launch, template = launcher
    with pytest.raises(CloudError) as caught:
        launch.launch(template, "ec2-apifail", cloud="ec2")
    assert "creating volume data" in str(caught.value)
    record = launch.c.store.get_server("ec2-apifail")
    assert record.state == "terminated" and record.node_id  # the id was recorded as soon as it existed
    assert state(ec2_cloud, record.node_id) == "terminated"
    assert volumes_of(ec2_cloud, record.node_id) == []


@pytest.mark.parametrize("moment", ["attached data", "waiting for SSH"])
def test_ctrl_c_after_create_leaves_nothing_behind(launcher: tuple[Launcher, Path], ec2_cloud: MotoServer,
                                                  tmp_path: Path, moment: str) -> None:
    write_clouds(tmp_path / "clouds.yaml", {"ec2": cloud_config(ec2_cloud, ssh_wait=2)})
    launch, template = launcher
    name = "ec2-ctrlc-" + moment.split()[0]

    def progress(message: str) -> None:
        if moment in message:
            raise KeyboardInterrupt

    launch.progress = progress
    with pytest.raises(KeyboardInterrupt):
        launch.launch(template, name, cloud="ec2")
    record = launch.c.store.get_server(name)
    assert record.state == "terminated" and record.node_id
    assert state(ec2_cloud, record.node_id) == "terminated"
    assert [tags_of(v)["stackscripts-volume"] for v in volumes_of(ec2_cloud, record.node_id)] == ["db"]
    delete_kept_volumes(ec2_cloud, name)


def test_reconcile_finds_orphans_and_vanished_servers(launcher: tuple[Launcher, Path],
                                                      ec2_cloud: MotoServer) -> None:
    launch, _template = launcher
    provider = provider_for("ec2")
    orphan = provider.launch(spec(ec2_cloud, "ec2-orphan"), lambda node_id: None)  # behind the store's back
    tracked = provider.launch(spec(ec2_cloud, "ec2-tracked"), lambda node_id: None)
    launch.c.store.put_server(ServerRecord(name="ec2-tracked", host=tracked.host, state="operational",
                                           cloud="ec2", node_id=tracked.node_id))
    try:
        boto(ec2_cloud).terminate_instances(InstanceIds=[tracked.node_id])  # behind our back
        findings = {(f["kind"], f.get("node_id")): f for f in launch.reconcile() if f["cloud"] == "ec2"}
        assert findings[("orphan", orphan.node_id)]["server"] == "ec2-orphan"
        assert findings[("vanished", tracked.node_id)]["server"] == "ec2-tracked"
        assert not any(node_id == tracked.node_id for kind, node_id in findings if kind == "orphan")
    finally:
        provider.destroy(orphan.node_id)


@pytest.fixture
def cli_env(moto_server: MotoServer, tmp_path: Path) -> Callable[..., dict[str, str]]:
    """Environment for the CLI: a clouds file with cloud ec2 on moto (config overridden), the harness active."""

    def make(**config: Any) -> dict[str, str]:
        clouds = write_clouds(tmp_path / "cli-clouds.yaml", {"ec2": {**cloud_config(moto_server), **config}})
        return {**subprocess_env(tmp_path / "site"), "STACKSCRIPTS_CLOUDS": str(clouds)}

    return make


def test_clouds_check_with_good_credentials(cli_env: Callable[..., dict[str, str]]) -> None:
    doc = cli_json("clouds", "check", "ec2", env=cli_env(), timeout=60)
    assert doc["data"]["cloud"] == "ec2"
    assert "credentials work in us-east-1" in doc["data"]["message"] and "availability zones" in doc["data"]["message"]


@pytest.fixture(scope="module")
def moto_with_auth() -> Iterator[MotoServer]:
    """A moto server that checks credentials (only keys it issued are accepted)."""
    yield from moto_fixture({"INITIAL_NO_AUTH_ACTION_COUNT": "0"})


@pytest.mark.parametrize("case", ["bad credentials", "closed port", "bad endpoint URL", "no secret"])
def test_clouds_check_failures_exit_2_with_a_clear_message(cli_env: Callable[..., dict[str, str]], case: str,
                                                           moto_with_auth: MotoServer) -> None:
    config, expected = {
        "bad credentials": ({"endpoint": moto_with_auth.endpoint, "key": "AKIAWRONG"}, "AuthFailure"),
        "closed port": ({"endpoint": f"http://127.0.0.1:{free_port()}"}, "cannot connect to 127.0.0.1:"),
        "bad endpoint URL": ({"endpoint": "ftp://127.0.0.1"}, "is not an http(s) URL"),
        "no secret": ({"secret": ""}, "no AWS credentials configured"),
    }[case]
    doc = cli_json("clouds", "check", "ec2", code=2, env=cli_env(**config), timeout=60)
    assert doc["error"]["type"] == "CloudError"
    assert expected in doc["error"]["message"] and doc["error"]["message"].startswith("ec2: ")
