"""A failing boot step strands the server; resume finishes the run from that step, same inputs."""

from __future__ import annotations

import pytest

from stackscripts.errors import Conflict, RunFailed
from tests.runner.fixtures import Bench

pytestmark = pytest.mark.timeout(120)


def test_failing_step_strands_and_resume_finishes_from_it(bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template()
    bench.fail_at(web, 3)
    with pytest.raises(RunFailed) as caught:
        bench.controller.boot(web, template, ["MSG_1=text:given once"])
    failed = caught.value.result
    assert caught.value.exit_code == 1
    assert failed is not None and not failed.ok and failed.state.value == "failed"
    assert [(s.index, s.exit_code) for s in failed.steps] == [(0, 0), (1, 0), (2, 7)]
    assert f"run {failed.run_id}: step 3 (Step 3) exited 7" in str(caught.value)
    assert bench.ran(web) == [1, 2, 3]  # steps 4 and 5 never started
    assert bench.controller.store.get_server(web).state == "stranded"
    record = bench.controller.get_run(failed.run_id)
    assert record.state == "failed"
    assert [s.exit_code for s in record.steps] == [0, 0, 7]
    assert "step 3: fail-3 is there" in record.steps[2].stderr

    # A failed run cannot be resumed while its cause is still there...
    with pytest.raises(RunFailed):
        bench.controller.resume(failed.run_id)
    assert bench.ran(web) == [1, 2, 3, 3]
    bench.fail_at(web, 3, failing=False)  # ... fix the cause, then resume the first run again
    (second,) = [r for r in bench.controller.runs(web) if r.id != failed.run_id]
    resumed = bench.controller.resume(second.id)

    assert resumed.ok
    assert [s.index for s in resumed.steps] == [2, 3, 4]
    assert bench.ran(web) == [1, 2, 3, 3, 3, 4, 5]  # steps 1 and 2 not re-run
    assert (bench.out / web / "step1.txt").read_text() == "given once\n"
    assert bench.controller.store.get_server(web).state == "operational"
    run = bench.reopen().get_run(resumed.run_id)
    assert run.resumed_from == second.id and second.resumed_from == failed.run_id
    assert run.state == "succeeded"
    assert run.inputs == record.inputs  # the same inputs, including the command-line one
    assert [(s.index, s.exit_code) for s in run.steps] == [(2, 0), (3, 0), (4, 0)]
    with pytest.raises(Conflict, match="only failed, interrupted or cancelled runs can be resumed"):
        bench.controller.resume(run.id)


def test_resume_with_an_override_records_the_inputs_it_used(bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template()
    bench.fail_at(web, 3)
    with pytest.raises(RunFailed) as caught:
        bench.controller.boot(web, template)
    bench.fail_at(web, 3, failing=False)
    resumed = bench.controller.resume(caught.value.result.run_id, ["MSG_4=text:fixed"])

    assert resumed.ok and bench.ran(web) == [1, 2, 3, 3, 4, 5]
    assert (bench.out / web / "step4.txt").read_text() == "fixed\n"
    run = bench.controller.get_run(resumed.run_id)
    assert run.inputs["MSG_4"] == "text:fixed"  # what the steps really got
    assert run.steps[1].inputs["MSG_4"] == "text:fixed"
    assert bench.controller.store.get_server(web).inputs["MSG_4"] == "text:fixed"


def test_resuming_a_resume_that_ended_before_its_first_step_starts_where_the_first_run_stopped(
        bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template()
    bench.fail_at(web, 4)
    with pytest.raises(RunFailed) as caught:
        bench.controller.boot(web, template)
    first = caught.value.result.run_id
    # a resume whose controller stopped between taking the server and starting step 4
    store = bench.controller.store
    empty = store.start_run(web, "Boot", who="test", template=str(template), inputs=store.get_run(first).inputs,
                            resumed_from=first)
    store.finish_run(empty, "interrupted")
    bench.fail_at(web, 4, failing=False)
    resumed = bench.controller.resume(empty)

    assert resumed.ok and [s.index for s in resumed.steps] == [3, 4]
    assert bench.ran(web) == [1, 2, 3, 4, 4, 5]  # steps 1-3 not run again
