"""Operational scripts, decommission, env:SERVER:NAME inputs and a fleet's failure threshold."""

from __future__ import annotations

import pytest

from stackscripts.api.fleet import fleet_boot
from stackscripts.errors import Conflict, RunFailed
from tests.runner.fixtures import Bench
from tests.runner.helpers import Step, numbered_step
from tests.support.cli import run_cli

pytestmark = pytest.mark.timeout(120)


def phase_step(name: str, exit_code: int = 0) -> Step:
    body = f"""\
    d="$OUT_DIR/$STACKSCRIPTS_SERVER"; mkdir -p "$d"
    echo "{name}" >> "$d/phases"
    echo "{name} says $GREETING"
    exit {exit_code}
    """
    return Step(name, body, {"OUT_DIR": None, "GREETING": "text:hello"})


def phases(bench: Bench, web: str) -> list[str]:
    path = bench.out / web / "phases"
    return path.read_text().split() if path.exists() else []


def test_operational_scripts_run_only_on_operational_servers(bench: Bench) -> None:
    web, other = bench.add(2)
    template = bench.template([numbered_step(1)], operational=[phase_step("rotate"), phase_step("backup")])
    bench.controller.boot(web, template, ["GREETING=text:bonjour"])
    result = bench.controller.run(web, "backup")
    assert result.ok and [s.name for s in result.steps] == ["backup"]
    assert phases(bench, web) == ["backup"]
    assert result.steps[0].stdout == "backup says bonjour\n"  # the server's recorded inputs
    assert bench.controller.run(web, "rotate", ["GREETING=text:hi"]).steps[0].stdout == "rotate says hi\n"
    run = bench.controller.get_run(result.run_id)
    assert run.phase == "Operational" and run.state == "succeeded"
    assert bench.controller.store.get_server(web).state == "operational"

    bench.fail_at(other, 1)
    with pytest.raises(RunFailed):
        bench.controller.boot(other, template)
    assert bench.controller.store.get_server(other).state == "stranded"
    with pytest.raises(Conflict, match="stranded, not operational"):
        bench.controller.run(other, "backup")
    bench.controller.close()
    refused = run_cli("run", other, "backup", "--db", str(bench.db))
    assert refused.returncode == 2 and "stranded, not operational" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert phases(bench, other) == []
    controller = bench.reopen()
    assert [r.phase for r in controller.runs(other)] == ["Boot"]


def test_decommission_runs_every_script_even_after_a_failure(bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template([numbered_step(1)], decommission=[
        phase_step("drain"), phase_step("deregister", exit_code=4), phase_step("wipe")])
    bench.controller.boot(web, template)
    with pytest.raises(RunFailed) as caught:
        bench.controller.decommission(web)
    result = caught.value.result
    assert [(s.name, s.exit_code) for s in result.steps] == [("drain", 0), ("deregister", 4), ("wipe", 0)]
    assert phases(bench, web) == ["drain", "deregister", "wipe"]
    run = bench.controller.get_run(result.run_id)
    assert run.phase == "Decommission" and run.state == "failed"
    assert [(s.name, s.exit_code) for s in run.steps] == [("drain", 0), ("deregister", 4), ("wipe", 0)]
    assert run.steps[2].stdout == "wipe says hello\n"
    assert bench.controller.store.get_server(web).state == "terminated"


def test_env_inputs_read_another_servers_address_and_inputs(bench: Bench) -> None:
    (pool_a, pool_b) = bench.pool.take(2)
    a = bench.add_one("a", pool_a, host="localhost")  # an address unlike b's own 127.0.0.1
    b = bench.add_one("b", pool_b)
    reader = Step("Read A", """\
    d="$OUT_DIR/$STACKSCRIPTS_SERVER"; mkdir -p "$d"
    printf '%s\\n' "$A_ADDRESS" > "$d/a_address"
    printf '%s\\n' "$A_VALUE" > "$d/a_value"
    """, {"OUT_DIR": None, "A_ADDRESS": "text:unset", "A_VALUE": "text:unset", "SOME_INPUT": "text:default"})
    template = bench.template([reader])
    bench.controller.boot(a, template, ["SOME_INPUT=text:value of a"])
    result = bench.controller.boot(b, template, ["A_ADDRESS=env:a:PRIVATE_IP", "A_VALUE=env:a:SOME_INPUT"])

    assert result.ok
    assert (bench.out / b / "a_address").read_text() == "localhost\n"
    assert (bench.out / b / "a_value").read_text() == "value of a\n"
    run = bench.controller.get_run(result.run_id)
    assert run.inputs["A_ADDRESS"] == "env:a:PRIVATE_IP" and run.inputs["A_VALUE"] == "env:a:SOME_INPUT"


def test_fleet_max_errors_skips_servers_once_exceeded(bench: Bench) -> None:
    names = bench.add(4)
    template = bench.template([numbered_step(1), numbered_step(2)])
    bench.fail_at(names[0], 2)
    bench.fail_at(names[2], 1)
    fleet = fleet_boot(bench.controller, names, template, parallel=1, max_errors="1")

    assert [o.status for o in fleet.outcomes] == ["failed", "succeeded", "failed", "skipped"]
    assert not fleet.ok and fleet.count("skipped") == 1
    assert bench.ran(names[3]) == [] and bench.controller.runs(names[3]) == []
    assert bench.controller.store.get_server(names[3]).state == "pending"
    assert [bench.controller.store.get_server(n).state for n in names[:3]] == ["stranded", "operational", "stranded"]


def test_resuming_a_failed_operational_run_reruns_that_script_only(bench: Bench) -> None:
    (web,) = bench.add(1)
    flaky = Step("backup", """\
    d="$OUT_DIR/$STACKSCRIPTS_SERVER"; mkdir -p "$d"
    echo backup >> "$d/phases"
    [ ! -e "$d/fail-backup" ]
    """, {"OUT_DIR": None})
    template = bench.template([numbered_step(1)], operational=[phase_step("rotate"), flaky])
    bench.controller.boot(web, template)
    bench.fail_at(web, "backup")
    with pytest.raises(RunFailed) as caught:
        bench.controller.run(web, "backup")
    bench.fail_at(web, "backup", failing=False)
    resumed = bench.controller.resume(caught.value.result.run_id)

    assert resumed.ok and [s.name for s in resumed.steps] == ["backup"]
    assert phases(bench, web) == ["backup", "backup"]  # rotate was never asked for
