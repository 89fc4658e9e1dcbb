"""What controllers on many machines share through the database itself: its clock, and its notifications.

Leases are set and judged by the database's clock, not each controller's: on PostgreSQL `clock_timestamp()` (the
server's clock now, also inside a long transaction), so two controllers whose clocks disagree still agree on when a
lease expires; on SQLite, the one machine's clock (a SQLite file is one machine's). Run and step times (`started`,
`ended`) stay each controller's own clock, as they always were.

A write that adds output or ends a step or run notifies `CHANNEL` on PostgreSQL (delivered when its transaction
commits) with the topic `RUN_ID:INDEX` (a step) or `RUN_ID` (a run); `runs log --follow` LISTENs for them. SQLite
has no notifications: followers poll.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .rows import Tx

CHANNEL = "stackscripts_output"

_NOW = {
    "postgresql": "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION)",
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
}


def now_sql(dialect: str) -> str:
    """SQL for the database's time now, in seconds since the epoch (what `runs.lease_until` is measured in)."""
    return _NOW[dialect]


def topic(run_id: str, index: int | None = None) -> str:
    return run_id if index is None else f"{run_id}:{index}"


def concerns(payload: str, run_id: str) -> bool:
    """Whether a notification's topic is about this run (the run itself or one of its steps)."""
    return payload == run_id or payload.startswith(run_id + ":")


def notify(tx: Tx, run_id: str, index: int | None = None) -> None:
    """Tell followers that a run or step changed (PostgreSQL: at commit; SQLite: nothing, followers poll)."""
    if tx.dialect == "postgresql":
        tx.value(f"SELECT pg_notify('{CHANNEL}', :topic)", {"topic": topic(run_id, index)})
