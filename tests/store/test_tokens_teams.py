"""API tokens on the team store: a team's members alone see, make, use and revoke its tokens (row-level security on
`api_tokens`), checked with real login roles that are neither owner nor superuser (tests/support/pgroles.py: alice
in web, bob in db, carol in stackscripts_admin), through the API and with raw SQL as bob.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stackscripts.api.controller import Controller
from stackscripts.api.tokens import authenticate, create_token, list_tokens, revoke_token, tokens_exist
from stackscripts.errors import BadInput, NotFound, Unauthorized
from stackscripts.store import open_store
from tests.support import pgroles, postgres

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def teams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pgroles.TeamStore]:
    with pgroles.set_up(postgres.require_postgres(), tmp_path) as world:
        monkeypatch.setenv("PGPASSFILE", str(world.passfile))
        yield world


def controller(teams: pgroles.TeamStore, user: str, team: str) -> Controller:
    return Controller(store=open_store(teams.dsn(user), team=team))


def test_a_teams_tokens_are_its_members_alone(teams: pgroles.TeamStore) -> None:
    with controller(teams, "alice", teams.web) as alice, controller(teams, "bob", teams.db) as bob, \
            controller(teams, "carol", teams.web) as carol:
        db, db_secret = create_token(bob, team=teams.db, role="viewer")
        assert tokens_exist(bob) and not tokens_exist(alice)  # what a dashboard served as alice sees: none yet
        web, web_secret = create_token(alice, team=teams.web, role="operator", name="web-ci")
        with pytest.raises(BadInput, match=f"not a member of the role {teams.db}"):
            create_token(alice, team=teams.db, role="viewer")  # not her team

        # each sees its own team's tokens only; the admin sees both
        assert [t.id for t in list_tokens(alice)] == [web.id]
        assert [t.id for t in list_tokens(bob)] == [db.id]
        assert {t.id for t in list_tokens(carol)} == {web.id, db.id}
        assert authenticate(alice, web_secret).team == teams.web
        # a dashboard served as bob cannot use web's token, nor revoke it: to bob it does not exist
        with pytest.raises(Unauthorized, match="unknown, revoked or expired"):
            authenticate(bob, web_secret)
        with pytest.raises(NotFound):
            revoke_token(bob, web.id)
        assert authenticate(carol, db_secret).team == teams.db  # an admin's dashboard serves every team's tokens

        # raw SQL as bob: none of web's rows, nothing of web's changed, no forged token for web
        assert teams.sql("bob", "SELECT id, team FROM api_tokens") == [(db.id, teams.db)]
        assert teams.changed("bob", "UPDATE api_tokens SET revoked = NULL, role = 'operator'") == 1  # his own only
        assert teams.changed("bob", "DELETE FROM api_tokens WHERE team = ?", (teams.web,)) == 0
        with pytest.raises(Exception, match="row-level security"):
            teams.sql("bob", "INSERT INTO api_tokens (id, secret_sha256, team, role, created) "
                             "VALUES ('f0f0f0f0f0f0', 'x', ?, 'operator', 0)", (teams.web,))
        assert teams.admin_sql("SELECT role, revoked FROM api_tokens WHERE id = ?", (web.id,)) == [("operator", None)]

        # alice revokes web's token: refused from then on, for every dashboard
        assert revoke_token(alice, web.id)[1] is True
        with pytest.raises(Unauthorized):
            authenticate(carol, web_secret)


def test_a_token_needs_a_team_of_the_store(teams: pgroles.TeamStore) -> None:
    with controller(teams, "carol", teams.web) as carol:
        with pytest.raises(BadInput, match="there is no team nosuchteam in the audit store"):
            create_token(carol, team="nosuchteam", role="viewer")
        assert list_tokens(carol) == []


def test_a_team_store_made_before_tokens_gets_them_under_access_at_store_init(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Schema 7 with access on (as made before tokens), then opened by this stackscripts: the new table is nobody's
    but the owner's until `store init` (which `store migrate` runs) turns its policy on and grants it to the teams."""
    from stackscripts.api import store as api
    from stackscripts.store import access, schema_state
    from stackscripts.store.migrations import MIGRATIONS

    with pgroles.team_store(postgres.require_postgres(), tmp_path) as teams:
        monkeypatch.setenv("PGPASSFILE", str(teams.passfile))
        owner = teams.dsn("owner")
        with monkeypatch.context() as before_tokens:
            before_tokens.setattr(access, "TEAM_TABLES", tuple(t for t in access.TEAM_TABLES if t != "api_tokens"))
            before_tokens.setattr(access, "TABLES", tuple(t for t in access.TABLES if t != "api_tokens"))
            with open_store(owner, migrate=False) as old, old._tx() as tx:
                schema_state.migrate(tx, old.location, MIGRATIONS[:7])
                access.enable(tx)
                assert access.add_team(tx, teams.web) and access.grant(tx, teams.role("alice"), teams.web)
                assert access.add_team(tx, teams.db) and access.grant(tx, teams.role("bob"), teams.db)
        open_store(owner).close()  # any command of the owner's migrates it: the table is there, not yet granted
        assert api.access(owner).enforced is False  # `store teams` says so
        with controller(teams, "alice", teams.web) as alice, \
                pytest.raises(BadInput, match="permission denied for table api_tokens.*Ask the store's owner"):
            list_tokens(alice)
        assert api.init(owner).version == len(MIGRATIONS) and api.access(owner).enforced is True
        with controller(teams, "alice", teams.web) as alice, controller(teams, "bob", teams.db) as bob:
            made, _ = create_token(alice, team=teams.web, role="viewer")
            assert [t.id for t in list_tokens(alice)] == [made.id] and list_tokens(bob) == []
            assert teams.sql("bob", "SELECT id FROM api_tokens") == []
