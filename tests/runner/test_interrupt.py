"""A controller killed mid-step, and a second run refused while the first one holds the server."""

from __future__ import annotations

import os
import random
import secrets
import shutil
import signal
import threading
from pathlib import Path

import pytest

from stackscripts.errors import Conflict
from stackscripts.store.sqlite import SQLiteStore
from tests.runner.fixtures import Bench
from tests.runner.helpers import Step, files_containing, numbered_step
from tests.support.cli import run_cli, spawn_cli
from tests.support.procs import wait_gone
from tests.support.store import stored_output
from tests.support.waits import wait_until

pytestmark = pytest.mark.timeout(120)

# Holds while the file `hold` exists: sleeps (a unique number of seconds) or waits for `go`.
HOLD = """\
d="$OUT_DIR/$STACKSCRIPTS_SERVER"; mkdir -p "$d"
echo 2 >> "$d/ran"
echo "output before the hold"
echo "warning before the hold" >&2
if [ -e "$d/hold" ]; then
  echo "$PWD" > "$d/workdir"
  touch "$d/holding"
  if [ "$HOLD_MODE" = sleep ]; then sleep "$SLEEP"; fi
  for _ in $(seq 300); do [ -e "$d/go" ] && break; sleep 0.1; done
fi
echo "released"
"""


def holding_template(bench: Bench, mode: str, seconds: str = "0") -> Path:
    step = Step("Hold", HOLD, {"OUT_DIR": None, "HOLD_MODE": f"text:{mode}", "SLEEP": f"text:{seconds}",
                               "TOKEN": "cred:HOLD_TOKEN"})
    return bench.template([numbered_step(1), step, numbered_step(3)])


def test_sigkilled_controller_leaves_an_interrupted_run_that_resumes(bench: Bench,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    (web,) = bench.add(1)
    seconds = f"60.{random.randrange(10**6, 10**7)}"
    template = holding_template(bench, "sleep", seconds)
    (bench.out / web).mkdir()
    (bench.out / web / "hold").write_text("")
    bench.controller.close()

    token = f"token-{secrets.token_hex(12)}"
    monkeypatch.setenv("STACKSCRIPTS_CRED_HOLD_TOKEN", token)  # for the resume in this process; with a
    # credential in play the masker must still release "output before the hold" at once
    child = spawn_cli("boot", web, "-t", str(template), "--db", str(bench.db),
                      env={"STACKSCRIPTS_CRED_HOLD_TOKEN": token})
    try:
        wait_until(lambda: (bench.out / web / "holding").exists() or child.poll() is not None, 30,
                   "the step to start holding")
        assert child.poll() is None, child.communicate()
        wait_until(lambda: "output before the hold" in (out := stored_output(bench.db))
                   and "warning before the hold" in out, 10, "the step's output to reach the store file")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()
    (bench.out / web / "hold").unlink()
    wait_gone(f"sleep {seconds}", 10)  # the remote step stops
    shutil.rmtree((bench.out / web / "workdir").read_text().strip(), ignore_errors=True)  # see test_cleanup.py

    with SQLiteStore(bench.db) as store:  # opening it finds the dead controller
        (run,) = store.list_runs(web)
        assert run.state == "interrupted"
        record = store.get_run(run.id)
    assert [s.exit_code for s in record.steps] == [0, None]
    assert record.steps[1].error == "interrupted"
    assert record.steps[1].stdout == "output before the hold\n"
    assert record.steps[1].stderr == "warning before the hold\n"

    controller = bench.reopen()
    assert controller.store.get_server(web).state == "booting"
    resumed = controller.resume(run.id)  # the server is free again: a new run may start
    assert resumed.ok and [s.index for s in resumed.steps] == [1, 2]
    assert bench.ran(web) == [1, 2, 2, 3]
    assert controller.get_run(resumed.run_id).resumed_from == run.id
    assert controller.store.get_server(web).state == "operational"
    # the killed controller's step bundle (its env file holds the credential) is gone too
    assert files_containing(token) == []


def test_second_run_on_a_busy_server_is_refused(bench: Bench, monkeypatch: pytest.MonkeyPatch) -> None:
    (web,) = bench.add(1)
    monkeypatch.setenv("STACKSCRIPTS_CRED_HOLD_TOKEN", "not so secret")
    template = holding_template(bench, "wait")
    (bench.out / web).mkdir()
    (bench.out / web / "hold").write_text("")
    results: list[object] = []
    worker = threading.Thread(target=lambda: results.append(bench.controller.boot(web, template)), daemon=True)
    worker.start()
    try:
        wait_until(lambda: (bench.out / web / "holding").exists(), 20, "the first run to hold the server")
        with pytest.raises(Conflict, match=f"{web} is busy: run r-"):
            bench.controller.boot(web, template)
        refused = run_cli("boot", web, "-t", str(template), "--db", str(bench.db),
                      env={"STACKSCRIPTS_CRED_HOLD_TOKEN": "not so secret"})
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "is busy" in refused.stderr and "Traceback" not in refused.stderr
        assert bench.ran(web) == [1, 2]  # neither refused run started a step
    finally:
        (bench.out / web / "go").write_text("")
        worker.join(timeout=30)
    assert results and results[0].ok  # type: ignore[attr-defined]
    assert bench.ran(web) == [1, 2, 3]
    (run,) = bench.controller.runs(web)
    assert run.state == "succeeded"
