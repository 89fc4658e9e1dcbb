"""`runs prune --older-than AGE [--dry-run]` on both backends (real CLI processes): the output of runs that ended
before then is removed, their runs, steps, timings and exit codes stay, and `runs log` says the output was pruned."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from stackscripts.store.base import ServerRecord
from stackscripts.store.sql_store import SQLStore
from tests.store.conftest import Backend
from tests.support.cli import cli_json, no_traceback, run_cli

pytestmark = pytest.mark.timeout(180)
DAY = 86400.0


def record(store: SQLStore, server: str, outputs: list[bytes], *, end: bool = True) -> str:
    """A run whose step i printed outputs[i] (in two pieces, on both streams)."""
    run_id = store.start_run(server, "Boot", who="alice@laptop", template=None, inputs={})
    for index, text in enumerate(outputs):
        store.start_step(run_id, index, f"Step {index + 1}", "Boot", sha256="", inputs={})
        if text:
            store.append_output(run_id, index, "stdout", text[: len(text) // 2])
            store.append_output(run_id, index, "stderr", text[len(text) // 2:])
        store.finish_step(run_id, index, index, None)
    if end:
        store.finish_run(run_id, "succeeded")
    return run_id


def age(backend: Backend, run_id: str, days: float) -> None:
    """Make a run (and its steps) as old as if it ran `days` ago."""
    shift = days * DAY
    backend.sql("UPDATE runs SET started = started - ?, ended = ended - ? WHERE id = ?", (shift, shift, run_id))
    backend.sql("UPDATE steps SET started = started - ?, ended = ended - ? WHERE run_id = ?", (shift, shift, run_id))


def test_prune_removes_old_output_and_keeps_the_runs(store: SQLStore, web1: str, backend: Backend) -> None:
    store.put_server(ServerRecord("web2"))
    old = record(store, web1, [b"old output one\n" * 100, b"x" * 300_000, b""])
    age(backend, old, 120)
    recent = record(store, web1, [b"recent output\n"])
    age(backend, recent, 30)
    running = record(store, "web2", [b"still running\n"], end=False)
    age(backend, running, 200)  # started long ago, and not ended: never pruned
    db = backend.location
    before = cli_json("runs", "show", old, "--db", db)["data"]
    chunks = backend.count("chunks")

    dry = cli_json("runs", "prune", "--older-than", "90d", "--dry-run", "--db", db)
    assert dry["command"] == "runs prune"
    expected = {"runs": 1, "steps": 2, "bytes": 1500 + 300_000, "dry_run": True}
    assert {key: dry["data"][key] for key in expected} == expected and dry["data"]["chunks"] >= 4
    assert abs(dry["data"]["before"] - (time.time() - 90 * DAY)) < 60
    assert backend.count("chunks") == chunks  # nothing removed
    human = run_cli("runs", "prune", "--older-than", "90d", "--dry-run", "--db", db)
    assert human.returncode == 0 and human.stdout.startswith("would remove the output of 1 run that ended before ")
    assert ": 2 steps, " in human.stdout and "301.5 KB; the runs, their timings and exit codes stay" in human.stdout

    done = run_cli("runs", "prune", "--older-than", "90d", "--db", db)
    assert done.returncode == 0 and done.stdout.startswith("removed the output of 1 run that ended before "), done
    assert cli_json("runs", "show", old, "--db", db)["data"] == before  # the run, its steps, timings, exit codes
    assert backend.sql("SELECT COUNT(*) FROM chunks WHERE run_id = ? AND length(text) > 0", (old,)) == [(0,)]

    pruned = run_cli("runs", "log", old, "2", "--db", db)
    assert pruned.returncode == 2 and pruned.stdout == ""
    assert pruned.stderr.startswith(f"stackscripts: error: the output of step 2 (Step 2) of run {old} was pruned: "
                                    "300.0 KB removed by 'stackscripts runs prune'. Its timing and exit code are kept")
    assert pruned.stderr.count("\n") == 1
    no_traceback(pruned.stderr)
    follow = cli_json("runs", "log", old, "1", "--follow", "--db", db, code=2)
    assert "was pruned: 1.5 KB removed" in follow["error"]["message"]
    assert run_cli("runs", "log", old, "3", "--db", db).stdout == ""  # a step that never printed: nothing pruned
    steps = {s.index: s for s in store.get_run(old).steps}
    assert (steps[0].pruned, steps[1].pruned, steps[2].pruned) == (1500, 300_000, None)
    assert steps[1].output == "" and steps[1].exit_code == 1 and steps[1].ended is not None

    kept = run_cli("runs", "log", recent, "1", "--db", db)
    assert (kept.returncode, kept.stdout) == (0, "recent output\n")
    assert run_cli("runs", "log", running, "1", "--db", db).stdout == "still running\n"
    again = cli_json("runs", "prune", "--older-than", "90d", "--db", db)["data"]
    assert (again["runs"], again["steps"], again["chunks"], again["bytes"]) == (0, 0, 0, 0)
    everything = cli_json("runs", "prune", "--older-than", "0s", "--db", db)["data"]
    assert (everything["runs"], everything["bytes"]) == (1, len(b"recent output\n"))
    store.finish_run(running, "succeeded")


@pytest.mark.parametrize("bad", ["90", "90x", "-1d", "soon", ""])
def test_a_bad_age_is_refused(bad: str, db_path: Path) -> None:
    done = run_cli("runs", "prune", "--older-than", bad, "--db", str(db_path))
    assert done.returncode == 2 and done.stdout == "" and not db_path.exists()  # refused before the store opens
    assert done.stderr == (f"stackscripts: error: {bad!r} is not an age. Write a number and a unit: 90d, 12h, 30m, "
                           "45s or 2w.\n")
