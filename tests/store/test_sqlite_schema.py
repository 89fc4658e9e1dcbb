"""Schema versions: migration from an empty file, ordered migrations, newer-schema refusal."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from stackscripts.errors import StackscriptsError
from stackscripts.store.schema import SCHEMA_VERSION, migrate, schema_version
from stackscripts.store.sqlite import SQLiteStore


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as raw:
        return {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_an_empty_file_is_migrated_to_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    path.touch()
    SQLiteStore(path).close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 1
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"servers", "runs", "steps", "chunks", "locks"} <= _tables(path)
    SQLiteStore(path).close()  # reopening an up-to-date file changes nothing


def test_migrations_apply_in_order_and_once(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    first = [("CREATE TABLE a (x)", "INSERT INTO a VALUES (1)")]
    assert migrate(conn, "m.db", first) == 0
    assert schema_version(conn) == 1
    second = first + [("ALTER TABLE a ADD COLUMN y DEFAULT 2", "INSERT INTO a (x) VALUES (3)")]
    assert migrate(conn, "m.db", second) == 1
    assert schema_version(conn) == 2
    assert conn.execute("SELECT x, y FROM a ORDER BY x").fetchall() == [(1, 2), (3, 2)]
    assert migrate(conn, "m.db", second) == 2  # nothing left to do
    conn.close()


def test_a_failing_migration_changes_nothing(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    broken = [("CREATE TABLE a (x)",), ("CREATE TABLE b (x)", "THIS IS NOT SQL")]
    with pytest.raises(sqlite3.Error):
        migrate(conn, "m.db", broken)
    assert schema_version(conn) == 0
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []
    assert not conn.in_transaction
    conn.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StackscriptsError) as caught:
        SQLiteStore(path)
    message = str(caught.value)
    assert f"schema version {SCHEMA_VERSION + 1}" in message
    assert "upgrade stackscripts" in message.lower()
    with sqlite3.connect(path) as raw:  # left untouched
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
