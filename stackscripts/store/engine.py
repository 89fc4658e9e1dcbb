"""The PostgreSQL link of the store over SQLAlchemy Core: the only module that imports SQLAlchemy.

An engine for one database (psycopg 3 through SQLAlchemy's `postgresql+psycopg` dialect: psycopg itself is never
imported here), one connection of it held for the store's life, and each statement's `:named` parameters compiled
by SQLAlchemy for the dialect once. Loaded only when a PostgreSQL store is opened (store/postgres.py).
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from .sql import Compiled, Link, Listener


@functools.lru_cache(maxsize=2048)
def compiled(sql: str, dialect: Dialect) -> Compiled:
    """SQL text with :named parameters compiled by SQLAlchemy for one dialect, once."""
    done = text(sql).compile(dialect=dialect)
    order = tuple(done.positiontup or ()) if done.positional else None
    return Compiled(done.string, order)


class EngineLink(Link):
    """One connection of a SQLAlchemy engine, in autocommit mode (the store writes its transactions' bounds)."""

    dialect = "postgresql"

    def __init__(self, *, user: str | None, host: str | None, port: int | None, database: str | None,
                 query: Mapping[str, str], connect_args: Mapping[str, Any]) -> None:
        """Connect; a failure raises the driver's own exception (psycopg's), never a password (none is given:
        libpq finds it, store/postgres.py)."""
        url = URL.create("postgresql+psycopg", username=user, host=host, port=port, database=database,
                         query=dict(query))
        self._engine = create_engine(url, poolclass=NullPool, connect_args=dict(connect_args),
                                     isolation_level="AUTOCOMMIT")
        self.errors = (SQLAlchemyError, self._engine.dialect.loaded_dbapi.Error)
        try:
            self._conn = self._engine.connect()
        except SQLAlchemyError as exc:
            self._engine.dispose()
            raise self.original(exc) from None

    def compile(self, sql: str) -> Compiled:
        return compiled(sql, self._engine.dialect)

    def dbapi(self) -> Any:
        """The DBAPI connection (SQLAlchemy makes a new one after `lost` invalidated the last)."""
        connection = self._conn.connection.dbapi_connection
        assert connection is not None
        return connection

    def original(self, exc: BaseException) -> BaseException:
        return getattr(exc, "orig", None) or exc

    def lost(self) -> None:
        if getattr(self.dbapi(), "closed", False):  # psycopg: the server or the network went away
            self._conn.invalidate()

    def listen(self, channel: str) -> Listener:
        """A second connection of the engine that LISTENs on channel (for `runs log --follow`)."""
        return EngineListener(self._engine.connect(), channel)

    def close(self) -> None:
        try:
            self._conn.close()
        finally:
            self._engine.dispose()


class EngineListener:
    """LISTEN on a connection of its own (autocommit, as the engine's are), waited on with psycopg's `notifies`."""

    def __init__(self, connection: Any, channel: str) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", channel):
            raise ValueError(f"not a channel name: {channel!r}")
        self._conn = connection
        self._dbapi = connection.connection.dbapi_connection
        self._dbapi.execute(f"LISTEN {channel}")

    def wait(self, timeout: float, wanted: Callable[[str], bool]) -> bool:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            for note in self._dbapi.notifies(timeout=left, stop_after=1):
                if wanted(note.payload):
                    return True
        return False

    def close(self) -> None:
        self._conn.close()
