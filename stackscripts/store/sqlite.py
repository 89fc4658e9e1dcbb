"""The embedded audit store: one SQLite file in WAL mode, shared by threads and processes."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from ..errors import BadInput, Conflict, NotFound, StackscriptsError
from ..model import RunState
from . import queries, rows
from .base import RunRecord, ServerRecord, Store
from .liveness import Controller, check_lock, dead_runs, interrupt
from .outbuf import Chunk, OutputBuffer
from .revisions_sql import RevisionsSQL
from .sqlite_file import default_db_path, open_connection, store_error

__all__ = ["SQLiteStore", "default_db_path"]

T = TypeVar("T")
STREAMS = ("stdout", "stderr")


class SQLiteStore(RevisionsSQL, Store):
    """Servers, runs and steps in SQLite; one connection guarded by a lock, output buffered (revisions: RevisionsSQL)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, busy_timeout: float = 10.0,
                 flush_interval: float = 1.0) -> None:
        """Open (creating parent dirs, migrating the schema) and interrupt dead local runs."""
        if path is not None and not str(path).strip():
            raise BadInput("the audit store path is empty", hint="Pass --db FILE, or leave it out for the default.")
        self.path = Path(path) if path is not None else default_db_path()
        self._lock = threading.RLock()
        self._conn, self.read_only = open_connection(self.path, busy_timeout)
        self._closed = False
        self._controller = Controller.current()
        self._open_steps: set[tuple[str, int]] = set()
        self._buffer = OutputBuffer(self.flush, flush_interval)
        try:
            if not self.read_only:
                self.mark_interrupted()
        except BaseException:
            self.close()
            raise

    @contextlib.contextmanager
    def _tx(self, begin: str = "BEGIN IMMEDIATE") -> Iterator[sqlite3.Connection]:
        """One transaction under the connection lock; sqlite errors become StackscriptsError."""
        with self._lock:
            if self._closed:
                raise StackscriptsError(f"audit store {self.path} is closed")
            conn = self._conn
            try:
                conn.execute(begin)
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise store_error(str(self.path), exc) from exc

    def _write(self, body: Callable[[sqlite3.Connection], T],
               chunks: list[Chunk] | None = None) -> T:
        """Run body in a write transaction that first saves all buffered output."""
        with self._lock:
            if chunks is None:
                chunks = self._buffer.take()
            try:
                with self._tx() as conn:
                    conn.executemany("INSERT INTO chunks (run_id, idx, stream, text) "
                                     "VALUES (?, ?, ?, ?)", chunks)
                    return body(conn)
            except BaseException:
                self._buffer.restore(chunks)
                raise

    def flush(self) -> None:
        """Write buffered output now (also done about once a second, and by every step/run end)."""
        with self._lock:
            if self._closed:
                return
            chunks = self._buffer.take()
            if chunks:
                self._write(lambda conn: None, chunks)

    # servers

    def put_server(self, server: ServerRecord) -> None:
        if not server.name:
            raise BadInput("a server needs a name")
        columns = rows.server_columns(
            {name: getattr(server, name) for name in rows.SERVER_FIELDS},
            frozenset(rows.SERVER_FIELDS))
        now = time.time()
        with self._tx() as conn:
            old = conn.execute("SELECT created FROM servers WHERE name = ?",
                               (server.name,)).fetchone()
            columns["created"] = server.created or (old["created"] if old else now)
            columns["updated"] = now
            names = ", ".join(columns)
            marks = ", ".join("?" * len(columns))
            conn.execute(f"INSERT OR REPLACE INTO servers ({names}) VALUES ({marks})",
                         tuple(columns.values()))

    def _server(self, conn: sqlite3.Connection, name: str) -> ServerRecord:
        row = conn.execute("SELECT * FROM servers WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"unknown server {name!r}")
        return rows.server_from_row(row)

    def get_server(self, name: str) -> ServerRecord:
        with self._tx("BEGIN") as conn:
            return self._server(conn, name)

    def list_servers(self) -> list[ServerRecord]:
        with self._tx("BEGIN") as conn:
            found = conn.execute("SELECT * FROM servers ORDER BY name").fetchall()
        return [rows.server_from_row(row) for row in found]

    def update_server(self, name: str, **changes: Any) -> ServerRecord:
        columns = rows.server_columns(changes)
        with self._tx() as conn:
            old = self._server(conn, name)
            columns["updated"] = max(time.time(), old.updated + 1e-6)
            assignments = ", ".join(f"{column} = ?" for column in columns)
            conn.execute(f"UPDATE servers SET {assignments} WHERE name = ?",
                         (*columns.values(), name))
            return self._server(conn, name)

    def delete_server(self, name: str) -> None:
        """Forget a server (its runs stay in the history); Conflict while a run holds it."""
        with self._tx() as conn:
            self._server(conn, name)
            check_lock(conn, name, time.time(), self._controller.host)
            conn.execute("DELETE FROM servers WHERE name = ?", (name,))

    # the per-server lock and interrupted runs

    def mark_interrupted(self) -> list[str]:
        """Interrupt running runs whose controller on this host is gone; return their ids."""
        host = self._controller.host
        with self._tx("BEGIN") as conn:  # a read first: most opens find nothing to do
            if not dead_runs(conn, host):
                return []
        now = time.time()
        with self._tx() as conn:
            dead = dead_runs(conn, host)
            for run_id in dead:
                interrupt(conn, run_id, now)
        return dead

    # runs and steps

    def start_run(self, server: str, phase: str, *, who: str, template: str | None,
                  inputs: Mapping[str, str], resumed_from: str | None = None, revision: str | None = None) -> str:
        now = time.time()
        with self._tx() as conn:
            self._server(conn, server)
            if resumed_from is not None:
                resumed_from = queries.resolve_run(conn, resumed_from)["id"]
            check_lock(conn, server, now, self._controller.host)
            run_id = rows.insert_run(conn, self._identity(), (
                server, rows.text_value(phase), RunState.RUNNING.value, who, template, now, None,
                rows.dump_json(inputs), resumed_from, None, revision))
            conn.execute("INSERT INTO locks (server, run_id, taken) VALUES (?, ?, ?)",
                         (server, run_id, now))
        return run_id

    def _identity(self) -> tuple[Any, ...]:
        me = self._controller
        return me.host, me.pid, me.start, me.boot

    def record_attempt(self, server: str, phase: str, *, who: str, template: str | None,
                       inputs: Mapping[str, str], error: str, resumed_from: str | None = None,
                       revision: str | None = None) -> str:
        """A failed run with no steps and its reason; no lock is taken (nothing ran)."""
        now = time.time()
        with self._tx() as conn:
            self._server(conn, server)
            if resumed_from is not None:
                resumed_from = queries.resolve_run(conn, resumed_from)["id"]
            return rows.insert_run(conn, self._identity(), (
                server, rows.text_value(phase), RunState.FAILED.value, who, template, now, now,
                rows.dump_json(inputs), resumed_from, error, revision))

    def _running(self, conn: sqlite3.Connection, run_id: str) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute("SELECT * FROM runs WHERE id = ?",
                                               (run_id,)).fetchone()
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
            raise BadInput(f"cannot finish run {run_id} as {state!r}",
                           hint="Use succeeded, failed or interrupted.")
        now = time.time()

        def body(conn: sqlite3.Connection) -> None:
            self._running(conn, run_id)
            conn.execute("UPDATE runs SET state = ?, ended = ?, error = ? WHERE id = ?",
                         (final.value, now, error, run_id))
            conn.execute("UPDATE steps SET error = COALESCE(error, ?), ended = ? "
                         "WHERE run_id = ? AND ended IS NULL",
                         (f"run ended ({final.value}) before the step finished", now, run_id))
            conn.execute("DELETE FROM locks WHERE run_id = ?", (run_id,))

        with self._lock:
            self._write(body)
            self._open_steps.difference_update(
                [key for key in self._open_steps if key[0] == run_id])

    def start_step(self, run_id: str, index: int, name: str, phase: str, *, sha256: str,
                   inputs: Mapping[str, str]) -> None:
        now = time.time()
        with self._tx() as conn:
            self._running(conn, run_id)
            try:
                conn.execute(
                    "INSERT INTO steps (run_id, idx, name, phase, sha256, inputs, started) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (run_id, index, name, rows.text_value(phase), sha256 or "",
                     rows.dump_json(inputs), now))
            except sqlite3.IntegrityError:
                raise Conflict(f"run {run_id} already has a step {index}") from None
        self._open_steps.add((run_id, index))

    def append_output(self, run_id: str, index: int, stream: str, text: str | bytes) -> None:
        """Write output of an open step now, before it is shown anywhere (events reach the store first).

        If the write fails (the file is busy beyond the timeout), the chunk stays buffered and is
        retried about once a second and before the step or run ends: nothing is lost or reordered.
        """
        if stream not in STREAMS:
            raise BadInput(f"unknown output stream {stream!r}", hint="Use stdout or stderr.")
        data = text.encode() if isinstance(text, str) else bytes(text)  # kept byte-exact (a BLOB)
        if not data:
            return
        if (run_id, index) not in self._open_steps or self._closed:
            raise Conflict(f"step {index} of run {run_id} is not open in this store")
        self._buffer.add(run_id, index, stream, data)
        try:
            self.flush()
        except StackscriptsError:
            pass  # kept in the buffer (restored by _write); the flush thread retries

    def finish_step(self, run_id: str, index: int, exit_code: int | None,
                    error: str | None) -> None:
        now = time.time()

        def body(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT ended FROM steps WHERE run_id = ? AND idx = ?",
                               (run_id, index)).fetchone()
            if row is None:
                raise NotFound(f"run {run_id!r} has no step {index}")
            if row["ended"] is not None:
                raise Conflict(f"step {index} of run {run_id} has already ended")
            conn.execute("UPDATE steps SET ended = ?, exit_code = ?, error = ? "
                         "WHERE run_id = ? AND idx = ?", (now, exit_code, error, run_id, index))

        self._write(body)
        self._open_steps.discard((run_id, index))

    # queries

    def get_run(self, run_id: str) -> RunRecord:
        self.flush()  # this process's buffered output belongs in the answer
        with self._tx("BEGIN") as conn:
            return queries.load_run(conn, queries.resolve_run(conn, run_id))

    def list_runs(self, server: str | None = None, limit: int | None = 50) -> list[RunRecord]:
        """Newest first (limit None or 0: all); steps come without output (get_run has it)."""
        with self._tx("BEGIN") as conn:
            found = queries.recent_runs(conn, server, limit)
            if server is not None and not found:
                self._server(conn, server)  # NotFound for a name with no record and no history
        return found

    def last_failed_step(self, run_id: str) -> int | None:
        """Index of the last step that failed or was cut short, None if none did."""
        with self._tx("BEGIN") as conn:
            return queries.last_failed_step(conn, queries.resolve_run(conn, run_id)["id"])

    def close(self) -> None:
        """Flush buffered output and close the connection; further calls raise."""
        self._buffer.close()  # outside the lock: the flusher thread may be waiting for it
        with self._lock:
            if self._closed:
                return
            try:
                self.flush()
            finally:
                self._closed = True
                self._conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
