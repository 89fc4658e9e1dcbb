"""Queued fleets in a team store: a team member queues and works a fleet through the queue's tables (granted to the
teams by the owner), and another team's member sees neither the fleet, nor its units, nor the workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stackscripts.queue.procrastinate import ProcrastinateQueue
from stackscripts.queue.unit import WorkUnit
from stackscripts.store import open_store
from stackscripts.store.fleets import FleetRecord, UnitRecord, WorkerRecord
from stackscripts.store.sql_store import SQLStore
from tests.support import pgroles, postgres

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def teams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pgroles.TeamStore]:
    with pgroles.set_up(postgres.require_postgres(), tmp_path) as world:
        monkeypatch.setenv("PGPASSFILE", str(world.passfile))
        owner = world.dsn("owner")
        with open_store(owner) as store:
            store.prepare_queue(ProcrastinateQueue(owner))  # the owner creates the queue's tables: the teams get them
        yield world


def test_a_team_queues_and_works_its_fleet_unseen_by_another_team(teams: pgroles.TeamStore) -> None:
    dsn = teams.dsn("alice")
    queue = ProcrastinateQueue(dsn)
    with open_store(dsn, team=teams.web) as alice:
        assert isinstance(alice, SQLStore)
        alice.prepare_queue(queue)  # a member: nothing to create, nothing to grant
        alice.register_worker(WorkerRecord("w-web", "host", 1, ("default",), 2))
        unit = WorkUnit("fweb", "web1", "boot", "sha256:" + "1" * 64)
        alice.create_fleet(FleetRecord("fweb", "fleet", "Boot", "default", 1, "0", 0, "running"),
                           [UnitRecord("fweb", "web1", 0, "pending", unit.to_json())], queue)
        assert alice.claim_unit("fweb", "web1", "w-web") is not None
        assert alice.get_fleet("fweb").units[0].state == "running"
        with open_store(teams.dsn("bob"), team=teams.db) as bob:
            assert isinstance(bob, SQLStore)
            assert bob.list_fleets() == [] and bob.list_workers(60) == []
            assert teams.sql("bob", "SELECT count(*) FROM fleet_units") == [(0,)]
        assert alice.finish_unit("fweb", "web1", "w-web", "succeeded", queue)
        assert alice.get_fleet("fweb").state == "succeeded"
    assert teams.sql("alice", "SELECT count(*) FROM procrastinate_jobs") == [(1,)]
