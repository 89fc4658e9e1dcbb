"""Where the embedded store lives and how its SQLite connection is opened."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ..errors import StackscriptsError
from .schema import migrate


def default_db_path() -> Path:
    """$STACKSCRIPTS_DB, else $XDG_STATE_HOME/stackscripts/audit.db (~/.local/state by default)."""
    explicit = os.environ.get("STACKSCRIPTS_DB")
    if explicit:
        return Path(explicit).expanduser()
    state = os.environ.get("XDG_STATE_HOME")
    base = Path(state) if state and os.path.isabs(state) else Path.home() / ".local" / "state"
    return base / "stackscripts" / "audit.db"


def open_connection(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """A migrated autocommit connection in WAL mode that waits busy_timeout seconds for locks."""
    target = str(path)
    try:
        if target != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(target, os.O_CREAT | os.O_RDWR, 0o600))  # private from the start
        conn = sqlite3.connect(target, timeout=busy_timeout, isolation_level=None,
                               check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise StackscriptsError(f"cannot open audit store {target}: {exc}") from exc
    conn.row_factory = sqlite3.Row
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000):d}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # with WAL: survives a process crash
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, target)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.Error):
            raise StackscriptsError(f"cannot open audit store {target}: {exc}") from exc
        raise
    return conn
