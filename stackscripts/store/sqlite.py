"""The embedded audit store: one SQLite file in WAL mode, shared by threads and processes.

`SQLiteStore` is `SQLStore` (store/sql_store.py, the same code as PostgreSQL's) over the one sqlite3 connection
store/sqlite_file.py opens (`sql.SqliteLink`): the file checked and created private, WAL, synchronous=NORMAL, foreign keys,
a busy timeout, and a read-only fallback when this process may not write the file.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ..errors import BadInput, StackscriptsError
from .sql import SqliteLink
from .sql_store import SQLStore
from .sqlite_file import connector, default_db_path, store_error

__all__ = ["SQLiteStore", "default_db_path"]


class SQLiteStore(SQLStore):
    """Servers, runs and steps in one SQLite file; one connection guarded by a lock, output buffered."""

    backend = "sqlite"

    def __init__(self, path: str | os.PathLike[str] | None = None, *, busy_timeout: float = 10.0,
                 flush_interval: float = 1.0, read_only: bool = False, migrate: bool = True) -> None:
        """Open (creating parent dirs, migrating the schema) and interrupt dead local runs.

        read_only: open an existing file for reading only (nothing created, migrated or written), as `store status`
        does; a file this process may not write is opened so anyway. migrate=False: neither migrate nor interrupt.
        """
        if path is not None and not str(path).strip():
            raise BadInput("the audit store path is empty", hint="Pass --db FILE, or leave it out for the default.")
        self.path = Path(path) if path is not None else default_db_path()
        connect, self.read_only = connector(self.path, busy_timeout, read_only)
        self._connect(lambda: SqliteLink(connect()), str(self.path), flush_interval)
        self._open(migrate=migrate and not read_only)

    def _prepare(self) -> None:
        """WAL, kept in the file: set only once the file is known to be ours (another's stays byte for byte)."""
        with self._lock, self._link.checkout() as connection:
            try:
                connection.execute("PRAGMA journal_mode = WAL")
            except sqlite3.Error as exc:
                raise self._error(exc) from None

    def _error(self, exc: BaseException) -> StackscriptsError:
        if isinstance(exc, StackscriptsError):
            return exc
        if isinstance(exc, sqlite3.Error):
            return store_error(self.location, exc)
        return super()._error(exc)
