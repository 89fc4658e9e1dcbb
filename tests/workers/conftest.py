"""Queued fleets on real parts: a fresh PostgreSQL database per test, real sshd servers, worker processes.

    world.add("web1", "web2")
    workers = world.workers(3)                        # `stackscripts worker` processes on the test's store
    fleet = world.json("fleet", "boot", "-t", T, "web1", "web2", "--queue")["data"]["id"]
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.runner.fixtures import SshdPool, sshd_pool  # noqa: F401 - fixture
from tests.store.conftest import Backend
from tests.store.controllers import World
from tests.support import postgres
from tests.support.waits import wait_until

# Workers beat every second and are given up for dead after 4; a run's lease lasts 6 s (renewed every 2).
FAST = {"STACKSCRIPTS_WORKER_HEARTBEAT": "1", "STACKSCRIPTS_WORKER_EXPIRY": "4", "STACKSCRIPTS_LEASE_SECONDS": "6"}


class QueueWorld(World):
    """A World whose store is PostgreSQL, with worker processes."""

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return super().env({**FAST, **(extra or {})})

    def worker(self, *args: str, name: str = "") -> subprocess.Popen[str]:
        return self.spawn("worker", *args, env={"STACKSCRIPTS_CONTROLLER_HOST": name} if name else None)

    def workers(self, count: int, *args: str) -> list[subprocess.Popen[str]]:
        started = [self.worker(*args, name=f"worker-{i}") for i in range(1, count + 1)]

        def alive() -> bool:
            for child in started:
                if child.poll() is not None:
                    out, err = child.communicate()
                    raise AssertionError(f"a worker exited {child.returncode}: {out}{err}")
            return len(self.json("workers", "list")["data"]["workers"]) >= count

        wait_until(alive, 60, f"{count} workers alive")
        return started

    def fleet(self, fleet: str) -> dict:
        return self.json("fleets", "show", fleet)["data"]

    def wait_fleet(self, fleet: str, timeout: float = 120) -> dict:
        return wait_until(lambda: (f := self.fleet(fleet))["state"] not in ("running", "cancelling") and f,
                          timeout, f"fleet {fleet} to end")

    def stop(self, child: subprocess.Popen[str], timeout: float = 60) -> str:
        """SIGTERM a worker; its stderr once it has exited (0)."""
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=timeout)
        assert child.returncode == 0, out + err
        return err


@contextmanager
def fresh_queue_world(tmp_path: Path, sshd_pool: SshdPool) -> Iterator[QueueWorld]:
    """A QueueWorld on a database of its own on the test PostgreSQL, closed (workers stopped) afterwards."""
    pg = postgres.require_postgres()
    with postgres.fresh_database(pg) as name:
        made = QueueWorld(Backend("postgresql", pg.dsn(name), pg, name), tmp_path, sshd_pool)
        try:
            yield made
        finally:
            made.close()


@pytest.fixture
def world(tmp_path: Path, sshd_pool: SshdPool) -> Iterator[QueueWorld]:  # noqa: F811 - the fixture above
    with fresh_queue_world(tmp_path, sshd_pool) as made:
        yield made
