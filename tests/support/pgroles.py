"""A team store for the tests: a real PostgreSQL database with real login roles, as docs/team-store.md sets one up.

Roles are the cluster's, not a database's, so every name carries a token of its own (alice_3f2a1b, web_3f2a1b) and
every role is dropped afterwards, after the database. The owner of the database is a login role with CREATEROLE and
nothing more (not a superuser): it runs `store init`, `store add-team` and `store grant`, as an administrator would.
The users log in over TCP with passwords kept in a pgpass file of the test's own (PGPASSFILE), which also holds the
test superuser's line. `stackscripts_admin`, which `store init` makes once per cluster, is left in place: other
stores' tests use it at the same time.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import postgres

USERS = ("owner", "alice", "bob", "carol")  # carol: a member of stackscripts_admin
TEAMS = ("web", "db")


@dataclass(frozen=True)
class TeamStore:
    pg: postgres.Server
    database: str
    token: str
    passfile: Path

    def role(self, name: str) -> str:
        """The real role of a user ("alice") or a team ("web") in this test."""
        return f"{name}_{self.token}"

    @property
    def web(self) -> str:
        return self.role("web")

    @property
    def db(self) -> str:
        return self.role("db")

    def dsn(self, user: str) -> str:
        return f"postgresql://{self.role(user)}@{self.pg.host}:{self.pg.port}/{self.database}"

    def env(self, user: str, team: str | None = None) -> dict[str, str]:
        """A CLI process's environment as `user` (writing as the team role `team`, given by its full name)."""
        env = {"PGPASSFILE": str(self.passfile), "STACKSCRIPTS_DB": self.dsn(user)}
        if team is not None:
            env["STACKSCRIPTS_TEAM"] = team
        return env

    def connect(self, user: str) -> Any:
        """A raw psycopg connection as `user` (autocommit), as that user's own psql would be."""
        import psycopg

        return psycopg.connect(host=self.pg.host, port=self.pg.port, user=self.role(user), dbname=self.database,
                               passfile=str(self.passfile), autocommit=True)

    def sql(self, user: str, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement as `user` (`?` parameters): its rows, if any."""
        with self.connect(user) as conn:
            cursor = conn.execute(statement.replace("?", "%s"), tuple(params))
            return list(cursor.fetchall()) if cursor.description else []

    def changed(self, user: str, statement: str, params: Sequence[Any] = ()) -> int:
        """One UPDATE or DELETE as `user`: the number of rows it changed."""
        with self.connect(user) as conn:
            return int(conn.execute(statement.replace("?", "%s"), tuple(params)).rowcount)

    def admin_sql(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """As the test superuser (row-level security does not bind it): what is really stored."""
        return postgres.execute(self.pg, self.database, statement, params)


@contextmanager
def team_store(pg: postgres.Server, folder: Path) -> Iterator[TeamStore]:
    """A fresh database owned by a CREATEROLE login role, and the login roles alice, bob and carol (no teams yet)."""
    token = secrets.token_hex(3)
    passwords = {user: secrets.token_hex(12) for user in USERS}
    passfile = folder / "pgpass"
    lines = [pg.passfile.read_text().split("\n", 1)[0]]
    lines += [f"{pg.host}:{pg.port}:*:{user}_{token}:{password}" for user, password in passwords.items()]
    passfile.write_text("\n".join(lines) + "\n")
    passfile.chmod(0o600)
    made: list[str] = []
    try:
        with postgres.connect(pg) as admin:
            for user, password in passwords.items():
                extra = " CREATEROLE" if user == "owner" else ""
                admin.execute(f"CREATE ROLE {user}_{token} LOGIN{extra} PASSWORD '{password}'")
                made.append(f"{user}_{token}")
        with postgres.fresh_database(pg) as database:
            with postgres.connect(pg) as admin:
                admin.execute(f'ALTER DATABASE "{database}" OWNER TO owner_{token}')
            yield TeamStore(pg, database, token, passfile)
    finally:
        with postgres.connect(pg) as admin:
            for team in TEAMS:  # made by the test (store add-team), if it got that far
                admin.execute(f'DROP ROLE IF EXISTS "{team}_{token}"')
            for role in made:
                admin.execute(f'DROP ROLE IF EXISTS "{role}"')


@contextmanager
def set_up(pg: postgres.Server, folder: Path) -> Iterator[TeamStore]:
    """A team store as its owner sets one up through the API: access on, teams web and db, alice in web, bob in db,
    carol in stackscripts_admin. The caller points PGPASSFILE at `passfile`."""
    import os

    from stackscripts.api import store as api
    from stackscripts.store.access import ADMIN

    with team_store(pg, folder) as world:
        before = os.environ.get("PGPASSFILE")
        os.environ["PGPASSFILE"] = str(world.passfile)
        try:
            owner = world.dsn("owner")
            api.init(owner)
            assert api.add_team(world.web, owner) and api.add_team(world.db, owner)
            assert api.grant(world.role("alice"), world.web, owner) and api.grant(world.role("bob"), world.db, owner)
            assert api.grant(world.role("carol"), ADMIN, owner)
        finally:
            if before is None:
                os.environ.pop("PGPASSFILE", None)
            else:
                os.environ["PGPASSFILE"] = before
        yield world
