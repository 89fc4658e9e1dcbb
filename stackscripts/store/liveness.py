"""Who controls a run, whether it is still alive, the per-server lock, and interrupted runs.

Backend-neutral: statements run through the store's `Tx` (store/sql.py), rows are mappings. A run is judged dead
when its lease has expired (its controller renews it every third of its length, on any machine: store/sql_leases.py),
measured by the database's clock (store/signals.py); and, at once, when its controller ran on this host and is gone
(pid, process start time, boot id). A run without a lease (one started before leases) is judged on its own host only.
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BadInput, Conflict
from ..model import RunState
from .rows import format_time
from .signals import notify, now_sql

if TYPE_CHECKING:
    from .rows import Tx

RUNNING = RunState.RUNNING.value
LEASE_SECONDS = 60.0
LEASE_ENV = "STACKSCRIPTS_LEASE_SECONDS"
HOST_ENV = "STACKSCRIPTS_CONTROLLER_HOST"


def lease_seconds() -> float:
    """How long a run's lease lasts unless renewed: $STACKSCRIPTS_LEASE_SECONDS, else 60 s."""
    text = os.environ.get(LEASE_ENV, "").strip()
    if not text:
        return LEASE_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 < value < 86400 * 365):
        raise BadInput(f"{LEASE_ENV}={text!r} is not a number of seconds above 0",
                       hint="Give how long a run's lease lasts unless its controller renews it, e.g. 60.")
    return value


def host_name() -> str:
    """This controller's host as its runs record it: $STACKSCRIPTS_CONTROLLER_HOST (identity only: a name other than
    this machine's leaves its runs to the lease alone, as a controller on another machine), else the host name."""
    return os.environ.get(HOST_ENV, "").strip() or socket.gethostname()


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
        return cls(host_name(), pid, process_start(pid), boot_id())

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


def _expired(row: Mapping[str, Any]) -> bool:
    """Whether a run row (selected with the database's time as `db_now`) holds a lease that has expired."""
    return row["lease_until"] is not None and row["lease_until"] < row["db_now"]


def is_dead(row: Mapping[str, Any], host: str) -> bool:
    """Whether a running run's controller is gone: its lease expired, or (this host's) its process is."""
    return _expired(row) or is_alive(controller_of(row), host=host) is False


def interrupt(tx: Tx, run_id: str, now: float, *, expired: bool = False) -> bool:
    """Mark a running run interrupted, close its open steps and release its lock; expired: only if its lease is
    still expired now (a renewal that got in first keeps it). Whether it was interrupted."""
    key = {"run_id": run_id, "now": now}
    still = f" AND lease_until < {now_sql(tx.dialect)}" if expired else ""
    if not tx.run(f"UPDATE runs SET state = :state, ended = :now WHERE id = :run_id AND state = :running{still}",
                  {**key, "state": RunState.INTERRUPTED.value, "running": RUNNING}):
        return False
    tx.run("UPDATE steps SET error = COALESCE(error, 'interrupted'), ended = :now "
           "WHERE run_id = :run_id AND ended IS NULL", key)
    tx.run("DELETE FROM locks WHERE run_id = :run_id", key)
    notify(tx, run_id)
    return True


def _bury(tx: Tx, row: Mapping[str, Any], now: float, host: str) -> bool:
    """Interrupt a dead run (the lease judged again in the UPDATE unless its local process is known gone)."""
    local_dead = is_alive(controller_of(row), host=host) is False
    return interrupt(tx, row["id"], now, expired=not local_dead)


def _busy(server: str, holder: Mapping[str, Any]) -> Conflict:
    """Who holds a server (the run's user), from where (its controller's host and pid), since when."""
    details = [f"{holder['who']} holds it"] if holder["who"] else []
    if holder["lease_until"] is not None:
        left = max(0, round(holder["lease_until"] - holder["db_now"]))
        details.append(f"its lease expires in {left} s unless its controller renews it")
    return Conflict(
        f"{server} is busy: run {holder['id']} ({holder['phase']}) started at {format_time(holder['started'])} "
        f"by {controller_of(holder).describe()} is still running" + (": " + ", and ".join(details) if details else ""),
        hint=f"Wait for it to end (stackscripts runs show {holder['id']}). If its controller died, the run is marked "
             "interrupted once its lease expires, and the server is free.")


def check_lock(tx: Tx, server: str, now: float, host: str) -> None:
    """Raise Conflict, naming who holds it, from where and since when, if a live run holds the server; release a
    dead (lease expired, or a local process gone) or stale holder. The caller holds the server's row (SELECT ...
    FOR UPDATE on PostgreSQL; SQLite's write transaction holds the whole file)."""
    holder = tx.one(f"SELECT runs.*, {now_sql(tx.dialect)} AS db_now FROM locks JOIN runs ON runs.id = locks.run_id "
                    "WHERE locks.server = :server", {"server": server})
    if holder is None or holder["state"] != RUNNING:
        tx.run("DELETE FROM locks WHERE server = :server", {"server": server})
        return
    if is_dead(holder, host) and _bury(tx, holder, now, host):
        return
    raise _busy(server, holder)


def dead_runs(tx: Tx, host: str) -> list[dict[str, Any]]:
    """Running runs whose controller is gone: a lease expired (any host), or a process of this host gone."""
    running = tx.all(f"SELECT id, controller_host, controller_pid, controller_start, controller_boot, lease_until, "
                     f"{now_sql(tx.dialect)} AS db_now FROM runs WHERE state = :running ORDER BY id",
                     {"running": RUNNING})
    return [dict(row) for row in running if is_dead(row, host)]


def bury(tx: Tx, rows: list[dict[str, Any]], now: float, host: str) -> list[str]:
    """Interrupt these dead runs (`dead_runs`, read again in this write transaction); the ids interrupted."""
    return [row["id"] for row in rows if _bury(tx, row, now, host)]
