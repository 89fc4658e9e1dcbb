"""The seed's boot-time table: each step, its duration, TOTAL; several runs side by side with a delta."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from ..store.base import RunRecord, ServerRecord, StepRecord

LAUNCH_ROW = "Launch and boot (instance to SSH)"


def fmt(seconds: float | None) -> str:
    """53s, 4m57s, 1h02m03s — the seed's style."""
    if seconds is None:
        return "n/a"
    if abs(seconds) < 0.05:
        return "0.0s"
    sign = "-" if seconds < 0 else ""
    total = int(round(abs(seconds)))
    if abs(seconds) < 10 and total < 10:
        return f"{sign}{abs(seconds):.1f}s"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h{minutes:02d}m{secs:02d}s"
    return f"{sign}{minutes}m{secs}s" if minutes else f"{sign}{secs}s"


def step_seconds(step: StepRecord) -> float | None:
    if step.started is None or step.ended is None:
        return None
    return step.ended - step.started


def launch_seconds(run: RunRecord, server: ServerRecord | None) -> float | None:
    """Instance creation to SSH, for a server's first boot run only."""
    if server is None or run.phase != "Boot" or run.resumed_from:
        return None
    started, ready = server.extra.get("launch_started"), server.extra.get("ssh_ready")
    if not started or not ready or ready > run.started + 1:
        return None
    return float(ready) - float(started)


@dataclass(frozen=True)
class Row:
    label: str
    values: tuple[float | None, ...]
    failed: tuple[bool, ...]


@dataclass(frozen=True)
class Comparison:
    runs: tuple[RunRecord, ...]
    rows: tuple[Row, ...]
    totals: tuple[float, ...]


def compare(runs: Sequence[RunRecord], servers: Mapping[str, ServerRecord] | None = None) -> Comparison:
    """Steps matched by phase and name across runs, in first-seen order; n/a where a run lacks one."""
    servers = servers or {}
    phases = {r.phase for r in runs}
    keys: list[tuple[str, str]] = []
    cells: list[dict[tuple[str, str], StepRecord]] = []
    for run in runs:
        by_key: dict[tuple[str, str], StepRecord] = {}
        for step in sorted(run.steps, key=lambda s: s.index):
            key = (step.phase or run.phase, step.name)
            by_key[key] = step
            if key not in keys:
                keys.append(key)
        cells.append(by_key)
    rows = []
    launches = tuple(launch_seconds(r, servers.get(r.server)) for r in runs)
    if any(v is not None for v in launches):
        rows.append(Row(LAUNCH_ROW, launches, tuple(False for _ in runs)))
    for key in keys:
        label = f"{key[0]}: {key[1]}" if len(phases) > 1 else key[1]
        steps = [c.get(key) for c in cells]
        rows.append(Row(label, tuple(step_seconds(s) if s else None for s in steps),
                        tuple(bool(s and (s.error or (s.exit_code not in (0, None)))) for s in steps)))
    totals = tuple(sum(row.values[i] or 0.0 for row in rows) for i in range(len(runs)))
    return Comparison(tuple(runs), tuple(rows), totals)


def render(comparison: Comparison, title: str = "Boot time steps") -> str:
    """A Markdown table like the seed's; failed steps marked ✗, a delta column when runs are compared."""
    runs = comparison.runs
    delta = len(runs) > 1
    header = [title, *(f"{r.server} {r.id}" for r in runs)] + (["delta"] if delta else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]

    def cells(values: Sequence[float | None], failed: Sequence[bool]) -> list[str]:
        out = [fmt(v) + (" ✗" if f else "") for v, f in zip(values, failed)]
        if delta:
            first, last = values[0], values[-1]
            out.append("n/a" if first is None or last is None else ("+" if last - first >= 0 else "") + fmt(last - first))
        return out

    for row in comparison.rows:
        lines.append("| " + " | ".join([row.label, *cells(row.values, row.failed)]) + " |")
    lines.append("| " + " | ".join(["TOTAL", *cells(comparison.totals, [False] * len(runs))]) + " |")
    states = [f"{r.server} {r.id}: {r.state}" for r in runs if r.state != "succeeded"]
    return "\n".join(lines) + ("\n" + "\n".join(states) if states else "") + "\n"


def boot_table(runs: Sequence[RunRecord], servers: Mapping[str, ServerRecord] | None = None) -> str:
    return render(compare(runs, servers))


def as_data(comparison: Comparison) -> dict:
    return {
        "runs": [{"id": r.id, "server": r.server, "phase": r.phase, "state": r.state} for r in comparison.runs],
        "rows": [{"step": row.label, "seconds": list(row.values), "failed": list(row.failed)} for row in comparison.rows],
        "totals": list(comparison.totals),
    }
