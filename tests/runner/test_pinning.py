"""Servers and runs are pinned to the template revision they booted from (real sshd servers, real store).

`run`, `decommission` and `resume` use exactly the revision kept in the store, never the template file on disk:
edits, insertions and deletions on disk change nothing until `servers upgrade`; a colleague with a copy of the
store and none of the files runs the same scripts.
"""

from __future__ import annotations

import shutil
import sqlite3
import textwrap
from pathlib import Path

import pytest

from stackscripts.api import commit_template, diff_revisions, template_drift, upgrade_server
from stackscripts.errors import BadInput, RunFailed
from tests.runner.fixtures import Bench
from tests.runner.helpers import Step, numbered_step
from tests.support.cli import cli_json, run_cli

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("STACKSCRIPTS_CACHE", str(folder))
    return folder


def says(word: str) -> Step:
    return Step("Say Version", f'echo "version {word} on $STACKSCRIPTS_SERVER"\n', {})


def goodbye(word: str) -> Step:
    return Step("Goodbye", f'echo "goodbye {word}"\n', {})


def script_of(template: Path, step: Step) -> Path:
    return template.parent / "scripts" / f"{step.name.lower().replace(' ', '-')}.sh"


def rewrite(template: Path, old: Step, new: Step) -> None:
    """The script of `old` on disk now has `new`'s body (same name and file)."""
    path = script_of(template, old)
    path.write_text(path.read_text().replace(textwrap.dedent(old.body), textwrap.dedent(new.body)))


def test_a_server_keeps_running_its_revision_after_the_template_and_script_change(bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template([numbered_step(1)], operational=[says("A")], decommission=[goodbye("A")])
    booted = bench.controller.boot(web, template)
    server = bench.controller.store.get_server(web)
    revision = server.revision
    assert revision and revision.startswith("sha256:")
    assert bench.controller.get_run(booted.run_id).revision == revision
    assert server.template == str(template.resolve())
    (kept,) = bench.controller.store.list_revisions()
    assert kept.digest == revision and kept.message == f"boot {web}" and kept.template == "Test template 1"

    rewrite(template, says("A"), says("B"))  # the script on disk changes...
    rewrite(template, goodbye("A"), goodbye("B"))
    template.write_text(template.read_text().replace("  Decommission:\n", "  Decommission:\n  - scripts/say-version.sh\n")
                        .replace("Test template 1", "Renamed"))  # ... and so does the template
    assert template_drift(bench.controller, web).state == "drifted"

    ran = bench.controller.run(web, "Say Version")  # ... and the server still runs revision A
    assert ran.steps[0].stdout == f"version A on {web}\n"
    assert bench.controller.get_run(ran.run_id).revision == revision
    done = bench.controller.decommission(web, budget=60)
    assert [(s.name, s.stdout) for s in done.steps] == [("Goodbye", "goodbye A\n")]
    assert bench.controller.get_run(done.run_id).revision == revision


def test_resume_after_a_step_was_inserted_continues_the_runs_own_revision(bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template([numbered_step(n) for n in (1, 2, 3, 4)])
    bench.fail_at(web, 3)
    with pytest.raises(RunFailed) as caught:
        bench.controller.boot(web, template)
    assert bench.ran(web) == [1, 2, 3]
    # a new step before the failed one: by index, step 3 would be the finished step 2 and the new one would be skipped
    inserted = bench.template([numbered_step(n) for n in (1, 2, 9, 3, 4)])
    shutil.copytree(inserted.parent / "scripts", template.parent / "scripts", dirs_exist_ok=True)
    template.write_text(inserted.read_text())
    bench.fail_at(web, 3, failing=False)

    resumed = bench.controller.resume(caught.value.result.run_id)
    assert resumed.ok and [(s.index, s.name) for s in resumed.steps] == [(2, "Step 3"), (3, "Step 4")]
    assert bench.ran(web) == [1, 2, 3, 3, 4]  # step 9 never ran, step 2 not again
    assert bench.controller.get_run(resumed.run_id).revision == bench.controller.get_run(
        caught.value.result.run_id).revision == bench.controller.store.get_server(web).revision
    assert bench.controller.store.get_server(web).state == "operational"


def test_resume_after_the_template_shrank_continues_the_runs_own_revision(bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template([numbered_step(n) for n in (1, 2, 3, 4)])
    bench.fail_at(web, 3)
    with pytest.raises(RunFailed) as caught:
        bench.controller.boot(web, template)
    shrunk = bench.template([numbered_step(1)])
    template.write_text(shrunk.read_text())  # by index, nothing would be left to run, and the server operational
    for name in ("step-2", "step-3", "step-4"):
        (template.parent / "scripts" / f"{name}.sh").unlink()
    bench.fail_at(web, 3, failing=False)

    resumed = bench.controller.resume(caught.value.result.run_id)
    assert [s.name for s in resumed.steps] == ["Step 3", "Step 4"]
    assert bench.ran(web) == [1, 2, 3, 3, 4]
    assert bench.controller.store.get_server(web).state == "operational"


def test_servers_show_reports_the_revision_and_drift(bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template([numbered_step(1)], operational=[says("A")])
    bench.controller.boot(web, template)
    revision = bench.controller.store.get_server(web).revision
    bench.controller.close()

    shown = cli_json("servers", "show", web, "--db", str(bench.db))["data"]
    assert shown["revision"] == revision
    assert shown["drift"] == {"server": web, "revision": revision, "template": str(template.resolve()),
                              "state": "current", "current": revision, "reason": ""}
    assert [(h["kind"], h["revision"]) for h in shown["history"]] == [("run", revision)]

    rewrite(template, says("A"), says("B"))
    shown = cli_json("servers", "show", web, "--db", str(bench.db))["data"]
    assert shown["drift"]["state"] == "drifted" and shown["drift"]["current"] not in (None, revision)
    text = run_cli("servers", "show", web, "--db", str(bench.db)).stdout
    assert f"revision    {revision}\n" in text
    assert f"drift       the template on disk now gives {shown['drift']['current'][:19]}\n" in text
    assert f"review      stackscripts revisions diff {revision[:19]} {template.resolve()}\n" in text

    diff = cli_json("revisions", "diff", revision[:12], str(template), "--db", str(bench.db))["data"]
    (changed,) = diff["scripts"]["changed"]
    assert changed["name"] == "Say Version" and '-echo "version A' in changed["body"]
    assert '+echo "version B' in changed["body"]

    template.unlink()
    shown = cli_json("servers", "show", web, "--db", str(bench.db))["data"]
    assert shown["drift"]["state"] == "unknown" and "not on this machine" in shown["drift"]["reason"]


def test_servers_upgrade_moves_a_server_to_another_revision(bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template([numbered_step(1)], operational=[says("A")])
    bench.controller.boot(web, template)
    first = bench.controller.store.get_server(web).revision
    rewrite(template, says("A"), says("B"))
    with pytest.raises(BadInput, match="mutable source"):
        commit_template(bench.controller, template, "B release")
    second = commit_template(bench.controller, template, "B release", commit_heads=True)
    assert second.digest != first and second.message == "B release"
    assert [c.name for c in diff_revisions(bench.controller, first, second.digest).changed] == ["Say Version"]
    bench.controller.close()

    missing = cli_json("servers", "upgrade", web, "--to", "sha256:" + "0" * 64, "--db", str(bench.db), code=2)
    assert "unknown revision" in missing["error"]["message"]
    moved = cli_json("servers", "upgrade", web, "--to", second.digest[:14], "-m", "adopt B", "--db", str(bench.db))
    assert {k: moved["data"][k] for k in ("kind", "previous", "revision", "message")} == {
        "kind": "upgrade", "previous": first, "revision": second.digest, "message": "adopt B"}
    controller = bench.reopen()
    ran = controller.run(web, "Say Version")
    assert ran.steps[0].stdout == f"version B on {web}\n"
    assert controller.get_run(ran.run_id).revision == second.digest
    history = cli_json("servers", "show", web, "--db", str(bench.db))["data"]["history"]
    assert [(h["kind"], h["revision"]) for h in history] == [("run", first), ("upgrade", second.digest),
                                                              ("run", second.digest)]
    runs = cli_json("runs", "list", "--server", web, "--db", str(bench.db))["data"]
    assert [r["revision"] for r in runs] == [second.digest, first]
    assert upgrade_server(controller, web, first).previous == second.digest  # and back, recorded too


def test_a_colleague_with_a_copy_of_the_store_runs_the_same_scripts(bench: Bench, tmp_path: Path) -> None:
    (web,) = bench.add(1)
    template = bench.template([numbered_step(1)], operational=[says("A")])
    bench.controller.boot(web, template)
    revision = bench.controller.store.get_server(web).revision
    bench.controller.close()
    colleague = tmp_path / "colleague"
    (colleague / "home").mkdir(parents=True)
    shutil.copy(bench.db, colleague / "audit.db")
    shutil.rmtree(template.parent)  # the original files are gone
    env = {"HOME": str(colleague / "home"), "XDG_CACHE_HOME": str(colleague / "home" / ".cache")}

    ran = cli_json("run", web, "Say Version", "--db", str(colleague / "audit.db"), env=env, cwd=colleague)["data"]
    assert ran["state"] == "succeeded"
    with sqlite3.connect(colleague / "audit.db") as raw:
        (output,) = raw.execute("SELECT text FROM chunks WHERE run_id = ?", (ran["run_id"],)).fetchone()
        (pinned,) = raw.execute("SELECT revision FROM runs WHERE id = ?", (ran["run_id"],)).fetchone()
    assert bytes(output) == f"version A on {web}\n".encode() and pinned == revision
    assert list((colleague / "home" / ".cache" / "stackscripts" / "trees" / "sha256").iterdir())  # laid out there

    shown = cli_json("revisions", "show", revision[:12], "--db", str(colleague / "audit.db"), env=env)["data"]
    assert shown["servers"] == [web] and shown["phases"]["Operational"] == ["Say Version"]


def test_a_server_boots_from_a_kept_revision_by_its_digest(bench: Bench) -> None:
    first, second = bench.add(2)
    template = bench.template([numbered_step(1)], operational=[says("A")])
    revision = commit_template(bench.controller, template, "release A", commit_heads=True).digest
    shutil.rmtree(template.parent)
    booted = bench.controller.boot(second, revision)
    assert booted.ok and bench.ran(second) == [1]
    server = bench.controller.store.get_server(second)
    assert (server.revision, server.template, server.template_sha256) == (revision, str(template.resolve()), None)
    assert bench.controller.run(second, "say-version").steps[0].stdout == f"version A on {second}\n"
    with pytest.raises(BadInput, match="unknown revision"):
        bench.controller.boot(first, "sha256:" + "1" * 64)
    assert bench.controller.store.get_server(first).state == "pending" and bench.controller.runs(first) == []


def test_a_server_booted_before_revisions_runs_its_template_file_until_it_is_upgraded(bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template([numbered_step(1)], operational=[says("A")])
    bench.controller.boot(web, template)
    bench.controller.store.update_server(web, revision=None)  # as a store of version 2 left it
    assert template_drift(bench.controller, web).state == "unpinned"
    rewrite(template, says("A"), says("B"))
    ran = bench.controller.run(web, "Say Version")
    assert ran.steps[0].stdout == f"version B on {web}\n" and bench.controller.get_run(ran.run_id).revision is None
    kept = commit_template(bench.controller, template, "pin it", commit_heads=True)
    upgrade_server(bench.controller, web, kept.digest, "pin it")
    rewrite(template, says("B"), says("C"))
    assert bench.controller.run(web, "Say Version").steps[0].stdout == f"version B on {web}\n"


def test_a_server_keeps_running_its_revision_after_the_library_changes(bench: Bench, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Operational scripts from a shared library (a folder source, so @head moves with every edit): the booted
    revision holds the library's bytes, so an edit upstream changes nothing the server runs."""
    from stackscripts import api
    from tests.support.rightscripts import write_rightscript

    project = tmp_path / "project"
    write_rightscript(project / "shared", "Say Version", 'echo "library A"\n')
    monkeypatch.chdir(project)
    monkeypatch.delenv("STACKSCRIPTS_PROJECT", raising=False)
    api.libraries.add_library("acme/base", "./shared")
    template = project / "app.yaml"
    template.write_text("Name: App\nRightScripts:\n  Boot: []\n  Operational:\n  - acme/base/Say Version@head\n")
    (web,) = bench.add(1)
    bench.controller.boot(web, template)
    script = project / "shared" / "say-version.sh"
    script.write_text(script.read_text().replace("library A", "library B"))
    assert bench.controller.run(web, "Say Version").steps[0].stdout == "library A\n"
    assert template_drift(bench.controller, web).state == "drifted"
