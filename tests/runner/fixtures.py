"""Fixtures for the runner end-to-end tests: a pool of real sshd servers reused across tests,
a Controller on a fresh SQLite store per test, and a bench that ties them to a test template.

Re-exported by tests/runner/conftest.py; tests/cli/test_runner_cli.py imports them directly.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from stackscripts.api.controller import Controller
from tests.support.sshd import SshdServer, start_many, start_sshd

from .helpers import Step, TemplateWriter, ran


class SshdPool:
    """sshd servers started on demand and shared by every test of the session.

    Each test has its own audit store, so a host key a test records never meets another test;
    tests that change a server for good (a new host key) take a fresh one with `fresh()`.
    """

    def __init__(self) -> None:
        self.servers: list[SshdServer] = []
        self.extra: list[SshdServer] = []
        self.lock = threading.Lock()

    def take(self, count: int) -> list[SshdServer]:
        with self.lock:
            missing = count - len(self.servers)
            if missing > 0:
                self.servers.extend(start_many(missing, prefix=f"pool{len(self.servers)}-"))
            for server in self.servers[:count]:
                if not server.running():
                    server.restart()
            return self.servers[:count]

    def fresh(self, name: str = "fresh") -> SshdServer:
        server = start_sshd(name)
        self.extra.append(server)
        return server

    def close(self) -> None:
        for server in [*self.servers, *self.extra]:
            server.close()


@pytest.fixture(scope="session")
def sshd_pool() -> Iterator[SshdPool]:
    pool = SshdPool()
    try:
        yield pool
    finally:
        pool.close()


class Bench:
    """One test's world: its store, its controller, its servers and its templates."""

    def __init__(self, tmp_path: Path, pool: SshdPool) -> None:
        self.tmp = tmp_path
        self.db = tmp_path / "audit.db"
        self.out = tmp_path / "remote"
        self.out.mkdir()
        self.pool = pool
        self.templates = TemplateWriter(tmp_path / "templates", self.out)
        self.controller = Controller(self.db)
        self.sshd: dict[str, SshdServer] = {}

    def add(self, count: int = 1, prefix: str = "web", *, host: str | None = None) -> list[str]:
        """Record `count` pool servers as prefix1..prefixN in this test's store."""
        names = []
        for i, server in enumerate(self.pool.take(count), 1):
            names.append(self.add_one(f"{prefix}{i}", server, host=host))
        return names

    def add_one(self, name: str, server: SshdServer, *, host: str | None = None) -> str:
        self.controller.add_server(name, f"{server.user}@{host or server.host}", server.port, server.key_path)
        self.sshd[name] = server
        return name

    def template(self, boot: Sequence[Step] | None = None, operational: Sequence[Step] = (),
                 decommission: Sequence[Step] = (), inputs: dict[str, str] | None = None) -> Path:
        return self.templates.write(boot, operational, decommission, inputs)

    def ran(self, server: str) -> list[int]:
        return ran(self.out, server)

    def fail_at(self, server: str, step: int | str, failing: bool = True) -> Path:
        marker = self.out / server / f"fail-{step}"
        marker.parent.mkdir(parents=True, exist_ok=True)
        if failing:
            marker.write_text("")
        else:
            marker.unlink(missing_ok=True)
        return marker

    def reopen(self) -> Controller:
        self.controller.close()
        self.controller = Controller(self.db)
        return self.controller

    def close(self) -> None:
        self.controller.close()


@pytest.fixture
def bench(tmp_path: Path, sshd_pool: SshdPool) -> Iterator[Bench]:
    world = Bench(tmp_path, sshd_pool)
    try:
        yield world
    finally:
        world.close()
