"""Who controls a run (host, pid, process start time, boot) and whether it is still alive."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Controller:
    """The process that started a run, identified well enough to detect pid reuse."""

    host: str
    pid: int
    start: int | None = None  # /proc/<pid>/stat field 22 (clock ticks after boot)
    boot: str | None = None  # /proc/sys/kernel/random/boot_id

    @classmethod
    def current(cls) -> "Controller":
        pid = os.getpid()
        return cls(socket.gethostname(), pid, process_start(pid), boot_id())

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


def boot_id() -> str | None:
    """This machine's boot id (changes at every reboot), None where /proc has none."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/<pid>/stat (after the parenthesised command name)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    _, _, rest = raw.rpartition(")")
    return rest.split()


def process_start(pid: int) -> int | None:
    """The start time of a process in clock ticks after boot, None if unknown."""
    fields = _stat_fields(pid)
    if fields is None or len(fields) < 20:
        return None
    try:
        return int(fields[19])  # field 22 overall; fields[0] is field 3 (state)
    except ValueError:
        return None


def is_alive(controller: Controller, *, host: str | None = None) -> bool | None:
    """True or False for a controller on this host; None when it runs elsewhere (unknowable)."""
    if controller.host != (host or socket.gethostname()):
        return None
    current_boot = boot_id()
    if controller.boot and current_boot and controller.boot != current_boot:
        return False  # the machine rebooted since the run started
    try:
        os.kill(controller.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return False
    fields = _stat_fields(controller.pid)
    if fields is None:
        return True  # no /proc: signal 0 is all we can know
    if fields and fields[0] in ("Z", "X"):
        return False  # killed, not yet reaped
    if controller.start is not None and process_start(controller.pid) != controller.start:
        return False  # the pid now belongs to another process
    return True
