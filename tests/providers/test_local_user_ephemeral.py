"""`SSH User` and `Ephemeral: false` on the local cloud, through the real launch path (Launcher -> provider -> boot).

A template asks for the user `admin` and two drives: `data` (Ephemeral: false) and `scratch`. Its boot step
prints who it runs as, what sudo gives, and what each drive holds, then marks both drives. A second launch of
the same server name must see the mark on `data` (kept) and not on `scratch` (a fresh drive).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from stackscripts.api.controller import Controller
from stackscripts.api.launcher import Launcher
from stackscripts.errors import CloudError
from stackscripts.model import RunResult
from stackscripts.providers.local import devices

TEMPLATE = """Name: Admin user
RightScripts:
  Boot:
  - whoami.sh
MultiCloudImages:
- Name: Debian 12
  Settings:
  - Cloud: local
    Image: stackscripts/debian:bookworm
    Instance Type: small
    SSH User: admin
    Volumes:
    - {Name: data, Size: 1, Device: /dev/xvdb, Ephemeral: false}
    - {Name: scratch, Size: 1, Device: /dev/xvdc}
"""
SCRIPT = """#!/bin/bash
# ---
# RightScript Name: Who and drives
# Inputs: {}
# ...
set -eu
echo "user=$(id -un) home=$HOME"
echo "sudo=$(sudo -n id -un)"
echo "data=$(sudo head -c 40 /dev/xvdb | tr -d '\\0')"
echo "scratch=$(sudo head -c 40 /dev/xvdc | tr -d '\\0')"
printf 'kept-%s' "$STACKSCRIPTS_RUN_ID" | sudo dd of=/dev/xvdb conv=notrunc status=none
printf 'lost-%s' "$STACKSCRIPTS_RUN_ID" | sudo dd of=/dev/xvdc conv=notrunc status=none
"""


@pytest.fixture
def world(tmp_path: Path, local_base_image: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Launcher]:
    state = tmp_path / "local-cloud"
    monkeypatch.setenv("STACKSCRIPTS_LOCAL_STATE", str(state))
    monkeypatch.setenv("STACKSCRIPTS_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("STACKSCRIPTS_CLOUDS", str(tmp_path / "no-clouds.yaml"))
    (tmp_path / "whoami.sh").write_text(SCRIPT)
    (tmp_path / "admin.yaml").write_text(TEMPLATE)
    controller = Controller(tmp_path / "audit.db")
    launcher = Launcher(controller)
    try:
        yield launcher
    finally:
        from stackscripts.providers.local import LocalNodeDriver

        driver = LocalNodeDriver(ex_state_dir=state)
        for record in controller.store.list_servers():
            driver.destroy_node(record.name)
        controller.close()
        leftovers = devices.attached_under(state)
        for loop_device, _backing in leftovers:
            devices.detach(loop_device)
        for image in state.glob(".persistent/*/*.img"):
            image.unlink()
        assert leftovers == []


def outputs(result: RunResult) -> dict[str, str]:
    """The step's `key=value` words."""
    return dict(word.split("=", 1) for word in result.steps[0].stdout.split() if "=" in word)


def test_steps_run_as_the_ssh_user_and_persistent_drives_outlive_the_instance(world: Launcher, tmp_path: Path) -> None:
    name = f"admin-{uuid.uuid4().hex[:8]}"
    first = world.launch(tmp_path / "admin.yaml", name)
    record = world.c.store.get_server(name)
    assert record.user == "admin" and record.host is not None
    seen = outputs(first)
    assert seen["user"] == "admin" and seen["home"] == "/home/admin" and seen["sudo"] == "root"
    assert seen["data"] == "" and seen["scratch"] == ""

    # root has no key: only the template's user logs in (as on a cloud image)
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    with pytest.raises(paramiko.AuthenticationException):
        client.connect(record.host, port=record.port, username="root", key_filename=record.key_path,
                       allow_agent=False, look_for_keys=False, timeout=10)  # fmt: skip
    client.close()

    world.terminate(name)
    state = tmp_path / "local-cloud"
    kept = state / ".persistent" / name / "data.img"
    assert kept.is_file() and not (state / name).exists()  # the scratch drive went with its instance
    assert devices.attached_under(state) == []

    second = world.launch(tmp_path / "admin.yaml", name)
    again = outputs(second)
    assert again["data"] == f"kept-{first.run_id}"
    assert again["scratch"] == ""
    volumes = {v["name"]: v for v in world.c.store.get_server(name).extra["volumes"]}
    assert volumes["data"]["ephemeral"] is False and volumes["data"]["backing_file"] == str(kept)
    world.terminate(name)
    assert kept.is_file()


def test_an_invalid_ssh_user_is_refused_before_anything_is_created(local_driver, key_pair, test_run_id: str) -> None:
    name = f"{test_run_id}-baduser"
    with pytest.raises(CloudError, match="not a valid login name"):
        local_driver.create_node(name, "small", None, ex_authorized_key=key_pair.public, ex_ssh_user="Bad User")
    with pytest.raises(CloudError, match="system account"):
        local_driver.create_node(name, "small", None, ex_authorized_key=key_pair.public, ex_ssh_user="daemon")
    assert local_driver.ex_get_node(name) is None
    assert not (local_driver.state_root / name).exists()
