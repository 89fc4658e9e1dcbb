"""A host reboot, simulated honestly: the instance is stopped, every loop device of it is detached and /dev (a
devtmpfs, empty after a reboot) loses its links; another disk may take the freed loop number. Starting the instance
again through the driver (or the provider) must bring /dev/xvdb back with its data, never another disk.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from libcloud.compute.types import NodeState

from stackscripts.errors import CloudError
from stackscripts.providers.local import devices, drives
from stackscripts.providers.local.devices import Drive
from tests.providers.conftest import Ssh

MARK = "written-before-the-reboot"


def simulate_host_reboot(driver: Any, node: Any) -> None:
    """What a reboot does to an instance's drives: it stops, its loop devices are gone, so is /dev's content."""
    driver.stop_node(node)
    assert driver.ex_get_node(node.name).state == NodeState.STOPPED
    for loop_device in node.extra["loop_devices"]:
        subprocess.run(["losetup", "-d", loop_device], check=True)
    shutil.rmtree(drives.link_dir(node.name))
    assert all(v["loop_device"] == "" for v in driver.ex_get_node(node.name).extra["volumes"])


@pytest.fixture
def squatter(tmp_path: Path) -> Iterator[list[Drive]]:
    """Disks attached by someone else after the 'reboot' (they get the lowest free loop numbers)."""
    made: list[Drive] = []
    yield made
    for drive in made:
        devices.detach(drive.loop_device)


def write_mark(ssh: Ssh) -> None:
    ssh.check(f"printf {MARK} | dd of=/dev/xvdb conv=notrunc status=none && sync")


def read_mark(ssh: Ssh) -> str:
    return ssh.check(f"head -c {len(MARK)} /dev/xvdb | tr -d '\\0'")


def test_start_after_a_host_reboot_attaches_the_drives_again(
    local_driver, launch, key_pair, ssh_connect, squatter, tmp_path: Path
) -> None:
    node = launch("reboot", volumes=[{"name": "data", "size_gb": 1}, {"name": "more", "size_gb": 2}])
    ssh = ssh_connect(node.extra["ssh_port"], key_pair.pkey())
    write_mark(ssh)
    ssh.client.close()

    simulate_host_reboot(local_driver, node)
    squatter.append(devices.create(tmp_path, "squatter", 1, "/dev/xvdz"))  # likely takes a freed number

    with pytest.raises(CloudError):  # a plain engine start finds no device: it fails, it does not guess
        local_driver.engine.start(node.id)

    assert local_driver.start_node(node) is True
    again = local_driver.ex_get_node(node.name)
    assert again.state == NodeState.RUNNING
    assert [v["device"] for v in again.extra["volumes"]] == ["/dev/xvdb", "/dev/xvdc"]
    assert squatter[0].loop_device not in again.extra["loop_devices"]
    assert len(again.extra["loop_devices"]) == 2
    ssh = ssh_connect(again.extra["ssh_port"], key_pair.pkey())
    assert read_mark(ssh) == MARK
    assert ssh.check("blockdev --getsize64 /dev/xvdb /dev/xvdc").split() == [str(1024**3), str(2 * 1024**3)]
    ssh.client.close()

    local_driver.destroy_node(again)
    listing = subprocess.run(["losetup", "-a"], capture_output=True, text=True, check=True).stdout
    assert all(v["backing_file"] not in listing for v in again.extra["volumes"])
    assert not drives.link_dir(node.name).exists()


def test_reboot_and_provider_start_restore_the_drives_too(local_driver, launch, key_pair, ssh_connect) -> None:
    from stackscripts.providers.local_provider import LocalProvider

    node = launch("reboot2", volumes=[{"name": "data", "size_gb": 1}])
    ssh = ssh_connect(node.extra["ssh_port"], key_pair.pkey())
    write_mark(ssh)
    ssh.client.close()

    simulate_host_reboot(local_driver, node)
    assert local_driver.reboot_node(node) is True  # a restart of a stopped instance after the reboot
    ssh = ssh_connect(local_driver.ex_get_node(node.name).extra["ssh_port"], key_pair.pkey())
    assert read_mark(ssh) == MARK
    ssh.client.close()

    simulate_host_reboot(local_driver, node)
    provider = LocalProvider("local", {"state_dir": str(local_driver.state_root)})
    instance = provider.start(node.id)
    assert instance.port and instance.user == "root" and instance.server == node.name
    ssh = ssh_connect(instance.port, key_pair.pkey())
    assert read_mark(ssh) == MARK
    ssh.client.close()


def test_a_drive_whose_file_is_gone_is_a_clear_error(local_driver, launch) -> None:
    node = launch("gone", volumes=[{"name": "data", "size_gb": 1}])
    simulate_host_reboot(local_driver, node)
    Path(node.extra["volumes"][0]["backing_file"]).unlink()
    with pytest.raises(CloudError, match=r"/dev/xvdb cannot be restored: .*data\.img is gone"):
        local_driver.start_node(node)
    assert local_driver.ex_get_node(node.name).state == NodeState.STOPPED
