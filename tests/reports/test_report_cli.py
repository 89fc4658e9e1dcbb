"""`stackscripts report` and `runs export` on real runs: three real sshd servers, a boot, a failing boot and a
fleet boot through the CLI; every report is made after the servers are gone, from the audit store alone."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from stackscripts.masking import MASK
from tests.support.cli import cli_json, no_traceback, run_cli
from tests.support.rightscripts import write_rightscript
from tests.support.sshd import start_many

pytestmark = pytest.mark.timeout(240)

STEPS = ("Prepare Host", "Use Token", "Start Service")

# (name, body, inputs). Use Token prints the cred: value and fails on web2 (before Start Service, which then
# never runs there). The sleeps give each step a duration the report shows.
SCRIPTS = [
    ("Prepare Host", 'echo "preparing $STACKSCRIPTS_SERVER"\nsleep 0.3\n', {}),
    ("Use Token", 'echo "token is $API_TOKEN"\necho "token on stderr: $API_TOKEN" >&2\nsleep 0.2\n'
                  'if [ "$STACKSCRIPTS_SERVER" = web2 ]; then echo "web2 refuses the token" >&2; exit 3; fi\n',
     {"API_TOKEN": None}),
    ("Start Service", "echo started\nsleep 0.1\n", {}),
]

TEMPLATE = """\
Name: Report test
Inputs:
  API_TOKEN: cred:API_TOKEN
RightScripts:
  Boot:
  - scripts/prepare-host.sh
  - scripts/use-token.sh
  - scripts/start-service.sh
"""


@dataclass
class Recorded:
    db: Path
    folder: Path
    secret: str
    solo: str = ""  # web1's own boot
    failed: str = ""  # web2's own boot, failed at step 2
    fleet: dict[str, str] = field(default_factory=dict)  # server -> run id of the fleet boot
    fleet_doc: dict[str, Any] = field(default_factory=dict)

    def run(self, *args: str, code: int = 0) -> Any:
        """`stackscripts ARGS --db DB --json`: exit code, one envelope on stdout, nothing on stderr, no secret."""
        doc = cli_json(*args, "--db", str(self.db), code=code, env={"STACKSCRIPTS_CRED_API_TOKEN": self.secret})
        assert self.secret not in json.dumps(doc)
        return doc

    def text(self, *args: str) -> str:
        done = run_cli(*args, "--db", str(self.db))
        assert done.returncode == 0 and done.stderr == "", done.stdout + done.stderr
        assert self.secret not in done.stdout
        return done.stdout


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    folder = tmp_path_factory.mktemp("report")
    for name, body, inputs in SCRIPTS:
        write_rightscript(folder / "scripts", name, body, inputs=inputs)
    template = str(folder / "template.yaml")
    (folder / "template.yaml").write_text(TEMPLATE)
    rec = Recorded(db=folder / "audit.db", folder=folder, secret=f"tok-{secrets.token_hex(10)}")
    servers = start_many(3)
    try:
        for s in servers:
            rec.run("servers", "add", s.name, "--host", f"{s.user}@{s.host}", "--port", str(s.port), "--key",
                    s.key_path)
        rec.solo = rec.run("boot", "web1", "-t", template)["data"]["run_id"]
        rec.failed = rec.run("boot", "web2", "-t", template, code=1)["data"]["run_id"]
        rec.fleet_doc = rec.run("fleet", "boot", "-t", template, "web1", "web2", "web3", "--max-errors", "3",
                                code=1)
        rec.fleet = {o["server"]: o["run"]["run_id"] for o in rec.fleet_doc["data"]["servers"]}
    finally:
        for s in servers:
            s.close()  # the reports below have only the store
    yield rec


def table_rows(text: str) -> dict[str, list[str]]:
    """Markdown table rows by their first cell."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()
            if line.startswith("|") and not line.startswith("|---")]
    return {row[0]: row[1:] for row in rows}


DURATION = re.compile(r"^(\d+\.\ds|\d+s|\d+m\d+s)( ✗)?$")


def test_fleet_boot_recorded_one_run_per_server(recorded: Recorded) -> None:
    outcomes = {o["server"]: o["status"] for o in recorded.fleet_doc["data"]["servers"]}
    assert outcomes == {"web1": "succeeded", "web2": "failed", "web3": "succeeded"}
    assert recorded.fleet_doc["command"] == "fleet boot" and recorded.fleet_doc["error"]["exit_code"] == 1
    assert len({recorded.solo, recorded.failed, *recorded.fleet.values()}) == 5


def test_report_of_one_run(recorded: Recorded) -> None:
    text = recorded.text("report", recorded.solo)
    lines = text.splitlines()
    assert lines[0] == f"| Boot time steps | web1 {recorded.solo} |" and lines[1] == "|---|---|"
    rows = table_rows(text)
    assert list(rows) == ["Boot time steps", *STEPS, "TOTAL"]  # no launch row: web1 was added, not launched
    assert all(DURATION.match(cells[0]) and "✗" not in cells[0] for cells in list(rows.values())[1:])
    assert len(lines) == 6 and MASK not in text


def test_report_side_by_side_with_a_failed_run(recorded: Recorded) -> None:
    text = recorded.text("report", recorded.solo, recorded.failed)
    rows = table_rows(text)
    assert rows["Boot time steps"] == [f"web1 {recorded.solo}", f"web2 {recorded.failed}", "delta"]
    assert rows["Use Token"][1].endswith(" ✗") and not rows["Use Token"][0].endswith("✗")
    assert rows["Start Service"][1:] == ["n/a", "n/a"] and DURATION.match(rows["Start Service"][0])
    assert re.match(r"^([+-]?\d+\.\ds|[+-]\d+s)$", rows["TOTAL"][2])
    assert text.endswith(f"web2 {recorded.failed}: failed\n")


def test_report_json_rows_and_totals(recorded: Recorded) -> None:
    ids = [recorded.fleet[s] for s in ("web1", "web2", "web3")]
    doc = recorded.run("report", *ids)
    assert doc["command"] == "report" and doc["error"] is None
    data = doc["data"]
    assert [(r["id"], r["server"], r["phase"], r["state"]) for r in data["runs"]] == [
        (ids[0], "web1", "Boot", "succeeded"), (ids[1], "web2", "Boot", "failed"), (ids[2], "web3", "Boot", "succeeded")]
    assert [row["step"] for row in data["rows"]] == list(STEPS)
    by_step = {row["step"]: row for row in data["rows"]}
    assert by_step["Use Token"]["failed"] == [False, True, False]
    assert by_step["Start Service"]["seconds"][1] is None
    for column, run_id in enumerate(ids):  # TOTAL is the sum of the recorded step durations
        shown = recorded.run("runs", "show", run_id)["data"]["steps"]
        durations = [s["ended"] - s["started"] for s in shown]
        assert [row["seconds"][column] for row in data["rows"]][:len(durations)] == pytest.approx(durations)
        assert data["totals"][column] == pytest.approx(sum(durations))
        assert sum(durations) > 0.5  # the sleeps ran


def test_report_html_file(recorded: Recorded) -> None:
    out = recorded.folder / "report.html"
    ids = [recorded.solo, recorded.failed, *recorded.fleet.values()]
    doc = recorded.run("report", *ids, "--html", str(out))
    assert doc["data"]["html"] == str(out)
    page = out.read_text("utf-8")
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert recorded.secret not in page and f"token is {MASK}" in page
    assert "http://" not in page and "https://" not in page
    assert page.count('class="bar"') + page.count('class="bar failed"') == 3 + 2 + 3 + 2 + 3
    assert page.count('class="bar failed" data-step="Use Token"') == 2
    for step in STEPS:
        assert f'data-step="{step}"' in page
    for run_id in ids:
        assert run_id in page
    assert "web2 refuses the token" in page  # the failed step's output, folded
    human = run_cli("report", recorded.solo, "--html", str(recorded.folder / "one.html"), "--db", str(recorded.db))
    assert human.returncode == 0 and human.stdout.startswith("| Boot time steps |")
    assert (recorded.folder / "one.html").read_text().count('data-step="') == 3


def test_runs_export_masks_the_secret(recorded: Recorded) -> None:
    doc = recorded.run("runs", "export", recorded.failed)
    record = doc["data"]
    assert record["format"] == "stackscripts.run" and record["run"]["id"] == recorded.failed
    assert record["run"]["state"] == "failed" and record["run"]["inputs"]["API_TOKEN"] == "cred:API_TOKEN"
    prepare, token = record["steps"]
    assert prepare["stdout"] == "preparing web2\n" and prepare["exit_code"] == 0
    assert token["stdout"] == f"token is {MASK}\n" and token["exit_code"] == 3
    assert token["stderr"] == f"token on stderr: {MASK}\nweb2 refuses the token\n"
    assert token["inputs"] == {"API_TOKEN": "cred:API_TOKEN"}
    human = recorded.text("runs", "export", recorded.solo)
    assert json.loads(human)["run"]["server"] == "web1" and MASK in human


def test_unknown_runs_and_unwritable_files_are_bad_input(recorded: Recorded) -> None:
    doc = recorded.run("report", recorded.solo, "r-19990101-000000-beef", code=2)
    assert doc["error"]["exit_code"] == 2 and "r-19990101-000000-beef" in doc["error"]["message"]
    done = run_cli("report", "r-19990101-000000-beef", "--db", str(recorded.db))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("stackscripts: error: ") and "r-19990101-000000-beef" in done.stderr
    no_traceback(done.stderr)
    nowhere = str(recorded.folder / "no-such-dir" / "report.html")
    unwritable = recorded.run("report", recorded.solo, "--html", nowhere, code=2)
    assert unwritable["error"]["file"] == nowhere and "cannot write" in unwritable["error"]["message"]
    usage = run_cli("report", "--db", str(recorded.db))
    assert usage.returncode == 2 and "run_ids" in usage.stderr.lower() and usage.stdout == ""
