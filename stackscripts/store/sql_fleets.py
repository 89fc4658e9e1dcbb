"""Queued fleets in the store: units released to the queue within --parallel, failures counted against --max-errors,
cancelling, workers' heartbeats, and units of dead workers handed to live ones.

Every change to a fleet locks its row first, so the workers that finish its units at the same moment take turns:
--parallel and --max-errors hold across all of them. Jobs are written by the queue engine (queue/base.py) on the same
transaction's connection: a unit is `queued` exactly when its job is committed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

from ..errors import BadInput, Conflict, NotFound
from . import access
from .fleets import FLEET_ACTIVE, UNIT_ACTIVE, UNIT_DONE, FleetRecord, FleetState, UnitRecord, UnitState
from .rows import Row, Tx
from .signals import now_sql
from .sql import SQLCore

FAILED = ("failed", "error")


class Enqueuer(Protocol):
    """What the store needs of a queue engine (queue.base.Queue is one)."""

    def submit(self, connection: Any, units: Sequence[Mapping[str, Any]], queue: str,
               lock: Callable[[Mapping[str, Any]], str]) -> list[int]: ...

    def cancel(self, connection: Any, job_ids: Sequence[int]) -> None: ...

    table_prefix: str  # the engine's tables' names begin so (team roles are granted them)

    def prepare(self, connection: Any) -> None: ...

    def retry(self, connection: Any, job_id: int) -> bool: ...


def server_lock(unit: Mapping[str, Any]) -> str:
    """The queue lock of a unit's jobs: one server's jobs never run at once."""
    return f"stackscripts:server:{unit['server']}"


class FleetsSQL(SQLCore):
    """Store methods for queued fleets, their units and the workers."""

    def prepare_queue(self, queue: Enqueuer) -> None:
        """Create the queue engine's tables in this database if they are missing."""
        with self._tx() as tx:
            queue.prepare(tx.connection)
            access.grant_queue(tx, queue.table_prefix)

    def create_fleet(self, fleet: FleetRecord, units: Sequence[UnitRecord], queue: Enqueuer) -> None:
        """Record the fleet and its units, and queue the first ones, in one transaction."""
        with self._tx() as tx:
            tx.run("INSERT INTO fleets (id, kind, phase, template, revision, queue, parallel, max_errors, budget, state, "
                   "who, created, team) VALUES (:id, :kind, :phase, :template, :revision, :queue, :parallel, "
                   ":max_errors, :budget, 'running', :who, :created, :team)",
                   {"id": fleet.id, "kind": fleet.kind, "phase": fleet.phase, "template": fleet.template,
                    "revision": fleet.revision, "queue": fleet.queue, "parallel": fleet.parallel,
                    "max_errors": fleet.max_errors, "budget": fleet.budget, "who": fleet.who, "created": time.time(),
                    "team": self.team})
            tx.run("INSERT INTO fleet_units (fleet_id, server, position, state, unit, after) "
                   "VALUES (:fleet, :server, :position, 'pending', :unit, :after)",
                   [{"fleet": fleet.id, "server": u.server, "position": u.position, "unit": u.unit,
                     "after": json.dumps(list(u.after))} for u in units])
            self._queue_next(tx, self._fleet_row(tx, fleet.id), queue)

    def claim_unit(self, fleet: str, server: str, worker: str) -> UnitRecord | None:
        """Take a queued unit for this worker (None: it was cancelled, or another worker has it)."""
        with self._tx() as tx:
            fleet_row = self._fleet_row(tx, fleet)
            row = tx.one(f"SELECT * FROM fleet_units WHERE fleet_id = :fleet AND server = :server{tx.for_update}",
                         {"fleet": fleet, "server": server})
            if row is None or row["state"] != UnitState.QUEUED:
                return None
            if fleet_row["state"] != FleetState.RUNNING:  # handed back just as the fleet was cancelled
                self._cancel_unit(tx, fleet_row, server)
                return None
            tx.run("UPDATE fleet_units SET state = 'running', worker = :worker, attempts = attempts + 1, "
                   f"started = COALESCE(started, {now_sql(tx.dialect)}) WHERE fleet_id = :fleet AND server = :server",
                   {"fleet": fleet, "server": server, "worker": worker})
            claimed = tx.one("SELECT * FROM fleet_units WHERE fleet_id = :fleet AND server = :server",
                             {"fleet": fleet, "server": server})
        return unit_record(claimed) if claimed else None

    def finish_unit(self, fleet: str, server: str, worker: str, state: str, queue: Enqueuer, *,
                    run_id: str | None = None, message: str | None = None) -> bool:
        """End this worker's unit; queue the next ones; False if the unit is no longer this worker's."""
        with self._tx() as tx:
            row = self._fleet_row(tx, fleet)
            params = {"fleet": fleet, "server": server, "worker": worker, "state": state, "run": run_id,
                      "message": message}
            if not tx.run(f"UPDATE fleet_units SET state = :state, run_id = COALESCE(:run, run_id), message = :message, "
                          f"ended = {now_sql(tx.dialect)} WHERE fleet_id = :fleet AND server = :server "
                          "AND worker = :worker AND state = 'running'", params):
                return False
            if state in FAILED and row["state"] == FleetState.RUNNING:
                failures = tx.value("SELECT count(*) FROM fleet_units WHERE fleet_id = :fleet "
                                    "AND state IN ('failed', 'error')", {"fleet": fleet})
                if failures > row["budget"]:
                    self._cancel_waiting(tx, row, queue, f"cancelled: more than {row['max_errors']} servers failed "
                                                         "(--max-errors)")
            self._queue_next(tx, row, queue)
            return True

    def hand_back(self, fleet: str, server: str, worker: str, queue: Enqueuer, *, run_id: str | None,
                  message: str) -> None:
        """Put this worker's unit back in the queue (the worker stops): another worker resumes its run."""
        with self._tx() as tx:
            row = self._fleet_row(tx, fleet)
            unit = tx.one("SELECT unit FROM fleet_units WHERE fleet_id = :fleet AND server = :server AND "
                          "worker = :worker AND state = 'running'", {"fleet": fleet, "server": server, "worker": worker})
            if unit is None:
                return
            if row["state"] != FleetState.RUNNING:
                self._cancel_unit(tx, row, server, worker=worker)
                return
            [job] = queue.submit(tx.connection, [json.loads(unit["unit"])], row["queue"], server_lock)
            tx.run("UPDATE fleet_units SET state = 'queued', worker = NULL, job_id = :job, run_id = COALESCE(:run, run_id), "
                   "message = :message WHERE fleet_id = :fleet AND server = :server",
                   {"fleet": fleet, "server": server, "job": job, "run": run_id, "message": message})

    def cancel_fleet(self, fleet_id: str, queue: Enqueuer) -> FleetRecord:
        """Cancel the units not started (their jobs removed); running ones are stopped by their workers."""
        with self._tx() as tx:
            row = self._fleet_row(tx, self._fleet_id(tx, fleet_id))
            if row["state"] not in FLEET_ACTIVE:
                raise Conflict(f"fleet {row['id']} has already ended ({row['state']}): there is nothing to cancel",
                               hint=f"See it with 'stackscripts fleets show {row['id']}'.")
            self._cancel_waiting(tx, row, queue, "cancelled (fleets cancel)")
            tx.run("UPDATE fleets SET state = 'cancelling' WHERE id = :id", {"id": row["id"]})
            self._queue_next(tx, {**row, "state": "cancelling"}, queue)
            fleet = row["id"]
        return self.get_fleet(fleet)

    def stopping_units(self, worker: str) -> list[tuple[str, str]]:
        """This worker's running units whose fleet is being cancelled: (fleet, server)."""
        with self._tx(write=False) as tx:
            rows = tx.all("SELECT u.fleet_id, u.server FROM fleet_units u JOIN fleets f ON f.id = u.fleet_id "
                          "WHERE u.worker = :worker AND u.state = 'running' AND f.state = 'cancelling'", {"worker": worker})
        return [(r["fleet_id"], r["server"]) for r in rows]

    def get_fleet(self, fleet_id: str) -> FleetRecord:
        """A fleet with its units (any unique prefix of its id); NotFound for an unknown one."""
        with self._tx(write=False) as tx:
            row = self._fleet_row(tx, self._fleet_id(tx, fleet_id), lock=False)
            units = [unit_record(u) for u in tx.all("SELECT * FROM fleet_units WHERE fleet_id = :id ORDER BY position",
                                              {"id": row["id"]})]
            steps = {r["server"]: r for r in tx.all(
                "SELECT r.server, s.idx, s.name FROM runs r JOIN steps s ON s.run_id = r.id WHERE r.state = 'running' "
                "AND r.server IN (SELECT server FROM fleet_units WHERE fleet_id = :id AND state = 'running') "
                "AND s.ended IS NULL", {"id": row["id"]})}
        units = [replace(u, step=f"{steps[u.server]['idx'] + 1}. {steps[u.server]['name']}") if u.server in steps else u
                 for u in units]
        return replace(_fleet(row), units=tuple(units))

    def list_fleets(self, limit: int = 50) -> list[FleetRecord]:
        """Newest first, each with its units' states only."""
        with self._tx(write=False) as tx:
            rows = tx.all("SELECT * FROM fleets ORDER BY created DESC LIMIT :limit", {"limit": limit})
            counts = tx.all("SELECT fleet_id, server, position, state FROM fleet_units WHERE fleet_id IN "
                            "(SELECT id FROM fleets ORDER BY created DESC LIMIT :limit)", {"limit": limit})
        by_fleet: dict[str, list[UnitRecord]] = {}
        for c in counts:
            by_fleet.setdefault(c["fleet_id"], []).append(UnitRecord(c["fleet_id"], c["server"], c["position"], c["state"]))
        return [replace(_fleet(r), units=tuple(sorted(by_fleet.get(r["id"], []), key=lambda u: u.position))) for r in rows]

    # internals
    def _fleet_id(self, tx: Tx, given: str) -> str:
        rows = tx.all("SELECT id FROM fleets WHERE id LIKE :prefix ORDER BY id LIMIT 2",
                      {"prefix": given.replace("%", "").replace("_", "\\_") + "%"})
        if not given.strip() or not rows:
            raise NotFound(f"no fleet {given!r} in the audit store {self.location}",
                           hint="List them with 'stackscripts fleets list'.")
        if len(rows) > 1 and rows[0]["id"] != given:
            raise BadInput(f"fleet id {given!r} is ambiguous", hint="Give more of the id.")
        return str(rows[0]["id"])

    def _fleet_row(self, tx: Tx, fleet: str, *, lock: bool = True) -> Row:
        row = tx.one(f"SELECT * FROM fleets WHERE id = :id{tx.for_update if lock else ''}", {"id": fleet})
        if row is None:
            raise NotFound(f"no fleet {fleet!r} in the audit store {self.location}")
        return row

    def _cancel_unit(self, tx: Tx, fleet: Row, server: str, *, worker: str | None = None) -> None:
        """A unit of a fleet being cancelled that was about to be queued again: cancelled instead."""
        tx.run(f"UPDATE fleet_units SET state = 'cancelled', worker = COALESCE(:worker, worker), ended = "
               f"{now_sql(tx.dialect)}, message = 'cancelled (fleets cancel)' WHERE fleet_id = :fleet AND server = :server",
               {"fleet": fleet["id"], "server": server, "worker": worker})
        self._end_if_done(tx, fleet)

    def _cancel_waiting(self, tx: Tx, fleet: Row, queue: Enqueuer, message: str) -> None:
        """Cancel the units not started yet, and their jobs."""
        jobs = [r["job_id"] for r in tx.all("SELECT job_id FROM fleet_units WHERE fleet_id = :fleet AND state = 'queued'",
                                            {"fleet": fleet["id"]}) if r["job_id"] is not None]
        queue.cancel(tx.connection, jobs)
        tx.run(f"UPDATE fleet_units SET state = 'cancelled', message = :message, ended = {now_sql(tx.dialect)} "
               "WHERE fleet_id = :fleet AND state IN ('pending', 'queued')", {"fleet": fleet["id"], "message": message})

    def _queue_next(self, tx: Tx, fleet: Row, queue: Enqueuer) -> None:
        """Queue the next units within --parallel and their ordering; end the fleet once every unit has ended."""
        key = {"fleet": fleet["id"]}
        if fleet["state"] == FleetState.RUNNING:
            room = fleet["parallel"] - tx.value("SELECT count(*) FROM fleet_units WHERE fleet_id = :fleet AND "
                                                "state IN ('queued', 'running')", key)
            ordered = fleet["kind"] != "fleet"  # a deployment's units wait for the servers they reference
            pending = tx.all("SELECT server, unit, after FROM fleet_units WHERE fleet_id = :fleet AND state = 'pending' "
                             f"ORDER BY position{'' if ordered else ' LIMIT :room'}", {**key, "room": max(room, 0)})
            states = {r["server"]: r["state"] for r in tx.all(
                "SELECT server, state FROM fleet_units WHERE fleet_id = :fleet", key)} if ordered else {}
            ready = self._ready(tx, fleet["id"], pending, states, room)
            jobs = queue.submit(tx.connection, [json.loads(r["unit"]) for r in ready], fleet["queue"], server_lock)
            tx.run("UPDATE fleet_units SET state = 'queued', job_id = :job WHERE fleet_id = :fleet AND server = :server",
                   [{**key, "server": r["server"], "job": job} for r, job in zip(ready, jobs, strict=True)])
        self._end_if_done(tx, fleet)

    def _end_if_done(self, tx: Tx, fleet: Row) -> None:
        """End the fleet once none of its units is waiting or running."""
        key = {"fleet": fleet["id"]}
        if not tx.value("SELECT count(*) FROM fleet_units WHERE fleet_id = :fleet AND state IN "
                        f"({', '.join(repr(s) for s in UNIT_ACTIVE)})", key):  # index ranges, not the whole fleet
            failed = tx.value("SELECT count(*) FROM fleet_units WHERE fleet_id = :fleet AND state <> 'succeeded'", key)
            state = "cancelled" if fleet["state"] == FleetState.CANCELLING else "failed" if failed else "succeeded"
            tx.run(f"UPDATE fleets SET state = :state, ended = {now_sql(tx.dialect)} WHERE id = :fleet",
                   {**key, "state": state})

    @staticmethod
    def _ready(tx: Tx, fleet: str, pending: list[Row], states: dict[str, str], room: int) -> list[Row]:
        """The pending units to queue now: in order, those whose referenced servers succeeded; a unit whose reference
        failed is skipped (and so, in turn, are those that reference it)."""
        ready: list[Row] = []
        skipped = True
        while skipped:
            skipped = False
            for row in pending:
                if states.get(row["server"], "pending") != "pending":
                    continue
                after = json.loads(row["after"] or "[]")
                failed = [name for name in after if states.get(name) in UNIT_DONE and states[name] != UnitState.SUCCEEDED]
                if failed:
                    states[row["server"]] = "skipped"
                    skipped = True
                    tx.run(f"UPDATE fleet_units SET state = 'skipped', message = :message, ended = {now_sql(tx.dialect)} "
                           "WHERE fleet_id = :fleet AND server = :server",
                           {"fleet": fleet, "server": row["server"], "message": f"skipped: {failed[0]} did not succeed"})
                elif len(ready) < room and all(states.get(name) == UnitState.SUCCEEDED for name in after):
                    ready.append(row)
                    states[row["server"]] = "queued"
        return ready


def unit_record(row: Row) -> UnitRecord:
    return UnitRecord(row["fleet_id"], row["server"], row["position"], row["state"], row["unit"],
                      tuple(json.loads(row["after"] or "[]")), row["job_id"], row["worker"], row["run_id"],
                      row["attempts"], row["message"], row["started"], row["ended"])


def _fleet(row: Row) -> FleetRecord:
    return FleetRecord(row["id"], row["kind"], row["phase"], row["queue"], row["parallel"], row["max_errors"],
                       row["budget"], row["state"], row["template"], row["revision"], row["who"], row["created"],
                       row["ended"], row["error"], row["team"])
