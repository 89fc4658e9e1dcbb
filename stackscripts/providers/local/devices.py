"""Ephemeral drives of local instances: sparse backing files attached as loop devices."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ...errors import CloudError

LOOP_MAJOR = 7
LOOP_CTL_GET_FREE = 0x4C82
LOOP_CONTROL = "/dev/loop-control"


@dataclass(frozen=True)
class Drive:
    """One attached ephemeral drive: `loop_device` on the host appears as `device` in the instance."""

    name: str
    size_gb: int
    device: str
    backing_file: str
    loop_device: str

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "size_gb": self.size_gb, "device": self.device,
            "backing_file": self.backing_file, "loop_device": self.loop_device,
        }  # fmt: skip


def device_names(count: int, taken: set[str] | None = None) -> list[str]:
    """/dev/xvdb, /dev/xvdc... skipping names already taken."""
    names: list[str] = []
    taken = set(taken or ())
    for letter in "bcdefghijklmnopqrstuvwxyz":
        if len(names) == count:
            break
        if f"/dev/xvd{letter}" not in taken:
            names.append(f"/dev/xvd{letter}")
    return names


def _losetup(*args: str) -> subprocess.CompletedProcess[str]:
    try:
        # its own process group: a Ctrl-C at the terminal must not kill a detach that a clean-up is doing
        return subprocess.run(["losetup", *args], capture_output=True, text=True, timeout=60, process_group=0)
    except FileNotFoundError as exc:
        raise CloudError("local cloud: losetup is not installed (package util-linux).") from exc


def _free_loop_index() -> int:
    """Ask the kernel for an unbound loop device, as `losetup --find` does."""
    try:
        fd = os.open(LOOP_CONTROL, os.O_RDWR)
    except OSError as exc:
        raise CloudError(
            f"local cloud: cannot open {LOOP_CONTROL} ({exc.strerror}); loop devices are needed for ephemeral drives.",
            hint="Run as root on a host with the loop module (modprobe loop).",
        ) from exc
    try:
        return fcntl.ioctl(fd, LOOP_CTL_GET_FREE)
    finally:
        os.close(fd)


def _ensure_node(index: int) -> str:
    """Create /dev/loopN when the kernel made the device but nothing (udev) made its node."""
    path = f"/dev/loop{index}"
    try:
        if stat.S_ISBLK(os.stat(path).st_mode):
            return path
        raise CloudError(f"local cloud: {path} exists but is not a block device.")
    except FileNotFoundError:
        try:
            os.mknod(path, 0o660 | stat.S_IFBLK, os.makedev(LOOP_MAJOR, index))
        except FileExistsError:
            pass
        return path


def attach(backing_file: Path) -> str:
    """Bind a free loop device to backing_file; returns e.g. /dev/loop3. Retries races with other attachers."""
    last = ""
    for _attempt in range(20):
        device = _ensure_node(_free_loop_index())
        done = _losetup(device, str(backing_file))
        if done.returncode == 0:
            return device
        last = done.stderr.strip()
        if "busy" not in last.lower():
            break
        time.sleep(0.05)
    raise CloudError(f"local cloud: attaching {backing_file} to a loop device failed: {last}")


def create(directory: Path, name: str, size_gb: int, device: str) -> Drive:
    """A sparse backing file of size_gb under directory, attached to a loop device."""
    if size_gb <= 0:
        raise CloudError(f"local cloud: volume {name!r} must have a positive size_gb, not {size_gb}.")
    backing = directory / f"{name}.img"
    with open(backing, "wb") as handle:
        handle.truncate(size_gb * 1024**3)
    return Drive(name, size_gb, device, str(backing), attach(backing))


def loop_table() -> list[tuple[str, str]]:
    """(loop device, backing file) for every attached loop device; a deleted file keeps its old path."""
    done = _losetup("--list", "--noheadings", "--raw", "--output", "NAME,BACK-FILE")
    if done.returncode != 0:
        return []
    table = []
    for line in done.stdout.splitlines():
        name, _, back = line.partition(" ")
        table.append((name, back.replace("\\x20", " ").removesuffix(" (deleted)")))
    return table


def attached_under(directory: Path, table: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """(loop device, backing file) for every loop device backed by a file under directory, deleted or not."""
    prefix = str(directory).rstrip("/") + "/"
    return [(name, back) for name, back in (loop_table() if table is None else table) if back.startswith(prefix)]


def backs(device: str, backing_file: Path) -> bool:
    """True when the loop device is bound to the file now at this path, not to a deleted file of that name."""
    try:
        bound = Path(f"/sys/block/{Path(device).name}/loop/backing_file").read_text().rstrip("\n")
    except OSError:
        return False
    return bound == os.path.realpath(backing_file)  # a deleted file reads "PATH (deleted)"


def detach(device: str) -> None:
    """Detach a loop device; already-detached is fine."""
    done = _losetup("--detach", device)
    if done.returncode != 0 and not any(
        s in done.stderr for s in ("No such device", os.strerror(errno.ENXIO), os.strerror(errno.ENOENT))
    ):
        raise CloudError(f"local cloud: detaching {device} failed: {done.stderr.strip()}")
