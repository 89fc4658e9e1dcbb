"""`store copy`: one store's records into another (one person's SQLite history into the team store, or back).

Servers, runs with their steps and output chunks (byte for byte, in order), revisions with their files' bytes, and
server events are copied keeping their names, ids and timestamps; what the destination has already (a server's
name, a run's id, a revision's digest, a blob's sha256, an event's server, time and kind) is left as it is and
counted, so a second copy adds nothing. Every copied record belongs to one team, the destination's (`team`).
Runs still running in the source are not copied (their controller is still writing them): copy again once they
have ended. Locks are not records: they are not copied.

Everything goes through the stores' transactions (`Tx`): the source is only read; the destination gets one write
transaction per batch of runs, each run with all its steps and chunks, so an interrupted copy leaves whole runs
and the next copy completes it. Every revision's manifest and every blob are checked against their digests
before anything is written: a tampered source is BadInput and nothing is copied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import BadInput
from ..model import RunState
from ..revisions.manifest import PREFIX
from . import access
from .migrations import quote
from .rows import Row, Tx
from .sql import SQLCore

KINDS = ("servers", "revisions", "blobs", "runs", "steps", "chunks", "server_events")
BATCH_RUNS = 100  # runs per destination transaction
BATCH_BYTES = 16 << 20  # ... or fewer, once their output reaches this


@dataclass
class Count:
    copied: int = 0
    present: int = 0  # already in the destination: left as it is


@dataclass
class CopyReport:
    source: str  # where, safe to print (a path; a DSN without its password)
    destination: str
    team: str  # the team every copied record belongs to
    counts: dict[str, Count] = field(default_factory=lambda: {kind: Count() for kind in KINDS})
    running: list[str] = field(default_factory=list)  # runs not copied: still running in the source


def copy(source: SQLCore, destination: SQLCore) -> CopyReport:
    """Copy every record `source` shows its user into `destination`, as the destination store's team."""
    report = CopyReport(source.location, destination.location, destination.team)
    with source._tx(write=False) as tx:
        revisions = _checked_revisions(tx.all("SELECT * FROM revisions ORDER BY created, digest"))
        blobs = _checked_blobs(tx.all("SELECT sha256, data FROM blobs ORDER BY sha256"))
        servers = tx.all("SELECT * FROM servers ORDER BY name")
        runs = tx.all("SELECT * FROM runs ORDER BY started, id")
        events = tx.all("SELECT * FROM server_events ORDER BY at, id")
    team = destination.team
    with destination._tx() as tx:
        access.check_writer(tx, team, f"the records of {source.location}")
        for row in servers:
            _count(report, "servers", _insert(tx, "servers", row, team, "ON CONFLICT (name) DO NOTHING"))
        for sha256, data in blobs.items():
            tx.run("INSERT INTO blob_teams (sha256, team) VALUES (:sha256, :team) ON CONFLICT DO NOTHING",
                   {"sha256": sha256, "team": team})
            _count(report, "blobs", tx.run("INSERT INTO blobs (sha256, data) VALUES (:sha256, :data) "
                                           "ON CONFLICT (sha256) DO NOTHING", {"sha256": sha256, "data": data}))
        for row in revisions:
            tx.run("INSERT INTO revision_teams (digest, team) VALUES (:digest, :team) ON CONFLICT DO NOTHING",
                   {"digest": row["digest"], "team": team})
            _count(report, "revisions", _insert(tx, "revisions", row, team, "ON CONFLICT (digest) DO NOTHING"))
    ended = [row for row in runs if row["state"] != RunState.RUNNING.value]
    report.running = [str(row["id"]) for row in runs if row["state"] == RunState.RUNNING.value]
    for batch in _batches(source, ended):
        with destination._tx() as tx:
            for run, steps, chunks in batch:
                _copy_run(tx, report, team, run, steps, chunks)
    with destination._tx() as tx:
        for row in events:  # their ids are the destination's to draw: an event is its server, time and kind
            if tx.one("SELECT 1 FROM server_events WHERE server = :server AND at = :at AND kind = :kind", row):
                report.counts["server_events"].present += 1
            else:
                _count(report, "server_events",
                       _insert(tx, "server_events", {k: v for k, v in row.items() if k != "id"}, team))
    return report


Loaded = tuple[Row, list[Row], list[Row]]  # a run, its steps, its chunks


def _batches(source: SQLCore, runs: list[Row]) -> Iterator[list[Loaded]]:
    """The runs with their steps and chunks (in arrival order), a batch at a time."""
    batch: list[Loaded] = []
    size = 0
    for run in runs:
        key = {"run_id": run["id"]}
        with source._tx(write=False) as tx:
            steps = tx.all("SELECT * FROM steps WHERE run_id = :run_id ORDER BY idx", key)
            chunks = tx.all("SELECT * FROM chunks WHERE run_id = :run_id ORDER BY id", key)
        batch.append((run, steps, chunks))
        size += sum(len(chunk["text"]) for chunk in chunks)
        if len(batch) >= BATCH_RUNS or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _copy_run(tx: Tx, report: CopyReport, team: str, run: Row, steps: list[Row], chunks: list[Row]) -> None:
    """A run with its steps and chunks, or nothing when its id is in the destination already."""
    if not _insert(tx, "runs", run, team, "ON CONFLICT (id) DO NOTHING"):
        for kind, rows in (("runs", [run]), ("steps", steps), ("chunks", chunks)):
            report.counts[kind].present += len(rows)
        return
    report.counts["runs"].copied += 1
    for step in steps:
        _insert(tx, "steps", step)
    if chunks:  # the destination draws their ids, in the source's order: arrival order is kept
        columns = [name for name in chunks[0] if name != "id"]
        tx.run(_insert_sql("chunks", columns), [{name: _value(chunk[name]) for name in columns} for chunk in chunks])
    report.counts["steps"].copied += len(steps)
    report.counts["chunks"].copied += len(chunks)


def _insert(tx: Tx, table: str, row: Mapping[str, Any], team: str | None = None, tail: str = "") -> int:
    """Insert one row as it is (in `team` when given); the number of rows inserted (0: its key was there)."""
    values = {name: _value(value) for name, value in row.items()}
    if team is not None:
        values["team"] = team
    return tx.run(f"{_insert_sql(table, list(values))} {tail}", values)


def _insert_sql(table: str, columns: list[str]) -> str:
    return (f"INSERT INTO {table} ({', '.join(quote(name) for name in columns)}) "
            f"VALUES ({', '.join(':' + name for name in columns)})")


def _value(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value  # psycopg reads BYTEA as memoryview


def _count(report: CopyReport, kind: str, inserted: int) -> None:
    if inserted:
        report.counts[kind].copied += 1
    else:
        report.counts[kind].present += 1


def _checked_revisions(rows: list[Row]) -> list[Row]:
    for row in rows:
        actual = PREFIX + hashlib.sha256(bytes(row["manifest"])).hexdigest()
        if actual != row["digest"]:
            raise BadInput(f"the source's revision {row['digest']} was changed: its manifest hashes to {actual}; "
                           "nothing was copied", hint="Restore the source from a backup, or copy from another store.")
    return rows


def _checked_blobs(rows: list[Row]) -> dict[str, bytes]:
    blobs = {str(row["sha256"]): bytes(row["data"]) for row in rows}
    for sha256, data in blobs.items():
        if hashlib.sha256(data).hexdigest() != sha256:
            raise BadInput(f"the source's copy of file {sha256[:12]}... was changed: its bytes no longer hash to it; "
                           "nothing was copied", hint="Restore the source from a backup, or copy from another store.")
    return blobs
