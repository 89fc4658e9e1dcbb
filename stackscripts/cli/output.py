"""Output for every command: the versioned JSON envelope, or rich text for people."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from ..envelope import API_VERSION, envelope, error_of, jsonable

__all__ = ["API_VERSION", "command_name", "console", "emit", "envelope", "fail", "json_option", "jsonable", "table",
           "wants_json"]


def json_option(fn: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print a versioned JSON envelope and nothing else.")(fn)


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 200  # pipes and logs get full lines, not folded cells
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def table(*columns: str, title: str | None = None) -> Any:
    from rich.table import Table

    t = Table(title=title, show_edge=False, header_style="bold", pad_edge=False)
    for column in columns:
        t.add_column(column, overflow="fold")
    return t


def emit(ctx: click.Context, data: Any, human: Callable[[], object], *, as_json: bool, ok: bool = True,
         exit_code: int = 1, message: str = "one or more steps failed") -> None:
    """Print the result: the envelope with --json, else the human view; exit with exit_code when not ok."""
    if as_json:
        error = None if ok else {"type": "Failed", "message": message, "exit_code": exit_code}
        click.echo(envelope(command_name(ctx), data=data, error=error))
    else:
        human()
    if not ok:
        ctx.exit(exit_code)


def command_name(ctx: click.Context | None) -> str:
    parts = []
    while ctx is not None and ctx.parent is not None:
        parts.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(parts))


def wants_json(argv: list[str]) -> bool:
    return "--json" in argv


def fail(command: str, exc: BaseException, *, exit_code: int, as_json: bool, kind: str | None = None) -> None:
    """Report an error: one paragraph on stderr, or the envelope on stdout with --json."""
    message = str(exc)
    if as_json:
        sys.stdout.write(envelope(command, error=error_of(exc, exit_code=exit_code, kind=kind)) + "\n")
    else:
        prefix = "error" if exit_code != 3 else "internal error"
        sys.stderr.write(f"stackscripts: {prefix}: {message}\n")
