"""`Retries: N` on a template step, executed for real: attempts on the server, one recorded step holding them all."""

from __future__ import annotations

import re

import pytest

from stackscripts.errors import RunFailed
from tests.runner.fixtures import Bench
from tests.runner.helpers import Step, numbered_step

pytestmark = pytest.mark.timeout(120)

# Counts its attempts in a file on the server; fails (exit 5) until attempt SUCCEED_AT.
FLAKY = """\
d="$OUT_DIR/$STACKSCRIPTS_SERVER"; mkdir -p "$d"
echo x >> "$d/attempts"
n=$(wc -l < "$d/attempts")
echo "attempt $n out"
echo "attempt $n err" >&2
if [ "$n" -lt "$SUCCEED_AT" ]; then exit 5; fi
echo "done at attempt $n"
"""


def flaky(succeed_at: int, retries: int) -> Step:
    return Step("Flaky", FLAKY, {"OUT_DIR": None, "SUCCEED_AT": f"text:{succeed_at}"}, retries=retries)


def attempts(bench: Bench, server: str) -> int:
    path = bench.out / server / "attempts"
    return len(path.read_text().split()) if path.exists() else 0


def retry_notes(stderr: str) -> list[tuple[int, str, int, int]]:
    """(failed attempt, why, next attempt, of) for each note the executor wrote between attempts."""
    found = re.findall(r"^stackscripts: attempt (\d+) failed \((.+?)\); retrying.*\(attempt (\d+) of (\d+)\)$",
                       stderr, re.MULTILINE)
    return [(int(a), why, int(b), int(c)) for a, why, b, c in found]


def test_a_step_that_fails_twice_then_succeeds_is_one_recorded_success(bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template([numbered_step(1), flaky(succeed_at=3, retries=2), numbered_step(3)])
    result = bench.controller.boot(web, template)

    assert result.ok and attempts(bench, web) == 3
    assert bench.ran(web) == [1, 3]  # the steps around it once each
    step = result.steps[1]
    assert (step.index, step.name, step.exit_code, step.error) == (1, "Flaky", 0, None)
    assert step.stdout == "attempt 1 out\nattempt 2 out\nattempt 3 out\ndone at attempt 3\n"
    assert retry_notes(step.stderr) == [(1, "exit code 5", 2, 3), (2, "exit code 5", 3, 3)]
    assert [line for line in step.stderr.splitlines() if not line.startswith("stackscripts:")] == [
        "attempt 1 err", "attempt 2 err", "attempt 3 err"]

    run = bench.reopen().get_run(result.run_id)  # what the store recorded: one step, every attempt's output
    assert run.state == "succeeded" and [(s.index, s.exit_code) for s in run.steps] == [(0, 0), (1, 0), (2, 0)]
    recorded = run.steps[1]
    assert recorded.stdout == step.stdout
    assert retry_notes(recorded.stderr) == retry_notes(step.stderr)
    assert bench.controller.store.get_server(web).state == "operational"


def test_retries_used_up_fail_the_run_with_the_last_attempt(bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template([flaky(succeed_at=99, retries=1), numbered_step(2)])
    with pytest.raises(RunFailed) as caught:
        bench.controller.boot(web, template)

    assert attempts(bench, web) == 2 and bench.ran(web) == []
    (step,) = caught.value.result.steps
    assert step.exit_code == 5
    assert step.stdout == "attempt 1 out\nattempt 2 out\n"
    assert retry_notes(step.stderr) == [(1, "exit code 5", 2, 2)]
    run = bench.controller.get_run(caught.value.result.run_id)
    assert run.state == "failed" and [s.exit_code for s in run.steps] == [5]
    assert bench.controller.store.get_server(web).state == "stranded"


def test_no_retries_means_one_attempt(bench: Bench) -> None:
    (web,) = bench.add(1)
    with pytest.raises(RunFailed):
        bench.controller.boot(web, bench.template([flaky(succeed_at=2, retries=0)]))
    assert attempts(bench, web) == 1


def test_a_timed_out_attempt_is_retried(bench: Bench) -> None:
    (web,) = bench.add(1)
    body = FLAKY.replace('if [ "$n" -lt "$SUCCEED_AT" ]; then exit 5; fi', 'if [ "$n" -lt "$SUCCEED_AT" ]; then sleep 60; fi')
    step = Step("Slow first", body, {"OUT_DIR": None, "SUCCEED_AT": "text:2"}, timeout=2, retries=1)
    result = bench.controller.boot(web, bench.template([step]))

    assert result.ok and attempts(bench, web) == 2
    ((failed, why, following, total),) = retry_notes(result.steps[0].stderr)
    assert (failed, following, total) == (1, 2, 2) and "timed out" in why
    assert result.steps[0].stdout.endswith("done at attempt 2\n")
