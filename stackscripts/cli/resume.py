"""`stackscripts resume RUN_ID`: continue a stranded boot from the failed step."""

from __future__ import annotations

import click

from .common import controller, db_option, quiet_option, run_command
from .output import json_option
from .scripts import library_option
from .templates import input_option


@click.command("resume")
@click.argument("run_id")
@input_option
@library_option
@db_option
@quiet_option
@json_option
@click.pass_context
def command(ctx: click.Context, run_id: str, inputs: tuple[str, ...], libraries: tuple[str, ...], db: str | None,
            quiet: bool, as_json: bool) -> None:
    """Re-run a failed or interrupted run from its failing step, with the same inputs."""
    with controller(db, libraries, as_json=as_json, quiet=quiet) as c:
        run_command(ctx, as_json, quiet, lambda: c.resume(run_id, inputs))
