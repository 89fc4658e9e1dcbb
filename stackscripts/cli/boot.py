"""`stackscripts boot SERVER --template T`: the boot sequence, live."""

from __future__ import annotations

import click

from .common import controller, db_option, quiet_option, run_command
from .output import json_option
from .scripts import library_option
from .templates import input_option


@click.command("boot")
@click.argument("server")
@click.option("--template", "-t", required=True, metavar="FILE", help="The ServerTemplate to boot from.")
@input_option
@library_option
@db_option
@quiet_option
@json_option
@click.pass_context
def command(ctx: click.Context, server: str, template: str, inputs: tuple[str, ...], libraries: tuple[str, ...],
            db: str | None, quiet: bool, as_json: bool) -> None:
    """Run the template's Boot scripts on SERVER; it ends operational, or stranded at the failing step."""
    with controller(db, libraries, as_json=as_json, quiet=quiet) as c:
        run_command(ctx, as_json, quiet, lambda: c.boot(server, template, inputs))
