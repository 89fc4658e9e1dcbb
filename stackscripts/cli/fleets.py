"""`stackscripts fleets list | show FLEET | cancel FLEET`: queued fleets, read from the team store."""

from __future__ import annotations

import time

import click

from ..api.views import fleet_data
from .common import db_option
from .output import console, emit, json_option, table


@click.group("fleets")
def command() -> None:
    """Queued fleets (fleet boot --queue, deploy --queue, launch --queue): list, show, cancel."""


def counts(fleet: object) -> str:
    from ..store.fleets import UNIT_ACTIVE, UNIT_DONE

    units = getattr(fleet, "units", ())
    return ", ".join(f"{n} {state}" for state in (*UNIT_ACTIVE, *UNIT_DONE)
                     if (n := sum(1 for u in units if u.state == state)))


@command.command("list")
@click.option("--limit", default=20, show_default=True, type=int)
@db_option
@json_option
@click.pass_context
def list_(ctx: click.Context, limit: int, db: str | None, as_json: bool) -> None:
    """Queued fleets, newest first."""
    from ..api.controller import Controller
    from ..api.queued import list_fleets

    with Controller(db) as c:
        fleets = list_fleets(c, limit)

    def human() -> None:
        t = table("Fleet", "Kind", "State", "Servers", "Units", "Queue", "Created", "By")
        for f in fleets:
            t.add_row(f.id, f.kind, f.state, str(len(f.units)), counts(f), f.queue,
                      time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(f.created)), f.who)
        console().print(t)

    emit(ctx, {"fleets": [fleet_data(f) for f in fleets]}, human, as_json=as_json)


@command.command("show")
@click.argument("fleet")
@db_option
@json_option
@click.pass_context
def show(ctx: click.Context, fleet: str, db: str | None, as_json: bool) -> None:
    """One fleet: each server's state, step, worker and run, from the store (any machine can watch)."""
    from ..api.controller import Controller
    from ..api.queued import fleet_status
    from .fleet_watch import fleet_table

    with Controller(db) as c:
        record = fleet_status(c, fleet)
    emit(ctx, fleet_data(record), lambda: console().print(fleet_table(record)), as_json=as_json)


@command.command("cancel")
@click.argument("fleet")
@db_option
@json_option
@click.pass_context
def cancel(ctx: click.Context, fleet: str, db: str | None, as_json: bool) -> None:
    """Cancel the servers not started; the workers stop the running steps (recorded as cancelled)."""
    from ..api.controller import Controller
    from ..api.queued import cancel_fleet

    with Controller(db) as c:
        record = cancel_fleet(c, fleet)
    running = record.count("running")
    emit(ctx, fleet_data(record), lambda: click.echo(
        f"fleet {record.id}: {counts(record)}" + (f"; the workers stop the {running} running" if running else "")),
        as_json=as_json)
