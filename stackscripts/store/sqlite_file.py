"""The SQLite file behind the audit store: where it lives, how it is opened, what its errors mean.

Every way a `--db` can be wrong (empty, a folder, a device, not SQLite, read-only) is bad input
(exit 2) that says what is wrong; a store this process may not write is opened read-only, so that
it can still be read. `connector` makes the sqlite3 connections the store's engine uses (store/sql.py).
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from ..errors import BadInput, StackscriptsError
from ..files import kind_of


def default_db_path() -> Path:
    """$STACKSCRIPTS_DB, else $XDG_STATE_HOME/stackscripts/audit.db (~/.local/state by default)."""
    explicit = os.environ.get("STACKSCRIPTS_DB")
    if explicit is not None:
        if not explicit.strip():
            raise BadInput("STACKSCRIPTS_DB is set but empty", hint="Unset it, or name an audit store file.")
        return Path(explicit).expanduser()
    state = os.environ.get("XDG_STATE_HOME")
    base = Path(state) if state and os.path.isabs(state) else Path.home() / ".local" / "state"
    return base / "stackscripts" / "audit.db"


def store_error(where: str, exc: BaseException) -> StackscriptsError:
    """The message for an sqlite error: bad input for what a user can fix, else internal."""
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return BadInput(f"the audit store is read-only: {text}", file=where,
                        hint="Reading works; to record runs, use a store you can write (--db or STACKSCRIPTS_DB).")
    if "not a database" in text or "malformed" in text:
        return BadInput(f"is not an SQLite audit store ({text})", file=where,
                        hint="Check the --db path; a new store is created when the file does not exist.")
    return StackscriptsError(f"audit store {where}: {text}")


def _check_path(path: Path) -> None:
    target = str(path)
    if not target.strip():
        raise BadInput("the audit store path is empty", hint="Pass --db FILE, or leave it out for the default.")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise BadInput(f"cannot use this audit store: {exc.strerror or exc}", file=target) from None
    if not stat.S_ISREG(info.st_mode):
        raise BadInput(f"is {kind_of(info.st_mode)}, not an audit store", file=target,
                       hint="Name a file (it is created if it does not exist).")
    if info.st_mode & 0o007:  # readable or writable by everyone: recorded outputs and inputs are private
        if info.st_uid != os.geteuid():
            raise BadInput(f"the audit store is accessible to every user (mode {stat.S_IMODE(info.st_mode):04o})",
                           file=target, hint=f"Ask its owner to run 'chmod 600 {target}' (or 640 for a group).")
        os.chmod(path, stat.S_IMODE(info.st_mode) & ~0o007)


def _create(path: Path) -> bool:
    """Create the file 0600 in a 0700 folder if missing; False when this process may not write there."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))  # private from the start
        return True
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) and path.exists():
            return False
        raise BadInput(f"cannot create the audit store: {exc.strerror or exc}", file=str(path),
                       hint="Check that its folder exists and is writable, or pass another --db.") from None


def connector(path: Path, busy_timeout: float, read_only: bool = False) -> tuple[Callable[[], sqlite3.Connection], bool]:
    """A function that opens the file (checked, created 0600 if missing unless read_only) in autocommit mode,
    synchronous=NORMAL, foreign keys on; and whether it is read-only (asked, or this process may not write it)."""
    target = str(path)
    writable = not read_only
    if target != ":memory:":
        _check_path(path)
        if read_only and not path.exists():
            raise BadInput("no audit store here", file=target, hint="Check the --db path.")
        writable = writable and _create(path)
    uris = [target] if writable else [f"file:{quote(target)}?mode=ro", f"file:{quote(target)}?mode=ro&immutable=1"]

    def connect() -> sqlite3.Connection:
        for uri in uris:
            conn = sqlite3.connect(uri, timeout=busy_timeout, isolation_level=None, check_same_thread=False,
                                   uri=not writable)
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000):d}")
                if writable:  # WAL is set once the file is known to be ours (SQLiteStore._prepare)
                    conn.execute("PRAGMA synchronous = NORMAL")  # with WAL: survives a process crash
                    conn.execute("PRAGMA foreign_keys = ON")
                else:
                    conn.execute("PRAGMA user_version").fetchone()  # reads the file: fails here, not later
                return conn
            except sqlite3.OperationalError as exc:
                conn.close()
                if not writable and "unable to open" in str(exc) and uri != uris[-1]:
                    continue  # a WAL file on a read-only file system: only an immutable open reads it
                raise
            except BaseException:
                conn.close()
                raise
        raise BadInput("cannot open the read-only audit store", file=target)

    return connect, not writable
