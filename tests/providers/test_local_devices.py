"""Ephemeral drives on real loop devices: sparse files, attach, find, detach."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from stackscripts.errors import CloudError
from stackscripts.providers.local import devices
from tests.support.parts import require


@pytest.fixture
def loop_ok() -> None:
    require(os.geteuid() == 0 and os.path.exists("/dev/loop-control"), "root with /dev/loop-control (loop devices)")


def test_create_attach_find_detach(tmp_path: Path, loop_ok: None) -> None:
    drive = devices.create(tmp_path, "data", 3, "/dev/xvdb")
    try:
        backing = Path(drive.backing_file)
        assert backing.stat().st_size == 3 * 1024**3
        assert backing.stat().st_blocks * 512 < 1024**2  # sparse
        assert Path(drive.loop_device).is_block_device()
        assert devices.attached_under(tmp_path) == [(drive.loop_device, drive.backing_file)]
        listing = subprocess.run(["losetup", "-a"], capture_output=True, text=True, check=True).stdout
        assert drive.backing_file in listing
    finally:
        devices.detach(drive.loop_device)
    assert devices.attached_under(tmp_path) == []
    devices.detach(drive.loop_device)  # twice is fine


def test_deleted_backing_file_is_still_found(tmp_path: Path, loop_ok: None) -> None:
    drive = devices.create(tmp_path, "gone", 1, "/dev/xvdb")
    try:
        os.unlink(drive.backing_file)
        assert [d for d, _ in devices.attached_under(tmp_path)] == [drive.loop_device]
    finally:
        devices.detach(drive.loop_device)
    assert devices.attached_under(tmp_path) == []


def test_two_drives_get_distinct_loop_devices(tmp_path: Path, loop_ok: None) -> None:
    first = devices.create(tmp_path, "a", 1, "/dev/xvdb")
    second = devices.create(tmp_path, "b", 1, "/dev/xvdc")
    try:
        assert first.loop_device != second.loop_device
        assert sorted(devices.attached_under(tmp_path)) == sorted(
            [(first.loop_device, first.backing_file), (second.loop_device, second.backing_file)]
        )
    finally:
        devices.detach(first.loop_device)
        devices.detach(second.loop_device)


def test_zero_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CloudError, match="positive size_gb"):
        devices.create(tmp_path, "empty", 0, "/dev/xvdb")
