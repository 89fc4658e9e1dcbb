"""Fixtures for the audit store tests: real SQLite files and real child processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stackscripts.store.base import ServerRecord
from stackscripts.store.sqlite import SQLiteStore

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "audit.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[SQLiteStore]:
    opened = SQLiteStore(db_path)
    yield opened
    opened.close()


@pytest.fixture
def web1(store: SQLiteStore) -> str:
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

