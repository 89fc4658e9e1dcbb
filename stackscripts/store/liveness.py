"""Who controls a run, whether it is still alive, the per-server lock, and interrupted runs.

Backend-neutral: statements run through the store's `Tx` (store/sql.py), rows are mappings. A controller is
judged only on its own host (pid, process start time, boot id); a run of another host holds its server until it ends.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Conflict
from ..model import RunState
from .rows import format_time

if TYPE_CHECKING:
    from .rows import Tx

RUNNING = RunState.RUNNING.value


@dataclass(frozen=True)
class Controller:
    """The process that started a run, identified well enough to detect pid reuse."""

    host: str
    pid: int
    start: int | None = None  # /proc/<pid>/stat field 22 (clock ticks after boot)
    boot: str | None = None  # /proc/sys/kernel/random/boot_id

    @classmethod
    def current(cls) -> Controller:
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
    # a different start time: the pid now belongs to another process
    return controller.start is None or process_start(controller.pid) == controller.start


def controller_of(row: Mapping[str, Any]) -> Controller:
    return Controller(row["controller_host"], row["controller_pid"], row["controller_start"],
                      row["controller_boot"])


def interrupt(tx: Tx, run_id: str, now: float) -> None:
    """Mark a running run interrupted, close its open steps and release its lock."""
    key = {"run_id": run_id, "now": now}
    tx.run("UPDATE runs SET state = :state, ended = :now WHERE id = :run_id AND state = :running",
           {**key, "state": RunState.INTERRUPTED.value, "running": RUNNING})
    tx.run("UPDATE steps SET error = COALESCE(error, 'interrupted'), ended = :now "
           "WHERE run_id = :run_id AND ended IS NULL", key)
    tx.run("DELETE FROM locks WHERE run_id = :run_id", key)


def check_lock(tx: Tx, server: str, now: float, host: str) -> None:
    """Raise Conflict if a live run holds the server; release a dead or stale holder. The caller holds the server's
    row (SELECT ... FOR UPDATE on PostgreSQL; SQLite's write transaction holds the whole file)."""
    holder = tx.one("SELECT runs.* FROM locks JOIN runs ON runs.id = locks.run_id WHERE locks.server = :server",
                    {"server": server})
    if holder is None or holder["state"] != RUNNING:
        tx.run("DELETE FROM locks WHERE server = :server", {"server": server})
        return
    controller = controller_of(holder)
    if is_alive(controller, host=host) is False:
        interrupt(tx, holder["id"], now)
        return
    raise Conflict(
        f"{server} is busy: run {holder['id']} ({holder['phase']}) started at "
        f"{format_time(holder['started'])} by {controller.describe()} is still running")


def dead_runs(tx: Tx, host: str) -> list[str]:
    """Ids of running runs started on this host by processes that are gone."""
    running = tx.all("SELECT * FROM runs WHERE state = :running AND controller_host = :host ORDER BY id",
                     {"running": RUNNING, "host": host})
    return [row["id"] for row in running if is_alive(controller_of(row), host=host) is False]
