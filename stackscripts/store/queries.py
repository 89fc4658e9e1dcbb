"""Read-side queries: a run found by any unique part of its id, a run with its output, run listings."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import BadInput, NotFound
from . import rows
from .base import RunRecord, StepRecord
from .rows import Row

if TYPE_CHECKING:
    from .rows import Tx

SHOWN = 5  # candidates named when a run id is ambiguous
# Whether `id` contains :part, exactly and case-sensitively, like the ids (LIKE would ignore case on SQLite and treat
# % and _ as wildcards).
_CONTAINS = {"sqlite": "instr(id, :part) > 0", "postgresql": "strpos(id, :part) > 0"}


def resolve_run(tx: Tx, run_id: str) -> Row:
    """The run with this id, else the only run whose id contains it: a prefix ("r-" may be left out), the
    random tail ("a2a2"), the time ("010443"), any unique part. Ambiguous: BadInput naming the candidates."""
    part = run_id.strip()
    if not part:
        raise BadInput("empty run id", hint="Give a run id, or any unique part of one ('stackscripts runs list').")
    exact = tx.one("SELECT * FROM runs WHERE id IN (:part, :prefixed)",  # the primary key: no scan for a whole id
                   {"part": part, "prefixed": f"r-{part}"})
    if exact is not None:
        return exact
    found = tx.all(f"SELECT * FROM runs WHERE {_CONTAINS[tx.dialect]} ORDER BY id DESC LIMIT :limit",
                   {"part": part, "limit": SHOWN + 1})
    if len(found) == 1:
        return found[0]
    if found:
        shown = "; ".join(f"{row['id']} ({row['server']} {row['phase']}, {row['state']})" for row in found[:SHOWN])
        more = " and more" if len(found) > SHOWN else ""
        raise BadInput(f"run id {run_id!r} is ambiguous: it matches {shown}{more}",
                       hint="Give more of the id.")
    raise NotFound(f"unknown run {run_id!r}", hint="List runs with 'stackscripts runs list'.")


def load_run(tx: Tx, run: Row, *, output: bool = True) -> RunRecord:
    """A run with its steps in index order, each with its assembled output (output=False: without; `pruned` is set
    either way for a step whose output `runs prune` removed)."""
    key = {"run_id": run["id"]}
    steps = tx.all("SELECT * FROM steps WHERE run_id = :run_id ORDER BY idx", key)
    outputs = rows.assemble(tx.all("SELECT idx, stream, text FROM chunks WHERE run_id = :run_id AND length(text) > 0 "
                                   "ORDER BY idx, id", key)) if output else {}
    # a pruned step keeps one empty chunk whose byte_offset is the size its output had (store/sql_output.py)
    pruned = {row["idx"]: int(row["byte_offset"] or 0) for row in tx.all(
        "SELECT idx, byte_offset FROM chunks WHERE run_id = :run_id AND length(text) = 0", key)}
    found = [rows.step_from_row(step, outputs.get(step["idx"], ())) for step in steps]
    return rows.run_from_row(run, [replace(step, pruned=pruned[step.index]) if step.index in pruned else step
                                   for step in found])


def recent_runs(tx: Tx, server: str | None, limit: int | None, team: str | None = None) -> list[RunRecord]:
    """Newest first (one server's, one team's), with steps but without their output."""
    params: dict[str, Any] = {key: value for key, value in (("server", server), ("team", team)) if value is not None}
    where = ("WHERE " + " AND ".join(f"{key} = :{key}" for key in params)) if params else ""
    bound = "LIMIT :limit" if limit and limit > 0 else ""
    if bound:
        params["limit"] = limit
    select = f"SELECT * FROM runs {where} ORDER BY started DESC, id DESC {bound}"
    found = tx.all(select, params)
    steps: dict[str, list[StepRecord]] = {row["id"]: [] for row in found}
    if found:
        ids = select.replace("SELECT *", "SELECT id", 1)
        for step in tx.all(f"SELECT * FROM steps WHERE run_id IN ({ids}) ORDER BY run_id, idx", params):
            steps[step["run_id"]].append(rows.step_from_row(step))
    return [rows.run_from_row(row, steps[row["id"]]) for row in found]


def last_failed_step(tx: Tx, run_id: str) -> int | None:
    value = tx.value("SELECT MAX(idx) FROM steps WHERE run_id = :run_id AND "
                     "(error IS NOT NULL OR COALESCE(exit_code, 0) != 0)", {"run_id": run_id})
    return None if value is None else int(value)
