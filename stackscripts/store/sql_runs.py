"""Servers, runs, steps and output on either backend: the store's hot path (start_step, append_output, finish_step).

Each method is one short transaction (store/sql.py `SQLCore._tx`); a write that ends a step or a run first stores
all buffered output (`flush`, committed before the end is written), so nothing is lost or reordered. Starting a run takes the
server's lock: the server's row is locked first (SELECT ... FOR UPDATE on PostgreSQL; SQLite's write transaction
holds the whole file), so two controllers on two machines cannot both take it; and the run's lease, which this store
renews while the run runs (store/sql_leases.py). Output chunks carry their byte offsets (store/sql.py `_write_output`);
reading, following and pruning output is store/sql_output.py.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ..errors import BadInput, Conflict, NotFound
from ..model import RunState
from . import access, queries, rows
from .base import RunRecord, ServerRecord
from .liveness import check_lock
from .rows import Row, Tx
from .signals import CHANNEL, notify, topic
from .sql import RELAXED
from .sql_output import OutputSQL

STREAMS = ("stdout", "stderr")
_GREATEST = {"sqlite": "MAX", "postgresql": "GREATEST"}
# A step's start and end are one statement each (no BEGIN, COMMIT or read first: a fleet's hot path), committed relaxed
# on PostgreSQL (store/sql.py RELAXED); the end notifies followers.
_RELAXED = f"(SELECT {RELAXED}) AS relaxed"
_START_STEP = ("INSERT INTO steps (run_id, idx, name, phase, sha256, inputs, started, stage) "
               "SELECT :run_id, :idx, :name, :phase, :sha256, :inputs, :now, :stage {source}"
               "WHERE EXISTS (SELECT 1 FROM runs WHERE id = :run_id AND state = 'running') ON CONFLICT DO NOTHING")
_FINISH_STEP = ("UPDATE steps SET ended = :now, exit_code = :exit_code, error = :error {source}"
                "WHERE run_id = :run_id AND idx = :idx AND ended IS NULL")
_STEP_SQL = {
    "sqlite": (_START_STEP.format(source=""), _FINISH_STEP.format(source="")),
    "postgresql": (_START_STEP.format(source=f"FROM {_RELAXED} "),
                   _FINISH_STEP.format(source=f"FROM (SELECT {RELAXED}, pg_notify('{CHANNEL}', :topic)) AS relaxed ")),
}


def _quoted(column: str) -> str:
    return f'"{column}"'  # servers.user is a reserved word on PostgreSQL


class RunsSQL(OutputSQL):
    """Store methods for servers, runs and steps (see store.base.Store)."""

    # servers

    def put_server(self, server: ServerRecord) -> None:
        """Insert a server in the store's team, or replace one (which stays in its team)."""
        if not server.name:
            raise BadInput("a server needs a name")
        columns = rows.server_columns(
            {name: getattr(server, name) for name in rows.SERVER_FIELDS}, frozenset(rows.SERVER_FIELDS))
        now = time.time()
        with self._tx() as tx:
            old = tx.one("SELECT created, team FROM servers WHERE name = :name", {"name": server.name})
            if old is None:
                access.check_writer(tx, self.team, f"server {server.name}")
            columns["team"] = old["team"] if old else self.team
            columns["created"] = server.created or (old["created"] if old else now)
            columns["updated"] = now
            names = ", ".join(_quoted(column) for column in columns)
            marks = ", ".join(f":{column}" for column in columns)
            insert = f"INSERT INTO servers ({names}) VALUES ({marks}) ON CONFLICT (name) "
            if old is None and tx.run(insert + "DO NOTHING", columns):
                return
            if old is None and tx.one("SELECT 1 FROM servers WHERE name = :name", {"name": server.name}) is None:
                raise Conflict(f"the name {server.name} is taken by a server of a team you are not a member of",
                               hint="Choose another name, or ask that team (or a stackscripts_admin) about it.")
            changes = ", ".join(f"{_quoted(column)} = excluded.{_quoted(column)}" for column in columns
                                if column not in ("name", "team"))
            tx.run(insert + f"DO UPDATE SET {changes}", columns)

    def _server(self, tx: Tx, name: str, *, lock: bool = False) -> ServerRecord:
        row = tx.one(f"SELECT * FROM servers WHERE name = :name{tx.for_update if lock else ''}", {"name": name})
        if row is None:
            raise NotFound(f"unknown server {name!r}")
        return rows.server_from_row(row)

    def get_server(self, name: str) -> ServerRecord:
        with self._tx(write=False) as tx:
            return self._server(tx, name)

    def list_servers(self, team: str | None = None) -> list[ServerRecord]:
        where = "WHERE team = :team " if team is not None else ""
        with self._tx(write=False) as tx:
            found = tx.all(f"SELECT * FROM servers {where}ORDER BY name", {"team": team} if team is not None else None)
        return [rows.server_from_row(row) for row in found]

    def update_server(self, name: str, **changes: Any) -> ServerRecord:
        columns = rows.server_columns(changes)
        assignments = "".join(f"{_quoted(column)} = :{column}, " for column in columns)
        with self._tx(atomic=False) as tx:  # one statement: `updated` only ever grows, as its readers expect
            row = tx.one(f"UPDATE servers SET {assignments}updated = {_GREATEST[tx.dialect]}(:now, updated + 0.000001) "
                         "WHERE name = :name_ RETURNING *", {**columns, "now": time.time(), "name_": name})
        if row is None:
            raise NotFound(f"unknown server {name!r}")
        return rows.server_from_row(row)

    def delete_server(self, name: str) -> None:
        """Forget a server (its runs stay in the history); Conflict while a run holds it."""
        with self._tx() as tx:
            self._server(tx, name, lock=True)
            check_lock(tx, name, time.time(), self._controller.host)
            tx.run("DELETE FROM servers WHERE name = :name", {"name": name})

    # runs and steps

    def _identity(self) -> tuple[Any, ...]:
        me = self._controller
        return me.host, me.pid, me.start, me.boot

    def start_run(self, server: str, phase: str, *, who: str, template: str | None,
                  inputs: Mapping[str, str], resumed_from: str | None = None, revision: str | None = None) -> str:
        now = time.time()
        with self._tx() as tx:
            self._server(tx, server, lock=True)  # start_runs of one server take turns from here
            if resumed_from is not None:
                resumed_from = queries.resolve_run(tx, resumed_from)["id"]
            check_lock(tx, server, now, self._controller.host)
            run_id = rows.insert_run(tx, self._identity(), (
                server, rows.text_value(phase), RunState.RUNNING.value, who, template, now, None,
                rows.dump_json(inputs), resumed_from, None, revision))
            if not tx.run("INSERT INTO locks (server, run_id, taken) VALUES (:server, :run_id, :now) "
                          "ON CONFLICT (server) DO NOTHING", {"server": server, "run_id": run_id, "now": now}):
                raise Conflict(f"{server} is busy: another run took it at this moment", hint="Try again.")
            self._lease(tx, run_id)  # renewed by the store's heartbeat while the run runs (store/sql_leases.py)
        self._hold(run_id)
        return run_id

    def record_attempt(self, server: str, phase: str, *, who: str, template: str | None,
                       inputs: Mapping[str, str], error: str, resumed_from: str | None = None,
                       revision: str | None = None) -> str:
        """A failed run with no steps and its reason; no lock is taken (nothing ran)."""
        now = time.time()
        with self._tx() as tx:
            self._server(tx, server)
            if resumed_from is not None:
                resumed_from = queries.resolve_run(tx, resumed_from)["id"]
            return rows.insert_run(tx, self._identity(), (
                server, rows.text_value(phase), RunState.FAILED.value, who, template, now, now,
                rows.dump_json(inputs), resumed_from, error, revision))

    def _running(self, tx: Tx, run_id: str) -> Row:
        row = tx.one("SELECT * FROM runs WHERE id = :run_id", {"run_id": run_id})
        if row is None:
            raise NotFound(f"unknown run {run_id!r}")
        if row["state"] != RunState.RUNNING.value:
            raise Conflict(f"run {run_id} has already ended ({row['state']})")
        return row

    def finish_run(self, run_id: str, state: str, error: str | None = None) -> None:
        """End a run (succeeded, failed or interrupted), with why it failed outside any step if it did;
        unfinished steps get an error."""
        try:
            final = RunState(rows.text_value(state))
        except ValueError:
            final = RunState.RUNNING
        if final is RunState.RUNNING:
            raise BadInput(f"cannot finish run {run_id} as {state!r}", hint="Use succeeded, failed or interrupted.")
        now = time.time()
        key = {"run_id": run_id, "now": now}

        def body(tx: Tx) -> None:
            self._running(tx, run_id)
            tx.run("UPDATE runs SET state = :state, ended = :now, error = :error WHERE id = :run_id",
                   {**key, "state": final.value, "error": error})
            tx.run("UPDATE steps SET error = COALESCE(error, :why), ended = :now WHERE run_id = :run_id AND ended IS NULL",
                   {**key, "why": f"run ended ({final.value}) before the step finished"})
            tx.run("DELETE FROM locks WHERE run_id = :run_id", key)
            notify(tx, run_id)

        self.flush()  # the run's output is stored before its end
        try:
            with self._tx() as tx:
                body(tx)
        except Conflict:
            self._release(run_id)  # ended already (e.g. interrupted by another once its lease expired)
            raise
        self._release(run_id)  # no more renewals (a failed write keeps renewing: the run still runs)
        for step in [key for key in tuple(self._open_steps) if key[0] == run_id]:  # a copy: other runs' threads add
            self._open_steps.discard(step)
            self._offsets.pop(step, None)

    def start_step(self, run_id: str, index: int, name: str, phase: str, *, sha256: str,
                   inputs: Mapping[str, str], stage: str | None = None) -> None:
        now = time.time()
        with self._tx(atomic=False) as tx:
            started = tx.run(_STEP_SQL[tx.dialect][0], {
                "run_id": run_id, "idx": index, "name": name, "phase": rows.text_value(phase),
                "sha256": sha256 or "", "inputs": rows.dump_json(inputs), "now": now, "stage": stage})
        if not started:
            with self._tx(write=False) as tx:
                self._running(tx, run_id)  # NotFound or Conflict: unknown or ended
            raise Conflict(f"run {run_id} already has a step {index}")
        self._open_steps.add((run_id, index))
        self._offsets[(run_id, index)] = 0

    def append_output(self, run_id: str, index: int, stream: str, text: str | bytes) -> None:
        """Write output of an open step now, before it is shown anywhere (events reach the store first).

        If the write fails (the database busy beyond the timeout, unreachable), the chunk stays buffered and is
        retried about once a second and before the step or run ends: nothing is lost or reordered.
        """
        if stream not in STREAMS:
            raise BadInput(f"unknown output stream {stream!r}", hint="Use stdout or stderr.")
        data = text.encode() if isinstance(text, str) else bytes(text)  # kept byte-exact (BLOB, BYTEA)
        if not data:
            return
        if (run_id, index) not in self._open_steps or self._closed:
            raise Conflict(f"step {index} of run {run_id} is not open in this store")
        self._buffer.add(run_id, index, stream, data)
        self._drain()

    def finish_step(self, run_id: str, index: int, exit_code: int | None, error: str | None) -> None:
        now = time.time()
        key = {"run_id": run_id, "idx": index}
        self.flush()  # the step's output is stored before its end
        with self._tx(atomic=False) as tx:
            ended = tx.run(_STEP_SQL[tx.dialect][1], {**key, "now": now, "exit_code": exit_code, "error": error,
                                                      "topic": topic(run_id, index)})
        if not ended:
            with self._tx(write=False) as tx:
                row = tx.one("SELECT ended FROM steps WHERE run_id = :run_id AND idx = :idx", key)
            if row is None:
                raise NotFound(f"run {run_id!r} has no step {index}")
            raise Conflict(f"step {index} of run {run_id} has already ended")
        self._open_steps.discard((run_id, index))
        self._offsets.pop((run_id, index), None)

    # queries

    def get_run(self, run_id: str, *, output: bool = True) -> RunRecord:
        self.flush()  # this process's buffered output belongs in the answer
        with self._tx(write=False) as tx:
            return queries.load_run(tx, queries.resolve_run(tx, run_id), output=output)

    def list_runs(self, server: str | None = None, limit: int | None = 50,
                  team: str | None = None) -> list[RunRecord]:
        """Newest first (limit None or 0: all; one team's when given); steps come without output (get_run has it)."""
        with self._tx(write=False) as tx:
            found = queries.recent_runs(tx, server, limit, team)
            if server is not None and not found:
                self._server(tx, server)  # NotFound for a name with no record and no history
        return found

    def last_failed_step(self, run_id: str) -> int | None:
        """Index of the last step that failed or was cut short, None if none did."""
        with self._tx(write=False) as tx:
            return queries.last_failed_step(tx, queries.resolve_run(tx, run_id)["id"])
