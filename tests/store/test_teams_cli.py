"""Teams through the CLI, as docs/team-store.md sets them up: the owner runs `store init`, `store add-team` and
`store grant`; bob (team db) sees none of alice's (team web) servers and runs in `servers list`, `runs list`,
`runs show`; carol (stackscripts_admin) sees both and filters with --team; writing as a team you are not in is
exit 2 naming the team and the role. Real CLI processes, real login roles (tests/support/pgroles.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stackscripts.store import open_store
from stackscripts.store.access import ADMIN
from stackscripts.store.base import ServerRecord
from tests.store.test_store_cli import refused
from tests.store.test_teams import OUTPUT, record_run
from tests.support import pgroles, postgres
from tests.support.cli import cli_json, run_cli

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def teams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pgroles.TeamStore]:
    with pgroles.team_store(postgres.require_postgres(), tmp_path) as world:
        monkeypatch.setenv("PGPASSFILE", str(world.passfile))
        yield world


def test_teams_set_up_and_seen_through_the_cli(teams: pgroles.TeamStore) -> None:
    owner = teams.env("owner")
    init = cli_json("store", "init", env=owner)["data"]
    assert init["access"]["row_level_security"] is True and init["access"]["teams"] == []
    for team in (teams.web, teams.db):
        assert cli_json("store", "add-team", team, env=owner)["data"] == {"team": team, "created": True}
    for user, team in (("alice", teams.web), ("bob", teams.db), ("carol", ADMIN)):
        done = cli_json("store", "grant", teams.role(user), team, env=owner)["data"]
        assert (done["member"], done["changed"]) == (True, True)
    text = run_cli("store", "teams", env=teams.env("alice"))
    assert text.returncode == 0, text.stderr
    assert "row-level security on" in text.stdout and f"{teams.role('alice')}: member of {teams.web}" in text.stdout
    assert f"team      {teams.db}: {teams.role('bob')}" in text.stdout

    # alice records a server and a run as team web (the run through the store's own API, with binary output)
    added = cli_json("servers", "add", "web1", "--host", "root@10.0.0.5", env=teams.env("alice", teams.web))
    assert added["data"]["team"] == teams.web
    with open_store(teams.dsn("alice"), team=teams.web) as alice:
        web_run = record_run(alice, "web1")
    with open_store(teams.dsn("bob"), team=teams.db) as bob:
        bob.put_server(ServerRecord("db1", host="10.0.0.6"))
        db_run = record_run(bob, "db1")

    bob_env = teams.env("bob", teams.db)
    assert [s["name"] for s in cli_json("servers", "list", env=bob_env)["data"]] == ["db1"]
    assert [r["id"] for r in cli_json("runs", "list", env=bob_env)["data"]] == [db_run]
    assert cli_json("servers", "list", "--team", teams.web, env=bob_env)["data"] == []
    assert cli_json("runs", "list", "--team", teams.web, env=bob_env)["data"] == []
    for args in (("runs", "show", web_run), ("runs", "log", web_run, "1"), ("servers", "show", "web1")):
        refused(*args, expect="unknown", env=bob_env)
    human = run_cli("servers", "list", env=bob_env)
    assert "db1" in human.stdout and "web1" not in human.stdout

    carol = teams.env("carol")
    listed = cli_json("servers", "list", env=carol)["data"]
    assert [(s["name"], s["team"]) for s in listed] == [("db1", teams.db), ("web1", teams.web)]
    assert {r["id"]: r["team"] for r in cli_json("runs", "list", env=carol)["data"]} == {
        web_run: teams.web, db_run: teams.db}
    assert [r["id"] for r in cli_json("runs", "list", "--team", teams.web, env=carol)["data"]] == [web_run]
    assert [s["name"] for s in cli_json("servers", "list", "--team", teams.db, env=carol)["data"]] == ["db1"]
    assert cli_json("runs", "log", web_run, "1", "--stderr", env=carol)["data"]["text"] == "err\ufffd"
    assert cli_json("runs", "show", web_run, env=carol)["data"]["team"] == teams.web
    with open_store(teams.dsn("carol")) as store:
        assert store.get_run(web_run).steps[0].raw("stdout") == OUTPUT


def test_writing_as_a_team_you_are_not_in_is_refused(teams: pgroles.TeamStore) -> None:
    owner = teams.env("owner")
    cli_json("store", "init", env=owner)
    cli_json("store", "add-team", teams.web, env=owner)
    cli_json("store", "add-team", teams.db, env=owner)
    cli_json("store", "grant", teams.role("bob"), teams.db, env=owner)
    refused("servers", "add", "x1", "--host", "root@10.0.0.9", env=teams.env("bob", teams.web),
            expect=f"cannot write server x1 as team {teams.web}: the PostgreSQL role {teams.role('bob')} is not a "
                   f"member of the role {teams.web}")
    refused("servers", "add", "x1", "--host", "root@10.0.0.9", env=teams.env("bob"),
            expect="cannot write server x1 as team default: the PostgreSQL role")
    assert teams.admin_sql("SELECT COUNT(*) FROM servers") == [(0,)]
    refused("store", "add-team", teams.role("ops"), env=teams.env("bob"), expect="may not create roles")
    refused("store", "grant", teams.role("bob"), "nosuchteam", env=owner, expect="there is no team nosuchteam")
    assert cli_json("store", "init", env=teams.env("bob"))["data"]["applied"] == []  # on already: nothing to do


def test_teams_on_sqlite_are_labels(tmp_path: Path) -> None:
    db = str(tmp_path / "audit.db")
    for team in ("web", "db"):
        cli_json("servers", "add", f"{team}1", "--host", "root@10.0.0.5", "--db", db, env={"STACKSCRIPTS_TEAM": team})
    assert [s["name"] for s in cli_json("servers", "list", "--team", "web", "--db", db)["data"]] == ["web1"]
    assert cli_json("runs", "list", "--team", "web", "--db", db)["data"] == []
    teams = cli_json("store", "teams", "--db", db)["data"]
    assert (teams["row_level_security"], [t["name"] for t in teams["teams"]]) == (False, ["db", "web"])
    refused("store", "add-team", "web", "--db", db, expect="a SQLite store, where a team is only a label")
    refused("store", "add-team", "web", "--db", str(tmp_path / "nothing.db"), expect="there is no audit store at")
    assert not (tmp_path / "nothing.db").exists()
    refused("servers", "list", "--db", db, env={"STACKSCRIPTS_TEAM": "Web"}, expect="'Web' is not a team name")
