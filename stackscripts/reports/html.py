"""A self-contained HTML report: a timeline per server and step, durations, exit codes, folded output."""

from __future__ import annotations

import html
import time
from typing import Sequence

from ..store.base import RunRecord
from .table import compare, fmt, render

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #d5d9e0;padding:4px 10px;text-align:left}
th{background:#f2f4f7}.num{text-align:right;font-variant-numeric:tabular-nums}
.gantt{position:relative;border:1px solid #d5d9e0;background:#fafbfc;padding:6px 0}
.lane{position:relative;height:26px;margin:3px 0}
.label{position:absolute;left:8px;width:230px;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;line-height:26px}
.track{position:absolute;left:250px;right:12px;top:0;bottom:0}
.bar{position:absolute;top:4px;height:18px;border-radius:3px;background:#3b82f6;min-width:2px}
.bar.failed{background:#dc2626}.bar.launch{background:#9ca3af}
.ok{color:#15803d}.bad{color:#b91c1c;font-weight:600}
details{margin:4px 0}summary{cursor:pointer}pre{background:#0f172a;color:#e2e8f0;padding:10px;overflow:auto;max-height:420px}
"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _gantt(runs: Sequence[RunRecord]) -> str:
    starts = [s.started for r in runs for s in r.steps if s.started] or [time.time()]
    ends = [s.ended or s.started for r in runs for s in r.steps if s.started] or starts
    origin, span = min(starts), max(max(ends) - min(starts), 0.001)
    lanes = []
    for run in runs:
        lanes.append(f'<div class="lane"><div class="label"><b>{_esc(run.server)}</b> {_esc(run.phase)} '
                     f'{_esc(run.id)}</div></div>')
        for step in sorted(run.steps, key=lambda s: s.index):
            if not step.started:
                continue
            end = step.ended or step.started
            left = 100 * (step.started - origin) / span
            width = max(100 * (end - step.started) / span, 0.2)
            failed = " failed" if step.error or step.exit_code not in (0, None) else ""
            title = f"{step.name}: {fmt(end - step.started)}, exit {step.exit_code}"
            lanes.append(
                f'<div class="lane step"><div class="label">{step.index + 1}. {_esc(step.name)}</div>'
                f'<div class="track"><div class="bar{failed}" data-step="{_esc(step.name)}" '
                f'style="left:{left:.3f}%;width:{width:.3f}%" title="{_esc(title)}"></div></div></div>')
    return f'<div class="gantt">{"".join(lanes)}</div><p>0 s → {fmt(span)}</p>'


def _steps(run: RunRecord) -> str:
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
    return (f"<h2>{_esc(run.server)} — {_esc(run.phase)} run {_esc(run.id)} ({_esc(run.state)})</h2>"
            f"<p>by {_esc(run.who)} at {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(run.started))}</p>"
            "<table><tr><th>#</th><th>Step</th><th>Duration</th><th>Exit</th><th>Status</th></tr>"
            + "".join(rows) + "</table>"
            + (f"<details><summary>inputs</summary><table>{inputs}</table></details>" if inputs else ""))


def _table(runs: Sequence[RunRecord], servers: dict) -> str:
    text = render(compare(runs, servers))
    rows = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("|") and "---" not in line]
    out = ["<table>"]
    for n, cells in enumerate(rows):
        tag = "th" if n == 0 else "td"
        out.append("<tr>" + "".join(f"<{tag}{' class=num' if i and n else ''}>{_esc(c.strip())}</{tag}>"
                                    for i, c in enumerate(cells)) + "</tr>")
    return "".join(out) + "</table>"


def render_html(runs: Sequence[RunRecord], servers: dict | None = None, title: str = "stackscripts run report") -> str:
    """One file, no external assets: opens offline."""
    body = _table(runs, servers or {}) + "<h2>Timeline</h2>" + _gantt(runs) + "".join(_steps(r) for r in runs)
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{_esc(title)}</title>"
            f"<style>{CSS}</style></head><body><h1>{_esc(title)}</h1>{body}</body></html>\n")
