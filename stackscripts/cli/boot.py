"""`stackscripts boot SERVER --template T`: the boot sequence, live."""

from __future__ import annotations

import click

from .common import controller, run_command, run_options


@click.command("boot")
@click.argument("server")
@click.option("--template", "-t", required=True, metavar="FILE|REV",
              help="The ServerTemplate to boot from: a file, or a revision kept in the store (sha256:...).")
@click.option("--force", is_flag=True,
              help="Boot a server booted from another template or revision (its history keeps what it was).")
@run_options
def command(ctx: click.Context, server: str, template: str, force: bool, inputs: tuple[str, ...], libraries: tuple[str, ...],
            db: str | None, quiet: bool, as_json: bool) -> None:
    """Run the template's Boot scripts on SERVER; it ends operational, or stranded at the failing step."""
    with controller(db, libraries, as_json=as_json, quiet=quiet) as c:
        run_command(ctx, as_json, quiet, lambda: c.boot(server, template, inputs, force=force))
