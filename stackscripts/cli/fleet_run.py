"""`stackscripts fleet run SCRIPT (--deployment D | --group G | SERVER...)`: one operational script on many servers;
also the server selection and the summary table that `fleet boot` shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from .common import controller, run_data, run_options
from .output import console, emit, table

if TYPE_CHECKING:
    from ..api.fleet import FleetResult

deployment_option = click.option("--deployment", metavar="NAME", help="Every live server of this deployment.")
group_option = click.option("--group", metavar="NAME",
                            help="Every live server of this group (groups as `servers import` records them).")


def check_selection(servers: tuple[str, ...], *, group: str | None, deployment: str | None = None,
                    deployment_allowed: bool = True) -> None:
    """Exactly one way of naming the servers (a usage error, exit 2, otherwise)."""
    ways = ["SERVER...", "--deployment D", "--group G"] if deployment_allowed else ["SERVER...", "--group G"]
    given = sum(1 for way in (servers, deployment, group) if way)
    if given != 1:
        raise click.UsageError(f"give exactly one of {', '.join(ways[:-1])} or {ways[-1]}"
                               + (" (not several)" if given else ""))


def selected(c: Any, servers: tuple[str, ...], *, group: str | None, deployment: str | None = None) -> list[str]:
    """The servers' names: as given, or the live servers of the deployment or group (NotFound if none)."""
    if servers:
        return list(servers)
    from ..api.servers import select_servers

    return [s.name for s in select_servers(c.store, deployment=deployment, group=group)]


def summarize(ctx: click.Context, result: FleetResult, title: str, *, quiet: bool, as_json: bool) -> None:
    """Each server's outcome: a table titled `title` and the counts (--quiet: the counts), or the envelope; exit 1
    unless every server succeeded."""
    data = {"ok": result.ok, "servers": [{"server": o.server, "status": o.status, "message": o.message,
                                          "run": run_data(o.result) if o.result else None} for o in result.outcomes]}

    def human() -> None:
        summary = (f"{result.count('succeeded')} succeeded, {result.count('failed')} failed, "
                   f"{result.count('error')} errors, {result.count('skipped')} skipped")
        if quiet:  # one line, without loading rich
            click.echo(summary)
            return
        from .live import fmt_duration  # the live board's module: a --quiet or --json run does not load it

        t = table("Server", "Status", "Run", "Duration", "Detail", title=title)
        for o in result.outcomes:
            t.add_row(o.server, o.status, o.result.run_id if o.result else "-", fmt_duration(o.duration),
                      o.message or "")
        console().print(t)
        console().print(summary)

    emit(ctx, data, human, as_json=as_json, ok=result.ok)


def live(c: Any, work: Callable[[], FleetResult], *, quiet: bool, as_json: bool) -> FleetResult:
    """Do the work with the live board of every server's current step (not with --json or --quiet)."""
    if as_json or quiet:
        return work()
    from .live import FleetBoard

    out = console()
    board = FleetBoard(out)
    c.bus.subscribe(board)
    with board:
        result = work()
    if not out.is_terminal:  # rich ends a live display without a newline where it is not a terminal
        out.line()
    return result


@click.command("run")
@click.argument("script")
@click.argument("servers", nargs=-1)
@deployment_option
@group_option
@click.option("--parallel", default=20, show_default=True, type=int, help="Servers at once.")
@click.option("--max-errors", default="0", show_default=True, help="Failures tolerated before the rest are skipped (N or N%).")
@run_options
def run(ctx: click.Context, script: str, servers: tuple[str, ...], deployment: str | None, group: str | None,
        parallel: int, max_errors: str, inputs: tuple[str, ...], libraries: tuple[str, ...], db: str | None,
        quiet: bool, as_json: bool) -> None:
    """Run one Operational script (by name or file stem, or a script file: a path or a .sh name that exists) on
    every server: SERVER..., or a deployment's or group's live servers. Every server is checked first; a summary
    table at the end; exit 1 if a server failed."""
    from ..api.fleet import check_parallel, check_run, error_budget, fleet_run

    check_selection(servers, deployment=deployment, group=group)
    check_parallel(parallel)
    with controller(db, libraries, printer=False) as c:
        names = selected(c, servers, deployment=deployment, group=group)
        error_budget(max_errors, len(names))  # bad options and bad input fail before the live table appears
        check_run(c, names, script, inputs)
        result = live(c, lambda: fleet_run(c, names, script, inputs, parallel, max_errors), quiet=quiet,
                      as_json=as_json)
    summarize(ctx, result, f"Fleet run: {script}", quiet=quiet, as_json=as_json)
