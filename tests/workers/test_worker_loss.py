"""A worker lost mid-step (SIGKILL) or stopped (SIGTERM): its unit goes to another worker, which resumes the run
(`resumed_from`) from where it stopped; never two runs on one server at once.

Workers serve one unit each (--concurrency 1) so that the test knows which one holds which server. FAST timings
(conftest.py): a silent worker is given up after 4 s, a dead run's lease expires after 6 s.
"""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from tests.support.waits import wait_until
from tests.workers.conftest import QueueWorld
from tests.workers.helpers import (
    add_servers,
    alive,
    hold_steps,
    ran,
    runs_by_server,
    runs_never_overlap,
    step_pid,
    units,
    worker_pid,
)

pytestmark = pytest.mark.timeout(300)


def at_most_one_running_run(world: QueueWorld) -> None:
    busy = world.backend.sql("SELECT server, count(*) FROM runs WHERE state = 'running' GROUP BY server "
                             "HAVING count(*) > 1")
    assert busy == [], f"two runs at once: {busy}"


def resumed_run(world: QueueWorld, server: str, first: str) -> str | None:
    """The server's new run once it holds step 2 again (at_most_one_running_run checked on each look)."""
    at_most_one_running_run(world)
    found = world.running_run(server, 1)
    return found if found not in (None, first) else None


def test_a_killed_workers_server_is_resumed_by_another_worker(world: QueueWorld) -> None:
    add_servers(world, ["web1", "web2"])
    template = world.template(hold_steps(world.out))
    (world.out / "hold").touch()
    workers = {w.pid: w for w in world.workers(3, "--concurrency", "1")}
    fleet = world.json("fleet", "boot", "-t", template, "web1", "web2", "--queue")["data"]["id"]
    first = world.wait_for_step("web1", 1)
    world.wait_for_step("web2", 1)
    holder = units(world.fleet(fleet))["web1"]["worker"]
    killed = workers[worker_pid(holder)]
    orphan = step_pid(world, "web1")

    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    # Its connection dropped: the server's watchdog stops the step, so it cannot run beside the resumed one.
    wait_until(lambda: not alive(orphan), 15, "the killed worker's step to stop on its server")
    second = wait_until(lambda: resumed_run(world, "web1", first), 60, "another worker to resume web1's run")
    assert second is not None
    (world.out / "hold").unlink()
    ended = world.wait_fleet(fleet)

    assert ended["state"] == "succeeded" and ended["counts"] == {"succeeded": 2}, ended
    web1 = units(ended)["web1"]
    assert web1["run_id"] == second and web1["attempts"] == 2 and web1["worker"] not in (None, holder), web1
    servers = {s["name"]: s["state"] for s in world.json("servers", "list")["data"]}
    assert servers == {"web1": "operational", "web2": "operational"}
    runs = runs_by_server(world)
    assert [(r["id"], r["state"], r["resumed_from"]) for r in runs["web1"]] == \
        [(first, "interrupted", None), (second, "succeeded", first)]
    assert [r["state"] for r in runs["web2"]] == ["succeeded"]
    steps = world.json("runs", "show", second)["data"]["steps"]
    assert [(s["index"], s["exit_code"]) for s in steps] == [(1, 0), (2, 0)]  # from the interrupted step on
    assert ran(world, "web1") == [1, 2, 2, 3] and ran(world, "web2") == [1, 2, 3]
    runs_never_overlap(world)
    assert world.backend.count("locks") == 0


def web1_held(world: QueueWorld) -> tuple[str, str, str, subprocess.Popen[str]]:
    """web1 queued on one of two workers and holding at step 2: the fleet, its run, the worker's id and process."""
    add_servers(world, ["web1"])
    template = world.template(hold_steps(world.out))
    (world.out / "hold").touch()
    workers = {w.pid: w for w in world.workers(2, "--concurrency", "1")}
    fleet = world.json("fleet", "boot", "-t", template, "web1", "--queue")["data"]["id"]
    first = world.wait_for_step("web1", 1)
    holder = units(world.fleet(fleet))["web1"]["worker"]
    stopping = workers[worker_pid(holder)]
    return fleet, first, holder, stopping


def test_a_stopped_worker_finishes_its_step_and_hands_the_unit_back(world: QueueWorld) -> None:
    fleet, first, holder, stopping = web1_held(world)

    stopping.send_signal(signal.SIGTERM)
    time.sleep(1.5)  # the signal is handled at once: the step goes on all the same, and so does the worker
    assert stopping.poll() is None and world.running_run("web1", 1) == first
    assert (world.out / "web1" / "pid").exists()
    (world.out / "hold").unlink()
    out, err = stopping.communicate(timeout=60)
    assert stopping.returncode == 0, out + err
    assert "stopping: the running steps finish" in err and "web1: handed back" in err, err
    ended = world.wait_fleet(fleet)

    assert ended["state"] == "succeeded", ended
    web1 = units(ended)["web1"]
    assert web1["attempts"] == 2 and web1["worker"] not in (None, holder), web1
    runs = runs_by_server(world)["web1"]
    assert [(r["state"], r["resumed_from"]) for r in runs] == [("interrupted", None), ("succeeded", first)]
    assert web1["run_id"] == runs[1]["id"]
    interrupted = world.json("runs", "show", first)["data"]["steps"]
    assert [(s["index"], s["exit_code"]) for s in interrupted] == [(0, 0), (1, 0)]  # its step finished
    resumed = world.json("runs", "show", runs[1]["id"])["data"]["steps"]
    assert [(s["index"], s["exit_code"]) for s in resumed] == [(2, 0)]  # the next one
    assert ran(world, "web1") == [1, 2, 3]
    assert world.json("servers", "show", "web1")["data"]["state"] == "operational"
    runs_never_overlap(world)


def test_a_second_signal_stops_the_step_and_hands_the_unit_back(world: QueueWorld) -> None:
    fleet, first, holder, stopping = web1_held(world)
    stopped_step = step_pid(world, "web1")

    stopping.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    stopping.send_signal(signal.SIGTERM)  # the second signal: the running step is stopped at once
    out, err = stopping.communicate(timeout=60)
    assert stopping.returncode == 0, out + err
    assert "stopping now: the running steps are stopped, their units go back to the queue" in err, err
    assert not alive(stopped_step)
    handed = units(world.fleet(fleet))["web1"]
    assert handed["state"] in ("queued", "running"), handed  # back in the queue, not ended
    second = wait_until(lambda: resumed_run(world, "web1", first), 60, "the other worker to resume web1's run")
    (world.out / "hold").unlink()
    ended = world.wait_fleet(fleet)

    assert ended["state"] == "succeeded", ended
    runs = runs_by_server(world)["web1"]
    assert [(r["id"], r["resumed_from"]) for r in runs] == [(first, None), (second, first)]
    assert ran(world, "web1") == [1, 2, 2, 3]
    runs_never_overlap(world)
