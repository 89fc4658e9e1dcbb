"""A run is found by any unique part of its id (not only a prefix); an ambiguous part names the candidates.

Real stores on both backends; the ids are chosen (through the store's id generator) so that parts overlap on purpose.
The CLI half runs `python -m stackscripts runs show PART --db FILE|DSN` as a user would.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stackscripts.errors import BadInput, NotFound
from stackscripts.model import RunState
from stackscripts.store import rows
from stackscripts.store.base import ServerRecord
from stackscripts.store.sql_store import SQLStore
from tests.store.conftest import Backend
from tests.support.cli import cli_json, no_traceback, run_cli

RUNS = [  # id, server, phase, state
    ("r-20261129-005350-a67d", "web1", "Boot", RunState.FAILED),
    ("r-20261129-010443-a2a2", "web1", "Boot", RunState.SUCCEEDED),
    ("r-20261130-005350-bb01", "db1", "Decommission", RunState.FAILED),
]


@pytest.fixture
def runs_db(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Iterator[SQLStore]:
    chosen = iter(run_id for run_id, *_ in RUNS)
    monkeypatch.setattr(rows, "new_run_id", lambda now=None: next(chosen))
    store = backend.open()
    for name in ("web1", "db1"):
        store.put_server(ServerRecord(name, host="10.0.0.5"))
    for run_id, server, phase, state in RUNS:
        assert store.start_run(server, phase, who="test", template=None, inputs={}) == run_id
        store.finish_run(run_id, state)
    yield store
    store.close()


@pytest.mark.parametrize(("part", "expected"), [
    ("a2a2", "r-20261129-010443-a2a2"),             # the random tail
    ("010443", "r-20261129-010443-a2a2"),           # the time
    ("443-a2", "r-20261129-010443-a2a2"),           # any piece
    ("20261130", "r-20261130-005350-bb01"),         # the date, "r-" left out
    ("a67", "r-20261129-005350-a67d"),
    ("20261129-005350-a67d", "r-20261129-005350-a67d"),
    ("r-20261130-005350-bb01", "r-20261130-005350-bb01"),
    ("  bb01 ", "r-20261130-005350-bb01"),          # pasted with spaces
])  # fmt: skip
def test_any_unique_part_finds_the_run(runs_db: SQLStore, part: str, expected: str) -> None:
    assert runs_db.get_run(part).id == expected
    assert runs_db.last_failed_step(part) is None  # every lookup by id takes a part, not only get_run


def test_an_ambiguous_part_names_every_candidate(runs_db: SQLStore) -> None:
    with pytest.raises(BadInput, match="ambiguous") as caught:
        runs_db.get_run("005350")
    message = str(caught.value)
    assert "r-20261129-005350-a67d (web1 Boot, failed)" in message
    assert "r-20261130-005350-bb01 (db1 Decommission, failed)" in message
    assert "a2a2" not in message and "Give more of the id" in message
    with pytest.raises(BadInput, match="ambiguous") as everything:
        runs_db.get_run("-")
    assert all(run_id in str(everything.value) for run_id, *_ in RUNS)


def test_unknown_parts_and_wildcards_find_nothing(runs_db: SQLStore) -> None:
    for part in ("nope", "%", "_", "2026%30", "A2A2"):
        with pytest.raises(NotFound, match="unknown run"):
            runs_db.get_run(part)
    with pytest.raises(BadInput, match="empty run id"):
        runs_db.get_run("  ")


def test_a_resume_names_its_origin_by_a_part(runs_db: SQLStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rows, "new_run_id", lambda now=None: "r-20261201-000000-cc02")
    resumed = runs_db.start_run("web1", "Boot", who="t", template=None, inputs={}, resumed_from="a67d")
    assert runs_db.get_run(resumed).resumed_from == "r-20261129-005350-a67d"


def test_the_cli_finds_a_run_by_its_tail_and_lists_candidates_when_ambiguous(runs_db: SQLStore,
                                                                             backend: Backend) -> None:
    runs_db.close()
    db_path = backend.location
    found = cli_json("runs", "show", "a2a2", "--db", db_path)
    assert found["data"]["id"] == "r-20261129-010443-a2a2"

    ambiguous = run_cli("runs", "show", "005350", "--db", db_path)
    assert ambiguous.returncode == 2
    no_traceback(ambiguous.stdout + ambiguous.stderr)
    assert "r-20261129-005350-a67d (web1 Boot, failed)" in ambiguous.stderr
    assert "r-20261130-005350-bb01 (db1 Decommission, failed)" in ambiguous.stderr

    unknown = run_cli("runs", "show", "ffff", "--db", db_path)
    assert unknown.returncode == 2 and "unknown run 'ffff'" in unknown.stderr
    no_traceback(unknown.stdout + unknown.stderr)
