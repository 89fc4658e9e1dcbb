"""Steps that time out, connections that drop mid-step, and hosts whose key changed."""

from __future__ import annotations

import random
import threading
import time

import pytest

from stackscripts.errors import HostKeyMismatch, RunFailed
from tests.runner.fixtures import Bench
from tests.runner.helpers import Step, numbered_step
from tests.support.cli import run_cli
from tests.support.procs import wait_gone
from tests.support.waits import wait_until

pytestmark = pytest.mark.timeout(120)


def sleeper(seconds: str, name: str = "Sleeper", timeout: float | None = None) -> Step:
    """A step that says it started (in a file, then on stdout) and sleeps a unique number of seconds."""
    body = """\
    d="$OUT_DIR/$STACKSCRIPTS_SERVER"; mkdir -p "$d"
    echo "about to sleep $SLEEP"
    echo "in $PWD" >&2
    touch "$d/sleeping"
    sleep "$SLEEP"
    echo "woke up"
    """
    return Step(name, body, {"OUT_DIR": None, "SLEEP": f"text:{seconds}"}, timeout=timeout)


def unique_seconds() -> str:
    return f"60.{random.randrange(10**6, 10**7)}"


def test_step_timeout_fails_fast_and_kills_the_remote_step(bench: Bench) -> None:
    (web,) = bench.add(1)
    seconds = unique_seconds()
    template = bench.template([numbered_step(1), sleeper(seconds, timeout=2), numbered_step(3)])
    started = time.monotonic()
    with pytest.raises(RunFailed) as caught:
        bench.controller.boot(web, template)
    elapsed = time.monotonic() - started

    assert elapsed < 30, f"a 2 s timeout took {elapsed:.1f}s: the 60 s step was not stopped"
    step = caught.value.result.steps[1]
    assert "timed out" in (step.error or "") and step.exit_code != 0
    assert "timed out" in str(caught.value)
    assert step.stdout == f"about to sleep {seconds}\n"
    assert bench.ran(web) == [1]  # step 3 never ran
    wait_gone(f"sleep {seconds}", 5)
    run = bench.controller.get_run(caught.value.result.run_id)
    assert "timed out" in (run.steps[1].error or "")
    assert bench.controller.store.get_server(web).state == "stranded"


def test_connection_killed_mid_step_fails_with_connection_lost(bench: Bench) -> None:
    (web,) = bench.add(1)
    seconds = unique_seconds()
    template = bench.template([numbered_step(1), sleeper(seconds), numbered_step(3)])
    outcome: dict[str, BaseException | None] = {}

    def boot() -> None:
        try:
            bench.controller.boot(web, template)
            outcome["error"] = None
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = exc

    worker = threading.Thread(target=boot, daemon=True)
    worker.start()
    wait_until(lambda: (bench.out / web / "sleeping").exists(), 20, "the step to start sleeping")
    bench.sshd[web].kill_sessions()
    worker.join(timeout=30)
    assert not worker.is_alive(), "the run hung after its connection was killed"

    error = outcome["error"]
    assert isinstance(error, RunFailed), error
    step = error.result.steps[1]
    assert "connection lost" in (step.error or "")
    assert "connection lost" in str(error)
    assert bench.ran(web) == [1]
    wait_gone(f"sleep {seconds}", 10)  # the orphaned remote sleep
    run = bench.controller.get_run(error.result.run_id)
    assert run.state == "failed" and "connection lost" in (run.steps[1].error or "")
    assert run.steps[1].stdout == f"about to sleep {seconds}\n"
    assert bench.controller.store.get_server(web).state == "stranded"


def test_changed_host_key_is_refused_until_forgotten(bench: Bench) -> None:
    server = bench.pool.fresh("rebuilt")
    web = bench.add_one("rebuilt", server)
    template = bench.template([numbered_step(1)])
    bench.controller.boot(web, template)
    first_key = bench.controller.store.get_server(web).host_key
    assert first_key == server.host_key_line

    server.restart(new_host_key=True)
    assert server.host_key_line != first_key
    with pytest.raises(HostKeyMismatch) as caught:
        bench.controller.boot(web, template)
    message = str(caught.value)
    assert "host key" in message and f"stackscripts servers forget-key {web}" in message
    assert caught.value.exit_code == 2
    assert bench.ran(web) == [1]  # nothing ran on the impostor

    bench.controller.close()
    refused = run_cli("boot", web, "-t", str(template), "--db", str(bench.db))
    assert refused.returncode == 2, refused.stderr
    assert f"servers forget-key {web}" in refused.stderr and "Traceback" not in refused.stderr
    assert bench.ran(web) == [1]

    controller = bench.reopen()
    assert controller.store.get_server(web).host_key == first_key  # a refusal changes nothing
    controller.forget_key(web)
    assert controller.boot(web, template).ok
    assert controller.store.get_server(web).host_key == server.host_key_line
    assert bench.ran(web) == [1, 1]
