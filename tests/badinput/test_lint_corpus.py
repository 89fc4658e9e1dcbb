"""`scripts lint` over the script corpus: every malformed script is a finding at the header's line.

Lint reports problems as findings (its result), not as one error: they go to stdout and the exit code is 2.
"""

from __future__ import annotations

import json
import os

import pytest

from stackscripts.catalog.scripts import SCRIPT_SUFFIXES
from tests.badinput.corpus import Run, cases_from_headers, run_cli

SCRIPT_CASES = [c for c in cases_from_headers()
                if c.command == "scripts show" and c.target.endswith(SCRIPT_SUFFIXES)]
ARGS = ["scripts", "lint", "scripts", "referenced", "--no-shellcheck"]


@pytest.fixture(scope="module")
def as_json() -> Run:
    return run_cli([*ARGS, "--json"])


@pytest.fixture(scope="module")
def as_text() -> Run:
    return run_cli(ARGS, COLUMNS="1000")  # one finding per line, whatever the terminal


def findings_of(run: Run) -> list[dict]:
    return json.loads(run.stdout)["data"]["findings"]


def test_clean_streams(as_json: Run, as_text: Run) -> None:
    for run in (as_json, as_text):
        assert "Traceback" not in run.stdout + run.stderr
        assert run.stderr == ""


def test_exit_code_is_2_on_error_findings(as_json: Run, as_text: Run) -> None:
    assert (as_json.returncode, as_text.returncode) == (2, 2)


@pytest.mark.parametrize("case", SCRIPT_CASES, ids=[c.id for c in SCRIPT_CASES])
def test_metadata_error_is_a_finding_at_its_line(case, as_json: Run, as_text: Run) -> None:
    mine = [f for f in findings_of(as_json) if os.path.normpath(f["file"]) == case.target]
    assert [(f["line"], f["severity"], f["code"]) for f in mine] == [(case.line, "error", "metadata")]
    assert case.expect in mine[0]["message"] and case.hint in mine[0]["message"]
    assert f"{case.target}:{case.line}: error: " in as_text.stdout


def test_script_problems_of_the_referenced_scripts(as_json: Run) -> None:
    found = {(os.path.normpath(f["file"]), f["line"], f["code"]) for f in findings_of(as_json)
             if f["file"].startswith("referenced")}
    assert ("referenced/missing-attachment.sh", 8, "missing-attachment") in found
    assert ("referenced/broken-metadata.sh", 8, "metadata") in found


def test_summary_line(as_json: Run, as_text: Run) -> None:
    findings = findings_of(as_json)
    errors = sum(1 for f in findings if f["severity"] == "error")
    assert errors == json.loads(as_json.stdout)["data"]["errors"]
    assert as_text.stdout.rstrip().endswith(f"{errors} error(s), {len(findings) - errors} warning(s)")


def test_json_envelope_says_not_ok(as_json: Run) -> None:
    doc = json.loads(as_json.stdout)
    assert doc["ok"] is False
    assert doc["error"]["exit_code"] == 2
