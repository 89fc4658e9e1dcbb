"""Options and helpers shared by the commands that touch servers and runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ..model import RunResult
from .output import console

db_option = click.option("--db", envvar="STACKSCRIPTS_DB", metavar="FILE|DSN",
                         help="Audit store: a SQLite file or postgresql://USER@HOST:PORT/DATABASE (password from "
                              "~/.pgpass); default $STACKSCRIPTS_DB, else ~/.local/state/stackscripts/audit.db.")
quiet_option = click.option("--quiet", "-q", is_flag=True, help="Only the final summary.")
library_option = click.option("--library", "-L", "libraries", multiple=True, metavar="DIR|NAME=DIR",
                              help="A script library folder (repeatable). Default: $STACKSCRIPTS_LIBRARY, then ./scripts.")
input_option = click.option("-i", "--input", "inputs", multiple=True, metavar="NAME=VALUE",
                            help="Override an input (highest precedence), e.g. -i DOCKER_PACKAGE=text:docker.io.")


def run_options(fn: Callable) -> Callable:
    """The options of every command that runs scripts: -i, --library, --db, --quiet, --json."""
    from .output import json_option

    for option in (json_option, quiet_option, db_option, library_option, input_option):
        fn = option(fn)
    return click.pass_context(fn)


def controller(db: str | None, libraries: tuple[str, ...] = (), *, as_json: bool = False, quiet: bool = False,
               printer: bool = True) -> Any:
    """A Controller whose terminal observer matches the output mode (none with --json or --quiet)."""
    from ..api.controller import Controller

    subscribers: list[Callable] = []
    if printer and not as_json and not quiet:
        from .live import StreamPrinter

        subscribers.append(StreamPrinter(console()))
    return Controller(db, libraries=libraries, subscribers=subscribers)


def run_data(result: RunResult) -> dict:
    return {
        "run_id": result.run_id, "server": result.server, "phase": result.phase.value, "state": result.state.value,
        "steps": [{"index": s.index, "name": s.name, "exit_code": s.exit_code, "error": s.error,
                   "started": s.started, "ended": s.ended, "duration": round(s.duration, 3)} for s in result.steps],
    }


def run_command(ctx: click.Context, as_json: bool, quiet: bool, action: Callable[[], RunResult]) -> None:
    """Run, then print the envelope (--json) or a one-line summary (--quiet); exit 1 if it failed."""
    from ..errors import RunFailed
    from .output import emit

    try:
        result, ok = action(), True
    except RunFailed as exc:
        if exc.result is None:
            raise
        result, ok = exc.result, False
        if not as_json:
            click.echo(f"stackscripts: {exc.message}", err=True)

    def human() -> None:
        if quiet:
            click.echo(f"{result.server}: run {result.run_id} {result.state.value}")
        if not ok:
            click.echo(f"Resume with: stackscripts resume {result.run_id}", err=True)

    emit(ctx, run_data(result), human, as_json=as_json, ok=ok)
