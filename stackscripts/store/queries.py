"""Read-side queries: run id prefixes, a run with its output, run listings."""

from __future__ import annotations

import sqlite3
from typing import Any

from ..errors import BadInput, NotFound
from . import rows
from .base import RunRecord, StepRecord


def resolve_run(conn: sqlite3.Connection, run_id: str) -> sqlite3.Row:
    """The run with this id, or the only run whose id starts with it ("r-" may be left out)."""
    if not run_id:
        raise BadInput("empty run id")
    prefixes = (run_id,) if run_id.startswith("r-") else (run_id, f"r-{run_id}")
    for prefix in prefixes:
        # A range on the primary key: uses the index, and is exact (LIKE would ignore case).
        found: list[sqlite3.Row] = conn.execute(
            "SELECT * FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 6",
            (prefix, prefix + "\U0010ffff")).fetchall()
        exact = [row for row in found if row["id"] == prefix]
        if exact or len(found) == 1:
            return (exact or found)[0]
        if found:
            shown = ", ".join(row["id"] for row in found[:5])
            more = " and more" if len(found) > 5 else ""
            raise BadInput(f"run id {run_id!r} is ambiguous: it matches {shown}{more}",
                           hint="Give more of the id.")
    raise NotFound(f"unknown run {run_id!r}")


def load_run(conn: sqlite3.Connection, run: sqlite3.Row) -> RunRecord:
    """A run with its steps in index order, each with its assembled output."""
    steps = conn.execute("SELECT * FROM steps WHERE run_id = ? ORDER BY idx",
                         (run["id"],)).fetchall()
    outputs = rows.assemble(conn.execute(
        "SELECT idx, stream, text FROM chunks WHERE run_id = ? ORDER BY idx, id", (run["id"],)))
    return rows.run_from_row(
        run, [rows.step_from_row(step, outputs.get(step["idx"], ("", "", ""))) for step in steps])


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
