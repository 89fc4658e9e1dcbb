"""The seed's boot-time table: each step, its duration, TOTAL; several runs side by side with a delta."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..model import Phase, RunState
from ..store.base import RunRecord, ServerRecord, StepRecord

LAUNCH_ROW = "Launch and boot (instance to SSH)"


def fmt(seconds: float | None) -> str:
    """53s, 4m57s, 1h02m03s — the seed's style."""
    if seconds is None:
        return "n/a"
    if abs(seconds) < 0.05:
        return "0.0s"
    sign = "-" if seconds < 0 else ""
    if round(abs(seconds), 1) < 10:  # 9.94 is 9.9s, 9.96 is 10s
        return f"{sign}{abs(seconds):.1f}s"
    total = round(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h{minutes:02d}m{secs:02d}s"
    return f"{sign}{minutes}m{secs}s" if minutes else f"{sign}{secs}s"


def signed(seconds: float) -> str:
    """A delta: +40s, -2m42s, and 0.0s (no sign) when it rounds to nothing."""
    text = fmt(seconds)
    return text if text.startswith("-") or text == "0.0s" else "+" + text


def step_seconds(step: StepRecord) -> float | None:
    if step.started is None or step.ended is None:
        return None
    return step.ended - step.started


def launch_seconds(run: RunRecord, server: ServerRecord | None) -> float | None:
    """Instance creation to SSH, for a server's first boot run only."""
    if server is None or run.phase != Phase.BOOT.value or run.resumed_from:
        return None
    started, ready = server.extra.get("launch_started"), server.extra.get("ssh_ready")
    if not started or not ready or ready > run.started + 1:
        return None
    return float(ready) - float(started)


@dataclass(frozen=True)
class Row:
    """One line of the table: a step (or the launch) and its seconds in each run, None where a run lacks it."""

    label: str
    values: tuple[float | None, ...]
    failed: tuple[bool, ...]


@dataclass(frozen=True)
class Comparison:
    """Runs side by side: their steps matched by phase and name, and each run's total."""

    runs: tuple[RunRecord, ...]
    rows: tuple[Row, ...]
    totals: tuple[float, ...]


def _merge(keys: list[tuple[str, str]], run_keys: Sequence[tuple[str, str]]) -> None:
    """Add a run's new keys in place: after the step that precedes them in that run (the seed's
    'Install ruby' sits between the steps around it), or before the first row of their phase."""
    previous: tuple[str, str] | None = None
    for key in run_keys:
        if key not in keys:
            if previous is not None:
                at = keys.index(previous) + 1
            else:
                at = next((i for i, k in enumerate(keys) if k[0] == key[0]), len(keys))
            keys.insert(at, key)
        previous = key


def _keyed(run: RunRecord) -> dict[tuple[str, str], list[StepRecord]]:
    """A run's steps by (phase, row) in step order: a step with a Stage is counted in its stage's row (all its
    phase's steps of that stage together), any other in its own, named after it; a name seen again in a phase gets
    ' (2)', ' (3)'..."""
    by_key: dict[tuple[str, str], list[StepRecord]] = {}
    for step in sorted(run.steps, key=lambda s: s.index):
        phase = step.phase or run.phase
        if step.stage:
            by_key.setdefault((phase, step.stage), []).append(step)
            continue
        name, n = step.name, 1
        while (phase, name) in by_key:
            n += 1
            name = f"{step.name} ({n})"
        by_key[(phase, name)] = [step]
    return by_key


def step_failed(step: StepRecord | None) -> bool:
    return bool(step and (step.error or step.exit_code not in (0, None)))


def _seconds(steps: Sequence[StepRecord]) -> float | None:
    """A row's time in one run: its steps' durations summed; None where the run lacks the row or never timed it."""
    timed = [seconds for seconds in map(step_seconds, steps) if seconds is not None]
    return sum(timed) if timed else None


def compare(runs: Sequence[RunRecord], servers: Mapping[str, ServerRecord] | None = None) -> Comparison:
    """Steps matched by phase and stage (or name) across runs, in their runs' order; n/a where a run lacks one."""
    servers = servers or {}
    phases = {r.phase for r in runs} | {s.phase for r in runs for s in r.steps if s.phase}
    keys: list[tuple[str, str]] = []
    cells = [_keyed(run) for run in runs]
    for by_key in cells:
        _merge(keys, list(by_key))
    rows = []
    launches = tuple(launch_seconds(r, servers.get(r.server)) for r in runs)
    if any(v is not None for v in launches):
        rows.append(Row(LAUNCH_ROW, launches, tuple(False for _ in runs)))
    for key in keys:
        label = f"{key[0]}: {key[1]}" if len(phases) > 1 else key[1]
        groups = [c.get(key, []) for c in cells]
        rows.append(Row(label, tuple(_seconds(steps) for steps in groups),
                        tuple(any(map(step_failed, steps)) for steps in groups)))
    totals = tuple(sum(row.values[i] or 0.0 for row in rows) for i in range(len(runs)))
    return Comparison(tuple(runs), tuple(rows), totals)


def grid(comparison: Comparison, title: str = "Boot time steps") -> list[list[str]]:
    """The table as text cells: a header, one row per step, TOTAL; a delta column when runs are compared."""
    runs = comparison.runs
    delta = len(runs) > 1
    header = [title, *(f"{r.server} {r.id}" for r in runs)] + (["delta"] if delta else [])

    def cells(values: Sequence[float | None], failed: Sequence[bool]) -> list[str]:
        out = [fmt(v) + (" ✗" if f else "") for v, f in zip(values, failed, strict=True)]
        if delta:
            first, last = values[0], values[-1]
            out.append("n/a" if first is None or last is None else signed(last - first))
        return out

    lines = [header]
    lines += [[row.label, *cells(row.values, row.failed)] for row in comparison.rows]
    lines.append(["TOTAL", *cells(comparison.totals, [False] * len(runs))])
    return lines


def unfinished(comparison: Comparison) -> list[str]:
    """One line per run that did not succeed: 'web2 r-...: failed'."""
    return [f"{r.server} {r.id}: {r.state.value}" for r in comparison.runs if r.state is not RunState.SUCCEEDED]


def _md(cell: str) -> str:
    return cell.replace("|", "\\|").replace("\n", " ")


def render(comparison: Comparison, title: str = "Boot time steps") -> str:
    """A Markdown table like the seed's; failed steps marked ✗, a delta column when runs are compared."""
    rows = grid(comparison, title)
    lines = ["| " + " | ".join(_md(c) for c in rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows[1:]]
    return "\n".join(lines + unfinished(comparison)) + "\n"


def boot_table(runs: Sequence[RunRecord], servers: Mapping[str, ServerRecord] | None = None) -> str:
    return render(compare(runs, servers))


def as_data(comparison: Comparison) -> dict[str, Any]:
    """The comparison as plain JSON data: runs, rows (seconds, None for n/a) and totals."""
    return {
        "runs": [{"id": r.id, "server": r.server, "phase": r.phase, "state": r.state.value} for r in comparison.runs],
        "rows": [{"step": row.label, "seconds": list(row.values), "failed": list(row.failed)} for row in comparison.rows],
        "totals": list(comparison.totals),
    }
