"""`stackscripts run SERVER SCRIPT`: an operational script, or any script file, on demand."""

from __future__ import annotations

import click

from .common import controller, run_command, run_options


@click.command("run")
@click.argument("server")
@click.argument("script")
@run_options
def command(ctx: click.Context, server: str, script: str, inputs: tuple[str, ...], libraries: tuple[str, ...],
            db: str | None, quiet: bool, as_json: bool) -> None:
    """Run one Operational script (by name or file stem) of SERVER's template, or a script file.

    SCRIPT is a file when it contains '/' or ends in .sh or .bash and the file exists: it runs once as an
    Operational run of its own revision (adhoc/NAME, kept in the store), with the server's recorded inputs and -i."""
    from ..api.adhoc import is_script_file, run_script

    with controller(db, libraries, as_json=as_json, quiet=quiet) as c:
        if is_script_file(script):
            run_command(ctx, as_json, quiet, lambda: run_script(c, server, script, inputs))
        else:
            run_command(ctx, as_json, quiet, lambda: c.run(server, script, inputs))
