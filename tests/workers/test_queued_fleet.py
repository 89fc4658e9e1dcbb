"""A queued fleet of 30 real sshd servers booted by three worker processes on one PostgreSQL store: every server
operational with exactly one run, the fleet succeeded, and --parallel held across the workers (measured on the
servers: no more than 10 boots at any instant)."""

from __future__ import annotations

import pytest

from tests.workers.conftest import QueueWorld
from tests.workers.helpers import add_servers, max_overlap, ran, runs_by_server, server_intervals, timed_steps

pytestmark = pytest.mark.timeout(300)

SERVERS = [f"web{i}" for i in range(1, 31)]
PARALLEL = 10


def test_three_workers_boot_thirty_servers_within_parallel(world: QueueWorld) -> None:
    add_servers(world, SERVERS)
    template = world.template(timed_steps())
    workers = world.workers(3)

    listed = world.json("workers", "list")["data"]["workers"]
    assert len(listed) == 3 and all(w["queues"] == ["default"] and w["alive"] for w in listed), listed
    assert sorted(w["pid"] for w in listed) == sorted(w.pid for w in workers)

    done = world.json("fleet", "boot", "-t", template, *SERVERS, "--queue", "--parallel", str(PARALLEL), "--wait",
                      timeout=240)["data"]
    assert done["state"] == "succeeded" and done["kind"] == "fleet" and done["parallel"] == PARALLEL, done
    assert done["counts"] == {"succeeded": 30} and done["warning"] is None
    assert [u["server"] for u in done["units"]] == SERVERS
    assert all(u["run_id"] and u["attempts"] == 1 for u in done["units"]), done["units"]

    servers = {s["name"]: s["state"] for s in world.json("servers", "list")["data"]}
    assert servers == dict.fromkeys(SERVERS, "operational")
    runs = runs_by_server(world)
    assert set(runs) == set(SERVERS)
    for server in SERVERS:
        [run] = runs[server]
        assert run["state"] == "succeeded" and run["resumed_from"] is None, run
        assert {u["server"]: u["run_id"] for u in done["units"]}[server] == run["id"]
        assert ran(world, server) == [1, 2, 3]

    # --parallel holds across the three workers, as the servers saw it; and the fleet was spread over them.
    most = max_overlap(server_intervals(world, SERVERS))
    assert 2 <= most <= PARALLEL, most
    assert len({u["worker"] for u in done["units"]}) >= 2, {u["worker"] for u in done["units"]}

    fleets = world.json("fleets", "list")["data"]["fleets"]
    assert [(f["id"], f["state"], len(f["units"])) for f in fleets] == [(done["id"], "succeeded", 30)]
    shown = world.fleet(done["id"][:6])  # any unique prefix of the id
    assert shown["id"] == done["id"] and shown["counts"] == {"succeeded": 30}

    for worker in workers:
        world.stop(worker)
    assert world.json("workers", "list")["data"]["workers"] == []
    stopped = world.json("workers", "list", "--all")["data"]["workers"]
    assert len(stopped) == 3 and not any(w["alive"] for w in stopped) and all(w["stopped"] for w in stopped)
