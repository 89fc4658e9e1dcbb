"""Where each backend keeps the schema version, whose database it is, and how migrating is made safe.

SQLite: `PRAGMA user_version` (as every audit store file since the first has it) and `PRAGMA application_id`
(set by each migration; 0 in files made before it). PostgreSQL: the table `stackscripts_schema` (application
'stackscripts', version), in the database's current schema. Migrating holds a lock for its whole transaction:
SQLite's write lock (BEGIN IMMEDIATE), PostgreSQL's `pg_advisory_xact_lock`; the state is read again under it, so
two processes migrating at once apply each migration once. A database that belongs to another application, or a
schema newer than this code, is BadInput and nothing is written.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import BadInput
from .migrations import MIGRATIONS, SCHEMA_VERSION, Migration, statements

if TYPE_CHECKING:
    from .rows import Tx

APPLICATION = "stackscripts"
SQLITE_APPLICATION_ID = 0x53535453  # "SSTS": PRAGMA application_id of an audit store file
OURS = frozenset({"servers", "runs", "steps", "chunks", "locks"})  # tables every version of the schema has
MARKER = "stackscripts_schema"
ADVISORY_KEY = 0x5354_4B53_4D49_4752  # the pg_advisory_xact_lock key of migrating (a positive bigint)


@dataclass(frozen=True)
class SchemaState:
    version: int  # 0: nothing of ours yet
    foreign: str | None = None  # why the database is another application's; None when it is ours or empty


@dataclass(frozen=True)
class SchemaStatus:
    """What `stackscripts store status` shows: which backend, where, which schema version, what is pending."""

    backend: str
    location: str  # a path, or a DSN without its password
    exists: bool  # False: a SQLite file not made yet (nothing was created to answer)
    version: int
    latest: int = SCHEMA_VERSION
    pending: tuple[tuple[int, str], ...] = ()  # (version, description) of each migration not applied
    applied: tuple[int, ...] = ()  # the migrations this call applied (store init, store migrate)


def inspect(tx: Tx) -> SchemaState:
    """The schema version and whose the database is, read without writing."""
    return _inspect_sqlite(tx) if tx.dialect == "sqlite" else _inspect_postgres(tx)


def _inspect_sqlite(tx: Tx) -> SchemaState:
    version = int(tx.value("PRAGMA user_version"))
    app = int(tx.value("PRAGMA application_id"))
    tables = {row["name"] for row in tx.all("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%'")}
    if app not in (0, SQLITE_APPLICATION_ID):
        return SchemaState(version, f"its SQLite application id is {app:#x}, not stackscripts' "
                                    f"({SQLITE_APPLICATION_ID:#x})")
    if version == 0 and tables:
        return SchemaState(0, f"it has tables ({_names(tables)}) but no stackscripts schema version")
    if version > 0 and app == 0 and not tables >= OURS:
        return SchemaState(version, f"its schema version is {version} but it lacks the audit store's tables "
                                    f"({_names(OURS - tables)})")
    return SchemaState(version)


def _inspect_postgres(tx: Tx) -> SchemaState:
    # one statement, one snapshot: another process may commit its migration between two statements
    found = tx.one(
        "SELECT to_regclass(quote_ident(current_schema()) || '.' || :marker) IS NOT NULL AS marker, "
        "ARRAY(SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY c.relname) AS tables",
        {"marker": MARKER})
    assert found is not None
    if not found["marker"]:
        if found["tables"]:
            return SchemaState(0, f"it has tables ({_names(found['tables'])}) but no {MARKER} table")
        return SchemaState(0)
    rows = tx.all(f"SELECT application, version FROM {MARKER}")
    apps = sorted(str(row["application"]) for row in rows)
    if apps != [APPLICATION]:
        return SchemaState(0, f"its {MARKER} table names {', '.join(apps) or 'no application'}, not {APPLICATION}")
    return SchemaState(int(rows[0]["version"]))


def _names(tables: Iterable[str], shown: int = 5) -> str:
    names = sorted(tables)
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def check(state: SchemaState, where: str, latest: int = SCHEMA_VERSION) -> None:
    """BadInput for a database of another application or a schema newer than this code knows."""
    if state.foreign:
        raise BadInput(f"{where} is not a stackscripts audit store: {state.foreign}. stackscripts writes nothing "
                       "into another application's database",
                       hint="Name an empty database or file, or one made by stackscripts ('stackscripts store init').")
    if state.version > latest:
        raise BadInput(f"audit store {where} has schema version {state.version}, but this stackscripts "
                       f"knows only up to version {latest}", hint="Upgrade stackscripts to open it.")


def pending(version: int, migrations: Sequence[Migration] = MIGRATIONS) -> list[tuple[int, str]]:
    """(version, description) of each migration not applied yet."""
    return [(number, migrations[number - 1].description) for number in range(version + 1, len(migrations) + 1)]


def migrate(tx: Tx, where: str, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the schema up to len(migrations) inside this write transaction, under the migration lock; return the
    version before. Checks again under the lock: another process may have migrated meanwhile."""
    if tx.dialect == "postgresql":
        tx.value("SELECT pg_advisory_xact_lock(:key)", {"key": ADVISORY_KEY})
    state = inspect(tx)
    latest = len(migrations)
    check(state, where, latest)
    if state.version == latest:
        return state.version
    for number in range(state.version + 1, latest + 1):
        for sql in statements(migrations[number - 1], tx.dialect):
            tx.run(sql)
    if tx.dialect == "sqlite":
        tx.run(f"PRAGMA user_version = {latest:d}")
        tx.run(f"PRAGMA application_id = {SQLITE_APPLICATION_ID:d}")
    else:
        if state.version == 0:
            tx.run(f"CREATE TABLE IF NOT EXISTS {MARKER} (application TEXT PRIMARY KEY, version BIGINT NOT NULL, "
                   "migrated DOUBLE PRECISION NOT NULL)")
        tx.run(f"INSERT INTO {MARKER} (application, version, migrated) VALUES (:app, :version, :now) "
               "ON CONFLICT (application) DO UPDATE SET version = excluded.version, migrated = excluded.migrated",
               {"app": APPLICATION, "version": latest, "now": time.time()})
    return state.version
