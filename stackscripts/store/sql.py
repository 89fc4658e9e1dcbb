"""The store's machinery on either backend: connections, explicit transactions, buffered output.

A backend gives the store a `Link`: its connections, how a statement's `:named` parameters are written for its
driver, and which exceptions are its driver's. `SqliteLink` (here) is Python's sqlite3 itself, one connection that
threads share under the store's lock: sqlite3 takes `:named` parameters as they are written. `store/engine.py` is
the PostgreSQL link over SQLAlchemy Core (psycopg 3 through SQLAlchemy's `postgresql+psycopg` dialect), the only
module that imports SQLAlchemy: a small pool, so that a fleet's threads write at once; it is loaded only when a
PostgreSQL store is opened, since importing SQLAlchemy costs about a quarter of a second, more than the whole of most
commands on a SQLite store. Everything else in the store writes plain SQL with `:named` parameters, portable between
SQLite and PostgreSQL, through `CoreTx` (the `rows.Tx` protocol: rows come back as mappings), so no other module
needs a driver's or SQLAlchemy's types.

Connections are in autocommit mode and the store writes each transaction's bounds itself: `BEGIN IMMEDIATE` for a
write on SQLite (the write lock is taken at once, so writers wait in turn instead of failing at their first write),
`BEGIN` otherwise, then `COMMIT` or `ROLLBACK`; a read on PostgreSQL, or a write of one statement, runs without
them. Statements run on the driver's cursor: SQLAlchemy's execution and transaction layers cost 50-70 us a
statement. Output is buffered and written in order by one thread at a time (the store's lock): at once when no
other output is being written, else in the next batch, and always before the step's end.
"""

from __future__ import annotations

import abc
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import StackscriptsError
from .base import Store
from .liveness import Controller
from .outbuf import Chunk, OutputBuffer
from .rows import Params, Row, Tx
from .signals import CHANNEL

CHUNK_MAX = 1 << 18  # the most bytes one stored chunk holds: a longer piece is stored as several, in order
# Output and a step's start and end commit relaxed on PostgreSQL (synchronous_commit off for their own transaction):
# they may reach the disk a moment after the commit returns, as SQLite's WAL with synchronous=NORMAL always does. The
# run's end, a synchronous commit later in the same log, makes them durable with it: a controller that dies loses
# nothing the database acknowledged; a database server that crashes may lose the last fraction of a second of them.
RELAXED = "set_config('synchronous_commit', 'off', true)"
_INSERT_CHUNK = {  # on PostgreSQL the insert also notifies followers (runs log --follow), at commit, once per topic
    "sqlite": "INSERT INTO chunks (run_id, idx, stream, text, byte_offset) "
              "VALUES (:run_id, :idx, :stream, :data, :offset)",
    "postgresql": "INSERT INTO chunks (run_id, idx, stream, text, byte_offset) "
                  "SELECT :run_id, :idx, :stream, :data, :offset "
                  f"FROM (SELECT {RELAXED}, pg_notify('{CHANNEL}', :topic)) AS relaxed",
}


@dataclass(frozen=True)
class Compiled:
    """A statement as its driver takes it: SQL in the driver's parameter style, and the order of positional ones."""

    sql: str
    order: tuple[str, ...] | None  # None: the driver takes a mapping (sqlite3's :name, psycopg's %(name)s)

    def bind(self, params: Params) -> Any:
        return params if self.order is None else tuple(params[name] for name in self.order)


class Listener(Protocol):
    """A connection of its own that waits for notifications on one channel (PostgreSQL's LISTEN)."""

    def wait(self, timeout: float, wanted: Callable[[str], bool]) -> bool:
        """Block until a notification whose payload is wanted arrives (True) or timeout seconds pass (False)."""

    def close(self) -> None: ...


class Link(abc.ABC):
    """A store's connections to its database, as its backend makes them."""

    dialect = ""  # "sqlite" or "postgresql"
    errors: tuple[type[BaseException], ...] = ()  # the driver's (and its wrapper's) exceptions
    shared = True  # one connection for every thread: the store runs one transaction at a time
    # BEGIN...COMMIT around reads gives them one snapshot (SQLite); PostgreSQL's READ COMMITTED takes a snapshot per
    # statement anyway, so there a read's BEGIN and COMMIT would only cost two round trips
    snapshot_reads = True

    @abc.abstractmethod
    def compile(self, sql: str) -> Compiled:
        """SQL text with :named parameters, as the driver takes it."""

    @abc.abstractmethod
    def checkout(self) -> contextlib.AbstractContextManager[Any]:
        """A DBAPI connection in autocommit mode for one transaction (a lost one is dropped when it fails)."""

    def begin(self, write: bool) -> str:
        """The statement that opens a transaction."""
        return "BEGIN"

    def original(self, exc: BaseException) -> BaseException:
        """The driver's own exception inside a wrapper's."""
        return exc

    def listen(self, channel: str) -> Listener | None:
        """A second connection listening on channel; None where the backend has no notifications (poll)."""
        return None

    @abc.abstractmethod
    def close(self) -> None: ...


class SqliteLink(Link):
    """Python's sqlite3 connection itself (autocommit: isolation_level None); sqlite3 takes :named parameters."""

    dialect = "sqlite"
    errors = (sqlite3.Error,)

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def compile(self, sql: str) -> Compiled:
        return Compiled(sql, None)

    def begin(self, write: bool) -> str:
        return "BEGIN IMMEDIATE" if write else "BEGIN"  # a writer takes the write lock at once: writers wait in turn

    def checkout(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return contextlib.nullcontext(self.connection)

    def close(self) -> None:
        self.connection.close()


class CoreTx:
    """One transaction of a store (the `rows.Tx` protocol): SQL text with :named parameters in, rows as mappings."""

    __slots__ = ("_cursor", "_link", "dialect")

    def __init__(self, cursor: Any, link: Link) -> None:
        self._cursor = cursor  # the DBAPI cursor of the store's connection
        self._link = link
        self.dialect = link.dialect  # "sqlite" or "postgresql", for the few statements that differ

    def _execute(self, sql: str, params: Params | None) -> Any:
        statement = self._link.compile(sql)
        if params is None and statement.order is None:
            self._cursor.execute(statement.sql)
        else:
            self._cursor.execute(statement.sql, statement.bind(params or {}))
        return self._cursor

    def run(self, sql: str, params: Params | Sequence[Params] | None = None) -> int:
        """Execute (a list of parameter sets: executemany); the number of rows changed."""
        if isinstance(params, Sequence):
            if not params:
                return 0
            statement = self._link.compile(sql)
            self._cursor.executemany(statement.sql, [statement.bind(one) for one in params])
            return int(self._cursor.rowcount)
        return int(self._execute(sql, params).rowcount)

    def all(self, sql: str, params: Params | None = None) -> list[Row]:
        cursor = self._execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, sql: str, params: Params | None = None) -> Row | None:
        cursor = self._execute(sql, params)
        row = cursor.fetchone()
        return None if row is None else dict(zip([column[0] for column in cursor.description], row, strict=True))

    def value(self, sql: str, params: Params | None = None) -> Any:
        """The first column of the first row (None without rows)."""
        row = self._execute(sql, params).fetchone()
        return None if row is None else row[0]

    @property
    def connection(self) -> Any:
        """The DBAPI connection this transaction runs on (a queue engine writes its jobs in the same transaction)."""
        return self._cursor.connection

    @property
    def for_update(self) -> str:
        """The row-lock clause where the backend has one (SQLite's write transactions lock the whole file)."""
        return " FOR UPDATE" if self.dialect == "postgresql" else ""


class SQLCore(Store):
    """Engine, connection, transactions and the output buffer: what the backends and the store's parts share."""

    backend = ""  # "sqlite" or "postgresql": its name in the `stores` registry
    location = ""  # where it is, safe to print (a path; a DSN without its password)
    read_only = False

    def _connect(self, make: Callable[[], Link], location: str, flush_interval: float) -> None:
        """Hold the connection `make` opens; errors become the backend's StackscriptsError (`_error`)."""
        self.location = location
        self._lock = threading.RLock()
        self._draining = threading.Lock()  # held by the one thread writing what `_drain` found buffered
        self._closed = True
        try:
            self._link = make()
        except Exception as exc:
            raise self._error(exc) from None
        self._closed = False
        self._controller = Controller.current()
        self._open_steps: set[tuple[str, int]] = set()
        self._offsets: dict[tuple[str, int], int] = {}  # each open step's output length so far: the next offset
        self._buffer = OutputBuffer(self.flush, flush_interval)

    def _error(self, exc: BaseException) -> StackscriptsError:
        """The StackscriptsError for a database error: the driver's exception (sqlite3's, psycopg's) when there is
        one. Each backend says which errors a user can fix (BadInput)."""
        return StackscriptsError(f"audit store {self.location}: {exc}")

    @contextlib.contextmanager
    def _tx(self, write: bool = True, *, atomic: bool = True) -> Iterator[Tx]:
        """One transaction, committed when the body returns, else rolled back. On a shared connection (SQLite) it
        holds the store's lock; a pool (PostgreSQL) gives each concurrent transaction a connection of its own.
        atomic=False: no BEGIN/COMMIT, for a body of one statement (which is atomic by itself)."""
        atomic = atomic and (write or self._link.snapshot_reads)
        with self._lock if self._link.shared else contextlib.nullcontext():
            if self._closed:
                raise StackscriptsError(f"audit store {self.location} is closed")
            try:
                with self._link.checkout() as connection:
                    cursor = connection.cursor()
                    try:
                        if atomic:
                            cursor.execute(self._link.begin(write))
                        try:
                            yield CoreTx(cursor, self._link)
                        except BaseException:
                            if atomic:
                                _rollback(cursor)
                            raise
                        if atomic:
                            cursor.execute("COMMIT")
                    except self._link.errors:
                        if atomic:
                            _rollback(cursor)
                        raise
                    finally:
                        with contextlib.suppress(Exception):
                            cursor.close()
            except self._link.errors as exc:
                raise self._error(self._link.original(exc)) from None

    def _chunk_rows(self, chunks: list[Chunk]) -> tuple[list[dict[str, Any]], dict[tuple[str, int], int]]:
        """The rows that store chunks (each at most CHUNK_MAX bytes, at its byte offset in its step's output), and
        each step's output length after them."""
        rows: list[dict[str, Any]] = []
        ends: dict[tuple[str, int], int] = {}
        for run_id, idx, stream, data in chunks:
            key = (run_id, idx)
            at = ends.get(key, self._offsets.get(key, 0))
            view = memoryview(data)
            for start in range(0, len(data), CHUNK_MAX):
                piece = bytes(view[start:start + CHUNK_MAX]) if len(data) > CHUNK_MAX else data
                rows.append({"run_id": run_id, "idx": idx, "stream": stream, "data": piece, "offset": at,
                             "topic": f"{run_id}:{idx}"})
                at += len(piece)
            ends[key] = at
        return rows, ends

    def _write_output(self, chunks: list[Chunk]) -> None:
        """Store chunks taken from the buffer (under the store's lock: output is written in order, one writer at a
        time), in one statement when there is one row; put back if it fails."""
        try:
            rows, ends = self._chunk_rows(chunks)
            with self._tx(atomic=len(rows) > 1) as tx:
                tx.run(_INSERT_CHUNK[tx.dialect], rows if len(rows) > 1 else rows[0])
            self._offsets.update(ends)  # committed: the next chunks follow these
        except BaseException:
            self._buffer.restore(chunks)
            raise

    def flush(self) -> None:
        """Write buffered output now and wait until it is committed (also done about once a second, and before
        every step's or run's end is written, so that a step's output is stored before its end)."""
        with self._lock:
            if self._closed:
                return
            chunks = self._buffer.take()
            if chunks:
                self._write_output(chunks)

    def _drain(self) -> None:
        """Write buffered output now, unless another thread is writing output: that one looks again when it is done
        (after letting go), so output is written at once when the store is free, and in batches (one transaction
        for many chunks) when many steps print at the same time."""
        while self._buffer.pending() and self._draining.acquire(blocking=False):
            try:
                self.flush()
            except StackscriptsError:
                return  # kept in the buffer (restored by _write_output); the flush thread retries
            finally:
                self._draining.release()

    def close(self) -> None:
        """Flush buffered output and close the connection; further calls raise."""
        if not hasattr(self, "_buffer"):
            return  # the connection was never made
        self._buffer.close()  # outside the lock: the flusher thread may be waiting for it
        with self._lock:
            if self._closed:
                return
            try:
                self.flush()
            finally:
                self._closed = True
                self._link.close()


def _rollback(cursor: Any) -> None:
    """End a failed transaction (the link drops a connection found lost)."""
    try:
        cursor.execute("ROLLBACK")
    except Exception:  # noqa: S110 (none open, as SQLite says, or the connection is gone)
        pass
