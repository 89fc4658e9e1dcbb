"""Run states are one enum (`RunState`) in results, store records, reports, exports and the CLI; the store
keeps the same text values, and everything people read or parse shows the value, never `RunState.X`."""

from __future__ import annotations

import ast
import json
import sqlite3
from pathlib import Path

import pytest

from stackscripts.api import Conflict, RunFailed, RunRecord, RunState, reports
from tests.runner.fixtures import Bench
from tests.runner.helpers import cli, numbered_step

ROOT = Path(__file__).resolve().parents[2]
VALUES = {state.value for state in RunState}


def boot_ok_and_failed(bench: Bench) -> tuple[str, str]:
    """web1 boots; web2 fails at step 2. Returns their run ids."""
    template = bench.template(boot=[numbered_step(1), numbered_step(2)])
    web1, web2 = bench.add(2)
    ok = bench.controller.boot(web1, template).run_id
    bench.fail_at(web2, 2)
    with pytest.raises(RunFailed) as caught:
        bench.controller.boot(web2, template)
    assert caught.value.result is not None
    return ok, caught.value.result.run_id


def test_the_enum_keeps_the_store_text() -> None:
    assert [s.value for s in RunState] == ["running", "succeeded", "failed", "interrupted", "cancelled"]
    assert RunState("failed") is RunState.FAILED and RunState.FAILED == "failed"
    assert str(RunState.FAILED) == f"{RunState.FAILED}" == "failed"  # shown as its value, never "RunState.FAILED"


def test_a_record_given_the_stored_text_holds_the_enum() -> None:
    assert RunRecord(id="r-1", server="web1", phase="Boot", state="failed").state is RunState.FAILED  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'sucess' is not a valid RunState"):
        RunRecord(id="r-1", server="web1", phase="Boot", state="sucess")  # type: ignore[arg-type]


def test_results_and_records_carry_the_enum(bench: Bench) -> None:
    ok, failed = boot_ok_and_failed(bench)
    c = bench.controller
    assert c.get_run(ok).state is RunState.SUCCEEDED
    assert c.get_run(failed).state is RunState.FAILED
    listed: list[RunRecord] = c.runs()
    assert {r.id: r.state for r in listed} == {ok: RunState.SUCCEEDED, failed: RunState.FAILED}
    assert all(type(r.state) is RunState for r in listed)
    with sqlite3.connect(bench.db) as db:  # the same text as before the enum
        assert dict(db.execute("SELECT id, state FROM runs").fetchall()) == {ok: "succeeded", failed: "failed"}
    bench.reopen()
    assert bench.controller.get_run(failed).state is RunState.FAILED  # read back from the file


def test_resume_checks_the_state_and_says_it_plainly(bench: Bench) -> None:
    ok, failed = boot_ok_and_failed(bench)
    with pytest.raises(Conflict) as caught:
        bench.controller.resume(ok)
    assert f"run {ok} is succeeded; only failed, interrupted or cancelled runs can be resumed" in str(caught.value)
    bench.fail_at("web2", 2, failing=False)
    assert bench.controller.resume(failed).state is RunState.SUCCEEDED


def test_reports_and_exports_show_plain_text(bench: Bench) -> None:
    ok, failed = boot_ok_and_failed(bench)
    comparison = reports.compare(bench.controller, [ok, failed])
    data = reports.comparison_data(comparison)
    assert [r["state"] for r in data["runs"]] == ["succeeded", "failed"]
    assert all(type(r["state"]) is str for r in data["runs"])
    table = reports.markdown(comparison)
    assert table.endswith(f"web2 {failed}: failed\n") and "RunState" not in table
    assert "(failed)</h2>" in reports.html(bench.controller, failed)
    record = reports.export_run(bench.controller, failed)
    assert record["run"]["state"] == "failed" and type(record["run"]["state"]) is str
    assert json.loads(json.dumps(record)) == record


def test_the_cli_shows_plain_text(bench: Bench) -> None:
    ok, failed = boot_ok_and_failed(bench)
    listed = cli("runs", "list", "--json", "--db", str(bench.db))
    assert listed.returncode == 0, listed.stderr
    assert {r["id"]: r["state"] for r in json.loads(listed.stdout)["data"]} == {ok: "succeeded", failed: "failed"}
    for args in (("runs", "list"), ("runs", "show", failed), ("report", ok, failed)):
        shown = cli(*args, "--db", str(bench.db))
        assert shown.returncode == 0 and "failed" in shown.stdout and "RunState" not in shown.stdout, shown


def _bare_state_comparisons(path: Path) -> list[str]:
    """`x.state == "failed"`, `state in ("failed", ...)`: run states compared as bare strings."""
    found = []
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        texts = [ast.unparse(side) for side in sides]
        constants = {n.value for side in sides for n in ast.walk(side)
                     if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        if constants & VALUES and any("state" in text for text in texts):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_compares_run_states_as_bare_strings() -> None:
    # providers/ compare a cloud instance's state ("running"), which is not a run state
    files = [p for p in (ROOT / "stackscripts").rglob("*.py") if "providers" not in p.parts]
    assert [hit for path in files for hit in _bare_state_comparisons(path)] == []
