"""`stackscripts workers list`: the workers alive on the team store, their load and last heartbeat."""

from __future__ import annotations

import time

import click

from .common import db_option
from .output import console, emit, json_option, table


@click.group("workers")
def command() -> None:
    """Workers serving queued units."""


@command.command("list")
@click.option("--all", "everyone", is_flag=True, help="Stopped and silent workers too.")
@db_option
@json_option
@click.pass_context
def list_(ctx: click.Context, everyone: bool, db: str | None, as_json: bool) -> None:
    """Alive workers: host, pid, queues, load of concurrency, last heartbeat."""
    from dataclasses import asdict

    from ..api.controller import Controller
    from ..api.queued import list_workers

    with Controller(db) as c:
        workers = list_workers(c, stopped=everyone)
    now = time.time()

    def human() -> None:
        t = table("Worker", "Host", "PID", "Queues", "Load", "Heartbeat", "State")
        for w in workers:
            state = "alive" if w.alive else ("stopped" if w.stopped else "silent")
            t.add_row(w.id, w.host, str(w.pid), ", ".join(w.queues), f"{w.load}/{w.concurrency}",
                      f"{max(0.0, now - w.heartbeat):.0f}s ago", state)
        console().print(t)
        if not workers:
            click.echo("no worker is alive: start one with 'stackscripts worker --db DSN'")

    emit(ctx, {"workers": [asdict(w) for w in workers]}, human, as_json=as_json)
