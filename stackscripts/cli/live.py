"""The terminal observer: each server's current step, elapsed time, and the output as it streams."""

from __future__ import annotations

import threading
import time
from typing import Any

from ..events import Event, RunFinished, RunStarted, StepFinished, StepOutput, StepStarted


def fmt_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s"


class StreamPrinter:
    """One server at a time: step banners and line-buffered output (already masked)."""

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
            if rest:
                self.partial[key] = rest
            style = "dim" if event.stream == "stdout" else "yellow"
            for line in lines:
                out.print(f"  {event.server} │ {line}", style=style, markup=False, highlight=False)
        elif isinstance(event, StepFinished):
            for stream in ("stdout", "stderr"):
                rest = self.partial.pop((event.server, stream), "")
                if rest and self.show_output:
                    out.print(f"  {event.server} │ {rest}", markup=False, highlight=False)
            r = event.result
            mark = "[green]✓[/]" if r.ok else "[red]✗[/]"
            detail = "" if r.ok else f" — {r.error or f'exit code {r.exit_code}'}"
            out.print(f"{mark} {event.server} step {r.index + 1}: {r.name} ({fmt_duration(r.duration)}){detail}")
        elif isinstance(event, RunFinished):
            run = event.result
            elapsed = sum(s.duration for s in run.steps)
            colour = "green" if run.ok else "red"
            out.print(f"[{colour}]{event.server}: run {run.run_id} {run.state.value}[/] in {fmt_duration(elapsed)}")


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
