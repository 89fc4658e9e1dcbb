"""The SQLite file: where it lives, its mode, what is not an SQLite store; the stores registry."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from stackscripts.errors import BadInput
from stackscripts.store import stores
from stackscripts.store.sqlite import SQLiteStore, default_db_path


def test_registry_names_both_stores() -> None:
    from stackscripts.store.postgres import PostgresStore

    assert stores.get("sqlite") is SQLiteStore
    assert stores.get("postgresql") is PostgresStore


def test_creates_parent_directories_and_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "audit.db"
    with SQLiteStore(path) as store:
        assert store.list_servers() == []
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_default_db_path_follows_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    monkeypatch.setenv("STACKSCRIPTS_DB", str(tmp_path / "explicit.db"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "explicit.db"
    monkeypatch.delenv("STACKSCRIPTS_DB")
    assert default_db_path() == tmp_path / "xdg" / "stackscripts" / "audit.db"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_db_path() == tmp_path / "home" / ".local" / "state" / "stackscripts" / "audit.db"
    with SQLiteStore() as store:  # no path: the default
        assert store.path == default_db_path()
    assert default_db_path().is_file()


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(BadInput, match="is not an SQLite audit store"):
        SQLiteStore(path)
