"""An instance's drives: where their backing files live, how the container reaches them, and how they come back.

- Ephemeral drives (the default) are sparse files in the instance's folder, deleted with it.
- `Ephemeral: false` drives are files under STATE/.persistent/NAME/, kept when the instance is destroyed and attached
  again to the next instance of that name (like EC2's persistent volumes).
- The container's devices point at links /dev/stackscripts/NAME/xvdX -> /dev/loopN, never at a loop device itself.
  /dev is a devtmpfs, so after a host reboot (loop devices gone, numbers handed out anew) the links are gone too:
  a plain `docker start` then fails instead of giving the instance another instance's disk, and
  LocalNodeDriver.start_node re-attaches each backing file (restore) and remakes the links before starting.

What an instance's drives are is recorded in the container's `stackscripts.volumes` label (JSON), so it is known
even when no loop device is attached.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ...errors import CloudError
from . import devices

VOLUMES_LABEL = "stackscripts.volumes"
PERSISTENT = ".persistent"
LAUNCH_MARKER = ".launch"  # in an instance's folder: the launch token of the create that made the folder
LINK_ROOT = Path("/dev/stackscripts")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class DriveSpec:
    """One drive of an instance: `device` in the container, backed by `backing_file` on the host."""

    name: str
    size_gb: int
    device: str
    ephemeral: bool
    backing_file: str


def persistent_dir(home: Path) -> Path:
    """Where the `Ephemeral: false` drives of the instance whose folder is `home` are kept."""
    return home.parent / PERSISTENT / home.name


def link_dir(instance: str) -> Path:
    return LINK_ROOT / instance


def plan(volumes: Sequence[Mapping[str, Any] | Any] | None, home: Path) -> list[DriveSpec]:
    """Dicts or VolumeSpec-like objects as drives, assigning /dev/xvdb... in order; CloudError on bad ones."""
    raw = []
    for index, volume in enumerate(volumes or ()):
        get = volume.get if isinstance(volume, Mapping) else lambda k, v=volume: getattr(v, k, None)
        name = str(get("name") or f"ephemeral{index}")
        if not NAME.match(name):
            raise CloudError(f"local cloud: volume name {name!r} may hold only letters, digits, '.', '_' and '-'.")
        ephemeral = get("ephemeral")
        raw.append((name, int(get("size_gb") or 0), get("device"), ephemeral is None or bool(ephemeral)))
    free = iter(devices.device_names(len(raw), {device for _n, _s, device, _e in raw if device}))
    specs = []
    for name, size_gb, device, ephemeral in raw:
        folder = home if ephemeral else persistent_dir(home)
        specs.append(DriveSpec(name, size_gb, device or next(free), ephemeral, str(folder / f"{name}.img")))
    names, devs = [s.name for s in specs], [s.device for s in specs]
    if len(set(names)) != len(names) or len(set(devs)) != len(devs):
        raise CloudError(f"local cloud: volume names and devices must be unique, got {names} on {devs}.")
    return specs


def encode(specs: Sequence[DriveSpec]) -> str:
    return json.dumps([asdict(s) for s in specs], separators=(",", ":"))


def decode(labels: Mapping[str, str]) -> list[DriveSpec] | None:
    """The drives recorded on a container, None when it predates the label."""
    text = labels.get(VOLUMES_LABEL)
    return None if text is None else [DriveSpec(**item) for item in json.loads(text)]


def attach_all(instance: str, specs: Sequence[DriveSpec]) -> list[str]:
    """Make or reuse each backing file, attach it, link it; returns the container's device mappings."""
    mappings = []
    for spec in specs:
        backing = Path(spec.backing_file)
        if spec.size_gb <= 0:
            raise CloudError(f"local cloud: volume {spec.name!r} must have a positive size_gb, not {spec.size_gb}.")
        if spec.ephemeral or not backing.exists():  # a persistent drive keeps its data (and size) across instances
            backing.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with open(backing, "wb") as handle:
                handle.truncate(spec.size_gb * 1024**3)
        mappings.append(f"{_link(instance, spec.device, devices.attach(backing))}:{spec.device}:rwm")
    return mappings


def restore(instance: str, specs: Sequence[DriveSpec]) -> None:
    """After a host reboot: attach each backing file again (new loop numbers) and point the links at them."""
    for spec in specs:
        backing = Path(spec.backing_file)
        if not backing.is_file():
            raise CloudError(f"local cloud: {instance}'s {spec.device} cannot be restored: {backing} is gone.",
                             hint="Destroy the instance and launch it again.")
        _link(instance, spec.device, _loop_for(backing))


def release(instance: str, home: Path, timeout: float = 10.0) -> None:
    """Detach every loop device of the instance, delete its folder and links; persistent drive files stay."""
    deadline = time.monotonic() + timeout
    while attached := devices.attached_under(home) + devices.attached_under(persistent_dir(home)):
        for loop_device, _backing in attached:
            devices.detach(loop_device)
        if time.monotonic() > deadline:
            busy = ", ".join(d for d, _ in attached)
            raise CloudError(f"local cloud: loop devices {busy} stay attached to files of {instance}.")
        time.sleep(0.1)
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(link_dir(instance), ignore_errors=True)


def make_home(home: Path, token: str | None) -> None:
    """Create the instance folder holding the token of the launch that makes it (see launched_homes), in one step
    (a rename): a folder, and so any drive in it, is never there without its marker."""
    staging = home.with_name(f".{home.name}.{os.getpid()}.new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700, parents=True)
    if token:
        (staging / LAUNCH_MARKER).write_text(token)
    staging.rename(home)


def launched_homes(state_root: Path, token: str) -> list[Path]:
    """The instance folders made by the launch with this token (a create killed before its container existed
    leaves its folder and attached drives: they belong to that launch and to nothing else)."""
    found = []
    for marker in sorted(state_root.glob(f"*/{LAUNCH_MARKER}")):
        try:
            if token and marker.read_text().strip() == token:
                found.append(marker.parent)
        except OSError:
            continue
    return found


def describe(specs: Sequence[DriveSpec], table: list[tuple[str, str]] | None = None) -> list[dict[str, Any]]:
    """What node.extra["volumes"] shows: each drive with its current loop device ("" when not attached)."""
    table = devices.loop_table() if table is None else table
    return [
        {"name": s.name, "size_gb": s.size_gb, "device": s.device, "backing_file": s.backing_file,
         "loop_device": next((d for d, back in table if back == s.backing_file), ""), "ephemeral": s.ephemeral}
        for s in specs
    ]  # fmt: skip


def _loop_for(backing: Path) -> str:
    """The loop device backed by this very file (not a deleted one of the same name), else a newly attached one."""
    for loop_device, back in devices.loop_table():
        if back == str(backing) and devices.backs(loop_device, backing):
            return loop_device
    return devices.attach(backing)


def _link(instance: str, device: str, loop_device: str) -> str:
    """/dev/stackscripts/INSTANCE/xvdb -> /dev/loopN, replaced atomically; returns the link's path."""
    folder = link_dir(instance)
    folder.mkdir(mode=0o755, parents=True, exist_ok=True)
    link = folder / Path(device).name
    temporary = folder / f".{link.name}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(loop_device)
    temporary.replace(link)
    return str(link)
