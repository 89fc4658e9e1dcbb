"""Fixtures for the audit store tests: the store's contract runs on both backends, real SQLite files and a real
PostgreSQL (one fresh database per test), and real child processes.

`store` (and `backend`) are parametrised over `sqlite` and `postgresql`; a SQLite-only module (file modes, the
read-only fallback, processes on one file) defines its own `store` fixture, which wins over this one.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stackscripts.store.base import ServerRecord
from stackscripts.store.postgres import PostgresStore
from stackscripts.store.sql_store import SQLStore
from stackscripts.store.sqlite import SQLiteStore
from tests.support import postgres

REPO = Path(__file__).resolve().parents[2]
BACKENDS = ["sqlite", "postgresql"]


@dataclass
class Backend:
    """Where one test's store lives, how to open another store on it, and raw SQL on it (as a checker would)."""

    name: str
    location: str  # a file path, or a password-free DSN
    pg: postgres.Server | None = None
    database: str = ""

    def open(self, **options: Any) -> SQLStore:
        if self.name == "sqlite":
            return SQLiteStore(self.location, **options)
        return PostgresStore(self.location, **options)

    def sql(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement with `?` parameters, outside the store (its own connection, committed)."""
        if self.pg is not None:
            return postgres.execute(self.pg, self.database, statement, params)
        with sqlite3.connect(self.location) as raw:
            return raw.execute(statement, tuple(params)).fetchall()

    def count(self, table: str) -> int:
        return int(self.sql(f"SELECT COUNT(*) FROM {table}")[0][0])


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "audit.db"


@pytest.fixture
def pg() -> postgres.Server:
    return postgres.require_postgres()


@pytest.fixture
def pg_database(pg: postgres.Server) -> Iterator[str]:
    """A fresh, empty PostgreSQL database: its DSN."""
    with postgres.fresh_database(pg) as name:
        yield pg.dsn(name)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, db_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", str(db_path))
        return
    pg = postgres.require_postgres()
    with postgres.fresh_database(pg) as name:
        yield Backend("postgresql", pg.dsn(name), pg, name)


@pytest.fixture
def store(backend: Backend) -> Iterator[SQLStore]:
    opened = backend.open()
    yield opened
    opened.close()


@pytest.fixture
def web1(store: SQLStore) -> str:
    store.put_server(ServerRecord("web1", host="10.0.0.5"))
    return "web1"


@pytest.fixture
def spawn(db_path: Path) -> Iterator[Callable[[str], subprocess.Popen[str]]]:
    """Start a Python child with `store` open on db_path; every child is killed at teardown."""
    children: list[subprocess.Popen[str]] = []

    def start(body: str) -> subprocess.Popen[str]:
        code = "import sys, time\nfrom stackscripts.store.sqlite import SQLiteStore\n"
        code += f"store = SQLiteStore({str(db_path)!r})\n" + textwrap.dedent(body)
        path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
        env = dict(os.environ, PYTHONPATH=path)
        child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True, env=env)
        children.append(child)
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)
        for pipe in (child.stdin, child.stdout):
            if pipe is not None:
                pipe.close()
