"""`stackscripts tokens create | list | revoke`: the web dashboard's API tokens (docs/team-store.md, "Tokens")."""

from __future__ import annotations

import contextlib
import os
import time
from typing import TYPE_CHECKING, Any

import click

from ..store.tokens import ROLES
from .common import db_option
from .output import console, emit, json_option, table

if TYPE_CHECKING:
    from ..store.tokens import TokenRecord


@click.group("tokens")
def command() -> None:
    """API tokens of the web dashboard (stackscripts serve): create (the token shown once), list, revoke.

    A token acts as one team (on PostgreSQL a team made with 'store add-team', of which you are a member; on SQLite
    any team name) with a role: viewer (sees) or operator (also boots, resumes, runs, terminates). The store keeps
    only its sha256."""


def when(at: float | None, never: str = "-") -> str:
    return never if at is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def token_data(record: TokenRecord, now: float) -> dict[str, Any]:
    """A token as --json shows it: never its secret (the store has none)."""
    return {"id": record.id, "prefix": f"sst_{record.id}_", "team": record.team, "role": record.role,
            "name": record.name, "who": record.who, "created": record.created, "expires": record.expires,
            "last_used": record.last_used, "revoked": record.revoked, "state": record.state(now)}


def _open_private(path: str) -> int:
    """FILE for the token, made (or emptied) with mode 0600 before the token exists: a path that cannot be written
    is refused before anything is made."""
    from ..errors import BadInput

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        os.fchmod(fd, 0o600)
    except OSError as exc:
        raise BadInput(f"cannot write the token to {path}: {exc.strerror}", hint="Name a file you may write.") from None
    return fd


@command.command("create")
@click.option("--team", required=True, help="The team the token acts as (on PostgreSQL: made with 'store add-team').")
@click.option("--role", required=True, type=click.Choice(ROLES), help="viewer (sees) or operator (also acts).")
@click.option("--name", help="What the token is for (shown in 'tokens list' and as who acted in the dashboard).")
@click.option("--expires", default="90d", show_default=True, metavar="AGE|never",
              help="How long it lasts: 90d, 12h, 2w..., or never.")
@click.option("--output", "-o", "output", metavar="FILE",
              help="Write the token to FILE (mode 0600) instead of printing it.")
@db_option
@json_option
@click.pass_context
def create(ctx: click.Context, team: str, role: str, name: str | None, expires: str, output: str | None,
           db: str | None, as_json: bool) -> None:
    """Make a token; it is printed (or written to --output) this once: the store keeps only its hash."""
    from ..api.controller import Controller
    from ..api.tokens import create_token

    fd = _open_private(output) if output else None
    try:
        with Controller(db) as c:
            record, secret = create_token(c, team=team, role=role, name=name, expires=expires)
        if fd is not None:
            os.write(fd, (secret + "\n").encode())
    except BaseException:
        if output:
            with contextlib.suppress(OSError):
                os.unlink(output)  # made empty above: no token in it
        raise
    finally:
        if fd is not None:
            os.close(fd)
    data = token_data(record, time.time())
    data.update({"token_file": os.path.abspath(output)} if output else {"token": secret})

    def human() -> None:
        what = f"token {record.id} ({record.role} of team {record.team}, expires {when(record.expires, 'never')})"
        if output:
            click.echo(f"{what} written to {output} (mode 0600)")
            return
        click.echo(secret)
        click.echo(f"{what}: shown this once, the store keeps only its hash. Sign in to the dashboard with it, or "
                   "send 'Authorization: Bearer TOKEN'.", err=True)

    emit(ctx, data, human, as_json=as_json)


@command.command("list")
@click.option("--team", help="One team's tokens only.")
@db_option
@json_option
@click.pass_context
def list_(ctx: click.Context, team: str | None, db: str | None, as_json: bool) -> None:
    """Every token you may see (on PostgreSQL: your teams'), newest first, with its state; never a secret."""
    from ..api.controller import Controller
    from ..api.tokens import list_tokens

    with Controller(db) as c:
        found = list_tokens(c, team)
    now = time.time()

    def human() -> None:
        t = table("Token", "Name", "Team", "Role", "State", "Created", "Expires", "Last used", "By")
        for r in found:
            t.add_row(r.id, r.name or "-", r.team, r.role, r.state(now), when(r.created), when(r.expires, "never"),
                      when(r.last_used, "never"), r.who)
        console().print(t)
        if not found:
            click.echo("no token yet: make one with 'stackscripts tokens create --team TEAM --role viewer'")

    emit(ctx, {"tokens": [token_data(r, now) for r in found]}, human, as_json=as_json)


@command.command("revoke")
@click.argument("token_id", metavar="ID")
@db_option
@json_option
@click.pass_context
def revoke(ctx: click.Context, token_id: str, db: str | None, as_json: bool) -> None:
    """Revoke a token by its id (as 'tokens list' shows it): refused from the dashboard's next request on."""
    from ..api.controller import Controller
    from ..api.tokens import revoke_token

    with Controller(db) as c:
        record, changed = revoke_token(c, token_id)
    data = {**token_data(record, time.time()), "changed": changed}
    emit(ctx, data, lambda: click.echo(f"token {record.id} " + ("revoked" if changed else
                                                                 f"was already revoked ({when(record.revoked)})")),
         as_json=as_json)
