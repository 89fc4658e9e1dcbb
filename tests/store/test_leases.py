"""Run leases on both backends: a controller renews its runs' leases; once a dead controller's lease has expired (on
any machine) its run is interrupted by the next store that opens or asks for its server; a live holder is named.

"Another machine" is a real child process whose runs record another host (STACKSCRIPTS_CONTROLLER_HOST): the local
pid check cannot judge it, so only the lease can tell that it died. tests/store/test_leases_processes.py does the
same with CLI controllers, real sshd servers and resume.
"""

from __future__ import annotations

import getpass
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from stackscripts.errors import BadInput, Conflict
from stackscripts.store.sql_store import SQLStore
from tests.store.conftest import REPO, Backend
from tests.support.cli import run_cli
from tests.support.waits import wait_until

pytestmark = pytest.mark.timeout(120)

HOLD = """
import sys, time
from stackscripts.store import open_store
store = open_store(sys.argv[1])
run_id = store.start_run("web1", "Boot", who="carol@far-a", template=None, inputs={})
store.start_step(run_id, 0, "Hold", "Boot", sha256="", inputs={})
store.append_output(run_id, 0, "stdout", "held\\n")
print(run_id, flush=True)
time.sleep(600)
"""


def remaining(backend: Backend, run_id: str) -> float:
    """Seconds left on a run's lease by the database's clock."""
    now = ("EXTRACT(EPOCH FROM clock_timestamp())" if backend.name == "postgresql"
           else "((julianday('now') - 2440587.5) * 86400.0)")
    return float(backend.sql(f"SELECT lease_until - {now} FROM runs WHERE id = ?", (run_id,))[0][0])


def state(backend: Backend, run_id: str) -> str:
    return str(backend.sql("SELECT state FROM runs WHERE id = ?", (run_id,))[0][0])


@pytest.fixture
def far_away(backend: Backend) -> Iterator[Callable[[float], tuple[subprocess.Popen[str], str]]]:
    """A controller "on another machine": a child that starts a run on web1 with a lease of `lease` seconds."""
    children: list[subprocess.Popen[str]] = []

    def start(lease: float) -> tuple[subprocess.Popen[str], str]:
        env = dict(os.environ, PYTHONPATH=str(REPO), STACKSCRIPTS_CONTROLLER_HOST="far-a.example",
                   STACKSCRIPTS_LEASE_SECONDS=str(lease))
        child = subprocess.Popen([sys.executable, "-c", HOLD, backend.location], stdout=subprocess.PIPE, text=True,
                                 env=env, stdin=subprocess.DEVNULL)
        children.append(child)
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line.startswith("r-"), f"the child exited with {child.wait(10)}"
        return child, line

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()


def test_a_controller_renews_its_leases_while_the_run_runs(store: SQLStore, web1: str, backend: Backend,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKSCRIPTS_LEASE_SECONDS", "1.5")
    run_id = store.start_run(web1, "Boot", who="alice@laptop", template=None, inputs={})
    assert 1.0 < remaining(backend, run_id) <= 1.5
    deadline = time.monotonic() + 4  # well past the first lease: only renewals keep it
    while time.monotonic() < deadline:
        assert remaining(backend, run_id) > 0, "the lease ran out while its controller lives"
        time.sleep(0.1)
    with backend.open() as other:  # opening judges every running run: this one is alive
        assert other.mark_interrupted() == [] and state(backend, run_id) == "running"
        with pytest.raises(Conflict) as caught:
            other.start_run(web1, "Operational", who="bob@desk", template=None, inputs={})
    message = str(caught.value)
    assert message.startswith(f"web1 is busy: run {run_id} (Boot) started at ")
    assert f"by pid {os.getpid()} on " in message and "alice@laptop holds it" in message
    assert "its lease expires in " in message
    store.finish_run(run_id, "succeeded")
    left = remaining(backend, run_id)
    time.sleep(1.0)
    assert remaining(backend, run_id) < left - 0.5  # an ended run's lease is no longer renewed


@pytest.mark.parametrize("noticed_by", ["opening a store", "asking for its server"])
def test_a_dead_controller_elsewhere_is_interrupted_once_its_lease_expires(
        store: SQLStore, web1: str, backend: Backend, far_away: Callable[[float], tuple[subprocess.Popen[str], str]],
        noticed_by: str) -> None:
    child, run_id = far_away(3)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    # The killed controller's run names another host: no pid check can tell, the lease still runs.
    with backend.open() as early:
        assert early.mark_interrupted() == [] and state(backend, run_id) == "running"
    assert remaining(backend, run_id) > 0  # (so the store above judged it before its lease ran out)
    with pytest.raises(Conflict) as caught:
        store.start_run(web1, "Boot", who="bob@desk", template=None, inputs={})
    assert f"by pid {child.pid} on far-a.example is still running: carol@far-a holds it" in str(caught.value)

    wait_until(lambda: remaining(backend, run_id) < 0, 10, "the lease to expire")
    if noticed_by == "opening a store":
        with backend.open() as later:
            assert later.get_run(run_id).state == "interrupted"  # opening it interrupted the run
        mine = store.start_run(web1, "Boot", who="bob@desk", template=None, inputs={})
    else:
        mine = store.start_run(web1, "Boot", who="bob@desk", template=None, inputs={})  # takes the lock over
    run = store.get_run(run_id)
    assert run.state == "interrupted" and run.ended is not None
    (step,) = run.steps
    assert (step.error, step.exit_code, step.output) == ("interrupted", None, "held\n")
    assert store.last_failed_step(run_id) == 0
    store.finish_run(mine, "succeeded")
    assert backend.count("locks") == 0


def test_a_local_dead_controller_is_interrupted_at_once(store: SQLStore, web1: str, backend: Backend,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The pid check stays: on its own host a dead controller's run is interrupted without waiting for its lease."""
    monkeypatch.setenv("STACKSCRIPTS_CONTROLLER_HOST", "far-a.example")  # the child's host is ours here
    env = dict(os.environ, PYTHONPATH=str(REPO), STACKSCRIPTS_LEASE_SECONDS="600")
    with subprocess.Popen([sys.executable, "-c", HOLD, backend.location], stdout=subprocess.PIPE, text=True,
                          env=env, stdin=subprocess.DEVNULL) as child:
        assert child.stdout is not None
        run_id = child.stdout.readline().strip()
        child.kill()
        child.wait(timeout=10)
    assert remaining(backend, run_id) > 500
    with backend.open() as later:
        assert later.mark_interrupted() == [] and later.get_run(run_id).state == "interrupted"


def test_the_lease_length_must_be_seconds(store: SQLStore, web1: str, backend: Backend,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for bad in ("soon", "0", "-5", "nan"):
        monkeypatch.setenv("STACKSCRIPTS_LEASE_SECONDS", bad)
        with pytest.raises(BadInput, match=f"STACKSCRIPTS_LEASE_SECONDS='{bad}' is not a number of seconds above 0"):
            store.start_run(web1, "Boot", who=getpass.getuser(), template=None, inputs={})
    assert backend.count("runs") == 0 and backend.count("locks") == 0  # nothing written


def test_following_a_step_whose_controller_died_ends_once_its_lease_expires(
        web1: str, backend: Backend, far_away: Callable[[float], tuple[subprocess.Popen[str], str]]) -> None:
    child, run_id = far_away(3)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    followed = run_cli("runs", "log", run_id, "1", "--follow", "--db", backend.location, timeout=60)
    assert (followed.returncode, followed.stdout) == (0, "held\n")  # what it printed before it died
    assert followed.stderr == f"stackscripts: step 1 (Hold) of run {run_id} ended: interrupted\n"
    assert state(backend, run_id) == "interrupted" and remaining(backend, run_id) < 0
