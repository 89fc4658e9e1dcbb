"""The audit store: servers, runs and steps. One small interface, two backends: SQLite embedded by default,
PostgreSQL for a team (a `postgresql://` DSN). SQLAlchemy is imported only when a PostgreSQL store is opened."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .base import RunRecord, ServerRecord, StepRecord, Store, stores

if TYPE_CHECKING:
    from .sql_store import SQLStore

__all__ = ["RunRecord", "ServerRecord", "StepRecord", "Store", "is_dsn", "named_db", "named_team", "open_store",
           "stores"]

DEFAULT_TEAM = "default"


def is_dsn(db: str | os.PathLike[str] | None) -> bool:
    """Whether a --db value (or, when None, $STACKSCRIPTS_DB) names a PostgreSQL database: postgresql:// or
    postgres://. Anything else is a SQLite file."""
    target = os.environ.get("STACKSCRIPTS_DB") if db is None else db
    return isinstance(target, str) and "://" in target and target.split("://", 1)[0].lower() in ("postgresql",
                                                                                                    "postgres")


def named_db(db: str | os.PathLike[str] | None) -> str | os.PathLike[str] | None:
    """What a --db value means: itself; else $STACKSCRIPTS_DB; else the project file's `store` (stackscripts.yaml);
    None: the default SQLite file."""
    if db is not None:
        return db
    if os.environ.get("STACKSCRIPTS_DB") is not None:
        return os.environ["STACKSCRIPTS_DB"]
    from ..project import default_store

    return default_store()


def named_team(team: str | None = None) -> str:
    """The team a store writes as: `team` itself; else $STACKSCRIPTS_TEAM; else the project file's `team`
    (stackscripts.yaml); else "default". BadInput for a name that cannot be a team (a PostgreSQL role)."""
    from ..errors import BadInput
    from ..project import default_team, team_problem

    if team is not None:
        where = "--team"
    elif os.environ.get("STACKSCRIPTS_TEAM"):
        team, where = os.environ["STACKSCRIPTS_TEAM"], "STACKSCRIPTS_TEAM"
    else:
        team, where = default_team() or DEFAULT_TEAM, "the project file's team"
    problem = team_problem(team)
    if problem:
        raise BadInput(f"{where}: {problem}", hint="Name one of your teams, e.g. web (docs/team-store.md).")
    return team


def open_store(db: str | os.PathLike[str] | None = None, *, migrate: bool = True, read_only: bool = False,
               team: str | None = None) -> SQLStore:
    """The store a --db value names: a `postgresql://` (or `postgres://`) DSN is a PostgresStore, anything else a
    SQLite file (None: $STACKSCRIPTS_DB, else the default path under $XDG_STATE_HOME). Migrated and with dead local
    runs interrupted unless migrate=False; read_only (SQLite): nothing created or written. Without a --db value or
    $STACKSCRIPTS_DB, the project file's `store` (stackscripts.yaml) is used when it names one. The store writes
    its new servers and revisions as `team` (`named_team`: --team, $STACKSCRIPTS_TEAM, the project file, "default")."""
    writer = named_team(team)
    db = named_db(db)
    if is_dsn(db):
        from .postgres import PostgresStore

        store: SQLStore = PostgresStore(str(db if db is not None else os.environ["STACKSCRIPTS_DB"]), migrate=migrate)
    else:
        from .sqlite import SQLiteStore

        store = SQLiteStore(db, read_only=read_only, migrate=migrate)
    store.team = writer
    return store
