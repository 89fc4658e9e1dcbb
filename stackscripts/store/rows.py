"""Conversions between stored rows (mappings, from either backend) and the store's frozen records, and run ids."""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from ..errors import BadInput, StackscriptsError
from ..model import RunState
from .base import RunRecord, ServerRecord, StepRecord

Row = Mapping[str, Any]  # a stored row, by column name
Params = Mapping[str, Any]


class Tx(Protocol):
    """One transaction of a store, as the store's parts see it (`sql.CoreTx` is it): SQL text with :named
    parameters in, rows out as mappings. No SQLAlchemy type crosses it."""

    dialect: str  # "sqlite" or "postgresql", for the few statements that differ

    def run(self, sql: str, params: Params | Sequence[Params] | None = None) -> int: ...

    def all(self, sql: str, params: Params | None = None) -> list[Row]: ...

    def one(self, sql: str, params: Params | None = None) -> Row | None: ...

    def value(self, sql: str, params: Params | None = None) -> Any: ...

    @property
    def for_update(self) -> str: ...

    @property
    def connection(self) -> Any: ...

SERVER_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(ServerRecord))
UPDATABLE_SERVER_FIELDS: frozenset[str] = frozenset(SERVER_FIELDS) - {"name", "created", "updated", "team"}
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


def server_from_row(row: Row) -> ServerRecord:
    values = {name: row[name] for name in SERVER_FIELDS}
    for name in _JSON_FIELDS:
        values[name] = json.loads(values[name] or "{}")
    return ServerRecord(**values)


Chunks = tuple[tuple[str, bytes], ...]


def step_from_row(row: Row, chunks: Chunks = ()) -> StepRecord:
    def text(stream: str | None) -> str:
        return b"".join(data for name, data in chunks if stream in (None, name)).decode("utf-8", "replace")

    return StepRecord(
        run_id=row["run_id"], index=row["idx"], name=row["name"], phase=row["phase"],
        sha256=row["sha256"], inputs=json.loads(row["inputs"] or "{}"),
        started=row["started"], ended=row["ended"], exit_code=row["exit_code"],
        error=row["error"], stdout=text("stdout"), stderr=text("stderr"), output=text(None), chunks=chunks,
        stage=row.get("stage"),
    )


def run_from_row(row: Row, steps: Iterable[StepRecord] = ()) -> RunRecord:
    return RunRecord(
        id=row["id"], server=row["server"], phase=row["phase"], state=RunState(row["state"]),
        who=row["who"], template=row["template"], started=row["started"], ended=row["ended"],
        inputs=json.loads(row["inputs"] or "{}"), steps=tuple(steps),
        resumed_from=row["resumed_from"], error=row["error"], revision=row["revision"], team=row["team"],
    )


def assemble(chunks: Iterable[Row]) -> dict[int, Chunks]:
    """Per step index: its (stream, bytes) chunks in arrival order (rows of older stores hold text)."""
    parts: dict[int, list[tuple[str, bytes]]] = {}
    for chunk in chunks:
        data = chunk["text"]
        parts.setdefault(chunk["idx"], []).append((chunk["stream"], data.encode() if isinstance(data, str) else bytes(data)))
    return {idx: tuple(pieces) for idx, pieces in parts.items()}


def new_run_id(now: float | None = None) -> str:
    """A short id that sorts by start time (to the second): r-20261129-143005-9f3c."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"r-{stamp}-{secrets.token_hex(2)}"


RUN_COLUMNS = ("server", "phase", "state", "who", "template", "started", "ended", "inputs", "resumed_from", "error",
               "revision")
CONTROLLER_COLUMNS = ("controller_host", "controller_pid", "controller_start", "controller_boot")
# a run belongs to its server's team (members of the server's team see its runs, whoever started them)
_INSERT_RUN = (f"INSERT INTO runs (id, {', '.join(RUN_COLUMNS + CONTROLLER_COLUMNS)}, team) "
               f"VALUES (:id, {', '.join(':' + name for name in RUN_COLUMNS + CONTROLLER_COLUMNS)}, "
               "COALESCE((SELECT team FROM servers WHERE name = :server), 'default')) "
               "ON CONFLICT (id) DO NOTHING")


def insert_run(tx: Tx, controller: tuple[Any, ...], values: tuple[Any, ...]) -> str:
    """Insert a run under a new id, in its server's team; values are server, phase, state, who, template, started,
    ended, inputs, resumed_from, error, revision; controller is host, pid, start, boot."""
    params = dict(zip(RUN_COLUMNS + CONTROLLER_COLUMNS, (*values, *controller), strict=True))
    for _ in range(100):
        params["id"] = new_run_id(values[5])
        if tx.run(_INSERT_RUN, params):
            return str(params["id"])
        # the same id this second: draw again
    raise StackscriptsError("could not find a free run id")


def format_time(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))
