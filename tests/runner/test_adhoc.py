"""Ad-hoc scripts: `stackscripts run SERVER path/to/script.sh` on real sshd servers, each run recorded with a
revision of its own (`adhoc/<script name>`) whose manifest holds the script's bytes."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

import pytest

from stackscripts.api.adhoc import run_script
from stackscripts.errors import BadInput, Conflict, RunFailed
from stackscripts.masking import MASK
from stackscripts.revisions.manifest import parse
from tests.runner.fixtures import Bench
from tests.runner.helpers import files_containing, numbered_step
from tests.support.cli import cli_json, no_traceback, run_cli
from tests.support.rightscripts import block, rightscript

pytestmark = pytest.mark.timeout(120)

SAY = """\
d="$OUT_DIR/$STACKSCRIPTS_SERVER"; mkdir -p "$d"
echo "$MSG_1 to $WHO" | tee -a "$d/said"
if [ -e "$d/fail-adhoc" ]; then echo "fail-adhoc is there" >&2; exit 5; fi
echo "said in $PWD" >&2
"""


def booted(bench: Bench) -> str:
    """web1 operational, booted with MSG_1 recorded (its template's input) and OUT_DIR."""
    (web,) = bench.add(1)
    bench.controller.boot(web, bench.template([numbered_step(1)]), ["MSG_1=text:recorded hello"])
    return web


def say_script(folder: Path, name: str = "Say Hello", body: str = SAY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name.lower().replace(' ', '-')}.sh"
    path.write_text(rightscript(name, body, inputs={"OUT_DIR": None, "MSG_1": None, "WHO": "text:world"}))
    return path


def test_an_adhoc_script_runs_with_its_own_revision(bench: Bench) -> None:
    web = booted(bench)
    server_revision = bench.controller.store.get_server(web).revision
    script = say_script(bench.tmp / "tools")
    result = run_script(bench.controller, web, script)
    assert result.ok and [s.name for s in result.steps] == ["Say Hello"]
    assert result.steps[0].stdout == "recorded hello to world\n"  # the server's recorded input, the script default

    run = bench.controller.get_run(result.run_id)
    assert run.phase == "Operational" and run.template == str(script.resolve())
    kept = bench.controller.store.get_revision(str(run.revision))
    assert kept.template == "adhoc/Say Hello" and kept.source == str(script.resolve())
    entries = parse(kept.manifest, "adhoc").entries
    assert hashlib.sha256(script.read_bytes()).hexdigest() in {e.sha256 for e in entries}
    assert any(e.path.endswith("/say-hello.sh") for e in entries)

    server = bench.controller.store.get_server(web)  # the server keeps its own template and revision
    assert (server.state, server.revision) == ("operational", server_revision)
    again = run_script(bench.controller, web, script, ["WHO=text:you"])  # same bytes: the same revision
    assert bench.controller.get_run(again.run_id).revision == run.revision
    assert again.steps[0].stdout == "recorded hello to you\n"
    script.write_text(script.read_text() + "echo changed\n")
    changed = run_script(bench.controller, web, script)
    assert bench.controller.get_run(changed.run_id).revision != run.revision


def test_the_cli_runs_a_script_file_with_recorded_inputs_and_i(bench: Bench) -> None:
    web = booted(bench)
    bench.controller.close()
    script = say_script(bench.tmp / "tools")
    db = str(bench.db)
    doc = cli_json("run", web, str(script), "-i", "MSG_1=text:from -i", "--db", db)
    assert doc["command"] == "run" and doc["data"]["state"] == "succeeded"
    shown = cli_json("runs", "show", doc["data"]["run_id"], "--db", db)["data"]
    assert shown["inputs"]["MSG_1"] == "text:from -i" and shown["inputs"]["WHO"] == "text:world"
    assert shown["revision"].startswith("sha256:") and shown["steps"][0]["name"] == "Say Hello"
    assert (bench.out / web / "said").read_text() == "from -i to world\n"

    plain = bench.tmp / "plain.sh"  # no metadata block: the file stem names it, no inputs
    plain.write_text("echo plain on $STACKSCRIPTS_SERVER\n")
    done = run_cli("run", web, str(plain), "--db", db)
    assert done.returncode == 0 and f"plain on {web}" in done.stdout, done.stderr
    revisions = cli_json("revisions", "list", "--db", db)["data"]
    assert {"adhoc/Say Hello", "adhoc/plain"} <= {r["template"] for r in revisions}
    flaky = bench.tmp / "flaky.sh"  # no metadata block, failing once: its run resumes from its kept revision
    flaky.write_text(f"test -e {bench.tmp}/fixed\necho fixed now\n")
    failed = cli_json("run", web, str(flaky), "--db", db, code=1)["data"]
    (bench.tmp / "fixed").write_text("")
    resumed = cli_json("resume", failed["run_id"], "--db", db)["data"]
    assert resumed["state"] == "succeeded"
    assert cli_json("runs", "show", resumed["run_id"], "--db", db)["data"]["resumed_from"] == failed["run_id"]

    unknown = cli_json("run", web, str(script), "-i", "NOPE=text:x", "--db", db, code=2)
    assert "NOPE" in unknown["error"]["message"]
    named = cli_json("run", web, "no-such-script.sh", "--db", db, code=2)  # not a file: an Operational name
    assert "has no Operational script" in named["error"]["message"]


def test_a_secret_input_is_masked_in_the_record(bench: Bench) -> None:
    web = booted(bench)
    bench.controller.close()
    secret = f"s3cr3t-{secrets.token_hex(12)}"
    script = bench.tmp / "leak.sh"
    script.write_text(rightscript("Leak", 'echo "token is $TOKEN"\n', inputs={"TOKEN": None}))
    done = run_cli("run", web, str(script), "-i", "TOKEN=cred:api-token", "--db", str(bench.db),
                   env={"STACKSCRIPTS_CRED_API_TOKEN": secret})
    assert done.returncode == 0, done.stderr
    assert secret not in done.stdout + done.stderr and f"token is {MASK}" in done.stdout
    run_id = json.loads(run_cli("runs", "list", "--db", str(bench.db), "--json").stdout)["data"][0]["id"]
    record = cli_json("runs", "show", run_id, "--db", str(bench.db))["data"]
    assert record["inputs"] == {"TOKEN": "cred:api-token"}
    log = cli_json("runs", "log", run_id, "1", "--db", str(bench.db))["data"]["text"]
    assert log == f"token is {MASK}\n"
    assert files_containing(secret, str(bench.tmp)) == []


def test_bad_metadata_is_exit_2_with_file_and_line(bench: Bench) -> None:
    web = booted(bench)
    bench.controller.close()
    script = bench.tmp / "bad.sh"
    script.write_text(block("RightScript Name: Bad", "Inputs: {}", "Bogus: 1", body="echo never\n"))
    done = run_cli("run", web, str(script), "--db", str(bench.db))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"stackscripts: error: {script}:5: unknown metadata key 'Bogus'")
    no_traceback(done.stderr)
    doc = cli_json("run", web, str(script), "--db", str(bench.db), code=2)
    assert (doc["error"]["file"], doc["error"]["line"]) == (str(script), 5)
    revisions = cli_json("revisions", "list", "--db", str(bench.db))["data"]
    assert not any(r["template"].startswith("adhoc/") for r in revisions)


def test_a_server_that_is_not_operational_is_refused(bench: Bench) -> None:
    web, other = bench.add(2)
    script = say_script(bench.tmp / "tools")
    with pytest.raises(Conflict, match="pending, not operational"):
        run_script(bench.controller, web, script)
    bench.fail_at(other, 1)
    with pytest.raises(RunFailed):
        bench.controller.boot(other, bench.template([numbered_step(1)]))
    bench.controller.close()
    refused = run_cli("run", other, str(script), "--db", str(bench.db))
    assert refused.returncode == 2 and "stranded, not operational" in refused.stderr
    no_traceback(refused.stderr)
    controller = bench.reopen()
    assert [r.phase for r in controller.runs(other)] == ["Boot"] and controller.runs(web) == []
    assert not (bench.out / other / "said").exists()


def test_a_failed_adhoc_run_resumes_from_its_own_revision(bench: Bench) -> None:
    web = booted(bench)
    script = say_script(bench.tmp / "tools")
    bench.fail_at(web, "adhoc")
    with pytest.raises(RunFailed) as failed:
        run_script(bench.controller, web, script, ["WHO=text:resumer"])
    assert failed.value.result is not None
    run_id = failed.value.result.run_id
    revision = bench.controller.get_run(run_id).revision
    script.write_text("echo the file changed since\n")  # resume runs the recorded revision, not the file
    bench.fail_at(web, "adhoc", failing=False)
    bench.controller.close()

    shown = run_cli("runs", "show", run_id, "--db", str(bench.db))
    assert shown.returncode == 0 and f"revision {revision}" in shown.stdout and "failed" in shown.stdout
    resumed = cli_json("resume", run_id, "--db", str(bench.db))["data"]
    assert resumed["state"] == "succeeded" and [s["name"] for s in resumed["steps"]] == ["Say Hello"]
    record = cli_json("runs", "show", resumed["run_id"], "--db", str(bench.db))["data"]
    assert record["resumed_from"] == run_id and record["revision"] == revision
    assert record["inputs"]["WHO"] == "text:resumer"
    assert (bench.out / web / "said").read_text() == "recorded hello to resumer\n" * 2


def test_bad_input_names_the_users_file_and_keeps_nothing(bench: Bench) -> None:
    web = booted(bench)
    script = bench.tmp / "needs.sh"
    script.write_text(rightscript("Needs", "echo $REQUIRED_THING\n", inputs={"REQUIRED_THING": None}))
    with pytest.raises(BadInput, match="required input REQUIRED_THING has no value") as missing:
        run_script(bench.controller, web, script)
    assert missing.value.file == str(script)
    assert not any(r.template.startswith("adhoc/") for r in bench.controller.store.list_revisions())
