"""Conversions between SQLite rows and the store's frozen records, and run ids."""

from __future__ import annotations

import dataclasses
import json
import secrets
import sqlite3
import time
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import BadInput
from .base import RunRecord, ServerRecord, StepRecord

SERVER_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(ServerRecord))
UPDATABLE_SERVER_FIELDS: frozenset[str] = frozenset(SERVER_FIELDS) - {"name", "created", "updated"}
_JSON_FIELDS = frozenset({"inputs", "extra"})


def dump_json(value: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(value or {}), ensure_ascii=False)


def text_value(value: Any) -> str:
    """The plain string of a str or str-valued enum (Phase, RunState)."""
    return str(getattr(value, "value", value))


def server_columns(changes: Mapping[str, Any],
                   allowed: frozenset[str] = UPDATABLE_SERVER_FIELDS) -> dict[str, Any]:
    """Validated column values for some server fields; names not allowed are BadInput."""
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise BadInput(
            f"unknown or read-only server field{'s' if len(unknown) > 1 else ''}: "
            f"{', '.join(unknown)}",
            hint=f"Fields that can change: {', '.join(sorted(UPDATABLE_SERVER_FIELDS))}.",
        )
    columns: dict[str, Any] = {}
    for name, value in changes.items():
        if name in _JSON_FIELDS:
            if value is not None and not isinstance(value, Mapping):
                raise BadInput(f"server field {name} must be a mapping, not {type(value).__name__}")
            columns[name] = dump_json(value)
        elif name == "port":
            if isinstance(value, bool) or not isinstance(value, int):
                raise BadInput(f"server field port must be an integer, not {value!r}")
            columns[name] = value
        elif name == "state":
            columns[name] = text_value(value)
        else:
            columns[name] = value
    return columns


def server_from_row(row: sqlite3.Row) -> ServerRecord:
    values = {name: row[name] for name in SERVER_FIELDS}
    for name in _JSON_FIELDS:
        values[name] = json.loads(values[name] or "{}")
    return ServerRecord(**values)


def step_from_row(row: sqlite3.Row, outputs: tuple[str, str, str] = ("", "", "")) -> StepRecord:
    stdout, stderr, output = outputs
    return StepRecord(
        run_id=row["run_id"], index=row["idx"], name=row["name"], phase=row["phase"],
        sha256=row["sha256"], inputs=json.loads(row["inputs"] or "{}"),
        started=row["started"], ended=row["ended"], exit_code=row["exit_code"],
        error=row["error"], stdout=stdout, stderr=stderr, output=output,
    )


def run_from_row(row: sqlite3.Row, steps: Iterable[StepRecord] = ()) -> RunRecord:
    return RunRecord(
        id=row["id"], server=row["server"], phase=row["phase"], state=row["state"],
        who=row["who"], template=row["template"], started=row["started"], ended=row["ended"],
        inputs=json.loads(row["inputs"] or "{}"), steps=tuple(steps),
        resumed_from=row["resumed_from"],
    )


def assemble(chunks: Iterable[sqlite3.Row]) -> dict[int, tuple[str, str, str]]:
    """Per step index: (stdout, stderr, interleaved output) from chunk rows in id order."""
    parts: dict[int, tuple[list[str], list[str], list[str]]] = {}
    for chunk in chunks:
        stdout, stderr, output = parts.setdefault(chunk["idx"], ([], [], []))
        (stdout if chunk["stream"] == "stdout" else stderr).append(chunk["text"])
        output.append(chunk["text"])
    return {idx: ("".join(a), "".join(b), "".join(c)) for idx, (a, b, c) in parts.items()}


def new_run_id(now: float | None = None) -> str:
    """A short id that sorts by start time (to the second): r-20261129-143005-9f3c."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"r-{stamp}-{secrets.token_hex(2)}"


def format_time(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))
