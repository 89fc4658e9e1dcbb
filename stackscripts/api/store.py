"""The audit store itself: which backend, where, which schema version, and bringing it up to date.

    from stackscripts.api import store
    store.status("postgresql://stackscripts@db.internal/stackscripts")   # writes nothing
    store.init("~/.local/state/stackscripts/audit.db")                   # create (or migrate) a store

`db` is what `--db` takes: a SQLite file, or a `postgresql://` DSN (docs/team-store.md); None is
$STACKSCRIPTS_DB, else the default file. Every command opens (and migrates) its store the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import BadInput
from ..store import is_dsn, named_db, open_store
from ..store.migrations import SCHEMA_VERSION
from ..store.schema_state import SchemaStatus, pending
from ..store.sqlite_file import default_db_path

__all__ = ["SchemaStatus", "init", "migrate", "status"]

Db = str | os.PathLike[str] | None


def _missing_file(db: Db) -> Path | None:
    """The SQLite file db names when it does not exist yet (None for a DSN or an existing file)."""
    db = named_db(db)
    if is_dsn(db):
        return None
    if db is not None and not str(db).strip():
        raise BadInput("the audit store path is empty", hint="Pass --db FILE, or leave it out for the default.")
    path = Path(db).expanduser() if db is not None else default_db_path()
    return None if path.exists() or str(path) == ":memory:" else path


def status(db: Db = None) -> SchemaStatus:
    """Backend, location (a DSN without its password), schema version and pending migrations; writes nothing (a
    SQLite file that does not exist is not created). BadInput for another application's database or a newer
    schema, and for a PostgreSQL server that cannot be reached or refuses the login."""
    missing = _missing_file(db)
    if missing is not None:
        return SchemaStatus("sqlite", str(missing), False, 0, SCHEMA_VERSION, tuple(pending(0)))
    with open_store(db, migrate=False, read_only=True) as store:
        return store.status()


def init(db: Db = None) -> SchemaStatus:
    """Create the store (a SQLite file, or the schema in an empty PostgreSQL database) or bring it up to date;
    `applied` names the migrations this call applied (none when it was up to date)."""
    with open_store(db) as store:
        return store.status()


def migrate(db: Db = None) -> SchemaStatus:
    """Apply pending migrations to an existing store (BadInput, nothing created, where there is none yet:
    `init` makes one); `applied` names the migrations applied."""
    before = status(db)
    if before.version == 0:
        raise BadInput(f"there is no audit store at {before.location} yet",
                       hint="Create it with 'stackscripts store init' (or run any command, which creates it).")
    return init(db)
