"""`--queue [--wait]` of fleet boot, deploy and launch: queue the work for workers; print the fleet's id, or watch
it from the store to its end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ..store.fleets import FleetState
from .common import controller
from .output import console, emit

queue_option = click.option("--queue", is_flag=False, flag_value="default", default=None, metavar="[NAME]",
                            help="Queue the work for workers (stackscripts worker) and print the fleet id; NAME: default.")
wait_option = click.option("--wait", "wait_", is_flag=True, help="With --queue: show the live table until the fleet ends.")


def check_wait(queue: str | None, wait: bool) -> None:
    if wait and queue is None:
        from ..errors import BadInput

        raise BadInput("--wait goes with --queue", hint="Without --queue the command runs the work itself, live.")


def queued(ctx: click.Context, submit: Callable[[Any], Any], *, db: str | None, libraries: tuple[str, ...],
           wait: bool, quiet: bool, as_json: bool) -> None:
    """Submit with a controller on the store; then print the fleet id, or follow the fleet and exit 1 unless every
    server succeeded."""
    from ..api.queued import fleet_status
    from .fleet_watch import fleet_table, watch
    from .fleet_watch import wait as wait_quietly
    from .fleets import counts, fleet_data

    with controller(db, libraries, printer=False) as c:
        submitted = submit(c)
        fleet = submitted.fleet
        if submitted.warning and not as_json:
            click.echo(f"warning: {submitted.warning}", err=True)
        if not wait:
            data = {**fleet_data(fleet), "warning": submitted.warning}
            emit(ctx, data, lambda: click.echo(fleet.id if quiet else
                                               f"fleet {fleet.id} queued: {len(fleet.units)} server(s) on queue "
                                               f"{fleet.queue} (stackscripts fleets show {fleet.id})"), as_json=as_json)
            return
        if as_json or quiet:
            fleet = wait_quietly(lambda f: fleet_status(c, f), fleet.id)
        else:
            fleet = watch(lambda f: fleet_status(c, f), fleet.id, console())
    ok = fleet.state == FleetState.SUCCEEDED

    def human() -> None:
        if not quiet:
            console().print(fleet_table(fleet))
        click.echo(f"fleet {fleet.id} {fleet.state}: {counts(fleet)}")

    emit(ctx, {**fleet_data(fleet), "warning": submitted.warning}, human, as_json=as_json, ok=ok,
         message=f"fleet {fleet.id} {fleet.state}")
