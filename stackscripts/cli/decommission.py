"""`stackscripts decommission SERVER`: every Decommission script, recorded, within a time budget."""

from __future__ import annotations

import click

from .common import controller, db_option, library_option, quiet_option, run_command
from .output import json_option


@click.command("decommission")
@click.argument("server")
@click.option("--budget", default=600.0, show_default=True, type=float, help="Seconds for all decommission scripts.")
@library_option
@db_option
@quiet_option
@json_option
@click.pass_context
def command(ctx: click.Context, server: str, budget: float, libraries: tuple[str, ...], db: str | None, quiet: bool,
            as_json: bool) -> None:
    """Run SERVER's Decommission scripts (a failure does not stop the rest)."""
    with controller(db, libraries, as_json=as_json, quiet=quiet) as c:
        run_command(ctx, as_json, quiet, lambda: c.decommission(server, budget))
