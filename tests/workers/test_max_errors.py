"""`--max-errors` counted in the store, across two workers: once more servers failed than the budget allows, the
units still waiting are cancelled and say why, and no more than budget + parallel servers ever started."""

from __future__ import annotations

import pytest

from tests.runner.helpers import numbered_step
from tests.workers.conftest import QueueWorld
from tests.workers.helpers import add_servers, ran, runs_by_server, unit_states, units

pytestmark = pytest.mark.timeout(300)

SERVERS = [f"web{i}" for i in range(1, 9)]
FAILING = ["web1", "web2", "web3"]  # first in the fleet's order, so the budget is spent at once
BUDGET, PARALLEL = 1, 2


def test_max_errors_cancels_the_waiting_units_across_workers(world: QueueWorld) -> None:
    add_servers(world, SERVERS)
    template = world.template([numbered_step(1), numbered_step(2)])
    for server in FAILING:
        (world.out / server).mkdir()
        (world.out / server / "fail-1").touch()  # step 1 exits 7 while the marker is there
    world.workers(2, "--concurrency", "1")
    fleet = world.json("fleet", "boot", "-t", template, *SERVERS, "--queue", "--parallel", str(PARALLEL),
                       "--max-errors", str(BUDGET))["data"]
    assert fleet["budget"] == BUDGET and fleet["max_errors"] == str(BUDGET)
    ended = world.wait_fleet(fleet["id"])

    assert ended["state"] == "failed", ended
    started = [s for s in SERVERS if ran(world, s)]
    assert BUDGET + 1 <= len(started) <= BUDGET + PARALLEL, started
    states = unit_states(ended)
    assert states["failed"] >= BUDGET + 1 and states["failed"] + states["cancelled"] + states["succeeded"] == 8, states
    failed = {s for s, u in units(ended).items() if u["state"] == "failed"}
    assert failed <= set(FAILING), failed
    cancelled = {s: u for s, u in units(ended).items() if u["state"] == "cancelled"}
    assert len(cancelled) >= len(SERVERS) - BUDGET - PARALLEL, states
    for server, unit in cancelled.items():
        assert unit["message"] == f"cancelled: more than {BUDGET} servers failed (--max-errors)", unit
        assert unit["run_id"] is None and ran(world, server) == []
    workers = {u["worker"] for u in ended["units"] if u["worker"]}
    assert len(workers) == 2, workers  # both workers took part; the count held across them

    runs = runs_by_server(world)
    assert set(runs) == set(started)
    for server in started:
        [run] = runs[server]
        assert run["state"] == ("failed" if server in FAILING else "succeeded"), run
    for server in failed:
        assert ran(world, server) == [1]
