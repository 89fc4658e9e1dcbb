"""Queued fleets as the store keeps them: the fleet, each unit's state, the workers (frozen records)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class FleetState(enum.StrEnum):
    """A queued fleet's state (the store keeps the text)."""

    RUNNING = "running"
    CANCELLING = "cancelling"  # cancelled while units still run: their workers stop them
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class UnitState(enum.StrEnum):
    """A unit's state: pending (held back by --parallel or an ordering), queued (its job waits), running, or ended."""

    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ERROR = "error"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


FLEET_ACTIVE = ("running", "cancelling")  # a fleet whose units are not all done
FLEET_STATES = (*FLEET_ACTIVE, "succeeded", "failed", "cancelled")
UNIT_WAITING = ("pending", "queued")  # pending: held back by --parallel or an ordering; queued: a job waits for it
UNIT_ACTIVE = (*UNIT_WAITING, "running")
UNIT_DONE = ("succeeded", "failed", "error", "cancelled", "skipped")


@dataclass(frozen=True)
class UnitRecord:
    """One server of a queued fleet: its state, job, worker, run and why it ended as it did."""

    fleet: str
    server: str
    position: int
    state: str
    unit: str = ""  # the WorkUnit as JSON (queue/unit.py): no secret in it
    after: tuple[str, ...] = ()  # servers of the fleet that must succeed first (a deployment's env: references)
    job_id: int | None = None
    worker: str | None = None
    run_id: str | None = None
    attempts: int = 0
    message: str | None = None
    started: float | None = None
    ended: float | None = None
    step: str | None = None  # the step running now (`fleets show`), "N/M name"


@dataclass(frozen=True)
class FleetRecord:
    """A queued fleet: what it runs, its limits and state, and its units in the order they were given."""

    id: str
    kind: str  # fleet, deploy or launch
    phase: str
    queue: str
    parallel: int
    max_errors: str
    budget: int  # failures tolerated (max_errors of the fleet's size)
    state: str
    template: str | None = None
    revision: str | None = None
    who: str = ""
    created: float = 0.0
    ended: float | None = None
    error: str | None = None
    team: str = "default"
    units: tuple[UnitRecord, ...] = field(default_factory=tuple)

    def count(self, state: str) -> int:
        return sum(1 for unit in self.units if unit.state == state)


@dataclass(frozen=True)
class WorkerRecord:
    """A worker process: where it runs, what it serves, its load and its last heartbeat (the database's clock)."""

    id: str
    host: str
    pid: int
    queues: tuple[str, ...]
    concurrency: int
    load: int = 0
    started: float = 0.0
    heartbeat: float = 0.0
    stopped: float | None = None
    alive: bool = True  # its heartbeat is recent (computed when read)


__all__ = ["FLEET_ACTIVE", "FLEET_STATES", "FleetRecord", "FleetState", "UNIT_ACTIVE", "UNIT_DONE", "UNIT_WAITING",
           "UnitRecord", "UnitState", "WorkerRecord"]
