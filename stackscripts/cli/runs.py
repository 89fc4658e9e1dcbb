"""`stackscripts runs ...`: list, show, log — read from the audit store."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import click

from .common import controller, db_option
from .live import collapse, fmt_duration
from .output import console, emit, json_option, table
from .termsafe import printable

if TYPE_CHECKING:
    from ..store.base import RunRecord


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


@click.group("runs")
def command() -> None:
    """Runs recorded in the audit store."""


@command.command("list")
@click.option("--server", help="Only this server's runs.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1_000_000))
@db_option
@json_option
@click.pass_context
def list_(ctx: click.Context, server: str | None, limit: int, db: str | None, as_json: bool) -> None:
    """Newest first: id, server, phase, state, who, when, duration."""
    with controller(db, printer=False) as c:
        runs = c.runs(server, limit)

    def human() -> None:
        t = table("Run", "Server", "Phase", "State", "Steps", "Started", "Duration", "Who")
        for r in runs:
            duration = fmt_duration(r.ended - r.started) if r.ended else "-"
            t.add_row(r.id, r.server, r.phase, r.state.value, str(len(r.steps)), _when(r.started), duration, r.who)
        console().print(t)

    emit(ctx, [{**_summary(r), "steps": len(r.steps)} for r in runs], human, as_json=as_json)


def _summary(r: RunRecord) -> dict[str, Any]:
    return {"id": r.id, "server": r.server, "phase": r.phase, "state": r.state.value, "who": r.who,
            "template": r.template, "started": r.started, "ended": r.ended, "resumed_from": r.resumed_from,
            "error": r.error, "revision": r.revision}


@command.command("show")
@click.argument("run_id")
@db_option
@json_option
@click.pass_context
def show(ctx: click.Context, run_id: str, db: str | None, as_json: bool) -> None:
    """One run: its steps with exit codes and timing, and its inputs (secrets masked)."""
    with controller(db, printer=False) as c:
        r = c.get_run(run_id)
    steps = [{"index": s.index, "name": s.name, "phase": s.phase, "sha256": s.sha256, "exit_code": s.exit_code,
              "error": s.error, "started": s.started, "ended": s.ended, "inputs": dict(s.inputs)} for s in r.steps]

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

    emit(ctx, {**_summary(r), "inputs": dict(r.inputs), "steps": steps}, human, as_json=as_json)


@command.command("log")
@click.argument("run_id")
@click.argument("step", type=int)
@click.option("--stderr", "stream", flag_value="stderr", help="Only stderr.")
@click.option("--stdout", "stream", flag_value="stdout", help="Only stdout.")
@click.option("--raw", is_flag=True, help="The exact bytes the step wrote (control sequences included).")
@db_option
@json_option
@click.pass_context
def log(ctx: click.Context, run_id: str, step: int, stream: str | None, raw: bool, db: str | None,
        as_json: bool) -> None:
    """A step's output (STEP counts from 1), interleaved unless --stdout/--stderr.

    On a terminal, control characters the step printed are shown as escapes (\\x1b...) and progress
    lines drawn with \\r as their last state; --raw writes the exact recorded bytes."""
    from ..errors import NotFound

    with controller(db, printer=False) as c:
        r = c.get_run(run_id)
    found = next((s for s in r.steps if s.index == step - 1), None)
    if found is None:
        have = ", ".join(str(s.index + 1) for s in r.steps) or "none"
        raise NotFound(f"run {r.id} has no step {step}", hint=f"It has steps {have}.")
    text = {"stdout": found.stdout, "stderr": found.stderr}.get(stream or "", found.output)

    def human() -> None:
        if raw:
            sys.stdout.flush()
            sys.stdout.buffer.write(found.raw(stream))
        elif sys.stdout.isatty():
            sys.stdout.write("\n".join(printable(collapse(line)) for line in text.split("\n")))
        else:
            sys.stdout.write(text)

    emit(ctx, {"run_id": r.id, "step": step, "stream": stream or "output", "text": text}, human, as_json=as_json)


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
