"""`store copy`: a SQLite store made through the real store API (binary output, revisions, an upgrade, a failed
attempt, a run still running) copied into PostgreSQL twice: nothing doubled, every run, step and byte of output
identical, revisions and blobs intact; copied back into a new SQLite store the same; every bad input exit 2 with
nothing written. Real CLI processes, a real PostgreSQL database per test.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from stackscripts.store import open_store
from stackscripts.store.base import ServerRecord
from stackscripts.store.migrations import SCHEMA_VERSION
from stackscripts.store.sql_store import SQLStore
from tests.store.test_store_cli import refused
from tests.store.test_teams import record_run, revision
from tests.support import pgroles, postgres
from tests.support.cli import cli_json

pytestmark = pytest.mark.timeout(300)
TABLES = ("servers", "runs", "steps", "chunks", "revisions", "blobs", "server_events", "revision_teams", "blob_teams")


@dataclasses.dataclass
class Source:
    db: str
    runs: list[str]  # ended runs
    running: str
    digests: list[str]


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Source]:
    """A SQLite store with two servers, four ended runs (one a failed attempt), one running, two revisions."""
    db = str(tmp_path / "mine.db")
    with open_store(db, team="mine") as store:
        store.put_server(ServerRecord("web1", host="10.0.0.5", inputs={"A": "1"}, extra={"volumes": ["v-1"]}))
        store.put_server(ServerRecord("web2", host="10.0.0.6", user="admin"))
        runs = [record_run(store, "web1"), record_run(store, "web2", b"\xff\xfe" * 70_000)]
        many = store.start_run("web1", "operational", who="t", template="t.yaml", inputs={})
        for index in range(3):
            store.start_step(many, index, f"step {index}", "operational", sha256="ab" * 32, inputs={"I": str(index)})
            for piece in range(5):
                store.append_output(many, index, ("stdout", "stderr")[piece % 2], f"{index}.{piece}\r".encode())
            store.finish_step(many, index, index, "it failed" if index == 2 else None)
        store.finish_run(many, "failed")
        runs.append(many)
        runs.append(store.record_attempt("web2", "boot", who="t", template=None, inputs={}, error="no route"))
        digests = []
        for name in ("A", "B"):
            record, blobs = revision({"template.yaml": f"Name: {name}\n".encode(), "x.sh": b"echo shared\n"}, name)
            store.put_revision(record, blobs)
            digests.append(record.digest)
        store.upgrade_server("web1", digests[0], who="t", message="first")
        store.upgrade_server("web1", digests[1], who="t", message="second")
        running = record_run(store, "web2", end=False)
        yield Source(db, runs, running, digests)
        store.finish_step(running, 0, 0, None)


def same_records(src: SQLStore, dst: SQLStore, runs: list[str], digests: list[str], team: str) -> None:
    """Every record of the source as the destination has it, in the destination's team."""
    for run_id in runs:
        mine, theirs = src.get_run(run_id), dst.get_run(run_id)
        assert theirs == dataclasses.replace(mine, team=team)
        for before, after in zip(mine.steps, theirs.steps, strict=True):
            assert after.chunks == before.chunks and after.started == before.started
    assert dst.list_servers() == [dataclasses.replace(s, team=team) for s in src.list_servers()]
    for digest in digests:
        assert dst.get_revision(digest) == dataclasses.replace(src.get_revision(digest), team=team)
    for sha256, data in revision({"template.yaml": b"Name: A\n", "x.sh": b"echo shared\n"})[1].items():
        assert dst.get_blob(sha256) == data == src.get_blob(sha256)
    assert dst.server_events() == src.server_events()


def counts(store: SQLStore) -> dict[str, int]:
    with store._tx(write=False) as tx:
        return {table: int(tx.value(f"SELECT COUNT(*) FROM {table}")) for table in TABLES}


def test_copy_into_postgres_twice_then_back_into_sqlite(source: Source, pg_database: str, tmp_path: Path) -> None:
    cli_json("store", "init", "--db", pg_database)
    first = cli_json("store", "copy", "--from", source.db, "--to", pg_database, env={"STACKSCRIPTS_TEAM": "web"})
    data = first["data"]
    with sqlite3.connect(source.db) as raw:  # however the store cut the output into chunks
        chunks = raw.execute("SELECT COUNT(*) FROM chunks WHERE run_id != ?", (source.running,)).fetchone()[0]
    assert (data["source"], data["destination"], data["team"], data["running"]) == (
        source.db, pg_database, "web", [source.running])
    assert {kind: c["copied"] for kind, c in data["counts"].items()} == {
        "servers": 2, "revisions": 2, "blobs": 3, "runs": 4, "steps": 5, "chunks": chunks, "server_events": 2}
    assert all(c["already_there"] == 0 for c in data["counts"].values())

    again = cli_json("store", "copy", "--from", source.db, "--to", pg_database, "--team", "web")["data"]
    assert all(c["copied"] == 0 for c in again["counts"].values()), again
    assert {kind: c["already_there"] for kind, c in again["counts"].items()} == {
        kind: c["copied"] for kind, c in data["counts"].items()}
    with open_store(source.db, migrate=False) as src, open_store(pg_database) as dst:
        assert counts(dst) == {"servers": 2, "runs": 4, "steps": 5, "chunks": chunks, "revisions": 2, "blobs": 3,
                               "server_events": 2, "revision_teams": 2, "blob_teams": 3}
        same_records(src, dst, source.runs, source.digests, "web")
        with pytest.raises(Exception, match="unknown run"):
            dst.get_run(source.running)

    back = str(tmp_path / "back.db")
    cli_json("store", "init", "--db", back)
    assert cli_json("store", "copy", "--from", pg_database, "--to", back)["data"]["counts"]["chunks"]["copied"] == chunks
    with open_store(source.db, migrate=False) as src, open_store(back) as dst:
        same_records(src, dst, source.runs, source.digests, "default")


def test_copy_refuses_bad_input_and_writes_nothing(source: Source, tmp_path: Path) -> None:
    dst = str(tmp_path / "team.db")
    missing = str(tmp_path / "missing.db")
    refused("store", "copy", "--from", missing, "--to", source.db, expect=f"there is no audit store at {missing}")
    refused("store", "copy", "--from", source.db, "--to", missing, expect=f"there is no audit store at {missing}")
    assert not Path(missing).exists()
    refused("store", "copy", "--from", source.db, "--to", source.db, expect="into itself")
    cli_json("store", "init", "--db", dst)
    with sqlite3.connect(dst) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    refused("store", "copy", "--from", source.db, "--to", dst,
            expect=f"schema version {SCHEMA_VERSION - 1} (this stackscripts: {SCHEMA_VERSION}) of {dst}")
    with sqlite3.connect(dst) as raw:
        raw.execute("PRAGMA user_version = 99")
    refused("store", "copy", "--from", source.db, "--to", dst, expect="has schema version 99")
    with sqlite3.connect(dst) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    refused("store", "copy", "--from", source.db, "--to", dst, "--team", "Not A Team", expect="is not a team name")
    with sqlite3.connect(source.db) as raw:
        raw.execute("UPDATE blobs SET data = ? WHERE data = ?", (b"echo tampered\n", b"echo shared\n"))
    refused("store", "copy", "--from", source.db, "--to", dst, expect="the source's copy of file")
    with open_store(dst) as store:
        assert set(counts(store).values()) == {0}


def test_copy_into_a_team_store_keeps_it_the_teams(source: Source, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with pgroles.team_store(postgres.require_postgres(), tmp_path) as teams:
        monkeypatch.setenv("PGPASSFILE", str(teams.passfile))
        owner = teams.env("owner")
        cli_json("store", "init", env=owner)
        for team, user in ((teams.web, "alice"), (teams.db, "bob")):
            cli_json("store", "add-team", team, env=owner)
            cli_json("store", "grant", teams.role(user), team, env=owner)
        refused("store", "copy", "--from", source.db, "--to", teams.dsn("bob"), "--team", teams.web,
                env={"PGPASSFILE": str(teams.passfile)},
                expect=f"as team {teams.web}: the PostgreSQL role {teams.role('bob')} is not a member")
        done = cli_json("store", "copy", "--from", source.db, "--to", teams.dsn("alice"),
                        env={"PGPASSFILE": str(teams.passfile), "STACKSCRIPTS_TEAM": teams.web})["data"]
        assert done["counts"]["runs"]["copied"] == 4
        assert teams.sql("bob", "SELECT COUNT(*) FROM runs") == [(0,)]
        assert teams.sql("alice", "SELECT COUNT(*) FROM runs") == [(4,)]
        bob_copy = cli_json("store", "copy", "--from", source.db, "--to", teams.dsn("bob"),
                            env={"PGPASSFILE": str(teams.passfile), "STACKSCRIPTS_TEAM": teams.db})["data"]
        # the ids are web's: nothing of bob's is written over them, and he still sees none of them
        assert bob_copy["counts"]["runs"] == {"copied": 0, "already_there": 4}
        assert teams.sql("bob", "SELECT COUNT(*) FROM runs") == [(0,)]
