"""Resuming a Decommission run behaves like Decommission: it starts at the first failed script and a failure
does not stop the scripts after it; it stays within a time budget. Real sshd servers, real bash, a real store."""

from __future__ import annotations

import pytest

from stackscripts.errors import RunFailed
from tests.runner.fixtures import Bench
from tests.runner.helpers import Step, numbered_step

pytestmark = pytest.mark.timeout(120)


def decom_step(name: str) -> Step:
    """Records itself, sleeps as long as the file sleep-NAME says, then fails while the marker fail-NAME exists."""
    body = f"""\
    d="$OUT_DIR/$STACKSCRIPTS_SERVER"; mkdir -p "$d"
    echo {name} >> "$d/phases"
    sleep "$(cat "$d/sleep-{name}" 2>/dev/null || echo 0)"
    [ ! -e "$d/fail-{name}" ]
    """
    return Step(name, body, {"OUT_DIR": None})


def phases(bench: Bench, server: str) -> list[str]:
    path = bench.out / server / "phases"
    return path.read_text().split() if path.exists() else []


def steps_of(error: RunFailed) -> list[tuple[int, str, int]]:
    assert error.result is not None
    return [(s.index, s.name, s.exit_code) for s in error.result.steps]


def run_id(error: RunFailed) -> str:
    assert error.result is not None
    return error.result.run_id


def test_a_resumed_decommission_starts_at_the_first_failure_and_goes_on_past_later_ones(bench: Bench) -> None:
    (web,) = bench.add(1)
    names = ["drain", "deregister", "wipe", "notify"]
    template = bench.template([numbered_step(1)], decommission=[decom_step(n) for n in names])
    bench.controller.boot(web, template)
    bench.fail_at(web, "deregister")
    bench.fail_at(web, "wipe")
    with pytest.raises(RunFailed) as first:
        bench.controller.decommission(web)
    assert steps_of(first.value) == [(0, "drain", 0), (1, "deregister", 1), (2, "wipe", 1), (3, "notify", 0)]

    # wipe is fixed, deregister is not: the resume must retry deregister (the first failure), not only wipe
    bench.fail_at(web, "wipe", failing=False)
    with pytest.raises(RunFailed) as second:
        bench.controller.resume(run_id(first.value))
    assert steps_of(second.value) == [(1, "deregister", 1), (2, "wipe", 0), (3, "notify", 0)]

    # deregister is fixed and wipe fails again: the scripts after wipe still run, as in Decommission
    bench.fail_at(web, "deregister", failing=False)
    bench.fail_at(web, "wipe")
    with pytest.raises(RunFailed) as third:
        bench.controller.resume(run_id(second.value))
    assert steps_of(third.value) == [(1, "deregister", 0), (2, "wipe", 1), (3, "notify", 0)]

    bench.fail_at(web, "wipe", failing=False)
    last = bench.controller.resume(run_id(third.value))
    assert last.ok and [(s.index, s.name) for s in last.steps] == [(2, "wipe"), (3, "notify")]
    assert phases(bench, web) == [*names, "deregister", "wipe", "notify", "deregister", "wipe", "notify",
                                  "wipe", "notify"]  # fmt: skip
    record = bench.reopen().get_run(last.run_id)
    assert record.phase == "Decommission" and record.resumed_from == run_id(third.value)
    assert bench.controller.store.get_server(web).state == "terminated"


def test_a_resumed_decommission_keeps_to_its_time_budget(bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template([numbered_step(1)], decommission=[
        decom_step("drain"), decom_step("slow"), decom_step("notify")])
    bench.controller.boot(web, template)
    bench.fail_at(web, "drain")
    with pytest.raises(RunFailed) as first:
        bench.controller.decommission(web)
    bench.fail_at(web, "drain", failing=False)
    (bench.out / web / "sleep-slow").write_text("30")
    with pytest.raises(RunFailed) as resumed:
        bench.controller.resume(run_id(first.value), budget=2.0)
    result = resumed.value.result
    assert result is not None
    assert [(s.index, s.ok) for s in result.steps] == [(0, True), (1, False), (2, False)]
    assert result.steps[2].error == "skipped: time budget exhausted"
    assert result.steps[1].duration < 15
