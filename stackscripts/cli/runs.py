"""`stackscripts runs ...`: list, show, export — read from the audit store; log (cli/runs_log.py) and prune
(cli/runs_prune.py) are their own modules."""

from __future__ import annotations

import time

import click

from ..api import views
from .common import controller, db_option
from .live import fmt_duration
from .output import console, emit, json_option, table


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


@click.group("runs")
def command() -> None:
    """Runs recorded in the audit store."""


@command.command("list")
@click.option("--server", help="Only this server's runs.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--team", help="Only this team's runs (default: every run you may see).")
@db_option
@json_option
@click.pass_context
def list_(ctx: click.Context, server: str | None, limit: int, team: str | None, db: str | None,
          as_json: bool) -> None:
    """Newest first: id, server, phase, state, who, when, duration, team."""
    with controller(db, printer=False) as c:
        runs = c.runs(server, limit, team)

    def human() -> None:
        t = table("Run", "Server", "Phase", "State", "Steps", "Started", "Duration", "Who", "Team")
        for r in runs:
            duration = fmt_duration(r.ended - r.started) if r.ended else "-"
            t.add_row(r.id, r.server, r.phase, r.state.value, str(len(r.steps)), _when(r.started), duration, r.who,
                      r.team)
        console().print(t)

    emit(ctx, views.runs_list(runs), human, as_json=as_json)


@command.command("show")
@click.argument("run_id")
@db_option
@json_option
@click.pass_context
def show(ctx: click.Context, run_id: str, db: str | None, as_json: bool) -> None:
    """One run: its steps with exit codes and timing, and its inputs (secrets masked)."""
    with controller(db, printer=False) as c:
        r = c.get_run(run_id)

    def human() -> None:
        out = console()
        out.print(f"[bold]run {r.id}[/]  {r.server}  {r.phase}  {r.state.value}  by {r.who}  at {_when(r.started)}")
        if r.resumed_from:
            out.print(f"resumed from {r.resumed_from}")
        if r.revision:
            out.print(f"revision {r.revision}")
        if r.error:
            out.print(f"error: {r.error}", markup=False)
        t = table("#", "Step", "Exit", "Duration", "Error")
        for s in r.steps:
            duration = fmt_duration(s.ended - s.started) if s.ended and s.started else "-"
            t.add_row(str(s.index + 1), s.name, "-" if s.exit_code is None else str(s.exit_code), duration, s.error or "")
        out.print(t)
        for key, value in r.inputs.items():
            out.print(f"  {key} = {value}", markup=False)

    emit(ctx, views.run_show(r), human, as_json=as_json)


@command.command("export")
@click.argument("run_id")
@click.option("--s3", "s3_url", metavar="s3://BUCKET/PREFIX", help="Write the record to S3 as <prefix>/<run id>.json.")
@db_option
@json_option
@click.pass_context
def export(ctx: click.Context, run_id: str, s3_url: str | None, db: str | None, as_json: bool) -> None:
    """The full record of a run (steps, outputs, masked inputs) as JSON, or into S3."""
    import json

    from ..api import reports

    with controller(db, printer=False) as c:
        if s3_url:
            url = reports.export_run_s3(c, run_id, s3_url)
            full_id = url.rsplit("/", 1)[-1].removesuffix(".json")  # the object is <prefix>/<run id>.json
            emit(ctx, {"run_id": full_id, "url": url}, lambda: click.echo(url), as_json=as_json)
            return
        record = reports.export_run(c, run_id)
    emit(ctx, record, lambda: click.echo(json.dumps(record, indent=2, ensure_ascii=False)), as_json=as_json)


def _add(module: str) -> None:
    from importlib import import_module

    command.add_command(import_module(f"stackscripts.cli.{module}").command)


_add("runs_log")
_add("runs_prune")
