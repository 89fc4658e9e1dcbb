"""`stackscripts resume RUN_ID`: continue a stranded boot from the failed step."""

from __future__ import annotations

import click

from .common import controller, run_command, run_options


@click.command("resume")
@click.argument("run_id")
@run_options
def command(ctx: click.Context, run_id: str, inputs: tuple[str, ...], libraries: tuple[str, ...], db: str | None,
            quiet: bool, as_json: bool) -> None:
    """Re-run a failed or interrupted run from its failing step, with the same inputs."""
    with controller(db, libraries, as_json=as_json, quiet=quiet) as c:
        run_command(ctx, as_json, quiet, lambda: c.resume(run_id, inputs))
