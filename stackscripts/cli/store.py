"""`stackscripts store ...`: init, migrate, status — the audit store itself (a SQLite file or a PostgreSQL DSN)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .common import db_option
from .output import emit, json_option

if TYPE_CHECKING:
    from ..store.access import Access
    from ..store.schema_state import SchemaStatus


@click.group("store")
def command() -> None:
    """The audit store: which backend and schema version (status), create it (init), apply migrations (migrate),
    teams on PostgreSQL (teams, add-team, grant, revoke), copy one store into another (copy).

    --db (or STACKSCRIPTS_DB) is a SQLite file or postgresql://USER@HOST:PORT/DATABASE; a PostgreSQL password
    comes from ~/.pgpass, PGPASSFILE or PGPASSWORD, never from the command line (docs/team-store.md)."""


def status_data(found: SchemaStatus) -> dict[str, Any]:
    return {"backend": found.backend, "location": found.location, "exists": found.exists,
            "schema_version": found.version, "latest_version": found.latest,
            "pending": [{"version": number, "description": text} for number, text in found.pending],
            "applied": list(found.applied)}


def show(ctx: click.Context, found: SchemaStatus, as_json: bool, done: str | None = None,
         access: Access | None = None) -> None:
    def human() -> None:
        click.echo(f"backend   {found.backend}")
        click.echo(f"location  {found.location}" + ("" if found.exists else "  (not created yet)"))
        click.echo(f"schema    version {found.version} (this stackscripts: {found.latest})")
        if found.pending:
            click.echo("pending   " + "\n          ".join(f"{n}: {text}" for n, text in found.pending))
        else:
            click.echo("pending   none")
        if done is not None:
            applied = ", ".join(str(n) for n in found.applied)
            click.echo(f"{done}: " + (f"applied migration{'s' if len(found.applied) > 1 else ''} {applied}"
                                      if found.applied else "already up to date"))
        if access is not None:
            teams = ", ".join(team.name for team in access.teams) or "none yet: 'stackscripts store add-team NAME'"
            click.echo(f"access    row-level security {'on' if access.enforced else 'off'}; teams: {teams}")

    data = status_data(found)
    if access is not None:
        data["access"] = access_data(access)
    emit(ctx, data, human, as_json=as_json)


@command.command("status")
@db_option
@json_option
@click.pass_context
def status(ctx: click.Context, db: str | None, as_json: bool) -> None:
    """Backend, location, schema version and pending migrations (writes nothing)."""
    from ..api import store

    show(ctx, store.status(db), as_json)


@command.command("init")
@db_option
@json_option
@click.pass_context
def init(ctx: click.Context, db: str | None, as_json: bool) -> None:
    """Create the store (a new SQLite file, or the schema in an empty PostgreSQL database), or migrate it. On
    PostgreSQL, also turn on team access: row-level security and the role stackscripts_admin (as the tables' owner)."""
    from ..api import store

    found = store.init(db)
    show(ctx, found, as_json, "init", store.access(db) if found.backend == "postgresql" else None)


@command.command("migrate")
@db_option
@json_option
@click.pass_context
def migrate(ctx: click.Context, db: str | None, as_json: bool) -> None:
    """Apply pending migrations to an existing store (one transaction, under a lock: safe beside other commands)."""
    from ..api import store

    show(ctx, store.migrate(db), as_json, "migrate")


def access_data(found: Access) -> dict[str, Any]:
    return {"backend": found.backend, "row_level_security": found.enforced, "user": found.user, "admin": found.admin,
            "teams": [{"name": team.name, "members": list(team.members)} for team in found.teams],
            "your_teams": list(found.mine)}


@command.command("teams")
@db_option
@json_option
@click.pass_context
def teams(ctx: click.Context, db: str | None, as_json: bool) -> None:
    """Who sees what: row-level security on or off, each team and its members, your teams (writes nothing)."""
    from ..api import store

    found = store.access(db)

    def human() -> None:
        if found.backend != "postgresql":
            click.echo("access    none: on SQLite a team is a label that --team filters on")
            click.echo("teams     " + (", ".join(team.name for team in found.teams) or "none"))
            return
        click.echo("access    " + ("row-level security on: each team's records are seen by its members alone"
                                   if found.enforced else "row-level security off: run 'stackscripts store init' "
                                   "as the tables' owner to turn it on"))
        role = "an admin (sees every team)" if found.admin else "member of " + (", ".join(found.mine) or "no team")
        click.echo(f"you       {found.user}: {role}")
        for team in found.teams:
            click.echo(f"team      {team.name}: " + (", ".join(team.members) or "no members"))
        if not found.teams:
            click.echo("teams     none yet: 'stackscripts store add-team NAME'")

    emit(ctx, access_data(found), human, as_json=as_json)


@command.command("add-team")
@click.argument("name")
@db_option
@json_option
@click.pass_context
def add_team(ctx: click.Context, name: str, db: str | None, as_json: bool) -> None:
    """Make a team on a PostgreSQL store: a NOLOGIN role NAME whose members alone see its records (run it as the
    tables' owner, with CREATEROLE). Then 'store grant USER NAME'."""
    from ..api import store

    made = store.add_team(name, db)
    emit(ctx, {"team": name, "created": made},
         lambda: click.echo(f"team {name}: " + ("made" if made else "there already (privileges checked)")),
         as_json=as_json)


@command.command("grant")
@click.argument("user")
@click.argument("team")
@db_option
@json_option
@click.pass_context
def grant(ctx: click.Context, user: str, team: str, db: str | None, as_json: bool) -> None:
    """Make USER (a PostgreSQL login role) a member of TEAM, or of stackscripts_admin (sees every team)."""
    from ..api import store

    changed = store.grant(user, team, db)
    emit(ctx, {"user": user, "team": team, "member": True, "changed": changed},
         lambda: click.echo(f"{user} is {'now' if changed else 'already'} a member of {team}"), as_json=as_json)


@command.command("revoke")
@click.argument("user")
@click.argument("team")
@db_option
@json_option
@click.pass_context
def revoke(ctx: click.Context, user: str, team: str, db: str | None, as_json: bool) -> None:
    """Make USER no longer a member of TEAM (or of stackscripts_admin): its records vanish from USER's view."""
    from ..api import store

    changed = store.revoke(user, team, db)
    emit(ctx, {"user": user, "team": team, "member": False, "changed": changed},
         lambda: click.echo(f"{user} is {'no longer' if changed else 'not'} a member of {team}"), as_json=as_json)


@command.command("copy")
@click.option("--from", "source", required=True, metavar="FILE|DSN", help="The store to copy from (only read).")
@click.option("--to", "destination", required=True, metavar="FILE|DSN", help="The store to copy into.")
@click.option("--team", help="The team the copied records belong to (default: the destination's: "
                             "$STACKSCRIPTS_TEAM, the project file's team, else default).")
@json_option
@click.pass_context
def copy(ctx: click.Context, source: str, destination: str, team: str | None, as_json: bool) -> None:
    """Copy servers, runs with their output, revisions and server events from one store into another, keeping ids
    and timestamps; what is there already is left as it is, so copying twice adds nothing. Both stores must be at
    this stackscripts' schema version ('store migrate' first)."""
    from ..api import store

    report = store.copy(source, destination, team)
    counts = {kind: {"copied": count.copied, "already_there": count.present} for kind, count in report.counts.items()}

    def human() -> None:
        click.echo(f"copied {report.source} into {report.destination} (team {report.team})")
        for kind, count in report.counts.items():
            click.echo(f"  {kind.replace('_', ' '):<14} {count.copied} copied, {count.present} already there")
        if report.running:
            click.echo(f"  not copied: {len(report.running)} run(s) still running ({', '.join(report.running)}); "
                       "copy again once they have ended")

    emit(ctx, {"source": report.source, "destination": report.destination, "team": report.team, "counts": counts,
               "running": report.running}, human, as_json=as_json)
