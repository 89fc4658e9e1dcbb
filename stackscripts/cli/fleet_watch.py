"""A queued fleet's table, and watching it live: progress is read from the store, so any machine can watch."""

from __future__ import annotations

import time
from typing import Any

from ..store.fleets import FLEET_ACTIVE, FleetRecord
from .live import fmt_duration
from .output import table
from .termsafe import printable

POLL = 1.0  # seconds between reads of the store


def fleet_table(fleet: FleetRecord, now: float | None = None) -> Any:
    """One row per server: state, the step running now (or why it ended), worker, run, attempts, elapsed."""
    now = time.time() if now is None else now
    t = table("Server", "State", "Step / detail", "Worker", "Run", "Tries", "Elapsed",
              title=f"Fleet {fleet.id} ({fleet.kind}, {fleet.state})")
    for u in fleet.units:
        elapsed = fmt_duration((u.ended or now) - u.started) if u.started else "-"
        t.add_row(u.server, u.state, printable(u.step or u.message or ""), u.worker or "-", u.run_id or "-",
                  str(u.attempts), elapsed)
    return t


def watch(read: Any, fleet_id: str, console: Any) -> FleetRecord:
    """Redraw the fleet's table until it has ended; the fleet as it ended."""
    from rich.live import Live

    fleet: FleetRecord = read(fleet_id)
    with Live(fleet_table(fleet), console=console, refresh_per_second=2, transient=False) as live:
        while fleet.state in FLEET_ACTIVE:
            time.sleep(POLL)
            fleet = read(fleet_id)
            live.update(fleet_table(fleet))
    return fleet


def wait(read: Any, fleet_id: str) -> FleetRecord:
    """Wait, without drawing, until the fleet has ended."""
    fleet: FleetRecord = read(fleet_id)
    while fleet.state in FLEET_ACTIVE:
        time.sleep(POLL)
        fleet = read(fleet_id)
    return fleet
