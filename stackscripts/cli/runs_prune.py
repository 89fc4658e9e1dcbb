"""`stackscripts runs prune --older-than 90d [--dry-run]`: remove old output, keep the runs and their timings."""

from __future__ import annotations

import time

import click

from .common import controller, db_option
from .output import emit, json_option


@click.command("prune")
@click.option("--older-than", "older_than", required=True, metavar="AGE",
              help="Runs that ended more than AGE ago: 90d, 12h, 30m, 45s, 2w.")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@db_option
@json_option
@click.pass_context
def command(ctx: click.Context, older_than: str, dry_run: bool, db: str | None, as_json: bool) -> None:
    """Remove the output of runs that ended more than AGE ago. The runs, their steps, timings and exit codes
    stay; 'runs log' of a pruned step says its output was pruned."""
    from ..api import output

    seconds = output.parse_age(older_than)  # bad input before the store is opened
    with controller(db, printer=False) as c:
        done = output.prune(c.store, seconds, dry_run=dry_run)
    data = {"before": done.before, "dry_run": done.dry_run, "runs": done.runs, "steps": done.steps,
            "chunks": done.chunks, "bytes": done.bytes}

    def human() -> None:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(done.before))
        verb = "would remove" if dry_run else "removed"
        click.echo(f"{verb} the output of {done.runs} run{'s' * (done.runs != 1)} that ended before {when}: "
                   f"{done.steps} step{'s' * (done.steps != 1)}, {done.chunks} chunk{'s' * (done.chunks != 1)}, "
                   f"{output.human_size(done.bytes)}; the runs, their timings and exit codes stay")

    emit(ctx, data, human, as_json=as_json)
