"""Every bad --db is bad input (exit 2, saying what is wrong); a read-only store can still be read."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from stackscripts.store.sqlite import SQLiteStore
from tests.runner.helpers import cli, no_traceback

pytestmark = pytest.mark.timeout(120)


def refused(db: str, expect: str, *command: str) -> None:
    result = cli(*(command or ("runs", "list")), "--db", db)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expect in result.stderr, result.stderr
    no_traceback(result.stderr)


def test_a_folder(tmp_path: Path) -> None:
    refused(str(tmp_path), f"{tmp_path}: is a folder, not an audit store")


def test_a_device() -> None:
    refused("/dev/null", "/dev/null: is a character device, not an audit store")


def test_an_empty_path() -> None:
    refused("", "the audit store path is empty")
    result = cli("runs", "list", env={"STACKSCRIPTS_DB": " "})
    assert result.returncode == 2 and "empty" in result.stderr, result.stderr


def test_not_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "notes.txt"
    db.write_text("these are my notes, not a database\n" * 200)
    db.chmod(0o600)
    refused(str(db), "is not an SQLite audit store")
    assert db.read_text().startswith("these are my notes")  # nothing overwritten


def test_a_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    refused(str(blocker / "audit.db"), "cannot use this audit store: Not a directory")


def test_limit_out_of_range(tmp_path: Path) -> None:
    result = cli("runs", "list", "--limit", "99999999999999999999", "--db", str(tmp_path / "a.db"))
    assert result.returncode == 2, result.stderr
    assert "--limit" in result.stderr
    no_traceback(result.stderr)


def test_a_store_readable_by_everyone_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    SQLiteStore(db).close()
    db.chmod(0o644)
    assert cli("runs", "list", "--db", str(db)).returncode == 0
    assert stat.S_IMODE(db.stat().st_mode) == 0o640


@pytest.fixture
def read_only_copy(tmp_path: Path) -> Iterator[Path]:
    """A store with one server, seen through a read-only bind mount."""
    source = tmp_path / "rw"
    source.mkdir()
    with SQLiteStore(source / "audit.db") as store:
        from stackscripts.api.servers import new_server

        store.put_server(new_server("web1", "root@127.0.0.1", 22, None))
    view = tmp_path / "ro"
    view.mkdir()
    subprocess.run(["mount", "--bind", str(source), str(view)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], check=True)
        yield view / "audit.db"
    finally:
        subprocess.run(["umount", str(view)], check=False)


def test_a_read_only_store_can_be_read_but_not_written(read_only_copy: Path) -> None:
    listed = cli("servers", "list", "--json", "--db", str(read_only_copy))
    assert listed.returncode == 0, listed.stderr
    assert [s["name"] for s in json.loads(listed.stdout)["data"]] == ["web1"]
    add = cli("servers", "add", "web2", "--host", "root@127.0.0.1", "--db", str(read_only_copy))
    assert add.returncode == 2, add.stderr
    assert "read-only" in add.stderr
    no_traceback(add.stderr)
    assert not os.access(read_only_copy.parent, os.W_OK) or os.geteuid() == 0
