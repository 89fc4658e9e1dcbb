"""Cancelling a running Executor from another thread: at once (cancelled) or after the running step (interrupted)."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from stackscripts.catalog.library import Catalog
from stackscripts.events import Event, EventBus, RunFinished, StepStarted
from stackscripts.executor import Cancel, Executor
from stackscripts.model import Phase, RunResult, RunState
from stackscripts.plan import build_plan, resolve_template
from stackscripts.render.bundle import step_env
from stackscripts.templates import load_template
from stackscripts.transport.base import transports
from tests.runner.fixtures import Bench
from tests.runner.helpers import Step, numbered_step
from tests.support.procs import kill_matching, wait_gone
from tests.support.waits import wait_until

pytestmark = pytest.mark.timeout(120)

RUN_ID = "r-cancel-test"

# Counts its attempts, says it started, sleeps SLEEP seconds, then says so.
SLEEPER = """\
d="$OUT_DIR/$STACKSCRIPTS_SERVER"; mkdir -p "$d"
echo x >> "$d/attempts"
echo "sleeping"
touch "$d/started"
sleep "$SLEEP"
echo "slept"
"""


def sleeper(seconds: str, retries: int = 0) -> Step:
    return Step("Sleeper", SLEEPER, {"OUT_DIR": None, "SLEEP": f"text:{seconds}"}, retries=retries)


class Run:
    """An Executor over one pool server's session, run in this thread; events collected."""

    def __init__(self, bench: Bench, web: str, steps: Sequence[Step]) -> None:
        self.bench, self.web = bench, web
        resolved = resolve_template(load_template(bench.template(list(steps))), Catalog())
        self.plan = build_plan(resolved, Phase.BOOT, server=web)
        values = bench.controller.materialize(self.plan)
        self.envs = {s.index: step_env(s, values[s.index], server=web, run_id=RUN_ID) for s in self.plan.steps}
        self.events: list[Event] = []
        self.cancel = Cancel()

    def __call__(self) -> RunResult:
        with transports.get("ssh")().open(self.bench.sshd[self.web].host_spec()) as session:
            executor = Executor(session, EventBus([self.events.append]), server=self.web, run_id=RUN_ID,
                                secrets=[], cancel=self.cancel)
            result = executor.run(self.plan, self.envs)
        assert isinstance(self.events[-1], RunFinished) and self.events[-1].result == result
        return result

    def started(self) -> list[int]:
        return [e.index for e in self.events if isinstance(e, StepStarted)]

    def attempts(self) -> int:
        path = self.bench.out / self.web / "attempts"
        return len(path.read_text().split()) if path.exists() else 0


@contextmanager
def stop_when_started(run: Run, *, now: bool, delay: float = 0.5) -> Iterator[threading.Thread]:
    """A thread that calls run.cancel.stop(now) once step 2 has started on the server (and `delay` more)."""
    marker: Path = run.bench.out / run.web / "started"

    def stop() -> None:
        wait_until(marker.exists, 30, "the sleeping step to start")
        threading.Event().wait(delay)
        run.cancel.stop(now=now)

    thread = threading.Thread(target=stop, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        thread.join(timeout=60)


def test_stop_now_stops_the_running_step_and_no_other_starts(bench: Bench) -> None:
    (web,) = bench.add(1)
    seconds = f"60.{random.randrange(10**6, 10**7)}"  # found by command line: the step's process
    run = Run(bench, web, [numbered_step(1), sleeper(seconds, retries=2), numbered_step(3)])
    try:
        with stop_when_started(run, now=True):
            result = run()
        wait_gone(f"sleep {seconds}", 10)  # the remote process group is stopped
    finally:
        kill_matching(f"sleep {seconds}")

    assert result.state is RunState.CANCELLED and not result.ok
    assert [(s.index, s.exit_code, s.error) for s in result.steps] == [(0, 0, None), (1, 143, "cancelled")]
    assert result.steps[1].stdout == "sleeping\n"  # the output so far
    assert result.steps[1].duration < 30
    assert run.attempts() == 1  # a cancelled step is not retried
    assert run.started() == [0, 1] and bench.ran(web) == [1]  # step 3 never started
    assert run.cancel.requested and run.cancel.now and run.cancel.reason == "cancelled"


def test_stop_after_the_step_lets_it_finish_and_interrupts_the_run(bench: Bench) -> None:
    (web,) = bench.add(1)
    run = Run(bench, web, [numbered_step(1), sleeper("3"), numbered_step(3)])
    with stop_when_started(run, now=False):
        result = run()

    assert result.state is RunState.INTERRUPTED
    assert [(s.index, s.exit_code, s.error) for s in result.steps] == [(0, 0, None), (1, 0, None)]
    assert result.steps[1].stdout == "sleeping\nslept\n"  # it ran to its end
    assert result.steps[1].duration >= 2.5
    assert run.started() == [0, 1] and bench.ran(web) == [1]
    assert run.cancel.requested and not run.cancel.now


def test_stop_now_during_a_retry_pause_stops_the_retries(bench: Bench) -> None:
    (web,) = bench.add(1)
    failing = Step("Failing", 'd="$OUT_DIR/$STACKSCRIPTS_SERVER"; mkdir -p "$d"; echo x >> "$d/attempts"; '
                   'touch "$d/started"; exit 5\n', {"OUT_DIR": None}, retries=3)
    run = Run(bench, web, [failing, numbered_step(2)])
    with stop_when_started(run, now=True, delay=0.3):  # the pause before attempt 2 lasts 1 s
        result = run()

    assert result.state is RunState.CANCELLED
    assert [(s.index, s.exit_code, s.error) for s in result.steps] == [(0, 5, "cancelled")]
    assert run.attempts() == 1 and run.started() == [0]


def test_stop_before_the_run_starts_no_step(bench: Bench) -> None:
    (web,) = bench.add(1)
    run = Run(bench, web, [numbered_step(1), numbered_step(2)])
    run.cancel.stop(now=False, reason="worker stopping")
    run.cancel.stop(now=True, reason="cancelled by a user")  # a now-stop after an after-step stop: its reason wins
    result = run()
    assert (result.state, result.steps, run.started()) == (RunState.CANCELLED, (), [])
    assert run.cancel.reason == "cancelled by a user" and bench.ran(web) == []


def test_stop_now_as_a_step_starts_keeps_it_from_running(bench: Bench) -> None:
    (web,) = bench.add(1)
    run = Run(bench, web, [numbered_step(1), sleeper("60"), numbered_step(3)])
    run.events = StopAt(run.cancel, index=1)  # stopped in the executor's thread, before the step's bundle goes
    result = run()
    assert result.state is RunState.CANCELLED
    assert [(s.index, s.exit_code, s.error) for s in result.steps] == [(0, 0, None), (1, -1, "cancelled")]
    assert run.attempts() == 0 and bench.ran(web) == [1]


class StopAt(list[Event]):
    """An event list that asks for a now-stop when the step `index` starts."""

    def __init__(self, cancel: Cancel, index: int) -> None:
        super().__init__()
        self.cancel, self.at = cancel, index

    def append(self, event: Event) -> None:
        super().append(event)
        if isinstance(event, StepStarted) and event.index == self.at:
            self.cancel.stop()
