"""The store's side of queued fleets on a real PostgreSQL with the real Procrastinate queue, without workers: units
released within --parallel and a deployment's order, --max-errors, cancelling, dead workers' units handed back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stackscripts.queue.procrastinate import ProcrastinateQueue
from stackscripts.queue.unit import WorkUnit
from stackscripts.store.fleets import FleetRecord, UnitRecord, WorkerRecord
from stackscripts.store.postgres import PostgresStore
from tests.support import postgres


@pytest.fixture
def store() -> Iterator[tuple[PostgresStore, ProcrastinateQueue, postgres.Server, str]]:
    pg = postgres.require_postgres()
    with postgres.fresh_database(pg) as name:
        opened = PostgresStore(pg.dsn(name))
        queue = ProcrastinateQueue(pg.dsn(name))
        opened.prepare_queue(queue)
        try:
            yield opened, queue, pg, name
        finally:
            opened.close()


def fleet(store: PostgresStore, queue: ProcrastinateQueue, servers: list[str], *, parallel: int = 2, budget: int = 0,
          after: dict[str, tuple[str, ...]] | None = None, kind: str = "fleet") -> str:
    fleet_id = f"f{len(servers)}{parallel}{budget}{kind}"
    units = [UnitRecord(fleet_id, s, i, "pending", WorkUnit(fleet_id, s, "boot", "sha256:" + "0" * 64).to_json(),
                        (after or {}).get(s, ())) for i, s in enumerate(servers)]
    store.create_fleet(FleetRecord(fleet_id, kind, "Boot", "default", parallel, str(budget), budget, "running"), units,
                       queue)
    return fleet_id


def states(store: PostgresStore, fleet_id: str) -> dict[str, str]:
    return {u.server: u.state for u in store.get_fleet(fleet_id).units}


def jobs(pg: postgres.Server, name: str) -> dict[str, str]:
    rows = postgres.execute(pg, name, "SELECT args->'unit'->>'server', status::text FROM procrastinate_jobs", ())
    return {row[0]: row[1] for row in rows}


def run(store: PostgresStore, queue: ProcrastinateQueue, fleet_id: str, server: str, state: str = "succeeded") -> None:
    assert store.claim_unit(fleet_id, server, "w1") is not None
    assert store.finish_unit(fleet_id, server, "w1", state, queue, message=None if state == "succeeded" else "boom")


def test_parallel_window_queues_the_next_unit_as_one_ends(store) -> None:
    s, q, pg, name = store
    f = fleet(s, q, ["a", "b", "c", "d"], parallel=2)
    assert states(s, f) == {"a": "queued", "b": "queued", "c": "pending", "d": "pending"}
    assert jobs(pg, name) == {"a": "todo", "b": "todo"}  # a unit is queued exactly when its job is committed
    run(s, q, f, "a")
    assert states(s, f) == {"a": "succeeded", "b": "queued", "c": "queued", "d": "pending"}
    for server in ("b", "c", "d"):
        run(s, q, f, server)
    record = s.get_fleet(f)
    assert record.state == "succeeded" and record.ended is not None


def test_a_deployment_queues_a_server_after_those_it_references(store) -> None:
    s, q, _, _ = store
    f = fleet(s, q, ["app", "db", "cache"], parallel=5, kind="deploy", after={"app": ("cache", "db")})
    assert states(s, f) == {"app": "pending", "db": "queued", "cache": "queued"}
    run(s, q, f, "db")
    assert states(s, f)["app"] == "pending"
    run(s, q, f, "cache")
    assert states(s, f)["app"] == "queued"


def test_a_failed_reference_skips_the_servers_that_wait_for_it(store) -> None:
    s, q, _, _ = store
    f = fleet(s, q, ["db", "app", "web"], parallel=5, budget=5, kind="deploy", after={"app": ("db",), "web": ("app",)})
    run(s, q, f, "db", "failed")
    record = s.get_fleet(f)
    assert [(u.server, u.state) for u in record.units] == [("db", "failed"), ("app", "skipped"), ("web", "skipped")]
    assert record.units[1].message == "skipped: db did not succeed" and record.state == "failed"


def test_max_errors_cancels_the_units_not_started_and_their_jobs(store) -> None:
    s, q, pg, name = store
    f = fleet(s, q, ["a", "b", "c", "d", "e"], parallel=3, budget=1)
    run(s, q, f, "a", "failed")
    assert states(s, f)["d"] == "queued"  # one failure is within the budget: the window moves on
    assert s.claim_unit(f, "b", "w2") is not None  # b runs on another worker while c fails
    run(s, q, f, "c", "failed")
    found = s.get_fleet(f)
    assert {u.server: u.state for u in found.units} == {"a": "failed", "b": "running", "c": "failed", "d": "cancelled",
                                                       "e": "cancelled"}
    assert "--max-errors" in (found.units[3].message or "")
    assert jobs(pg, name)["d"] == "cancelled"
    assert s.finish_unit(f, "b", "w2", "succeeded", q)
    assert s.get_fleet(f).state == "failed"


def test_cancel_and_units_of_a_silent_worker(store) -> None:
    s, q, pg, name = store
    s.register_worker(WorkerRecord("w1", "host", 1, ("default",), 4))
    f = fleet(s, q, ["a", "b", "c"], parallel=2)
    assert s.claim_unit(f, "a", "w1") is not None
    postgres.execute(pg, name, "UPDATE procrastinate_jobs SET status = 'doing' WHERE args->'unit'->>'server' = 'a'", ())
    postgres.execute(pg, name, "UPDATE workers SET heartbeat = heartbeat - 60", ())
    [orphan] = s.requeue_orphans(30, q)
    assert orphan.server == "a" and states(s, f)["a"] == "queued" and jobs(pg, name)["a"] == "todo"
    again = s.claim_unit(f, "a", "w2")
    assert again is not None and again.attempts == 2
    cancelled = s.cancel_fleet(f[:4], q)
    assert cancelled.state == "cancelling" and {u.server: u.state for u in cancelled.units} == {
        "a": "running", "b": "cancelled", "c": "cancelled"}
    assert s.stopping_units("w2") == [(f, "a")]
    assert s.finish_unit(f, "a", "w2", "cancelled", q)
    assert s.get_fleet(f).state == "cancelled"
    with pytest.raises(Exception, match="already ended"):
        s.cancel_fleet(f, q)
