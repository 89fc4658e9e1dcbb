"""`stackscripts fleet run SCRIPT` (and `fleet boot --group`) through the CLI, against real sshd servers: every run
recorded with its output, the failure threshold, selection by group and deployment, and bad input that touches
no server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.runner.fixtures import Bench, SshdPool, bench, sshd_pool  # noqa: F401 - fixtures
from tests.runner.helpers import numbered_step
from tests.support.cli import cli_json, no_traceback, run_cli

pytestmark = pytest.mark.timeout(240)

SCRIPT = "Step 9"  # the operational script: prints "step 9 stdout: message-9", fails while fail-9 is there


def booted(bench: Bench, count: int = 3, *, boot: bool = True) -> tuple[list[str], Path]:
    """count servers recorded (only CLI processes touch the store after this), booted with `fleet boot` unless
    boot is False; the template has one boot step and the operational script."""
    names = bench.add(count)
    bench.controller.close()
    template = bench.template([numbered_step(1)], operational=[numbered_step(9)])
    if boot:
        done = cli_json("fleet", "boot", *names, "-t", str(template), "--db", str(bench.db))
        assert [o["status"] for o in done["data"]["servers"]] == ["succeeded"] * count
    return names, template


def fleet_run(bench: Bench, *args: str, code: int = 0) -> Any:
    return cli_json("fleet", "run", SCRIPT, *args, "--db", str(bench.db), code=code)


def outcomes(doc: Any) -> dict[str, str]:
    return {o["server"]: o["status"] for o in doc["data"]["servers"]}


def operational_runs(bench: Bench) -> list[dict[str, Any]]:
    return [r for r in cli_json("runs", "list", "--db", str(bench.db))["data"] if r["phase"] == "Operational"]


def set_extra(bench: Bench, name: str, **changes: Any) -> None:
    store = bench.reopen().store
    record = store.get_server(name)
    if "groups" in changes:
        store.update_server(name, extra={**record.extra, "groups": changes.pop("groups")})
    if changes:
        store.update_server(name, **changes)
    bench.controller.close()


def test_fleet_run_on_three_servers_one_failing(bench: Bench) -> None:
    names, _ = booted(bench)
    bench.fail_at("web2", 9)
    doc = fleet_run(bench, *names, code=1)
    assert doc["command"] == "fleet run" and doc["error"]["exit_code"] == 1
    assert outcomes(doc) == {"web1": "succeeded", "web2": "failed", "web3": "succeeded"}
    for outcome in doc["data"]["servers"]:  # each run recorded, with its output
        run = outcome["run"]
        assert run["phase"] == "Operational" and [s["name"] for s in run["steps"]] == [SCRIPT]
        record = cli_json("runs", "export", run["run_id"], "--db", str(bench.db))["data"]
        (step,) = record["steps"]
        assert record["run"]["server"] == outcome["server"]
        assert step["stdout"].startswith("step 9 stdout: message-9\n")
        failing = outcome["server"] == "web2"
        assert step["exit_code"] == (7 if failing else 0)
        assert ("fail-9 is there" in step["stderr"]) is failing
    assert [bench.ran(n) for n in names] == [[1, 9]] * 3
    assert len(operational_runs(bench)) == 3

    bench.fail_at("web2", 9, failing=False)  # the human summary: the live board's end, then the table
    done = run_cli("fleet", "run", SCRIPT, *names, "--db", str(bench.db))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Fleet run: {SCRIPT}" in done.stdout and "3 succeeded, 0 failed, 0 errors, 0 skipped" in done.stdout
    quiet = run_cli("fleet", "run", SCRIPT, *names, "--quiet", "--db", str(bench.db))
    assert quiet.returncode == 0 and quiet.stdout == "3 succeeded, 0 failed, 0 errors, 0 skipped\n"


def test_max_errors_0_with_parallel_1_skips_the_rest(bench: Bench) -> None:
    names, _ = booted(bench)
    bench.fail_at("web1", 9)
    doc = fleet_run(bench, *names, "--parallel", "1", "--max-errors", "0", code=1)
    assert outcomes(doc) == {"web1": "failed", "web2": "skipped", "web3": "skipped"}
    skipped = [o for o in doc["data"]["servers"] if o["status"] == "skipped"]
    assert all(o["run"] is None and o["message"] == "failure threshold reached" for o in skipped)
    assert [bench.ran(n) for n in names] == [[1, 9], [1], [1]]
    assert [r["server"] for r in operational_runs(bench)] == ["web1"]
    tolerant = fleet_run(bench, *names, "--parallel", "1", "--max-errors", "34%", code=1)  # 34% of 3: one
    assert outcomes(tolerant) == {"web1": "failed", "web2": "succeeded", "web3": "succeeded"}


def test_group_and_deployment_select_the_servers(bench: Bench) -> None:
    names, template = booted(bench, 4, boot=False)
    for name, groups in zip(names, (["blue"], ["green"], ["blue", "green"], []), strict=True):
        set_extra(bench, name, groups=groups)
    boot = cli_json("fleet", "boot", "--group", "blue", "-t", str(template), "--db", str(bench.db))
    assert outcomes(boot) == {"web1": "succeeded", "web3": "succeeded"}
    assert [bench.ran(n) for n in names] == [[1], [], [1], []]

    doc = fleet_run(bench, "--group", "blue")
    assert outcomes(doc) == {"web1": "succeeded", "web3": "succeeded"}
    assert [bench.ran(n) for n in names] == [[1, 9], [], [1, 9], []]

    cli_json("fleet", "boot", "web2", "web4", "-t", str(template), "--db", str(bench.db))
    set_extra(bench, "web2", deployment="shop")
    set_extra(bench, "web4", deployment="shop")
    by_deployment = fleet_run(bench, "--deployment", "shop")
    assert outcomes(by_deployment) == {"web2": "succeeded", "web4": "succeeded"}
    assert [bench.ran(n) for n in names] == [[1, 9], [1, 9], [1, 9], [1, 9]]


def refused(bench: Bench, *args: str, expect: str, command: str = "run", script: str = SCRIPT) -> str:
    """Exit 2, one paragraph on stderr naming the problem, nothing on stdout; the envelope says the same."""
    extra = (script,) if command == "run" else ()
    done = run_cli("fleet", command, *extra, *args, "--db", str(bench.db))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == "" and done.stderr.startswith("stackscripts: error: "), done.stderr
    assert expect in done.stderr.splitlines()[0], done.stderr
    no_traceback(done.stderr)
    doc = cli_json("fleet", command, *extra, *args, "--db", str(bench.db), code=2)
    assert expect in doc["error"]["message"]
    return done.stderr


def test_bad_input_is_one_error_and_nothing_runs(bench: Bench) -> None:
    names, template = booted(bench, boot=False)
    cli_json("fleet", "boot", "web1", "web2", "-t", str(template), "--db", str(bench.db))  # web3 stays pending
    set_extra(bench, "web1", groups=["blue"])

    text = refused(bench, *names, expect="1 of 3 servers cannot run 'Step 9', so none ran it: web3: server web3 is "
                                         "pending, not operational")
    assert "web1" not in text and "web2" not in text
    refused(bench, "web3", expect="web3: server web3 is pending, not operational")
    unknown = refused(bench, "web1", "web2", script="Nope",
                      expect="2 of 2 servers cannot run 'Nope', so none ran it: web1, web2: ")
    assert "has no Operational script 'Nope'" in unknown and "Operational scripts: step-9" in unknown
    refused(bench, "web1", "nosuch", expect="nosuch")
    refused(bench, "--group", "red", expect="no live server in group 'red'")
    refused(bench, "--deployment", "shop", expect="no live server in deployment 'shop'")
    refused(bench, "-i", "NOPE", "web1", expect="NOPE")
    refused(bench, expect="give exactly one of SERVER..., --deployment D or --group G")
    refused(bench, "web1", "--group", "blue", expect="(not several)")
    refused(bench, "--group", "blue", "-t", str(template), "web1", expect="give exactly one of SERVER... or --group G",
            command="boot")
    refused(bench, "web1", "web1", expect="a server is named twice")
    refused(bench, "web1", "--max-errors", "ten", expect="--max-errors")
    refused(bench, "web1", "--parallel", "0", expect="--parallel 0 must be at least 1")
    assert operational_runs(bench) == [] and [bench.ran(n) for n in names] == [[1], [1], []]


def test_a_script_file_runs_on_every_server(bench: Bench) -> None:
    names, _ = booted(bench)
    script = bench.tmp / "tools" / "rotate-logs.sh"
    script.parent.mkdir()
    script.write_text('#!/bin/bash\n# ---\n# RightScript Name: Rotate Logs\n# Inputs:\n#   KEEP:\n'
                      '#     Input Type: single\n#     Required: true\n# ...\n'
                      'echo "rotating on $STACKSCRIPTS_SERVER, keeping $KEEP"\n'
                      '[ "$STACKSCRIPTS_SERVER" != web3 ] || { echo "web3: no logs" >&2; exit 4; }\n')
    doc = cli_json("fleet", "run", str(script), *names, "-i", "KEEP=text:7", "--max-errors", "1",
                   "--db", str(bench.db), code=1)
    assert outcomes(doc) == {"web1": "succeeded", "web2": "succeeded", "web3": "failed"}
    for outcome in doc["data"]["servers"]:
        record = cli_json("runs", "export", outcome["run"]["run_id"], "--db", str(bench.db))["data"]
        (step,) = record["steps"]
        assert step["name"] == "Rotate Logs" and record["run"]["phase"] == "Operational"
        assert step["stdout"] == f"rotating on {outcome['server']}, keeping 7\n"
    missing = run_cli("fleet", "run", str(script), *names, "--db", str(bench.db))  # KEEP has no value: nothing runs
    assert missing.returncode == 2 and missing.stdout == "" and "KEEP" in missing.stderr, missing.stderr
    assert "3 of 3 servers cannot run" in missing.stderr and "web1, web2, web3: " in missing.stderr
    assert len(operational_runs(bench)) == 3
