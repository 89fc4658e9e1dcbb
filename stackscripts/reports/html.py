"""A self-contained HTML report: a timeline per server and step, durations, exit codes, folded output."""

from __future__ import annotations

import html
import time
from collections.abc import Mapping, Sequence

from ..store.base import RunRecord, ServerRecord
from .resumed import History
from .table import (
    LAUNCH_ROW,
    Comparison,
    compare,
    fmt,
    grid,
    launch_seconds,
    notes,
    step_failed,
)

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #d5d9e0;padding:4px 10px;text-align:left}
th{background:#f2f4f7}.num{text-align:right;font-variant-numeric:tabular-nums}
.gantt{position:relative;border:1px solid #d5d9e0;background:#fafbfc;padding:6px 0}
.lane{position:relative;height:26px;margin:3px 0}
.label{position:absolute;left:8px;width:230px;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;line-height:26px}
.track{position:absolute;left:250px;right:12px;top:0;bottom:0}.lane.run .label{width:auto;right:12px}
.bar{position:absolute;top:4px;height:18px;border-radius:3px;background:#3b82f6;min-width:2px}
.bar.failed{background:#dc2626}.bar.launch{background:#9ca3af}
.ok{color:#15803d}.bad{color:#b91c1c;font-weight:600}
details{margin:4px 0}summary{cursor:pointer}pre{background:#0f172a;color:#e2e8f0;padding:10px;overflow:auto;max-height:420px}
"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _window(run: RunRecord, server: ServerRecord | None) -> tuple[float, float] | None:
    """Where a run's lane starts (instance launch for a first boot) and ends, None if nothing ran."""
    starts = [s.started for s in run.steps if s.started]
    if not starts:
        return None
    ends = [s.ended or s.started for s in run.steps if s.started]
    launch = launch_seconds(run, server)
    first = float(server.extra["launch_started"]) if launch is not None and server else min(starts)
    return min(first, min(starts)), max(ends)


def _bar(label: str, step: str, left: float, width: float, css: str, title: str) -> str:
    return (f'<div class="lane step"><div class="label">{_esc(label)}</div>'
            f'<div class="track"><div class="bar{css}" data-step="{_esc(step)}" '
            f'style="left:{left:.3f}%;width:{max(width, 0.2):.3f}%" title="{_esc(title)}"></div></div></div>')


def gantt(runs: Sequence[RunRecord], servers: Mapping[str, ServerRecord]) -> str:
    """One lane per step. Runs that overlap in time share one clock (a fleet boot shows its
    parallelism); runs far apart (a comparison) each start at 0 so their bars line up."""
    windows = {r.id: _window(r, servers.get(r.server)) for r in runs}
    spans = [w for w in windows.values() if w]
    if not spans:
        return "<p>No step has started.</p>"
    longest = max(end - start for start, end in spans)
    shared = max(start for start, _ in spans) - min(start for start, _ in spans) <= longest
    span = max((max(end for _, end in spans) - min(start for start, _ in spans)) if shared else longest, 0.001)
    lanes = []
    for run in runs:
        window = windows[run.id]
        lanes.append(f'<div class="lane run"><div class="label"><b>{_esc(run.server)}</b> {_esc(run.phase)} '
                     f'{_esc(run.id)}</div></div>')
        if window is None:
            continue
        origin = min(start for start, _ in spans) if shared else window[0]
        server = servers.get(run.server)
        launch = launch_seconds(run, server)
        if launch is not None and server is not None:
            begun = float(server.extra["launch_started"])
            lanes.append(_bar(LAUNCH_ROW, LAUNCH_ROW, 100 * (begun - origin) / span, 100 * launch / span,
                              " launch", f"{LAUNCH_ROW}: {fmt(launch)}"))
        for step in sorted(run.steps, key=lambda s: s.index):
            if not step.started:
                continue
            end = step.ended or step.started
            failed = " failed" if step_failed(step) else ""
            lanes.append(_bar(f"{step.index + 1}. {step.name}", step.name, 100 * (step.started - origin) / span,
                              100 * (end - step.started) / span, failed,
                              f"{step.name}: {fmt(end - step.started)}, exit {step.exit_code}"))
    scale = "0 s → " + fmt(span) + ("" if shared else " (each run from its own start)")
    return f'<div class="gantt">{"".join(lanes)}</div><p>{scale}</p>'


def _steps(run: RunRecord, resumed_by: str | None = None) -> str:
    rows = []
    for step in sorted(run.steps, key=lambda s: s.index):
        duration = fmt(step.ended - step.started) if step.started and step.ended else "n/a"
        ok = step.exit_code == 0 and not step.error
        status = '<span class="ok">ok</span>' if ok else f'<span class="bad">{_esc(step.error or "failed")}</span>'
        output = step.output or (step.stdout + step.stderr)
        rows.append(
            f"<tr><td>{step.index + 1}</td><td>{_esc(step.name)}</td><td class=num>{duration}</td>"
            f"<td class=num>{_esc(step.exit_code)}</td><td>{status}</td></tr>"
            f'<tr><td></td><td colspan=4><details><summary>output ({len(output)} chars)</summary>'
            f"<pre>{_esc(output)}</pre></details></td></tr>")
    inputs = "".join(f"<tr><td>{_esc(k)}</td><td>{_esc(v)}</td></tr>" for k, v in run.inputs.items())
    resumed = f" (resumed by {_esc(resumed_by)})" if resumed_by else ""
    return (f"<h2>{_esc(run.server)} — {_esc(run.phase)} run {_esc(run.id)} ({_esc(run.state.value)}){resumed}</h2>"
            f"<p>{'by ' + _esc(run.who) + ' ' if run.who else ''}"
            f"at {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(run.started))}</p>"
            "<table><tr><th>#</th><th>Step</th><th>Duration</th><th>Exit</th><th>Status</th></tr>"
            + "".join(rows) + "</table>"
            + (f"<details><summary>inputs</summary><table>{inputs}</table></details>" if inputs else ""))


def _table(comparison: Comparison) -> str:
    out = ["<table>"]
    for n, cells in enumerate(grid(comparison)):
        tag = "th" if n == 0 else "td"
        out.append("<tr>" + "".join(f"<{tag}{' class=num' if i and n else ''}>{_esc(c)}</{tag}>"
                                    for i, c in enumerate(cells)) + "</tr>")
    below = "".join(f"<p class=bad>{_esc(line)}</p>" for line in notes(comparison))
    return "".join(out) + "</table>" + below


def render_html(runs: Sequence[RunRecord], servers: Mapping[str, ServerRecord] | None = None,
                title: str = "stackscripts run report", history: History | None = None) -> str:
    """One file, no external assets (no URL at all): opens offline. With `history`, a resumed run's table is the
    whole run it finishes (reports/resumed.py) and the runs it continues have their steps and output shown too."""
    servers = servers or {}
    comparison = compare(runs, servers, history)
    given = {r.id for r in runs}
    earlier = {e.id: _steps(e, w.run.id) for w in comparison.wholes for e in w.earlier if e.id not in given}
    body = (_table(comparison) + "<h2>Timeline</h2>" + gantt(runs, servers) + "".join(_steps(r) for r in runs)
            + "".join(earlier.values()))
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{_esc(title)}</title>"
            f"<style>{CSS}</style></head><body><h1>{_esc(title)}</h1>{body}</body></html>\n")
