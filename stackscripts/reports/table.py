"""The seed's boot-time table: each step, its duration, TOTAL; several runs side by side with a delta.

A resumed run, given the history of runs (`compare(..., history=controller.get_run)`), is shown as the whole run it
finishes (reports/resumed.py): the steps of the runs it continues, each once, and a row of the time they lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..model import Phase, RunState
from ..store.base import RunRecord, ServerRecord, StepRecord
from . import resumed
from .resumed import LOST_ROW, History, Whole

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
    """Runs side by side: their steps matched by phase and name, and each run's total (a resumed run: the whole
    run it finishes, with the runs it continues in `wholes`)."""

    runs: tuple[RunRecord, ...]
    rows: tuple[Row, ...]
    totals: tuple[float, ...]
    wholes: tuple[Whole, ...] = ()


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


def compare(runs: Sequence[RunRecord], servers: Mapping[str, ServerRecord] | None = None,
            history: History | None = None) -> Comparison:
    """Steps matched by phase and stage (or name) across runs, in their runs' order; n/a where a run lacks one.

    With `history` (reads a run by id), a run that resumes others is the whole run it finishes: every step once
    (its last attempt), the launch row of the run it began with, and a "Lost in failed runs" row holding the step
    time of the attempts the resumes ran again, so that TOTAL is all the step time the boot cost. Without it, or
    for an earlier failed run itself, a run is shown as it was."""
    servers = servers or {}
    wholes = tuple(resumed.whole(run, history) for run in runs)
    runs = [w.run for w in wholes]
    phases = {r.phase for r in runs} | {s.phase for r in runs for s in r.steps if s.phase}
    keys: list[tuple[str, str]] = []
    cells = [_keyed(run) for run in runs]
    for by_key in cells:
        _merge(keys, list(by_key))
    rows = []
    launches = tuple(launch_seconds(w.origin, servers.get(w.run.server)) for w in wholes)
    if any(v is not None for v in launches):
        rows.append(Row(LAUNCH_ROW, launches, tuple(False for _ in runs)))
    for key in keys:
        label = f"{key[0]}: {key[1]}" if len(phases) > 1 else key[1]
        groups = [c.get(key, []) for c in cells]
        rows.append(Row(label, tuple(_seconds(steps) for steps in groups),
                        tuple(any(map(step_failed, steps)) for steps in groups)))
    if any(w.earlier for w in wholes):
        rows.append(Row(LOST_ROW, tuple(w.lost_seconds for w in wholes), tuple(w.lost_seconds > 0 for w in wholes)))
    totals = tuple(sum(row.values[i] or 0.0 for row in rows) for i in range(len(runs)))
    return Comparison(tuple(runs), tuple(rows), totals, wholes)


def title_of(runs: Sequence[RunRecord]) -> str:
    """What the table shows: "Boot time steps", "Operational run: SCRIPT on SERVER", "Decommission of SERVER"..."""
    phases = {r.phase for r in runs}
    servers = sorted({r.server for r in runs})
    scripts = list(dict.fromkeys(s.name for r in runs for s in sorted(r.steps, key=lambda s: s.index)))
    if phases == {Phase.OPERATIONAL.value}:
        if len(runs) == 1:
            return f"Operational run: {', '.join(scripts) or '(no script started)'} on {servers[0]}"
        return f"Operational runs: {', '.join(scripts)}" if scripts else "Operational runs"
    if phases == {Phase.DECOMMISSION.value}:
        return f"Decommission of {servers[0]}" if len(servers) == 1 else "Decommission"
    return "Boot time steps" if phases <= {Phase.BOOT.value} else "Run steps"


def grid(comparison: Comparison, title: str | None = None) -> list[list[str]]:
    """The table as text cells: a header, one row per step, TOTAL; a delta column when runs are compared.
    The title (the first header cell) is `title_of` the runs unless given."""
    runs = comparison.runs
    title = title_of(runs) if title is None else title
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


def notes(comparison: Comparison) -> list[str]:
    """The lines under the table: runs that did not succeed, then each resumed run's earlier runs and lost time."""
    told = [resumed.note(w, fmt) for w in comparison.wholes]
    return unfinished(comparison) + [line for line in told if line]


def _md(cell: str) -> str:
    return cell.replace("|", "\\|").replace("\n", " ")


def render(comparison: Comparison, title: str | None = None) -> str:
    """A Markdown table like the seed's; failed steps marked ✗, a delta column when runs are compared; the notes
    below it."""
    rows = grid(comparison, title)
    lines = ["| " + " | ".join(_md(c) for c in rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows[1:]]
    return "\n".join(lines + notes(comparison)) + "\n"


def boot_table(runs: Sequence[RunRecord], servers: Mapping[str, ServerRecord] | None = None,
               history: History | None = None) -> str:
    return render(compare(runs, servers, history))


def as_data(comparison: Comparison) -> dict[str, Any]:
    """The comparison as plain JSON data: title, runs, rows (seconds, None for n/a), totals, and the runs each
    resumed run continues (`resumed`: earlier run ids oldest first, the time each lost)."""
    return {
        "title": title_of(comparison.runs),
        "runs": [{"id": r.id, "server": r.server, "phase": r.phase, "state": r.state.value} for r in comparison.runs],
        "rows": [{"step": row.label, "seconds": list(row.values), "failed": list(row.failed)} for row in comparison.rows],
        "totals": list(comparison.totals),
        "resumed": [resumed.as_data(w) for w in comparison.wholes if w.earlier],
    }
