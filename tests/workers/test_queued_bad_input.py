"""Queued work and bad input: no worker alive (a warning; the units wait and the first worker boots them), a queue
nobody serves, a store that is not PostgreSQL, an unknown fleet, --wait without --queue: one clear message, exit 2
where the input was wrong, never a traceback."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from stackscripts.api.controller import Controller
from tests.support.cli import no_traceback
from tests.workers.conftest import QueueWorld
from tests.workers.helpers import add_servers, ran, timed_steps, unit_states

pytestmark = pytest.mark.timeout(300)


def refused(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit 2, one message on stderr holding each needle, nothing on stdout, no traceback."""
    assert done.returncode == 2, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    no_traceback(done.stdout + done.stderr)
    assert done.stdout == "" and done.stderr.startswith("stackscripts: error: "), done.stderr
    for needle in needles:
        assert needle in done.stderr, done.stderr
    return done.stderr


def test_queued_work_bad_input(world: QueueWorld, tmp_path: Path) -> None:
    add_servers(world, ["web1", "web2"])
    template = world.template(timed_steps())

    # No worker alive: say so, queue all the same; the units wait for a worker.
    queued = world.run("fleet", "boot", "-t", template, "web1", "web2", "--queue")
    assert queued.returncode == 0, queued.stdout + queued.stderr
    no_traceback(queued.stderr)
    assert queued.stderr == "warning: no worker is alive: the units stay queued until one starts " \
                            "(stackscripts worker --queue default --db ...)\n"
    found = re.fullmatch(r"fleet (f[0-9a-f]{10}) queued: 2 server\S* on queue default \(stackscripts fleets show \1\)\n",
                         queued.stdout)
    assert found, queued.stdout
    fleet = found.group(1)
    as_json = world.json("fleet", "boot", "-t", template, "web1", "--queue", "--parallel", "1")["data"]
    assert as_json["warning"].startswith("no worker is alive") and as_json["counts"] == {"queued": 1}
    waiting = world.fleet(fleet)
    assert waiting["state"] == "running" and unit_states(waiting) == {"queued": 2}, waiting

    # Inputs that are wrong whatever the workers do.
    refused(world.run("fleet", "boot", "-t", template, "web1", "--wait"), "--wait goes with --queue")
    refused(world.run("fleets", "show", "nosuch"), "no fleet 'nosuch' in the audit store", "fleets list")
    refused(world.run("fleets", "cancel", "nosuch"), "no fleet 'nosuch'")
    refused(world.run("fleet", "boot", "-t", template, "web1", "--queue", "no such queue"),
            "--queue 'no such queue' is not a queue name")
    refused(world.run("fleet", "boot", "-t", template, "nosuch", "--queue"), "nosuch")
    sqlite = str(tmp_path / "local.db")
    Controller(sqlite).close()  # a laptop's own store, empty: the store is what is refused, before any server
    for args in (("fleet", "boot", "-t", template, "web1", "--queue"), ("fleets", "list"), ("workers", "list"),
                 ("worker",)):
        refused(world.run(*args, "--db", sqlite), "queued work needs the team store on PostgreSQL")
    refused(world.run("worker", "--concurrency", "0"), "--concurrency 0 must be at least 1")

    # The first worker to start boots the waiting units.
    world.workers(1)
    booted = world.wait_fleet(fleet)
    assert booted["state"] == "succeeded" and unit_states(booted) == {"succeeded": 2}, booted
    assert ran(world, "web1")[:3] == ran(world, "web2") == [1, 2, 3]

    # Workers are alive, but none serves this queue: a mistyped name would wait forever.
    refused(world.run("fleet", "boot", "-t", template, "web1", "--queue", "nightly"),
            "no worker serves the queue 'nightly'; the alive workers serve: default",
            "stackscripts worker --queue nightly")
    assert len(world.json("fleets", "list")["data"]["fleets"]) == 2
