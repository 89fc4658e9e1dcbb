"""Teams and who sees what on the team store: PostgreSQL's own row-level security (docs/team-store.md, "Teams").

Every server, run, revision and server event carries a `team`, the name of a PostgreSQL role (NOLOGIN) whose
members alone see and change its rows; members of `stackscripts_admin` see all. Steps, output chunks and locks
belong to their run; a file's bytes (`blobs`) to the teams that kept a revision using them (`blob_teams`); a
revision kept by two teams (the same digest) is seen by both (`revision_teams`). `enable` (run by `store init`, as
the tables' owner) turns the policies on, FORCEd so that they bind the owner too; `add_team` and `grant`/`revoke`
(`store add-team`, `store grant`, `store revoke`) make a team and its members. On SQLite a team is a label.

The policies test membership through `pg_roles` (`team IN (the roles the user is a member of)`) rather than
`pg_has_role(current_user, team, 'MEMBER')`, which raises an error, for every statement on the table, as soon as one
row names a role that does not exist (the team "default" of records made before teams).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import BadInput
from ..project import team_problem
from .migrations import quote

if TYPE_CHECKING:
    from .rows import Tx

ADMIN = "stackscripts_admin"
POLICY = "stackscripts_team"  # every table's policy, for all commands
SHARED = "stackscripts_shared"  # revisions only: also seen (not changed) by the other teams that kept them
TEAM_TABLES = ("servers", "runs", "revisions", "server_events", "blob_teams", "revision_teams", "fleets", "workers",
               "api_tokens")  # api_tokens: a team's members alone see, make and revoke its tokens (store/sql_tokens.py)
RUN_TABLES = ("steps", "chunks", "locks")  # through their run
TABLES = (*TEAM_TABLES, *RUN_TABLES, "blobs", "fleet_units")
PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
SERIALS = (("chunks", "id"), ("server_events", "id"))  # identity columns: their sequences need USAGE
MARKER = "stackscripts_schema"


def member(column: str) -> str:
    """The SQL that is true when the current user may see and change a row whose team is `column`."""
    return (f"({column} IN (SELECT rolname::text FROM pg_roles WHERE pg_has_role(current_user, oid, 'MEMBER')) "
            f"OR EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ADMIN}' AND pg_has_role(current_user, oid, 'MEMBER')))")


def policies() -> list[tuple[str, str, str, str]]:
    """(table, policy, command, condition) of every policy."""
    found = [(table, POLICY, "ALL", member("team")) for table in TEAM_TABLES]
    found += [(table, POLICY, "ALL", f"EXISTS (SELECT 1 FROM runs WHERE runs.id = {table}.run_id)")
              for table in RUN_TABLES]
    found.append(("blobs", POLICY, "ALL", "EXISTS (SELECT 1 FROM blob_teams WHERE blob_teams.sha256 = blobs.sha256)"))
    found.append(("fleet_units", POLICY, "ALL", "EXISTS (SELECT 1 FROM fleets WHERE fleets.id = fleet_units.fleet_id)"))
    found.append(("revisions", SHARED, "SELECT",
                  "EXISTS (SELECT 1 FROM revision_teams WHERE revision_teams.digest = revisions.digest)"))
    return found


@dataclass(frozen=True)
class Team:
    name: str
    members: tuple[str, ...]  # roles granted the team (users, or other roles)


@dataclass(frozen=True)
class Access:
    """Who sees what in one store, as `store teams` shows it."""

    backend: str
    enforced: bool  # row-level security on (and forced) for every table; always False on SQLite
    user: str  # the role this connection is (PostgreSQL), "" on SQLite
    admin: bool  # the user sees every team's rows (a member of stackscripts_admin, a superuser); True on SQLite
    teams: tuple[Team, ...]  # PostgreSQL: the team roles; SQLite: the team labels in use, no members
    mine: tuple[str, ...] = ()  # the teams the user is a member of


def state(tx: Tx) -> Access:
    if tx.dialect != "postgresql":
        labels = {str(row["team"]) for table in ("servers", "runs", "revisions")
                  for row in tx.all(f"SELECT DISTINCT team FROM {table}")}
        return Access(tx.dialect, False, "", True, tuple(Team(name, ()) for name in sorted(labels)))
    me = _me(tx)
    enforced = tx.value("SELECT bool_and(relrowsecurity AND relforcerowsecurity) FROM pg_class "
                        f"WHERE oid IN ({', '.join(_regclass(table) for table in TABLES)})")
    teams = tuple(Team(name, tuple(_members(tx, name))) for name in team_roles(tx))
    mine = tuple(team.name for team in teams if _is_member(tx, team.name))
    return Access("postgresql", bool(enforced), me["name"], me["bypass"] or _is_member(tx, ADMIN), teams, mine)


def enable(tx: Tx) -> None:
    """Row-level security on every table, the admin role, and the privileges of the admin and every team; writes
    nothing when all is in place already. BadInput unless the user owns the tables and may create roles."""
    me = _me(tx)
    present = {(str(row["tablename"]), str(row["policyname"]))
               for row in tx.all("SELECT tablename, policyname FROM pg_policies WHERE schemaname = current_schema()")}
    forced = {str(row["relname"]) for row in tx.all(
        "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
        "AND relrowsecurity AND relforcerowsecurity")}
    if not me["owner"]:
        if forced >= set(TABLES) and present >= {(table, name) for table, name, _, _ in policies()}:
            return  # on already: nothing for anyone else to do
        raise BadInput(f"only the owner of the audit store's tables ({me['table_owner']}) may turn on team access; "
                       f"you are {me['name']}", hint=f"Run 'stackscripts store init' as {me['table_owner']}.")
    if not _role(tx, ADMIN) or not (me["bypass"] or _is_member(tx, ADMIN)):
        if not me["createrole"]:
            raise BadInput(f"turning on team access needs the role {ADMIN}, of which the tables' owner "
                           f"{me['name']} is a member, and {me['name']} may not create or grant roles",
                           hint=f"As a PostgreSQL superuser, run: CREATE ROLE {ADMIN} NOLOGIN; "
                                f"GRANT {ADMIN} TO {quote(me['name'])}; (or ALTER ROLE {quote(me['name'])} CREATEROLE), "
                                "then 'stackscripts store init' again.")
        if not _role(tx, ADMIN):  # roles are the cluster's: another database's init may be making it now
            tx.run(f"DO $$ BEGIN CREATE ROLE {ADMIN} NOLOGIN; "
                   "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$")
        if not me["bypass"]:
            tx.run(f"GRANT {ADMIN} TO {quote(me['name'])}")  # the owner could lift the policies anyway: say so
    _backfill(tx)
    for table in TABLES:
        if table not in forced:
            tx.run(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            tx.run(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    for table, name, command, condition in policies():
        if (table, name) not in present:
            check = "" if command == "SELECT" else f" WITH CHECK ({condition})"
            tx.run(f"CREATE POLICY {name} ON {table} FOR {command} USING ({condition}){check}")
    for role in (ADMIN, *team_roles(tx)):
        _grant_tables(tx, role)


def _backfill(tx: Tx) -> None:
    """The teams of revisions and blobs kept before migration 5 (each revision's own team; the files it uses)."""
    from ..revisions.manifest import parse

    tx.run("INSERT INTO revision_teams (digest, team) SELECT digest, team FROM revisions ON CONFLICT DO NOTHING")
    for row in tx.all("SELECT digest, team, manifest FROM revisions"):
        shas = {entry.sha256 for entry in parse(bytes(row["manifest"]), f"revision {row['digest']}").entries}
        tx.run("INSERT INTO blob_teams (sha256, team) VALUES (:sha256, :team) ON CONFLICT DO NOTHING",
               [{"sha256": sha256, "team": row["team"]} for sha256 in sorted(shas)])


def add_team(tx: Tx, name: str) -> bool:
    """Make the team role (NOLOGIN) and give it the tables' privileges; False when it was a team already."""
    problem = team_problem(name)
    if problem:
        raise BadInput(problem, hint="Name a team like web or db-admins.")
    me = _me(tx)
    if not me["createrole"]:
        raise BadInput(f"{me['name']} may not create roles, and a team is a PostgreSQL role",
                       hint=f"Run it as a role with CREATEROLE (the tables' owner, {me['table_owner']}, should have it).")
    existed = _role(tx, name)
    if existed is not None and existed["rolcanlogin"]:
        raise BadInput(f"{name} is a PostgreSQL role that can log in (a user), not a team",
                       hint="A team is a NOLOGIN role that users are members of: choose another name.")
    known = name in team_roles(tx)
    if existed is None:
        tx.run(f"CREATE ROLE {quote(name)} NOLOGIN")
    _grant_tables(tx, name)
    return not known


def grant(tx: Tx, user: str, team: str, *, revoke: bool = False) -> bool:
    """Make `user` a member of `team` (or the admin role), or no longer one; False when nothing changed."""
    if team != ADMIN and team not in team_roles(tx):
        raise BadInput(f"there is no team {team} in this store",
                       hint=f"Make it first with 'stackscripts store add-team {team}', or name {ADMIN}.")
    if _role(tx, user) is None:
        raise BadInput(f"there is no PostgreSQL role {user}",
                       hint=f"As a PostgreSQL administrator: CREATE ROLE {quote(user)} LOGIN PASSWORD '...';")
    was = bool(tx.value("SELECT EXISTS (SELECT 1 FROM pg_auth_members WHERE roleid = to_regrole(:team) "
                        "AND member = to_regrole(:user))", {"team": quote(team), "user": quote(user)}))
    if was == (not revoke):
        return False
    tx.run(f"{'REVOKE' if revoke else 'GRANT'} {quote(team)} {'FROM' if revoke else 'TO'} {quote(user)}")
    return True


def check_writer(tx: Tx, team: str, what: str) -> None:
    """BadInput, before anything is written, when the user may not write `what` as `team` (PostgreSQL with row-level
    security on: neither a member of the team's role nor an admin)."""
    if tx.dialect != "postgresql":
        return
    row = tx.one("SELECT c.relrowsecurity AS enforced, r.rolsuper OR r.rolbypassrls AS bypass, "
                 "EXISTS (SELECT 1 FROM pg_roles m WHERE m.rolname IN (:team, :admin) "
                 "AND pg_has_role(current_user, m.oid, 'MEMBER')) AS member, "
                 "EXISTS (SELECT 1 FROM pg_roles m WHERE m.rolname = :team) AS known, current_user AS me "
                 "FROM pg_class c, pg_roles r WHERE c.oid = to_regclass('servers') AND r.rolname = current_user",
                 {"team": team, "admin": ADMIN})
    if row is None or not row["enforced"] or row["bypass"] or row["member"]:
        return
    mine = [name for name in team_roles(tx) if _is_member(tx, name)]
    why = f"is not a member of the role {team}" if row["known"] else f"cannot be: there is no role {team}"
    yours = f"one of your teams ({', '.join(mine)})" if mine else "a team you are a member of (you are in none)"
    raise BadInput(f"cannot write {what} as team {team}: the PostgreSQL role {row['me']} {why}",
                   hint=f"Set STACKSCRIPTS_TEAM (or 'team:' in stackscripts.yaml) to {yours}, or ask an admin to run "
                        f"'stackscripts store grant {row['me']} {team}'.")


def team_roles(tx: Tx) -> list[str]:
    """The teams: the roles (other than the admin role and the tables' owner) the table runs is granted to."""
    return [str(row["name"]) for row in tx.all(
        "SELECT DISTINCT r.rolname::text AS name FROM pg_class c, aclexplode(c.relacl) a "
        "JOIN pg_roles r ON r.oid = a.grantee WHERE c.oid = to_regclass('runs') AND a.privilege_type = 'SELECT' "
        "AND r.oid <> c.relowner AND r.rolname <> :admin ORDER BY 1", {"admin": ADMIN})]


def _grant_tables(tx: Tx, role: str) -> None:
    who = quote(role)
    tx.run(f"GRANT {PRIVILEGES} ON {', '.join(TABLES)} TO {who}")
    tx.run(f"GRANT SELECT ON {MARKER} TO {who}")
    sequences = [tx.value("SELECT pg_get_serial_sequence(:table, :column)", {"table": table, "column": column})
                 for table, column in SERIALS]
    tx.run(f"GRANT USAGE, SELECT ON SEQUENCE {', '.join(str(s) for s in sequences if s)} TO {who}")


def grant_queue(tx: Tx, prefix: str) -> None:
    """Give the admin role and every team the queue engine's tables (those named prefix...), where team access is on
    and this user owns the store's tables; a job carries no secret (queue/unit.py)."""
    if tx.dialect != "postgresql" or not _me(tx)["owner"] or not state(tx).enforced:
        return
    tables = [str(row["name"]) for row in tx.all(
        "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE :prefix",
        {"prefix": prefix.replace("_", "\\_") + "%"})]
    sequences = [str(row["name"]) for row in tx.all(
        "SELECT sequencename::text AS name FROM pg_sequences WHERE schemaname = current_schema() "
        "AND sequencename LIKE :prefix", {"prefix": prefix.replace("_", "\\_") + "%"})]
    for role in (ADMIN, *team_roles(tx)):
        if tables:
            tx.run(f"GRANT {PRIVILEGES} ON {', '.join(quote(t) for t in tables)} TO {quote(role)}")
        if sequences:
            tx.run(f"GRANT USAGE, SELECT ON SEQUENCE {', '.join(quote(q) for q in sequences)} TO {quote(role)}")


def _me(tx: Tx) -> dict[str, Any]:
    row = tx.one("SELECT current_user AS name, r.rolsuper OR r.rolbypassrls AS bypass, "
                 "r.rolcreaterole OR r.rolsuper AS createrole, pg_get_userbyid(c.relowner) AS table_owner, "
                 "r.rolsuper OR pg_has_role(current_user, c.relowner, 'USAGE') AS owner "
                 "FROM pg_roles r, pg_class c WHERE r.rolname = current_user AND c.oid = to_regclass('servers')")
    if row is None:
        raise BadInput("the audit store has no tables yet", hint="Create them with 'stackscripts store init'.")
    return dict(row)


def _role(tx: Tx, name: str) -> dict[str, Any] | None:
    row = tx.one("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = :name", {"name": name})
    return None if row is None else dict(row)


def _is_member(tx: Tx, role: str) -> bool:
    return bool(tx.value("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :role "
                         "AND pg_has_role(current_user, oid, 'MEMBER'))", {"role": role}))


def _members(tx: Tx, team: str) -> Iterable[str]:
    return [str(row["name"]) for row in tx.all(
        "SELECT m.rolname::text AS name FROM pg_auth_members a JOIN pg_roles m ON m.oid = a.member "
        "JOIN pg_roles t ON t.oid = a.roleid WHERE t.rolname = :team ORDER BY 1", {"team": team})]


def _regclass(table: str) -> str:
    return f"to_regclass('{table}')"
