"""`stackscripts fleet boot --template T (SERVER... | --group G)` and `fleet run` (cli/fleet_run.py): many servers
at once."""

from __future__ import annotations

import click

from .common import controller, run_options
from .fleet_queued import check_wait, queue_option, queued, wait_option
from .fleet_run import check_selection, group_option, live, selected, summarize
from .fleet_run import run as run_command


@click.group("fleet")
def command() -> None:
    """Run a phase or an operational script on many servers with bounded parallelism and a failure threshold."""


command.add_command(run_command)


@command.command("boot")
@click.argument("servers", nargs=-1)
@group_option
@click.option("--template", "-t", required=True, metavar="FILE")
@click.option("--parallel", default=20, show_default=True, type=int, help="Servers at once.")
@click.option("--max-errors", default="0", show_default=True, help="Failures tolerated before the rest are skipped (N or N%).")
@queue_option
@wait_option
@run_options
def boot(ctx: click.Context, servers: tuple[str, ...], group: str | None, template: str, parallel: int,
         max_errors: str, queue: str | None, wait_: bool, inputs: tuple[str, ...], libraries: tuple[str, ...],
         db: str | None, quiet: bool, as_json: bool) -> None:
    """Boot every SERVER (or every live server of --group) from the template; a summary table at the end (--queue:
    workers boot them)."""
    from ..api.fleet import check_boot, check_parallel, error_budget, fleet_boot

    check_selection(servers, group=group, deployment_allowed=False)
    check_wait(queue, wait_)
    if queue is not None:
        from ..api.queued import submit_boot

        queued(ctx, lambda c: submit_boot(c, selected(c, servers, group=group), template, inputs, parallel=parallel,
                                          max_errors=max_errors, queue=queue), db=db, libraries=libraries,
               wait=wait_, quiet=quiet, as_json=as_json)
        return

    check_parallel(parallel)
    with controller(db, libraries, printer=False) as c:
        names = selected(c, servers, group=group)
        error_budget(max_errors, len(names))  # bad options and bad input fail before the live table appears
        check_boot(c, names, template, inputs)
        result = live(c, lambda: fleet_boot(c, names, template, inputs, parallel, max_errors), quiet=quiet,
                      as_json=as_json)
    summarize(ctx, result, "Fleet boot", quiet=quiet, as_json=as_json)
