"""Read-side queries: a run found by any unique part of its id, a run with its output, run listings."""

from __future__ import annotations

import sqlite3
from typing import Any

from ..errors import BadInput, NotFound
from . import rows
from .base import RunRecord, StepRecord

SHOWN = 5  # candidates named when a run id is ambiguous


def resolve_run(conn: sqlite3.Connection, run_id: str) -> sqlite3.Row:
    """The run with this id, else the only run whose id contains it: a prefix ("r-" may be left out), the
    random tail ("a2a2"), the time ("010443"), any unique part. Ambiguous: BadInput naming the candidates."""
    part = run_id.strip()
    if not part:
        raise BadInput("empty run id", hint="Give a run id, or any unique part of one ('stackscripts runs list').")
    exact: sqlite3.Row | None = conn.execute(  # the primary key: no scan for a whole id
        "SELECT * FROM runs WHERE id IN (?, ?)", (part, f"r-{part}")).fetchone()
    if exact is not None:
        return exact
    # instr() is exact and case-sensitive, like the ids (LIKE would ignore case and treat % and _ as wildcards).
    found: list[sqlite3.Row] = conn.execute(
        "SELECT * FROM runs WHERE instr(id, ?) > 0 ORDER BY id DESC LIMIT ?", (part, SHOWN + 1)).fetchall()
    if len(found) == 1:
        return found[0]
    if found:
        shown = "; ".join(f"{row['id']} ({row['server']} {row['phase']}, {row['state']})" for row in found[:SHOWN])
        more = " and more" if len(found) > SHOWN else ""
        raise BadInput(f"run id {run_id!r} is ambiguous: it matches {shown}{more}",
                       hint="Give more of the id.")
    raise NotFound(f"unknown run {run_id!r}", hint="List runs with 'stackscripts runs list'.")


def load_run(conn: sqlite3.Connection, run: sqlite3.Row) -> RunRecord:
    """A run with its steps in index order, each with its assembled output."""
    steps = conn.execute("SELECT * FROM steps WHERE run_id = ? ORDER BY idx",
                         (run["id"],)).fetchall()
    outputs = rows.assemble(conn.execute(
        "SELECT idx, stream, text FROM chunks WHERE run_id = ? ORDER BY idx, id", (run["id"],)))
    return rows.run_from_row(
        run, [rows.step_from_row(step, outputs.get(step["idx"], ())) for step in steps])


def recent_runs(conn: sqlite3.Connection, server: str | None, limit: int | None) -> list[RunRecord]:
    """Newest first, with steps but without their output."""
    where = "WHERE server = ?" if server is not None else ""
    select = f"SELECT * FROM runs {where} ORDER BY started DESC, id DESC LIMIT ?"
    params: list[Any] = [server] if server is not None else []
    params.append(limit if limit and limit > 0 else -1)
    found = conn.execute(select, params).fetchall()
    steps: dict[str, list[StepRecord]] = {row["id"]: [] for row in found}
    if found:
        ids = select.replace("SELECT *", "SELECT id", 1)
        for step in conn.execute(f"SELECT * FROM steps WHERE run_id IN ({ids}) "
                                 "ORDER BY run_id, idx", params):
            steps[step["run_id"]].append(rows.step_from_row(step))
    return [rows.run_from_row(row, steps[row["id"]]) for row in found]


def last_failed_step(conn: sqlite3.Connection, run_id: str) -> int | None:
    row = conn.execute("SELECT MAX(idx) FROM steps WHERE run_id = ? AND "
                       "(error IS NOT NULL OR COALESCE(exit_code, 0) != 0)", (run_id,)).fetchone()
    return None if row[0] is None else int(row[0])
