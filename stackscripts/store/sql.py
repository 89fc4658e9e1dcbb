"""The store's machinery on either backend: one connection per store, explicit transactions, buffered output.

A backend gives the store a `Link`: its one database connection, how a statement's `:named` parameters are written
for its driver, and which exceptions are its driver's. `SqliteLink` (here) is Python's sqlite3 itself: sqlite3
takes `:named` parameters as they are written. `store/engine.py` is the PostgreSQL link over SQLAlchemy Core
(psycopg 3 through SQLAlchemy's `postgresql+psycopg` dialect), the only module that imports SQLAlchemy: it is
loaded only when a PostgreSQL store is opened, since importing SQLAlchemy costs about a quarter of a second, more
than the whole of most commands on a SQLite store. Everything else in the store writes plain SQL with `:named`
parameters, portable between SQLite and PostgreSQL, through `CoreTx` (the `rows.Tx` protocol: rows come back as
mappings), so no other module needs a driver's or SQLAlchemy's types.

Each store holds one connection for its whole life (threads share it under a lock, as the flush thread does). The
connection is in autocommit mode and the store writes each transaction's bounds itself: `BEGIN IMMEDIATE` for a
write on SQLite (the write lock is taken at once, so writers wait in turn instead of failing at their first
write), `BEGIN` otherwise, then `COMMIT` or `ROLLBACK`. Statements run on the driver's cursor: SQLAlchemy's
execution and transaction layers cost 50-70 us a statement, which more than doubled the cost of recording an
output chunk (one transaction each).
"""

from __future__ import annotations

import abc
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ..errors import StackscriptsError
from .base import Store
from .liveness import Controller
from .outbuf import Chunk, OutputBuffer
from .rows import Params, Row, Tx
from .signals import CHANNEL

T = TypeVar("T")
CHUNK_MAX = 1 << 18  # the most bytes one stored chunk holds: a longer piece is stored as several, in order
_INSERT_CHUNK = {  # on PostgreSQL the insert also notifies followers (runs log --follow), at commit, once per topic
    "sqlite": "INSERT INTO chunks (run_id, idx, stream, text, byte_offset) "
              "VALUES (:run_id, :idx, :stream, :data, :offset)",
    "postgresql": "INSERT INTO chunks (run_id, idx, stream, text, byte_offset) "
                  "SELECT :run_id, :idx, :stream, :data, :offset "
                  f"FROM (SELECT pg_notify('{CHANNEL}', :topic)) AS notified",
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
    """A store's one connection to its database, as its backend makes it."""

    dialect = ""  # "sqlite" or "postgresql"
    errors: tuple[type[BaseException], ...] = ()  # the driver's (and its wrapper's) exceptions

    @abc.abstractmethod
    def compile(self, sql: str) -> Compiled:
        """SQL text with :named parameters, as the driver takes it."""

    @abc.abstractmethod
    def dbapi(self) -> Any:
        """The DBAPI connection (a new one if the last was lost: see `lost`)."""

    def original(self, exc: BaseException) -> BaseException:
        """The driver's own exception inside a wrapper's."""
        return exc

    def lost(self) -> None:  # noqa: B027 (a hook: most links have nothing to drop)
        """Called after a failed transaction: drop a connection the server or network closed."""

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

    def dbapi(self) -> sqlite3.Connection:
        return self.connection

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

    def _dbapi(self) -> Any:
        return self._link.dbapi()

    @contextlib.contextmanager
    def _tx(self, write: bool = True) -> Iterator[Tx]:
        """One transaction under the store's lock; committed when the body returns, else rolled back."""
        with self._lock:
            if self._closed:
                raise StackscriptsError(f"audit store {self.location} is closed")
            errors = self._link.errors
            try:
                cursor = self._dbapi().cursor()
            except errors as exc:
                raise self._error(self._link.original(exc)) from None
            try:
                cursor.execute("BEGIN IMMEDIATE" if write and self.backend == "sqlite" else "BEGIN")
                try:
                    yield CoreTx(cursor, self._link)
                except BaseException:
                    self._rollback(cursor)
                    raise
                cursor.execute("COMMIT")
            except errors as exc:
                self._rollback(cursor)
                raise self._error(self._link.original(exc)) from None
            finally:
                with contextlib.suppress(Exception):
                    cursor.close()

    def _rollback(self, cursor: Any) -> None:
        """End a failed transaction; a connection found lost is dropped (the next transaction makes a new one)."""
        try:
            cursor.execute("ROLLBACK")
        except Exception:
            pass  # none open (SQLite says so), or the connection is gone
        self._link.lost()

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

    def _write(self, body: Callable[[Tx], T], chunks: list[Chunk] | None = None) -> T:
        """Run body in a write transaction that first saves all buffered output (put back if it fails)."""
        with self._lock:
            if chunks is None:
                chunks = self._buffer.take()
            try:
                rows, ends = self._chunk_rows(chunks)
                with self._tx() as tx:
                    tx.run(_INSERT_CHUNK[tx.dialect], rows)
                    result = body(tx)
                self._offsets.update(ends)  # committed: the next chunks follow these
                return result
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
                self._write(lambda tx: None, chunks)

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
