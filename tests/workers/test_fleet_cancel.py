"""`fleets cancel` mid-fleet: the queued units are cancelled, the running steps stopped on their servers (their
processes gone) and recorded as cancelled, and the fleet ends cancelled; a finished or unknown fleet is bad input."""

from __future__ import annotations

import pytest

from tests.support.cli import no_traceback
from tests.support.waits import wait_until
from tests.workers.conftest import QueueWorld
from tests.workers.helpers import add_servers, alive, hold_steps, ran, runs_by_server, step_pid, units

pytestmark = pytest.mark.timeout(300)

SERVERS = ["web1", "web2", "web3", "web4"]


def test_cancel_stops_running_steps_and_drops_queued_units(world: QueueWorld) -> None:
    add_servers(world, SERVERS)
    template = world.template(hold_steps(world.out))
    (world.out / "hold").touch()
    world.workers(2)
    fleet = world.json("fleet", "boot", "-t", template, *SERVERS, "--queue", "--parallel", "2")["data"]["id"]
    holding = {s: world.wait_for_step(s, 1) for s in ("web1", "web2")}
    pids = {s: step_pid(world, s) for s in holding}
    assert all(alive(pid) for pid in pids.values())
    shown = world.fleet(fleet)
    assert {s: u["state"] for s, u in units(shown).items()} == \
        {"web1": "running", "web2": "running", "web3": "pending", "web4": "pending"}
    assert units(shown)["web1"]["step"] == "2. Hold"

    cancelling = world.json("fleets", "cancel", fleet)["data"]
    assert cancelling["state"] == "cancelling", cancelling
    assert {s: (u["state"], u["message"]) for s, u in units(cancelling).items() if s in ("web3", "web4")} == \
        dict.fromkeys(("web3", "web4"), ("cancelled", "cancelled (fleets cancel)"))

    ended = world.wait_fleet(fleet, 60)
    assert ended["state"] == "cancelled" and ended["counts"] == {"cancelled": 4}, ended
    wait_until(lambda: not any(alive(pid) for pid in pids.values()), 10, "the cancelled steps' processes to end")
    runs = runs_by_server(world)
    assert sorted(runs) == ["web1", "web2"]  # the queued ones never started
    for server, run_id in holding.items():
        assert [(r["id"], r["state"]) for r in runs[server]] == [(run_id, "cancelled")]
        assert units(ended)[server]["run_id"] == run_id
        steps = world.json("runs", "show", run_id)["data"]["steps"]
        assert [(s["exit_code"], s["error"]) for s in steps] == [(0, None), (143, "cancelled")], steps  # SIGTERM
        assert ran(world, server) == [1, 2]
    assert ran(world, "web3") == ran(world, "web4") == []
    assert world.backend.count("locks") == 0

    # Cancelling an ended fleet, or one that does not exist: bad input, one clear message.
    again = world.run("fleets", "cancel", fleet)
    assert again.returncode == 2, again.stdout + again.stderr
    no_traceback(again.stderr)
    assert f"fleet {fleet} has already ended (cancelled): there is nothing to cancel" in again.stderr
    assert world.json("fleets", "cancel", fleet, code=2)["error"]["type"] == "Conflict"
    missing = world.run("fleets", "show", "nosuch")
    assert missing.returncode == 2 and "no fleet 'nosuch'" in missing.stderr, missing.stderr
    no_traceback(missing.stderr)
