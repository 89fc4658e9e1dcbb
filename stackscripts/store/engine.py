"""The PostgreSQL link of the store over SQLAlchemy Core: the only module that imports SQLAlchemy.

An engine for one database (psycopg 3 through SQLAlchemy's `postgresql+psycopg` dialect: psycopg itself is never
imported here) with a small pool of connections, so that a fleet's threads write at once instead of in turn, and
each statement's `:named` parameters compiled by SQLAlchemy for the dialect once. Loaded only when a PostgreSQL
store is opened (store/postgres.py).

    STACKSCRIPTS_DB_POOL=8     the most connections one store holds (default 8; each is a PostgreSQL backend)
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import PoolProxiedConnection

from ..errors import BadInput
from .sql import Compiled, Link, Listener

POOL_ENV = "STACKSCRIPTS_DB_POOL"
POOL_DEFAULT = 8


@functools.lru_cache(maxsize=2048)
def compiled(sql: str, dialect: Dialect) -> Compiled:
    """SQL text with :named parameters compiled by SQLAlchemy for one dialect, once."""
    done = text(sql).compile(dialect=dialect)
    order = tuple(done.positiontup or ()) if done.positional else None
    return Compiled(done.string, order)


def pool_size() -> int:
    """STACKSCRIPTS_DB_POOL, else 8: the most connections one store opens."""
    raw = os.environ.get(POOL_ENV, "").strip()
    if not raw:
        return POOL_DEFAULT
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise BadInput(f"{POOL_ENV}={raw!r} is not a number of connections from 1 to 1000",
                       hint=f"Unset it for {POOL_DEFAULT}, or give e.g. {POOL_ENV}=4.")
    return int(raw)


class EngineLink(Link):
    """A pool of an engine's connections in autocommit mode (the store writes its transactions' bounds)."""

    dialect = "postgresql"
    shared = False
    snapshot_reads = False

    def __init__(self, *, user: str | None, host: str | None, port: int | None, database: str | None,
                 query: Mapping[str, str], connect_args: Mapping[str, Any]) -> None:
        """Connect once (the connection stays in the pool); a failure raises the driver's own exception
        (psycopg's), never a password (none is given: libpq finds it, store/postgres.py)."""
        url = URL.create("postgresql+psycopg", username=user, host=host, port=port, database=database,
                         query=dict(query))
        self._engine = create_engine(url, pool_size=pool_size(), max_overflow=0, pool_timeout=3600,
                                     pool_reset_on_return=None, connect_args=dict(connect_args),
                                     isolation_level="AUTOCOMMIT")
        self.errors = (SQLAlchemyError, self._engine.dialect.loaded_dbapi.Error)
        try:
            self._engine.raw_connection().close()
        except SQLAlchemyError as exc:
            self._engine.dispose()
            raise self.original(exc) from None

    def compile(self, sql: str) -> Compiled:
        return compiled(sql, self._engine.dialect)

    def original(self, exc: BaseException) -> BaseException:
        return getattr(exc, "orig", None) or exc

    @contextlib.contextmanager
    def checkout(self) -> Iterator[Any]:
        """A connection of the pool, back in it after the transaction."""
        proxy = self._engine.raw_connection()
        driver = proxy.dbapi_connection
        try:
            yield driver
        except self.errors:
            if getattr(driver, "closed", False):  # psycopg: the server or the network went away
                proxy.invalidate()
            raise
        finally:
            proxy.close()

    def listen(self, channel: str) -> Listener:
        """A connection of its own, outside the pool, that LISTENs on channel (for `runs log --follow`)."""
        proxy = self._engine.raw_connection()
        proxy.detach()
        return EngineListener(proxy, channel)

    def close(self) -> None:
        self._engine.dispose()


class EngineListener:
    """LISTEN on a connection of its own (autocommit, as the engine's are), waited on with psycopg's `notifies`."""

    def __init__(self, proxy: PoolProxiedConnection, channel: str) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", channel):
            proxy.close()
            raise ValueError(f"not a channel name: {channel!r}")
        self._proxy = proxy
        driver: Any = proxy.dbapi_connection
        driver.execute(f"LISTEN {channel}")
        self._dbapi = driver

    def wait(self, timeout: float, wanted: Callable[[str], bool]) -> bool:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            for note in self._dbapi.notifies(timeout=left, stop_after=1):
                if wanted(note.payload):
                    return True
        return False

    def close(self) -> None:
        self._proxy.close()
