"""`stackscripts runs log RUN STEP [--follow]`: a step's output, read from the store a page at a time, or followed as
it streams from whichever controller runs it (docs/team-store.md, "Following a step")."""

from __future__ import annotations

import codecs
import sys
from collections.abc import Iterable

import click

from .common import controller, db_option
from .live import collapse
from .output import emit, json_option
from .termsafe import printable


class Writer:
    """Writes output to stdout as it comes: the exact bytes (--raw), the text (a pipe: invalid UTF-8 as U+FFFD), or
    on a terminal each line with its control characters shown as escapes and a \\r-drawn line as its last state."""

    def __init__(self, raw: bool, tty: bool) -> None:
        self.raw, self.tty = raw, tty
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._line = ""  # a terminal's unfinished line

    def write(self, data: bytes, final: bool = False) -> None:
        if self.raw:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        text = self._decoder.decode(data, final=final)
        if not self.tty:
            sys.stdout.write(text)
        else:
            *lines, self._line = (self._line + text).split("\n")
            sys.stdout.write("".join(printable(collapse(line)) + "\n" for line in lines))
            if final:
                sys.stdout.write(printable(collapse(self._line)))
        sys.stdout.flush()

    def close(self) -> None:
        self.write(b"", final=True)


def _ending(step: object | None) -> str:
    exit_code, error = getattr(step, "exit_code", None), getattr(step, "error", None)
    if error:
        return f"ended: {error}" + ("" if exit_code is None else f" (exit code {exit_code})")
    return "ended" if exit_code is None else f"ended: exit code {exit_code}"


@click.command("log")
@click.argument("run_id")
@click.argument("step", type=int)
@click.option("--stderr", "stream", flag_value="stderr", help="Only stderr.")
@click.option("--stdout", "stream", flag_value="stdout", help="Only stdout.")
@click.option("--raw", is_flag=True, help="The exact bytes the step wrote (control sequences included).")
@click.option("--follow", "-f", is_flag=True,
              help="Print the output as it arrives, from any machine, until the step ends (then say how on stderr).")
@db_option
@json_option
@click.pass_context
def command(ctx: click.Context, run_id: str, step: int, stream: str | None, raw: bool, follow: bool, db: str | None,
            as_json: bool) -> None:
    """A step's output (STEP counts from 1), interleaved unless --stdout/--stderr.

    On a terminal, control characters the step printed are shown as escapes (\\x1b...) and progress
    lines drawn with \\r as their last state; --raw writes the exact recorded bytes. --follow prints a
    step still running as it streams and ends when the step ends (exit 0; its exit code on stderr)."""
    from ..api import output

    with controller(db, printer=False) as c:
        run, found = output.find_step(c.store, run_id, step, wait=follow)
        index = step - 1
        pieces: Iterable[bytes] = (output.follow if follow else output.read)(c.store, run.id, index, stream)
        if as_json:
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            text = "".join(decoder.decode(piece) for piece in pieces) + decoder.decode(b"", final=True)
        else:
            writer = Writer(raw, sys.stdout.isatty())
            for piece in pieces:
                writer.write(piece)
            writer.close()
        ended = output.step_end(c.store, run.id, index) if follow else found
    data: dict[str, object] = {"run_id": run.id, "step": step, "stream": stream or "output"}
    if as_json:
        data["text"] = text
    if follow and ended is not None:
        data.update(exit_code=ended.exit_code, error=ended.error, ended=ended.ended)

    def human() -> None:
        if follow:
            name = f" ({ended.name})" if ended is not None else ""
            click.echo(f"stackscripts: step {step}{name} of run {run.id} {_ending(ended)}", err=True)

    emit(ctx, data, human, as_json=as_json)
