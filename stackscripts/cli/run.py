"""`stackscripts run SERVER SCRIPT`: an operational script, on demand."""

from __future__ import annotations

import click

from .common import controller, run_command, run_options


@click.command("run")
@click.argument("server")
@click.argument("script")
@run_options
def command(ctx: click.Context, server: str, script: str, inputs: tuple[str, ...], libraries: tuple[str, ...],
            db: str | None, quiet: bool, as_json: bool) -> None:
    """Run one Operational script (by name or file stem) of SERVER's template."""
    with controller(db, libraries, as_json=as_json, quiet=quiet) as c:
        run_command(ctx, as_json, quiet, lambda: c.run(server, script, inputs))
