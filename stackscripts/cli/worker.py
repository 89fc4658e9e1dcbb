"""`stackscripts worker`: run queued units (fleets boot --queue, deploy --queue, launch --queue) until stopped."""

from __future__ import annotations

import signal
from types import FrameType

import click

from .common import db_option, library_option
from .output import emit, json_option


@click.command("worker")
@click.option("--concurrency", default=50, show_default=True, type=int, help="Units (servers) worked on at once.")
@click.option("--queue", "queues", multiple=True, metavar="NAME", help="A queue to serve (repeatable; default: default).")
@library_option
@db_option
@json_option
@click.pass_context
def command(ctx: click.Context, concurrency: int, queues: tuple[str, ...], libraries: tuple[str, ...], db: str | None,
            as_json: bool) -> None:
    """Serve queued units from the team store until SIGTERM or Ctrl-C: the running steps finish and their units are
    handed back to the queue (a second signal stops the steps at once)."""
    from ..api.controller import Controller
    from ..api.worker import Worker

    def log(line: str) -> None:
        from .termsafe import printable

        click.echo(printable(line), err=True)

    with Controller(db, libraries=libraries) as c:
        worker = Worker(c, queues=queues or ("default",), concurrency=concurrency, log=log)
        received: list[int] = []

        def stop(signum: int, frame: FrameType | None) -> None:
            received.append(signum)
            log("stopping: the running steps finish, their units go back to the queue" if len(received) == 1
                else "stopping now: the running steps are stopped, their units go back to the queue")
            worker.stop(now=len(received) > 1)

        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, stop)
        worker.run()
    emit(ctx, {"worker": worker.id, "queues": list(worker.queues), "stopped": True},
         lambda: log(f"worker {worker.id} stopped"), as_json=as_json)
