"""The audit store's schema as ordered migrations, and how a connection is brought up to date."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ..errors import BadInput

# A migration is the statements that take the schema from version N-1 to N (N = position + 1).
# Append new migrations; never edit one that has shipped.
Migration = Sequence[str]

MIGRATIONS: tuple[Migration, ...] = (
    (
        """CREATE TABLE servers (
            name TEXT PRIMARY KEY,
            host TEXT,
            port INTEGER NOT NULL DEFAULT 22,
            user TEXT NOT NULL DEFAULT 'root',
            key_path TEXT,
            host_key TEXT,
            state TEXT NOT NULL DEFAULT 'pending',
            template TEXT,
            template_sha256 TEXT,
            inputs TEXT NOT NULL DEFAULT '{}',
            cloud TEXT,
            node_id TEXT,
            deployment TEXT,
            extra TEXT NOT NULL DEFAULT '{}',
            created REAL NOT NULL,
            updated REAL NOT NULL
        )""",
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            server TEXT NOT NULL,
            phase TEXT NOT NULL,
            state TEXT NOT NULL,
            who TEXT NOT NULL DEFAULT '',
            template TEXT,
            started REAL NOT NULL,
            ended REAL,
            inputs TEXT NOT NULL DEFAULT '{}',
            resumed_from TEXT,
            controller_host TEXT NOT NULL,
            controller_pid INTEGER NOT NULL,
            controller_start INTEGER,
            controller_boot TEXT
        )""",
        "CREATE INDEX runs_by_started ON runs (started)",
        "CREATE INDEX runs_by_server ON runs (server, started)",
        "CREATE INDEX runs_running ON runs (state) WHERE state = 'running'",
        """CREATE TABLE steps (
            run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            name TEXT NOT NULL,
            phase TEXT NOT NULL,
            sha256 TEXT NOT NULL DEFAULT '',
            inputs TEXT NOT NULL DEFAULT '{}',
            started REAL,
            ended REAL,
            exit_code INTEGER,
            error TEXT,
            PRIMARY KEY (run_id, idx)
        )""",
        # Output as it streamed: one row per flushed piece; rowid order is arrival order,
        # so the interleaved output is every chunk of a step in id order.
        """CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL,
            idx INTEGER NOT NULL,
            stream TEXT NOT NULL CHECK (stream IN ('stdout', 'stderr')),
            text TEXT NOT NULL,
            FOREIGN KEY (run_id, idx) REFERENCES steps (run_id, idx) ON DELETE CASCADE
        )""",
        "CREATE INDEX chunks_by_step ON chunks (run_id, idx, id)",
        """CREATE TABLE locks (
            server TEXT PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs (id),
            taken REAL NOT NULL
        )""",
    ),
    # 2: why a run failed outside its steps, e.g. an attempt whose connection failed before the first step
    # (recorded as a failed run with no steps, so the audit shows every attempt).
    (
        "ALTER TABLE runs ADD COLUMN error TEXT",
    ),
    # 3: template revisions (docs/sharing.md, "Revisions and pinning"): each revision's canonical manifest and the
    # content-addressed bytes of its files, the revision a server is pinned to and a run ran, and server events
    # that are not runs (an upgrade to another revision).
    (
        """CREATE TABLE revisions (
            digest TEXT PRIMARY KEY,
            template TEXT NOT NULL,
            created REAL NOT NULL,
            who TEXT NOT NULL DEFAULT '',
            message TEXT NOT NULL DEFAULT '',
            manifest BLOB NOT NULL,
            source TEXT
        )""",
        "CREATE INDEX revisions_by_template ON revisions (template, created)",
        """CREATE TABLE blobs (
            sha256 TEXT PRIMARY KEY,
            data BLOB NOT NULL
        )""",
        "ALTER TABLE servers ADD COLUMN revision TEXT",
        "ALTER TABLE runs ADD COLUMN revision TEXT",
        """CREATE TABLE server_events (
            id INTEGER PRIMARY KEY,
            server TEXT NOT NULL,
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            who TEXT NOT NULL DEFAULT '',
            revision TEXT,
            previous TEXT,
            message TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX server_events_by_server ON server_events (server, at)",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The version recorded in the database file (0 for a new, empty file)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, where: str,
            migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the schema up to date in one immediate transaction; return the version before.

    The connection must be in autocommit mode (isolation_level=None). Refuses a file whose
    schema is newer than the migrations this code knows.
    """
    latest = len(migrations)
    # Cheap check first, outside any write lock: most opens have nothing to do.
    current = schema_version(conn)
    if current == latest:
        return current
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(conn)  # re-read under the write lock: another process may have won
        if current > latest:
            raise BadInput(
                f"audit store {where} has schema version {current}, but this stackscripts "
                f"knows only up to version {latest}",
                hint="Upgrade stackscripts to open it.",
            )
        for version in range(current + 1, latest + 1):
            for statement in migrations[version - 1]:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {latest:d}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return current
