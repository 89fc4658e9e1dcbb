"""`stackscripts report` of a resumed boot, against a real sshd server: the failed run and the resumes that finish it
are one boot (each step once, the failed attempts' time in a row of its own, TOTAL their sum); the failed run's own
id shows it as it was; operational and decommission runs are titled as what they are."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stackscripts.errors import NotFound
from stackscripts.model import RunState
from stackscripts.reports.resumed import LOST_ROW, Lost, Whole, whole
from stackscripts.reports.table import compare, render
from stackscripts.store.base import RunRecord, StepRecord
from tests.runner.fixtures import Bench, SshdPool, bench, sshd_pool  # noqa: F401 - fixtures
from tests.runner.helpers import Step, numbered_step
from tests.support.cli import cli_json, run_cli

pytestmark = pytest.mark.timeout(240)

STEPS = [f"Step {n}" for n in range(1, 6)]
SLOW = 0.4  # step 3 sleeps this long first: the failed attempt's lost time shows


def boot_steps() -> list[Step]:
    steps = [numbered_step(n) for n in range(1, 6)]
    steps[2] = Step("Step 3", f"sleep {SLOW}\n" + steps[2].body, steps[2].inputs)
    return steps


def run(bench: Bench, *args: str, code: int = 0) -> Any:
    return cli_json(*args, "--db", str(bench.db), code=code)["data"]


def text(bench: Bench, *args: str) -> str:
    done = run_cli(*args, "--db", str(bench.db))
    assert done.returncode == 0 and done.stderr == "", done.stdout + done.stderr
    return done.stdout


def rows(report: dict[str, Any]) -> dict[str, list[float | None]]:
    return {row["step"]: row["seconds"] for row in report["rows"]}


def durations(bench: Bench, run_id: str) -> dict[str, float]:
    """Each recorded step's duration in a run, by name."""
    return {s["name"]: s["ended"] - s["started"] for s in run(bench, "runs", "show", run_id)["steps"]}


@pytest.fixture
def world(bench: Bench) -> Bench:
    bench.add(2)
    bench.controller.close()
    bench.template(boot_steps(), operational=[numbered_step(9)], decommission=[numbered_step(8)])
    return bench


def template(bench: Bench) -> str:
    return str(bench.templates.base / "t1" / "template.yaml")


def test_a_boot_resumed_once_is_one_boot(world: Bench) -> None:
    world.fail_at("web1", 3)
    failed = run(world, "boot", "web1", "-t", template(world), code=1)["run_id"]
    world.fail_at("web1", 3, failing=False)
    resumed = run(world, "resume", failed)["run_id"]
    assert world.ran("web1") == [1, 2, 3, 3, 4, 5]

    report = run(world, "report", resumed)
    by_step = rows(report)
    assert list(by_step) == [*STEPS, LOST_ROW]  # every step of the boot once, then the time lost
    before, after = durations(world, failed), durations(world, resumed)
    assert list(before) == STEPS[:3] and list(after) == STEPS[2:]
    assert [by_step[s][0] for s in STEPS] == pytest.approx([before["Step 1"], before["Step 2"], *after.values()])
    assert by_step[LOST_ROW] == pytest.approx([before["Step 3"]])  # the failed attempt at step 3
    assert before["Step 3"] >= SLOW and (by_step["Step 3"][0] or 0.0) >= SLOW
    assert report["totals"][0] == pytest.approx(sum(v[0] or 0.0 for v in by_step.values()))
    assert not any(row["failed"][0] for row in report["rows"] if row["step"] != LOST_ROW)
    assert report["title"] == "Boot time steps" and report["runs"][0]["id"] == resumed
    assert report["resumed"] == [{"run": resumed, "earlier": [failed], "lost": [
        {"run": failed, "seconds": pytest.approx(before["Step 3"]), "steps": ["step 3 Step 3"]}],
        "lost_seconds": pytest.approx(before["Step 3"]), "between": pytest.approx(report["resumed"][0]["between"])}]
    assert report["resumed"][0]["between"] >= 0

    table = text(world, "report", resumed)
    lines = table.splitlines()
    assert lines[0] == f"| Boot time steps | web1 {resumed} |"
    assert [line.split("|")[1].strip() for line in lines[2:-1]] == [*STEPS, LOST_ROW, "TOTAL"]
    assert re.fullmatch(rf"\| {LOST_ROW} \| \S+ ✗ \|", lines[7])
    assert lines[-1].startswith(f"web1 {resumed} finishes the boot begun in {failed}: each step shown once")
    assert f"lost in failed run {failed} (step 3 Step 3)" in lines[-1] and "between the runs not counted" in lines[-1]

    as_it_was = run(world, "report", failed)  # the failed run's own id: that run alone, as it was
    assert list(rows(as_it_was)) == STEPS[:3] and as_it_was["resumed"] == []
    assert [row["failed"] for row in as_it_was["rows"]] == [[False], [False], [True]]
    assert text(world, "report", failed).endswith(f"web1 {failed}: failed\n")


def test_a_chain_of_resumes_and_a_side_by_side_comparison(world: Bench) -> None:
    world.fail_at("web1", 3)
    world.fail_at("web1", 4)
    first = run(world, "boot", "web1", "-t", template(world), code=1)["run_id"]
    world.fail_at("web1", 3, failing=False)
    second = run(world, "resume", first, code=1)["run_id"]
    world.fail_at("web1", 4, failing=False)
    third = run(world, "resume", second)["run_id"]
    clean = run(world, "boot", "web2", "-t", template(world))["run_id"]
    assert world.ran("web1") == [1, 2, 3, 3, 4, 4, 5]

    report = run(world, "report", third, clean)
    by_step = rows(report)
    assert list(by_step) == [*STEPS, LOST_ROW]
    one, two, three = durations(world, first), durations(world, second), durations(world, third)
    whole = [one["Step 1"], one["Step 2"], two["Step 3"], three["Step 4"], three["Step 5"]]
    assert [by_step[s][0] for s in STEPS] == pytest.approx(whole)
    assert by_step[LOST_ROW] == pytest.approx([one["Step 3"] + two["Step 4"], 0.0])
    for column in (0, 1):
        assert report["totals"][column] == pytest.approx(sum(v[column] or 0.0 for v in by_step.values()))
    (chain,) = report["resumed"]
    assert chain["earlier"] == [first, second]
    assert [(x["run"], x["steps"]) for x in chain["lost"]] == [(first, ["step 3 Step 3"]), (second, ["step 4 Step 4"])]
    note = text(world, "report", third).splitlines()[-1]
    assert f"finishes the boot begun in {first} (resumed in {second})" in note
    assert f"lost in failed run {first} (step 3 Step 3) and " in note and f"in failed run {second} (step 4 Step 4)" in note

    middle = run(world, "report", second)  # a failed resume: the boot as far as it got
    assert list(rows(middle)) == [*STEPS[:4], LOST_ROW] and middle["rows"][3]["failed"] == [True]

    page_path = world.tmp / "boot.html"
    run(world, "report", third, "--html", str(page_path))
    page = page_path.read_text("utf-8")
    assert LOST_ROW in page and "finishes the boot begun in" in page
    for earlier in (first, second):  # the earlier runs' steps and output are in the page too
        assert f"run {earlier} (failed) (resumed by {third})" in page
    assert "step 3: fail-3 is there" in page and "step 4: fail-4 is there" in page


def test_operational_and_decommission_runs_are_titled_as_such(world: Bench) -> None:
    boot = run(world, "boot", "web1", "-t", template(world))["run_id"]
    operational = run(world, "run", "web1", "Step 9")["run_id"]
    report = run(world, "report", operational)
    assert report["title"] == "Operational run: Step 9 on web1" and list(rows(report)) == ["Step 9"]
    assert text(world, "report", operational).startswith(f"| Operational run: Step 9 on web1 | web1 {operational} |")
    page_path = world.tmp / "op.html"
    run(world, "report", operational, "--html", str(page_path))
    assert "<th>Operational run: Step 9 on web1</th>" in page_path.read_text("utf-8")
    assert text(world, "report", boot).startswith("| Boot time steps |")

    world.fail_at("web1", 9)
    failed = run(world, "run", "web1", "Step 9", code=1)["run_id"]
    world.fail_at("web1", 9, failing=False)
    again = run(world, "resume", failed)["run_id"]
    resumed = run(world, "report", again)
    assert resumed["title"] == "Operational run: Step 9 on web1" and list(rows(resumed)) == ["Step 9", LOST_ROW]
    assert text(world, "report", again).splitlines()[-1].startswith(
        f"web1 {again} finishes the Operational run begun in {failed}")

    gone = run(world, "decommission", "web1")["run_id"]
    assert text(world, "report", gone).startswith(f"| Decommission of web1 | web1 {gone} |")
    assert run(world, "report", boot, operational)["title"] == "Run steps"


def record(run_id: str, steps: list[tuple[int, float, float | None, int | None]], *, phase: str = "Boot",
           state: str = "failed", resumed_from: str | None = None) -> RunRecord:
    """A run whose steps are (index, started, ended, exit code)."""
    made = tuple(StepRecord(run_id, i, f"S{i + 1}", phase, started=a, ended=b, exit_code=c) for i, a, b, c in steps)
    ended = max((s.ended or s.started or 0.0) for s in made) if made else 0.0
    return RunRecord(run_id, "web1", phase, RunState(state), started=made[0].started or 0.0 if made else 0.0, ended=ended,
                     steps=made, resumed_from=resumed_from)


def test_whole_runs_from_records() -> None:
    interrupted = record("r-a", [(0, 0.0, 1.0, 0), (1, 1.0, None, None)], state="interrupted")
    resumed = record("r-b", [(1, 10.0, 12.0, 0), (2, 12.0, 13.0, 0)], state="succeeded", resumed_from="r-a")
    runs = {r.id: r for r in (interrupted, resumed)}
    item = whole(resumed, runs.__getitem__)
    assert [s.index for s in item.run.steps] == [0, 1, 2] and item.run.id == "r-b"
    assert item.lost == (Lost("r-a", 0.0, ("step 2 S2",)),) and item.between == 9.0  # no end recorded: 0 s lost
    assert whole(interrupted, runs.__getitem__) == Whole(interrupted)  # the earlier run alone, as it was

    def gone(run_id: str) -> RunRecord:
        raise NotFound(f"unknown run {run_id}")

    assert whole(resumed, gone) == Whole(resumed) and whole(resumed) == Whole(resumed)
    loop = record("r-c", [(0, 20.0, 21.0, 0)], resumed_from="r-d")
    other = record("r-d", [(0, 5.0, 6.0, 1)], resumed_from="r-c")
    cycle = whole(loop, {"r-c": loop, "r-d": other}.__getitem__)  # a damaged store: the chain ends, no endless loop
    assert [r.id for r in cycle.earlier] == ["r-d"] and cycle.lost_seconds == pytest.approx(1.0)

    first = record("r-1", [(0, 0.0, 2.0, 1), (1, 2.0, 3.0, 0), (2, 3.0, 4.5, 1)], phase="Decommission")
    again = record("r-2", [(0, 9.0, 10.0, 0), (1, 10.0, 11.0, 0), (2, 11.0, 12.0, 0)], phase="Decommission",
                   state="succeeded", resumed_from="r-1")
    comparison = compare([again], history={"r-1": first}.__getitem__)
    assert [row.label for row in comparison.rows] == ["S1", "S2", "S3", LOST_ROW]
    assert comparison.rows[-1].values == (pytest.approx(4.5),) and comparison.totals == (pytest.approx(7.5),)
    assert render(comparison).startswith("| Decommission of web1 | web1 r-2 |")
    assert "finishes the Decommission run begun in r-1" in render(comparison)
