"""`stackscripts fleet boot --template T SERVER...`: many servers at once."""

from __future__ import annotations

import click

from .common import controller, run_data, run_options
from .fleet_queued import check_wait, queue_option, queued, wait_option
from .live import fmt_duration
from .output import console, emit, table


@click.group("fleet")
def command() -> None:
    """Run a phase on many servers with bounded parallelism and a failure threshold."""


@command.command("boot")
@click.argument("servers", nargs=-1, required=True)
@click.option("--template", "-t", required=True, metavar="FILE")
@click.option("--parallel", default=20, show_default=True, type=int, help="Servers at once.")
@click.option("--max-errors", default="0", show_default=True, help="Failures tolerated before the rest are skipped (N or N%).")
@queue_option
@wait_option
@run_options
def boot(ctx: click.Context, servers: tuple[str, ...], template: str, parallel: int, max_errors: str, queue: str | None,
         wait_: bool, inputs: tuple[str, ...], libraries: tuple[str, ...], db: str | None, quiet: bool,
         as_json: bool) -> None:
    """Boot every SERVER from the template; a summary table at the end (--queue: workers boot them)."""
    from ..api.fleet import check_boot, check_parallel, error_budget, fleet_boot
    from .live import FleetBoard

    check_wait(queue, wait_)
    if queue is not None:
        from ..api.queued import submit_boot

        queued(ctx, lambda c: submit_boot(c, list(servers), template, inputs, parallel=parallel, max_errors=max_errors,
                                          queue=queue), db=db, libraries=libraries, wait=wait_, quiet=quiet,
               as_json=as_json)
        return

    error_budget(max_errors, len(servers))  # bad options fail before the live table appears
    check_parallel(parallel)
    live = not (as_json or quiet)
    with controller(db, libraries, printer=False) as c:
        if live:
            check_boot(c, servers, template, inputs)  # bad input: one message, not an empty live table
            board = FleetBoard(console())
            c.bus.subscribe(board)
            with board:
                result = fleet_boot(c, list(servers), template, inputs, parallel, max_errors)
        else:
            result = fleet_boot(c, list(servers), template, inputs, parallel, max_errors)
    data = {"ok": result.ok, "servers": [{"server": o.server, "status": o.status, "message": o.message,
                                          "run": run_data(o.result) if o.result else None} for o in result.outcomes]}

    def human() -> None:
        summary = (f"{result.count('succeeded')} succeeded, {result.count('failed')} failed, "
                   f"{result.count('error')} errors, {result.count('skipped')} skipped")
        if quiet:  # one line, without loading rich
            click.echo(summary)
            return
        t = table("Server", "Status", "Run", "Duration", "Detail", title="Fleet boot")
        for o in result.outcomes:
            t.add_row(o.server, o.status, o.result.run_id if o.result else "-", fmt_duration(o.duration),
                      o.message or "")
        console().print(t)
        console().print(summary)

    emit(ctx, data, human, as_json=as_json, ok=result.ok)
