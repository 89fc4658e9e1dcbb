"""Teams: on PostgreSQL, row-level security makes a team's records invisible and unchangeable to everyone who is
not a member of its role (checked with raw SQL as the other team's user, who logs in as a plain role: neither
owner nor superuser); an admin sees all. On SQLite a team is a label that round-trips and filters.

The team store is tests/support/pgroles.py's: a database owned by a CREATEROLE role that runs `store init`,
`add-team` and `grant` as an administrator would; alice in web, bob in db, carol in stackscripts_admin.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from stackscripts.api import store as api
from stackscripts.errors import BadInput, Conflict, NotFound
from stackscripts.project import loads
from stackscripts.revisions.manifest import Manifest, entry_of
from stackscripts.store import open_store, schema_state
from stackscripts.store.base import RevisionRecord, ServerRecord
from stackscripts.store.migrations import MIGRATIONS
from stackscripts.store.sql_store import SQLStore
from tests.support import pgroles, postgres

pytestmark = pytest.mark.timeout(300)
OUTPUT = b"\x00\xff binary \xe2\x82 cut\r\nprogress 50%\rprogress 100%\n"
TABLES = ("servers", "runs", "steps", "chunks", "locks", "revisions", "blobs", "server_events", "revision_teams",
          "blob_teams")


def revision(files: dict[str, bytes], template: str = "T") -> tuple[RevisionRecord, dict[str, bytes]]:
    manifest = Manifest.of(entry_of(path, data, path.endswith(".sh")) for path, data in files.items())
    return (RevisionRecord(manifest.digest, template, 0.0, "me@here", "why", manifest.canonical),
            {hashlib.sha256(data).hexdigest(): data for data in files.values()})


def record_run(store: SQLStore, server: str, output: bytes = OUTPUT, *, end: bool = True) -> str:
    """A run of one step with this output, through the store's own API."""
    run_id = store.start_run(server, "boot", who="t", template=None, inputs={"A": "1"})
    store.start_step(run_id, 0, "one", "boot", sha256="", inputs={})
    store.append_output(run_id, 0, "stdout", output)
    store.append_output(run_id, 0, "stderr", b"err\xff")
    if end:
        store.finish_step(run_id, 0, 0, None)
        store.finish_run(run_id, "succeeded")
    return run_id


@pytest.fixture
def teams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pgroles.TeamStore]:
    """The team store, set up through the API as its owner: access on, teams web and db, alice, bob and carol."""
    with pgroles.set_up(postgres.require_postgres(), tmp_path) as world:
        monkeypatch.setenv("PGPASSFILE", str(world.passfile))
        yield world


def test_another_team_cannot_select_update_or_delete_a_teams_rows(teams: pgroles.TeamStore) -> None:
    web_files = {"template.yaml": b"Name: W\n", "web/only.sh": b"echo web secret\n"}
    with open_store(teams.dsn("alice"), team=teams.web) as alice:
        alice.put_server(ServerRecord("web1", host="10.0.0.5"))
        web_run = record_run(alice, "web1")
        record, blobs = revision(web_files, "W")
        assert alice.put_revision(record, blobs)
        alice.upgrade_server("web1", record.digest, who="alice")
        running = record_run(alice, "web1", end=False)  # holds web1's lock while bob looks
        with open_store(teams.dsn("bob"), team=teams.db) as bob:
            bob.put_server(ServerRecord("db1", host="10.0.0.6"))
            db_run = record_run(bob, "db1")

            # raw SQL as bob: none of web's rows in any table, and nothing of web's changes
            assert teams.sql("bob", "SELECT name, team FROM servers") == [("db1", teams.db)]
            assert teams.sql("bob", "SELECT id FROM runs") == [(db_run,)]
            assert {row[0] for row in teams.sql("bob", "SELECT run_id FROM steps")} == {db_run}
            assert {row[0] for row in teams.sql("bob", "SELECT run_id FROM chunks")} == {db_run}
            for table in ("locks", "revisions", "blobs", "server_events", "revision_teams", "blob_teams"):
                assert teams.sql("bob", f"SELECT * FROM {table}") == [], table
            web_sha = hashlib.sha256(b"echo web secret\n").hexdigest()
            assert teams.changed("bob", "UPDATE servers SET host = 'evil' WHERE name = 'web1'") == 0
            assert teams.changed("bob", "UPDATE runs SET state = 'failed' WHERE id = ?", (web_run,)) == 0
            assert teams.changed("bob", "UPDATE chunks SET text = ? WHERE run_id = ?", (b"x", web_run)) == 0
            for table, key, value in (("chunks", "run_id", web_run), ("steps", "run_id", web_run),
                                      ("locks", "run_id", running), ("runs", "id", web_run),
                                      ("servers", "name", "web1"), ("blobs", "sha256", web_sha),
                                      ("revisions", "digest", record.digest), ("server_events", "server", "web1")):
                assert teams.changed("bob", f"DELETE FROM {table} WHERE {key} = ?", (value,)) == 0, table
            for statement in ("UPDATE servers SET team = ? WHERE name = 'db1'",
                              "INSERT INTO servers (name, created, updated, team) VALUES ('evil', 0, 0, ?)"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
                    teams.sql("bob", statement, (teams.web,))
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
                teams.sql("bob", "INSERT INTO chunks (run_id, idx, stream, text) VALUES (?, 0, 'stdout', ?)",
                          (web_run, b"forged"))

            # and through the store: nothing of web's is found
            assert [s.name for s in bob.list_servers()] == ["db1"]
            assert [r.id for r in bob.list_runs()] == [db_run]
            with pytest.raises(NotFound):
                bob.get_run(web_run)
            with pytest.raises(NotFound):
                bob.get_server("web1")
            with pytest.raises(NotFound):
                bob.get_blob(web_sha)
            with pytest.raises(Conflict, match="taken by a server of a team you are not a member of"):
                bob.put_server(ServerRecord("web1", host="10.6.6.6"))
            assert bob.server_events() == []
        alice.finish_step(running, 0, 0, None)
        alice.finish_run(running, "succeeded")

        # alice sees web's, not db's; everything of web's is as she wrote it
        assert [(s.name, s.team, s.host) for s in alice.list_servers()] == [("web1", teams.web, "10.0.0.5")]
        assert {r.id for r in alice.list_runs()} == {web_run, running}
        kept = alice.get_run(web_run)
        assert (kept.team, kept.state.value, kept.steps[0].raw("stdout"), kept.steps[0].raw("stderr")) == (
            teams.web, "succeeded", OUTPUT, b"err\xff")
        assert alice.get_blob(web_sha) == b"echo web secret\n"
    stored = teams.admin_sql("SELECT team, COUNT(*) FROM runs GROUP BY team ORDER BY team")
    assert sorted(stored) == sorted([(teams.web, 2), (teams.db, 1)])


def test_an_admin_sees_every_team(teams: pgroles.TeamStore) -> None:
    with open_store(teams.dsn("alice"), team=teams.web) as alice:
        alice.put_server(ServerRecord("web1", host="10.0.0.5"))
        web_run = record_run(alice, "web1")
    with open_store(teams.dsn("bob"), team=teams.db) as bob:
        bob.put_server(ServerRecord("db1", host="10.0.0.6"))
        db_run = record_run(bob, "db1")
    with open_store(teams.dsn("carol")) as carol:  # in no team: writes as "default", reads all
        assert [(s.name, s.team) for s in carol.list_servers()] == [("db1", teams.db), ("web1", teams.web)]
        assert {r.id for r in carol.list_runs()} == {web_run, db_run}
        assert [s.name for s in carol.list_servers(teams.web)] == ["web1"]
        assert [r.id for r in carol.list_runs(team=teams.db)] == [db_run]
        assert carol.get_run(web_run).steps[0].raw("stdout") == OUTPUT
        resumed = record_run(carol, "web1")  # a run belongs to its server's team, whoever starts it
        assert carol.get_run(resumed).team == teams.web
    with open_store(teams.dsn("alice"), team=teams.web) as alice:
        assert {r.id for r in alice.list_runs()} == {web_run, resumed}
    assert len(teams.sql("carol", "SELECT * FROM chunks")) == 6


def test_writing_as_a_team_you_are_not_a_member_of_is_bad_input(teams: pgroles.TeamStore) -> None:
    record, blobs = revision({"template.yaml": b"Name: X\n"}, "X")
    with open_store(teams.dsn("bob"), team=teams.web) as bob:
        with pytest.raises(BadInput, match=f"cannot write server db9 as team {teams.web}: the PostgreSQL role "
                                           f"{teams.role('bob')} is not a member of the role {teams.web}") as caught:
            bob.put_server(ServerRecord("db9", host="10.0.0.9"))
        assert f"one of your teams ({teams.db})" in caught.value.hint and "store grant" in caught.value.hint
        with pytest.raises(BadInput, match=f"as team {teams.web}"):
            bob.put_revision(record, blobs)
    with open_store(teams.dsn("alice")) as alice, pytest.raises(BadInput, match="there is no role default"):
        alice.put_server(ServerRecord("web9", host="10.0.0.9"))  # no team named: "default", which is no role
    for table in ("servers", "revisions", "blobs", "revision_teams", "blob_teams"):
        assert teams.admin_sql(f"SELECT COUNT(*) FROM {table}") == [(0,)], table


def test_a_revision_kept_by_two_teams_is_seen_by_both_and_bytes_are_never_claimed_by_hash(
        teams: pgroles.TeamStore) -> None:
    shared = {"template.yaml": b"Name: S\n", "common.sh": b"echo common\n"}
    secret = b"echo only web has these bytes\n"
    with open_store(teams.dsn("alice"), team=teams.web) as alice:
        record, blobs = revision(shared, "S")
        assert alice.put_revision(record, blobs) is True
        assert alice.put_revision(record, {}) is False
        web_only, web_blobs = revision({**shared, "secret.sh": secret}, "S")
        assert alice.put_revision(web_only, web_blobs) is True
    with open_store(teams.dsn("bob"), team=teams.db) as bob:
        with pytest.raises(NotFound):
            bob.get_revision(record.digest)
        with pytest.raises(BadInput, match="neither given nor kept"):  # knowing a sha256 gives nobody the bytes
            bob.put_revision(web_only, {k: v for k, v in web_blobs.items() if v != secret})
        assert bob.put_revision(record, blobs) is True  # the same files: the same digest, now db's too
        assert bob.get_revision(record.digest).manifest == record.manifest
        assert all(bob.get_blob(sha) == data for sha, data in blobs.items())
        assert [r.digest for r in bob.list_revisions()] == [record.digest]
        with pytest.raises(NotFound):
            bob.get_blob(hashlib.sha256(secret).hexdigest())
    assert teams.sql("bob", "SELECT team FROM revision_teams") == [(teams.db,)]
    assert teams.changed("bob", "DELETE FROM revisions WHERE digest = ?", (record.digest,)) == 0  # seen, not his


def test_team_administration_is_checked(teams: pgroles.TeamStore) -> None:
    owner = teams.dsn("owner")
    assert api.add_team(teams.web, owner) is False  # there already: its privileges checked again
    assert api.grant(teams.role("alice"), teams.web, owner) is False
    api.init(teams.dsn("alice"))  # on already: nothing for a user to do, and no error
    found = api.access(teams.dsn("alice"))
    assert (found.enforced, found.admin, found.mine, found.user) == (True, False, (teams.web,), teams.role("alice"))
    assert {team.name: team.members for team in found.teams} == {teams.web: (teams.role("alice"),),
                                                                  teams.db: (teams.role("bob"),)}
    assert api.access(teams.dsn("carol")).admin is True
    with pytest.raises(BadInput, match="may not create roles"):
        api.add_team(teams.role("ops"), teams.dsn("bob"))
    with pytest.raises(BadInput, match="there is no PostgreSQL role nobody_at_all"):
        api.grant("nobody_at_all", teams.web, owner)
    with pytest.raises(BadInput, match="there is no team"):
        api.grant(teams.role("alice"), teams.role("bob"), owner)  # a user is not a team
    with pytest.raises(BadInput, match="can log in"):
        api.add_team(teams.role("bob"), owner)
    with pytest.raises(BadInput, match="not a team name"):
        api.add_team("Web Team", owner)
    assert api.revoke(teams.role("alice"), teams.web, owner) is True
    assert api.revoke(teams.role("alice"), teams.web, owner) is False
    with pytest.raises(BadInput, match="permission denied .* Ask the store's owner for access"):
        api.access(teams.dsn("alice"))  # in no team: the store's tables are not hers to read at all


def test_on_sqlite_a_team_is_a_label_that_round_trips_and_filters(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "audit.db")
    runs = {}
    for team in ("web", "db"):
        with open_store(db, team=team) as store:
            store.put_server(ServerRecord(f"{team}1", host="10.0.0.5"))
            runs[team] = record_run(store, f"{team}1")
            record, blobs = revision({"template.yaml": f"Name: {team}\n".encode()}, team)
            store.put_revision(record, blobs)
    monkeypatch.setenv("STACKSCRIPTS_TEAM", "ops")
    with open_store(db) as store:
        assert store.team == "ops"
        store.put_server(ServerRecord("web1", host="10.0.0.7"))  # replaced: it stays web's
        assert [(s.name, s.team) for s in store.list_servers()] == [("db1", "db"), ("web1", "web")]
        assert [s.name for s in store.list_servers("web")] == ["web1"] and store.list_servers("ops") == []
        assert [r.id for r in store.list_runs(team="db")] == [runs["db"]]
        assert store.get_run(runs["web"]).team == "web"
        assert sorted((r.template, r.team) for r in store.list_revisions()) == [("db", "db"), ("web", "web")]
    assert [team.name for team in api.access(db).teams] == ["db", "web"]
    with pytest.raises(BadInput, match="a SQLite store, where a team is only a label"):
        api.add_team("web", db)
    monkeypatch.setenv("STACKSCRIPTS_TEAM", "Web Team")
    with pytest.raises(BadInput, match="STACKSCRIPTS_TEAM: 'Web Team' is not a team name"):
        open_store(db)


def test_the_project_files_team(tmp_path: Path) -> None:
    path = tmp_path / "stackscripts.yaml"
    assert loads("store: audit.db\nteam: web\n", path).team == "web"
    for text, line, expect in (("store: a.db\nteam: 3\n", 2, "'team' must be a team name, not 3"),
                               ("team: pg_web\n", 1, "PostgreSQL reserves it"),
                               ("team: Web\n", 1, "'Web' is not a team name")):
        with pytest.raises(BadInput, match=expect) as caught:
            loads(text, path)
        assert (caught.value.file, caught.value.line) == (str(path), line)


def test_only_the_tables_owner_turns_access_on_and_older_revisions_get_their_teams(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store made before teams (schema 4, a revision and its bytes kept): `store init` by its owner migrates it,
    gives the revision's team its files, and turns access on; a user with privileges but not the owner cannot."""
    with pgroles.team_store(postgres.require_postgres(), tmp_path) as teams:
        monkeypatch.setenv("PGPASSFILE", str(teams.passfile))
        owner = teams.dsn("owner")
        record, blobs = revision({"template.yaml": b"Name: Old\n", "old.sh": b"echo old\n"}, "Old")
        with open_store(owner, migrate=False) as old, old._tx() as tx:
            schema_state.migrate(tx, old.location, MIGRATIONS[:4])
            tx.run("INSERT INTO revisions (digest, template, created, manifest, team) "
                   "VALUES (:digest, 'Old', 1.0, :manifest, :team)",
                   {"digest": record.digest, "manifest": record.manifest, "team": teams.web})
            tx.run("INSERT INTO blobs (sha256, data) VALUES (:sha256, :data)",
                   [{"sha256": sha, "data": data} for sha, data in blobs.items()])
        assert api.add_team(teams.web, owner) and api.grant(teams.role("alice"), teams.web, owner)
        assert api.access(owner).enforced is False
        with pytest.raises(BadInput, match=f"only the owner of the audit store's tables \\({teams.role('owner')}\\)"):
            api.init(teams.dsn("alice"))
        assert api.init(owner).version == len(MIGRATIONS)  # add-team migrated it, as any command does
        assert api.access(teams.dsn("alice")).enforced is True
        with open_store(teams.dsn("alice"), team=teams.web) as alice:
            assert alice.get_revision(record.digest).team == teams.web
            assert all(alice.get_blob(sha) == data for sha, data in blobs.items())
