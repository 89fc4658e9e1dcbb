"""`stackscripts store ...`: init, migrate, status — the audit store itself (a SQLite file or a PostgreSQL DSN)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .common import db_option
from .output import emit, json_option

if TYPE_CHECKING:
    from ..store.schema_state import SchemaStatus


@click.group("store")
def command() -> None:
    """The audit store: which backend and schema version (status), create it (init), apply migrations (migrate).

    --db (or STACKSCRIPTS_DB) is a SQLite file or postgresql://USER@HOST:PORT/DATABASE; a PostgreSQL password
    comes from ~/.pgpass, PGPASSFILE or PGPASSWORD, never from the command line (docs/team-store.md)."""


def status_data(found: SchemaStatus) -> dict[str, Any]:
    return {"backend": found.backend, "location": found.location, "exists": found.exists,
            "schema_version": found.version, "latest_version": found.latest,
            "pending": [{"version": number, "description": text} for number, text in found.pending],
            "applied": list(found.applied)}


def show(ctx: click.Context, found: SchemaStatus, as_json: bool, done: str | None = None) -> None:
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

    emit(ctx, status_data(found), human, as_json=as_json)


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
    """Create the store (a new SQLite file, or the schema in an empty PostgreSQL database), or migrate it."""
    from ..api import store

    show(ctx, store.init(db), as_json, "init")


@command.command("migrate")
@db_option
@json_option
@click.pass_context
def migrate(ctx: click.Context, db: str | None, as_json: bool) -> None:
    """Apply pending migrations to an existing store (one transaction, under a lock: safe beside other commands)."""
    from ..api import store

    show(ctx, store.migrate(db), as_json, "migrate")
