"""Controllers as users run them (CLI processes) over one store (a SQLite file or a PostgreSQL database) and real
sshd servers: what the lease, follow and large-output tests share.

    world = World(backend, tmp_path, sshd_pool)
    world.add("web1")                                       # servers add, through the CLI
    child = world.spawn("boot", "web1", "-t", template, env=world.machine("laptop-a"))
    run_id = world.wait_for_step(0)                         # the running run once its step 1 has started
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.runner.fixtures import SshdPool
from tests.runner.helpers import Step, TemplateWriter
from tests.store.conftest import Backend
from tests.support.cli import cli_json, run_cli, spawn_cli
from tests.support.waits import wait_until


class World:
    """One test's store, its sshd servers, its templates, and the CLI run against them."""

    def __init__(self, backend: Backend, tmp: Path, pool: SshdPool) -> None:
        self.backend = backend
        self.pool = pool
        self.out = tmp / "remote"
        self.out.mkdir()
        self.templates = TemplateWriter(tmp / "templates", self.out)
        self.children: list[subprocess.Popen[str]] = []

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return {"STACKSCRIPTS_DB": self.backend.location, **(extra or {})}

    @staticmethod
    def machine(host: str, lease: float | None = None) -> dict[str, str]:
        """The environment of a controller "on another machine": its runs record that host (identity only)."""
        env = {"STACKSCRIPTS_CONTROLLER_HOST": host}
        if lease is not None:
            env["STACKSCRIPTS_LEASE_SECONDS"] = str(lease)
        return env

    def add(self, *names: str) -> None:
        for name, server in zip(names, self.pool.take(len(names)), strict=True):
            cli_json("servers", "add", name, "--host", f"{server.user}@{server.host}", "--port", str(server.port),
                     "--key", server.key_path, env=self.env())

    def template(self, steps: list[Step]) -> str:
        return str(self.templates.write(steps))

    def json(self, *args: str, code: int = 0, env: Mapping[str, str] | None = None, **kw: Any) -> Any:
        return cli_json(*args, code=code, env=self.env(env), **kw)

    def run(self, *args: str, env: Mapping[str, str] | None = None, **kw: Any) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env=self.env(env), **kw)

    def spawn(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
        child = spawn_cli(*args, env=self.env(env))
        self.children.append(child)
        return child

    def running_run(self, server: str, index: int) -> str | None:
        """The id of the server's running run once it has started step `index` (from 0)."""
        found = self.backend.sql("SELECT runs.id FROM runs JOIN steps ON steps.run_id = runs.id "
                                 "WHERE runs.server = ? AND runs.state = 'running' AND steps.idx = ?", (server, index))
        return str(found[0][0]) if found else None

    def wait_for_step(self, server: str, index: int, timeout: float = 60) -> str:
        return wait_until(lambda: self.running_run(server, index), timeout, f"{server}'s run to start step {index + 1}")

    def close(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.kill()
            child.communicate(timeout=30)


@pytest.fixture
def world(backend: Backend, tmp_path: Path, sshd_pool: SshdPool) -> Iterator[World]:
    """A World on the test's backend (both, through the store tests' `backend` fixture), closed afterwards."""
    made = World(backend, tmp_path, sshd_pool)
    try:
        yield made
    finally:
        made.close()
