"""Two controllers (CLI processes, each "on its own machine") against one PostgreSQL store and real sshd servers:
different servers at once, the same server refused with its holder named, and a controller SIGKILLed mid-step
whose run the other interrupts once the lease has expired, then resumes to the end.

Each controller records its own host (STACKSCRIPTS_CONTROLLER_HOST, identity only), so the local pid check cannot
judge the other's runs: only the lease can tell that the killed one is gone (tests/store/test_leases.py shows the
pid check still acts at once on its own host).
"""

from __future__ import annotations

import getpass
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runner.fixtures import SshdPool, sshd_pool  # noqa: F401 - fixture
from tests.runner.helpers import Step
from tests.store.conftest import Backend
from tests.store.controllers import World
from tests.support import postgres
from tests.support.cli import no_traceback
from tests.support.waits import wait_until

pytestmark = pytest.mark.timeout(300)

LEASE = 6  # seconds; renewed every 2


def steps(out: Path) -> list[Step]:
    """Step 1 quick; step 2 holds while the file `hold` exists (a step that sleeps); step 3 quick."""
    count = 'mkdir -p "$OUT_DIR/$STACKSCRIPTS_SERVER"; echo {n} >> "$OUT_DIR/$STACKSCRIPTS_SERVER/ran"\n'
    return [Step("Begin", count.format(n=1) + "echo begun\n", {"OUT_DIR": None}),
            Step("Hold", count.format(n=2) + f'echo holding\nwhile [ -e "{out}/hold" ]; do sleep 0.1; done\n'
                 "echo released\n", {"OUT_DIR": None}),
            Step("Finish", count.format(n=3) + "echo finished\n", {"OUT_DIR": None})]


@pytest.fixture
def world(tmp_path: Path, sshd_pool: SshdPool) -> Iterator[World]:  # noqa: F811 - the fixture above
    pg = postgres.require_postgres()
    with postgres.fresh_database(pg) as name:
        made = World(Backend("postgresql", pg.dsn(name), pg, name), tmp_path, sshd_pool)
        try:
            yield made
        finally:
            made.close()


def ran(world: World, server: str) -> list[int]:
    path = world.out / server / "ran"
    return [int(n) for n in path.read_text().split()] if path.exists() else []


def lease_left(world: World, run_id: str) -> float:
    return float(world.backend.sql("SELECT lease_until - EXTRACT(EPOCH FROM clock_timestamp()) FROM runs "
                                   "WHERE id = ?", (run_id,))[0][0])


def test_two_controllers_boot_two_servers_at_once(world: World) -> None:
    world.add("web1", "web2")
    template = world.template(steps(world.out))
    (world.out / "hold").touch()
    first = world.spawn("boot", "web1", "-t", template, "--json", env=world.machine("laptop-a", LEASE))
    second = world.spawn("boot", "web2", "-t", template, "--json", env=world.machine("laptop-b", LEASE))
    runs = {world.wait_for_step("web1", 1), world.wait_for_step("web2", 1)}  # both hold step 2 at once
    hosts = world.backend.sql("SELECT controller_host FROM runs WHERE state = 'running' ORDER BY server")
    assert [row[0] for row in hosts] == ["laptop-a", "laptop-b"]
    (world.out / "hold").unlink()
    for child in (first, second):
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, out + err
    listed = world.json("runs", "list")["data"]
    assert {r["id"] for r in listed} == runs and {r["state"] for r in listed} == {"succeeded"}
    assert ran(world, "web1") == ran(world, "web2") == [1, 2, 3]


def test_a_busy_server_is_refused_and_a_dead_controllers_run_is_resumed_elsewhere(world: World) -> None:
    world.add("web1")
    template = world.template(steps(world.out))
    laptop_a, laptop_b = world.machine("laptop-a", LEASE), world.machine("laptop-b", LEASE)
    (world.out / "hold").touch()
    holder = world.spawn("boot", "web1", "-t", template, env=laptop_a)
    run_id = world.wait_for_step("web1", 1)

    # The same server from the other machine: refused, naming who holds it, from where, since when.
    refused = world.run("boot", "web1", "-t", template, env=laptop_b)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    no_traceback(refused.stderr)
    message = refused.stderr
    assert message.startswith(f"stackscripts: error: web1 is busy: run {run_id} (Boot) started at ")
    assert f" UTC by pid {holder.pid} on laptop-a is still running: {getpass.getuser()}@{socket.gethostname()} " \
           "holds it, and its lease expires in " in message
    assert message.count("\n") == 1
    as_json = world.json("boot", "web1", "-t", template, code=2, env=laptop_b)
    assert as_json["error"]["type"] == "Conflict" and f"pid {holder.pid} on laptop-a" in as_json["error"]["message"]

    # The holder dies mid-step. Its run names laptop-a: the other machine can only wait for the lease.
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    shown = world.json("runs", "show", run_id, env=laptop_b)["data"]
    assert shown["state"] == "running" and lease_left(world, run_id) > 0  # judged while the lease still ran
    wait_until(lambda: lease_left(world, run_id) < 0, LEASE + 5, "the dead controller's lease to expire")
    listed = world.json("runs", "list", env=laptop_b)["data"]  # any command: it opens the store
    assert [(r["id"], r["state"]) for r in listed] == [(run_id, "interrupted")]
    stopped = world.json("runs", "show", run_id, env=laptop_b)["data"]
    assert [(s["exit_code"], s["error"]) for s in stopped["steps"]] == [(0, None), (None, "interrupted")]

    # The other machine resumes it: the interrupted step and the rest.
    (world.out / "hold").unlink()
    resumed = world.json("resume", run_id, env=laptop_b)["data"]
    assert resumed["state"] == "succeeded"
    assert [(s["index"], s["exit_code"]) for s in resumed["steps"]] == [(1, 0), (2, 0)]
    assert ran(world, "web1") == [1, 2, 2, 3]
    again = world.json("runs", "show", resumed["run_id"], env=laptop_b)["data"]
    assert again["resumed_from"] == run_id
    assert world.json("servers", "show", "web1", env=laptop_b)["data"]["state"] == "operational"
    assert world.backend.count("locks") == 0
