"""The local cloud on the real Docker engine: launch, SSH, ephemeral drives, host keys, reboot, destroy."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import paramiko
import pytest
from libcloud.compute.types import NodeState

from stackscripts.errors import CloudError
from stackscripts.providers.local import BASE_TAG


def _loop_listing() -> str:
    return subprocess.run(["losetup", "-a"], capture_output=True, text=True, check=True).stdout


def _container_exists(driver, ref: str) -> bool:
    return driver.engine.inspect(ref) is not None


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_catalogue(local_driver) -> None:
    assert local_driver.type == "local"
    assert local_driver.name == "stackscripts local cloud"
    sizes = {s.id: s for s in local_driver.list_sizes()}
    assert sizes["small"].ram == 1024 and {"medium", "large"} <= set(sizes)
    assert [loc.id for loc in local_driver.list_locations()] == ["localhost"]
    assert BASE_TAG in [i.id for i in local_driver.list_images()]


def test_launch_ssh_drive_and_destroy(local_driver, launch, key_pair, ssh_connect, run_labels) -> None:
    """(How long launch to SSH takes: benchmarks/thresholds.py.)"""
    node = launch("drive", volumes=[{"name": "ephemeral0", "size_gb": 4}])
    ssh = ssh_connect(node.extra["ssh_port"], key_pair.pkey())
    assert node.public_ips == ["127.0.0.1"] and node.state == NodeState.RUNNING
    assert run_labels.items() <= node.extra["labels"].items()
    assert node.extra["labels"]["stackscripts.managed"] == "1"
    [volume] = node.extra["volumes"]
    assert volume["device"] == "/dev/xvdb" and volume["size_gb"] == 4
    assert node.extra["loop_devices"] == [volume["loop_device"]]
    assert Path(volume["backing_file"]).is_file()

    assert ssh.check("hostname").strip() == node.name
    ssh.check("test -b /dev/xvdb")
    ssh.check("mkfs.btrfs -f /dev/xvdb >/dev/null && mkdir -p /mnt && mount /dev/xvdb /mnt && touch /mnt/x")
    assert "btrfs" in ssh.check("findmnt -n -o FSTYPE /mnt")
    assert ssh.check("blockdev --getsize64 /dev/xvdb").strip() == str(4 * 1024**3)
    ssh.client.close()

    assert local_driver.destroy_node(node) is True
    assert not _container_exists(local_driver, node.extra["container_id"])
    assert volume["backing_file"] not in _loop_listing()
    assert volume["loop_device"] + ":" not in _loop_listing()
    assert not Path(volume["backing_file"]).exists()
    assert not Path(node.extra["state_dir"]).exists()
    assert local_driver.destroy_node(node) is True  # idempotent
    assert local_driver.destroy_node(node.name) is True


def test_key_only_root_login(local_driver, launch, key_pair, tmp_path: Path, ssh_connect, new_key_pair) -> None:
    node = launch("auth")
    ssh_connect(node.extra["ssh_port"], key_pair.pkey()).client.close()
    stranger = new_key_pair(tmp_path, "stranger")
    with pytest.raises(paramiko.AuthenticationException):
        ssh_connect(node.extra["ssh_port"], stranger.pkey(), timeout=10)
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    with pytest.raises(paramiko.AuthenticationException):
        client.connect("127.0.0.1", port=node.extra["ssh_port"], username="root", password="root",
                       allow_agent=False, look_for_keys=False, timeout=10)  # fmt: skip
    client.close()


def test_instances_have_distinct_host_keys_that_survive_reboot(
    local_driver, launch, key_pair, ssh_connect, run_labels
) -> None:
    first, second = launch("keys-a"), launch("keys-b")
    key_a = ssh_connect(first.extra["ssh_port"], key_pair.pkey()).host_key
    key_b = ssh_connect(second.extra["ssh_port"], key_pair.pkey()).host_key
    assert key_a != key_b
    ours = {n.name for n in local_driver.list_nodes(run_labels)}
    assert {first.name, second.name} <= ours

    assert local_driver.reboot_node(first) is True
    again = local_driver.ex_get_node(first.name)
    assert again is not None and again.extra["ssh_port"]  # the engine may publish a new port on restart
    ssh = ssh_connect(again.extra["ssh_port"], key_pair.pkey())
    assert ssh.host_key == key_a
    assert ssh.check("cat /proc/1/cmdline | tr '\\0' ' '").startswith("/sbin/docker-init")
    ssh.client.close()


def test_destroy_by_name_from_a_fresh_driver(local_driver, launch, key_pair, ssh_connect) -> None:
    from stackscripts.providers.local import LocalNodeDriver

    node = launch("byname", volumes=[{"name": "a", "size_gb": 1}, {"name": "b", "size_gb": 1, "device": "/dev/xvdd"}])
    assert [v["device"] for v in node.extra["volumes"]] == ["/dev/xvdb", "/dev/xvdd"]
    ssh = ssh_connect(node.extra["ssh_port"], key_pair.pkey())
    ssh.check("test -b /dev/xvdb && test -b /dev/xvdd && ! test -e /dev/xvdc")
    ssh.client.close()
    fresh = LocalNodeDriver()  # default state dir: the container's label says where its files are
    assert fresh.destroy_node(node.name) is True
    assert fresh.ex_get_node(node.name) is None
    listing = _loop_listing()
    assert all(v["backing_file"] not in listing for v in node.extra["volumes"])
    assert not Path(node.extra["state_dir"]).exists()
    assert not _port_open(node.extra["ssh_port"])


def test_stop_and_start_reread_the_port(local_driver, launch, key_pair, ssh_connect) -> None:
    node = launch("stopstart")
    local_driver.stop_node(node)
    assert local_driver.ex_get_node(node.name).state == NodeState.STOPPED
    local_driver.start_node(node)
    again = local_driver.ex_get_node(node.name)
    assert again.state == NodeState.RUNNING and again.extra["ssh_port"]
    ssh_connect(again.extra["ssh_port"], key_pair.pkey()).client.close()


def test_bad_requests_are_cloud_errors(local_driver, launch, key_pair) -> None:
    with pytest.raises(CloudError, match="not a valid instance name"):
        local_driver.create_node("../etc", "small", None, ex_authorized_key=key_pair.public)
    with pytest.raises(CloudError, match="OpenSSH public key"):
        local_driver.create_node("fine-name", "small", None, ex_authorized_key="not a key")
    with pytest.raises(CloudError, match="unknown size"):
        local_driver.create_node("fine-name", "huge", None, ex_authorized_key=key_pair.public)
    with pytest.raises(CloudError, match="no image"):
        local_driver.create_node("fine-name", "small", "nope/nothing:1", ex_authorized_key=key_pair.public)
    with pytest.raises(CloudError, match="unique"):
        local_driver.create_node("fine-name", "small", None, ex_authorized_key=key_pair.public,
                                 ex_volumes=[{"name": "a", "size_gb": 1}, {"name": "a", "size_gb": 1}])  # fmt: skip
    node = launch("dup")
    with pytest.raises(CloudError, match="already exists"):
        local_driver.create_node(node.name, "small", None, ex_authorized_key=key_pair.public)
    assert local_driver.ex_get_node(node.name) is not None  # the failed duplicate did not harm the original


def test_failed_create_leaves_nothing_behind(local_driver, key_pair, test_run_id: str) -> None:
    name = f"{test_run_id}-fail"
    with pytest.raises(CloudError):
        local_driver.create_node(name, "small", None, ex_authorized_key=key_pair.public,
                                 ex_volumes=[{"name": "ok", "size_gb": 1}, {"name": "bad", "size_gb": -1}])  # fmt: skip
    assert local_driver.ex_get_node(name) is None
    assert str(local_driver.state_root / name) not in _loop_listing()
    assert not (local_driver.state_root / name).exists()
