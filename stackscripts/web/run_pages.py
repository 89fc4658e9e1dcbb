"""A run's page (the boot-time table, the timeline, each step's output a page at a time, live while it runs), a
step's output paged, and runs compared side by side (as `report A B`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..api.controller import Controller
from ..errors import BadInput, NotFound
from ..model import RunState
from ..reports.html import gantt  # the HTML report's timeline, escaped by its own code
from ..reports.table import Comparison, compare, grid, notes, step_failed
from ..store.base import RunRecord, ServerRecord, StepRecord
from .auth import Principal
from .outview import PAGE_BYTES, OutputPage, read_page
from .pages import RESUMABLE, Page
from .render import markup
from .scope import run_of

COMPARED_MAX = 8  # runs side by side


def comparison(c: Controller, runs: Sequence[RunRecord]) -> Comparison:
    """The boot-time table of runs already read (without their output: the table needs only timings); a resumed
    run is the whole run it finishes, as `report` shows it."""
    servers: dict[str, ServerRecord] = {}
    for run in runs:
        try:
            servers[run.server] = c.store.get_server(run.server)
        except NotFound:
            pass  # removed since: no launch row
    return compare(runs, servers, history=lambda run_id: c.store.get_run(run_id, output=False))


def table(found: Comparison) -> dict[str, Any]:
    """The table as the templates draw it: a header, rows of cells (failed cells marked), TOTAL, the notes."""
    cells = grid(found)
    failed = [[False, *row.failed, False] for row in found.rows] + [[False] * (len(found.runs) + 2)]
    return {"header": cells[0], "rows": [list(zip(row, marks, strict=False)) for row, marks in zip(cells[1:], failed,
                                                                                                   strict=True)],
            "notes": notes(found)}


def timeline(c: Controller, runs: Sequence[RunRecord]) -> Any:
    servers = {}
    for run in runs:
        try:
            servers[run.server] = c.store.get_server(run.server)
        except NotFound:
            pass
    return markup(gantt(runs, servers))


STEP_RUNNING = "running"  # a step's state on the page (running, interrupted, failed, ok): not a RunState


def step_state(run: RunRecord, step: StepRecord) -> str:
    if step.ended is None:
        return STEP_RUNNING if run.state is RunState.RUNNING else "interrupted"
    return "failed" if step_failed(step) else "ok"


class RunPages:
    def __init__(self, controller: Controller) -> None:
        self.c = controller

    def run(self, who: Principal, run_id: str) -> Page:
        run = run_of(self.c, who, run_id)
        steps = []
        cursor = 0
        for step in sorted(run.steps, key=lambda s: s.index):
            page = None if step.pruned is not None else read_page(self.c.store, run.id, step.index)
            if page is not None:
                cursor = max(cursor, page.after)
            steps.append({"step": step, "page": page, "state": step_state(run, step)})
        current = next((s["step"] for s in steps if s["state"] == STEP_RUNNING), None)
        return Page("run.html", {"run": run, "steps": steps, "table": table(comparison(self.c, [run])),
                                 "timeline": timeline(self.c, [run]), "live": run.state is RunState.RUNNING,
                                 "cursor": cursor, "current": current, "resumable": run.state in RESUMABLE})

    def output(self, who: Principal, run_id: str, step: int, after: int = 0) -> Page:
        """One page of a step's output (step counted from 1) after chunk `after`."""
        run = run_of(self.c, who, run_id)
        found = next((s for s in run.steps if s.index == step - 1), None)
        if found is None:
            raise NotFound(f"run {run.id} has no step {step}")
        page: OutputPage | None = None
        if found.pruned is None:
            page = read_page(self.c.store, run.id, found.index, max(after, 0), PAGE_BYTES)
        return Page("output.html", {"run": run, "step": found, "page": page, "after": after,
                                    "state": step_state(run, found)})

    def compare(self, who: Principal, run_ids: Sequence[str]) -> Page:
        ids = list(dict.fromkeys(i.strip() for i in run_ids if i.strip()))
        if len(ids) > COMPARED_MAX:
            raise BadInput(f"{len(ids)} runs chosen: compare at most {COMPARED_MAX} at once")
        if len(ids) < 2:
            recent = [r for r in self.c.store.list_runs(None, 200, who.team) if r.state is not RunState.RUNNING]
            return Page("compare.html", {"runs": [], "recent": recent, "table": None, "timeline": None})
        runs = sorted((run_of(self.c, who, run_id) for run_id in ids), key=lambda r: r.started)  # oldest first
        return Page("compare.html", {"runs": runs, "recent": [], "table": table(comparison(self.c, runs)),
                                     "timeline": timeline(self.c, runs)})
