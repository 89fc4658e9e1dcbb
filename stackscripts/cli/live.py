"""The terminal observer: each server's current step, elapsed time, and the output as it streams."""

from __future__ import annotations

import threading
import time
from typing import Any

from ..events import Event, RunFinished, RunStarted, StepFinished, StepOutput, StepStarted
from .termsafe import printable

LINE_MAX = 64 * 1024  # characters of an unfinished line held before it is shown anyway


def collapse(line: str) -> str:
    """A line written with carriage returns (a progress bar) as its last state; a CRLF ending is just an ending."""
    return next((part for part in reversed(line.split("\r")) if part), "") if "\r" in line else line


def pending(rest: str) -> str:
    """An unfinished line kept to its current state, so a progress bar without a newline does not pile up."""
    cut = rest.rstrip("\r").rfind("\r")
    return rest[cut + 1:] if cut >= 0 else rest


def fmt_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s"


class StreamPrinter:
    """One server at a time: step banners and line-buffered output (already masked).

    Every printed output line starts with `  SERVER │ `, also where a long line wraps, so that output stays
    attributable (and greppable) when servers interleave; progress bars drawn with \r show their last state."""

    def __init__(self, console: Any, show_output: bool = True) -> None:
        self.console = console
        self.show_output = show_output
        self.totals: dict[str, int] = {}
        self.partial: dict[tuple[str, str], str] = {}
        self.lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self.lock:
            self._handle(event)

    def _handle(self, event: Event) -> None:
        out = self.console
        if isinstance(event, RunStarted):
            self.totals[event.run_id] = event.first_index + len(event.steps)
            out.print(f"[bold]{event.server}[/]: {event.phase.value} run {event.run_id} ({len(event.steps)} steps)")
        elif isinstance(event, StepStarted):
            total = self.totals.get(event.run_id, 0)
            out.print(f"[cyan]▶[/] {event.server} step {event.index + 1}/{total}: [bold]{event.name}[/]")
        elif isinstance(event, StepOutput) and self.show_output:
            key = (event.server, event.stream)
            text = self.partial.pop(key, "") + event.text
            *lines, rest = text.split("\n")
            rest = pending(rest)
            if len(rest) > LINE_MAX:  # a huge line without a newline: shown in pieces, not held in memory
                lines.append(rest)
            elif rest:
                self.partial[key] = rest
            for line in lines:
                self._line(event.server, event.stream, line)
        elif isinstance(event, StepFinished):
            for stream in ("stdout", "stderr"):
                rest = self.partial.pop((event.server, stream), "")
                if rest and self.show_output:
                    self._line(event.server, stream, rest)
            r = event.result
            mark = "[green]✓[/]" if r.ok else "[red]✗[/]"
            detail = "" if r.ok else f" — {r.error or f'exit code {r.exit_code}'}"
            out.print(f"{mark} {event.server} step {r.index + 1}: {r.name} ({fmt_duration(r.duration)}){detail}")
        elif isinstance(event, RunFinished):
            run = event.result
            elapsed = sum(s.duration for s in run.steps)
            colour = "green" if run.ok else "red"
            out.print(f"[{colour}]{event.server}: run {run.run_id} {run.state.value}[/] in {fmt_duration(elapsed)}")


    def _line(self, server: str, stream: str, line: str) -> None:
        """One output line, wrapped to the console's width with the server prefix on every piece."""
        from rich.cells import cell_len
        from rich.text import Text

        prefix = f"  {server} │ "
        width = max(self.console.width - cell_len(prefix), 20)
        # control sequences from the step are shown as escapes, never obeyed by the operator's terminal
        pieces = Text(printable(collapse(line).expandtabs(8))).wrap(self.console, width) or [Text("")]
        style = "dim" if stream == "stdout" else "yellow"
        for piece in pieces:
            self.console.print(Text(prefix) + piece, style=style, markup=False, highlight=False, no_wrap=True,
                               overflow="ignore", crop=False)


class FleetBoard:
    """Many servers: a live table of each server's current step and elapsed time."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self.rows: dict[str, list[Any]] = {}
        self.lock = threading.Lock()
        self.live: Any = None

    def __enter__(self) -> FleetBoard:
        from rich.live import Live

        self.live = Live(self._render(), console=self.console, refresh_per_second=4, transient=False)
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.update(self._render())
        self.live.__exit__(*exc)

    def __call__(self, event: Event) -> None:
        with self.lock:
            if isinstance(event, RunStarted):
                self.rows[event.server] = ["starting", time.monotonic(), len(event.steps) + event.first_index, None]
            elif isinstance(event, StepStarted) and event.server in self.rows:
                self.rows[event.server][0] = f"{event.index + 1}/{self.rows[event.server][2]} {event.name}"
            elif isinstance(event, RunFinished) and event.server in self.rows:
                self.rows[event.server][0] = event.result.state.value
                self.rows[event.server][3] = time.monotonic()
        if self.live is not None:
            self.live.update(self._render())

    def _render(self) -> Any:
        from rich.table import Table

        table = Table(show_edge=False, header_style="bold")
        for column in ("Server", "Step", "Elapsed"):
            table.add_column(column)
        now = time.monotonic()
        for server, (step, started, _, ended) in sorted(self.rows.items()):
            table.add_row(server, step, fmt_duration((ended or now) - started))
        return table
