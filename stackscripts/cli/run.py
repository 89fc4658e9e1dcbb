"""`stackscripts run SERVER SCRIPT`: an operational script, on demand."""

from __future__ import annotations

import click

from .common import controller, db_option, quiet_option, run_command
from .output import json_option
from .scripts import library_option
from .templates import input_option


@click.command("run")
@click.argument("server")
@click.argument("script")
@input_option
@library_option
@db_option
@quiet_option
@json_option
@click.pass_context
def command(ctx: click.Context, server: str, script: str, inputs: tuple[str, ...], libraries: tuple[str, ...],
            db: str | None, quiet: bool, as_json: bool) -> None:
    """Run one Operational script (by name or file stem) of SERVER's template."""
    with controller(db, libraries, as_json=as_json, quiet=quiet) as c:
        run_command(ctx, as_json, quiet, lambda: c.run(server, script, inputs))
