"""The audit store itself: which backend, where, which schema version, and bringing it up to date.

    from stackscripts.api import store
    store.status("postgresql://stackscripts@db.internal/stackscripts")   # writes nothing
    store.init("~/.local/state/stackscripts/audit.db")                   # create (or migrate) a store
    store.add_team("web", db); store.grant("alice", "web", db)          # teams on PostgreSQL (row-level security)
    store.copy("~/.local/state/stackscripts/audit.db", "postgresql://...")  # one store's records into another

`db` is what `--db` takes: a SQLite file, or a `postgresql://` DSN (docs/team-store.md); None is
$STACKSCRIPTS_DB, else the default file. Every command opens (and migrates) its store the same way.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..errors import BadInput
from ..store import access as store_access
from ..store import copy as store_copy
from ..store import is_dsn, named_db, named_team, open_store
from ..store.access import ADMIN, Access, Team
from ..store.copy import CopyReport
from ..store.migrations import SCHEMA_VERSION
from ..store.rows import Tx
from ..store.schema_state import SchemaStatus, pending
from ..store.sqlite_file import default_db_path

__all__ = ["ADMIN", "Access", "CopyReport", "SchemaStatus", "Team", "access", "add_team", "copy", "grant", "init",
           "migrate", "revoke", "status"]
T = TypeVar("T")

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
    `applied` names the migrations this call applied (none when it was up to date). On PostgreSQL, also turn on
    team access (row-level security, the role stackscripts_admin): BadInput unless run by the tables' owner with
    CREATEROLE (or once the admin role exists with the owner in it); writes nothing when all is in place."""
    with open_store(db) as store:
        if store.backend == "postgresql":
            with store._tx() as tx:
                store_access.enable(tx)
        return store.status()


def migrate(db: Db = None) -> SchemaStatus:
    """Apply pending migrations to an existing store (BadInput, nothing created, where there is none yet:
    `init` makes one); `applied` names the migrations applied."""
    before = status(db)
    if before.version == 0:
        raise BadInput(f"there is no audit store at {before.location} yet",
                       hint="Create it with 'stackscripts store init' (or run any command, which creates it).")
    return init(db)


def access(db: Db = None) -> Access:
    """Who sees what: row-level security on or off, the teams and their members, the user's teams (PostgreSQL);
    on SQLite, the team labels in use. Writes nothing."""
    return _on(db, store_access.state, write=False)


def add_team(name: str, db: Db = None) -> bool:
    """Make a team (a NOLOGIN PostgreSQL role with the tables' privileges); False when it was one already.
    BadInput on SQLite (a team there is a label: set STACKSCRIPTS_TEAM) and for a user without CREATEROLE."""
    return _on(db, lambda tx: store_access.add_team(tx, name), postgres=f"add the team {name}")


def grant(user: str, team: str, db: Db = None) -> bool:
    """Make a PostgreSQL role (a user) a member of a team, or of stackscripts_admin; False when it was."""
    return _on(db, lambda tx: store_access.grant(tx, user, team), postgres=f"grant {team} to {user}")


def revoke(user: str, team: str, db: Db = None) -> bool:
    """Make a user no longer a member of a team (or of stackscripts_admin); False when it was not one."""
    return _on(db, lambda tx: store_access.grant(tx, user, team, revoke=True), postgres=f"revoke {team} from {user}")


def _on(db: Db, body: Callable[[Tx], T], *, write: bool = True, postgres: str | None = None) -> T:
    """body in one transaction of the store db names (BadInput when there is none: not created here); a write
    migrates it first, as every command does."""
    found = status(db)
    if not found.exists or found.version == 0:
        raise BadInput(f"there is no audit store at {found.location} yet",
                       hint="Create it with 'stackscripts store init'.")
    if postgres is not None and found.backend != "postgresql":
        raise BadInput(f"cannot {postgres}: {found.location} is a SQLite store, where a team is only a label",
                       hint="Name a PostgreSQL store (--db postgresql://...); on SQLite set STACKSCRIPTS_TEAM or "
                            "'team:' in stackscripts.yaml to label what you record.")
    with open_store(db, migrate=write, read_only=not write) as store, store._tx(write) as tx:  # as any command
        return body(tx)


def copy(source: Db, destination: Db, team: str | None = None) -> CopyReport:
    """Copy every record of `source` into `destination` (SQLite files or postgresql:// DSNs), keeping ids and
    timestamps, as `team` (default: the destination's, as every command names it); what is there already is left
    and counted, so copying twice adds nothing. Both must be stores at this stackscripts' schema version: BadInput
    (nothing written) otherwise, or for the same store twice."""
    writer = named_team(team)
    places = []
    for flag, db in (("--from", source), ("--to", destination)):
        if db is None or not str(db).strip():
            raise BadInput(f"{flag} names no store", hint="Give a SQLite file or a postgresql:// DSN.")
        found = status(db)
        if found.version != SCHEMA_VERSION:
            what = "there is no audit store at" if found.version == 0 else \
                f"schema version {found.version} (this stackscripts: {SCHEMA_VERSION}) of"
            fix = "stackscripts store init" if found.version == 0 else "stackscripts store migrate"
            raise BadInput(f"cannot copy: {what} {found.location} ({flag}); nothing was copied",
                           hint=f"Run '{fix} --db {found.location}' first.")
        places.append(found.location if is_dsn(str(db)) else str(Path(found.location).resolve()))
    if places[0] == places[1]:
        raise BadInput(f"cannot copy {places[0]} into itself", hint="Name two different stores.")
    with open_store(source, migrate=False, read_only=True) as src, \
            open_store(destination, migrate=False, team=writer) as dst:
        return store_copy.copy(src, dst)
