"""What the Servers, Runs and Fleets pages show, built from stackscripts.api (framework-free: the app renders it)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api import queued, views
from ..api.controller import Controller
from ..api.servers import address
from ..api.snapshots import Drift, show_revision, template_drift
from ..errors import BadInput, StackscriptsError
from ..model import Phase, RunState
from ..store.base import RunRecord, ServerRecord
from ..store.fleets import FLEET_ACTIVE, UNIT_ACTIVE, UNIT_DONE, UnitState
from .auth import Principal, visible
from .scope import fleet_of, server_of, team_query

DRIFT_TTL = 15.0  # seconds a server's drift is kept before the template on disk is read again
RUNS_SHOWN = 100
PHASES = tuple(p.value for p in Phase)
STATES = tuple(s.value for s in RunState)
RESUMABLE = (RunState.FAILED, RunState.INTERRUPTED, RunState.CANCELLED)


@dataclass(frozen=True)
class Page:
    """A template's name and what it is given (the app adds who is asking and the CSRF token)."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    status: int = 200


@dataclass(frozen=True)
class RunFilter:
    """The Runs page's filters (each optional)."""

    server: str | None = None
    phase: str | None = None
    state: str | None = None
    who: str | None = None
    team: str | None = None
    limit: int = RUNS_SHOWN

    def keeps(self, run: RunRecord) -> bool:
        return ((not self.phase or run.phase == self.phase) and (not self.state or run.state.value == self.state)
                and (not self.who or self.who.lower() in run.who.lower()))

    def narrowed(self) -> bool:
        return bool(self.phase or self.state or self.who)


class Pages:
    """The pages over one Controller; a server's drift is kept a few seconds (it reads the template on disk)."""

    def __init__(self, controller: Controller) -> None:
        self.c = controller
        self._drift: dict[tuple[str, str | None, str | None], tuple[float, Drift]] = {}
        self._lock = threading.Lock()

    def drift(self, record: ServerRecord) -> Drift:
        key = (record.name, record.revision, record.template)
        with self._lock:
            kept = self._drift.get(key)
        if kept and time.monotonic() - kept[0] < DRIFT_TTL:
            return kept[1]
        found = template_drift(self.c, record.name)
        with self._lock:
            self._drift[key] = (time.monotonic(), found)
        return found

    # servers
    def server_row(self, record: ServerRecord) -> dict[str, Any]:
        last = self.c.store.list_runs(record.name, 1)
        return {"record": record, "address": address(record) if record.host else "-", "drift": self.drift(record),
                "last": last[0] if last else None}

    def servers(self, who: Principal, team: str | None = None) -> Page:
        asked, allowed = team_query(who, team)
        records = [s for s in self.c.store.list_servers(asked) if visible(who, s.team)] if allowed else []
        return Page("servers.html", {"rows": [self.server_row(s) for s in records], "team": team or ""})

    def server(self, who: Principal, name: str) -> Page:
        server_of(self.c, who, name)
        view = views.server_view(self.c, name)
        record = view.record
        runs = self.c.runs(name, 50)
        revisions, scripts = [], []
        if record.revision:
            try:
                shown = show_revision(self.c, record.revision)
                scripts = list(shown.phases.get(Phase.OPERATIONAL, ()))
                revisions = [r for r in self.c.store.list_revisions(shown.record.template) if visible(who, r.team)]
            except StackscriptsError:
                pass  # a revision whose files are gone: the page still shows the server
        resumable = next((r for r in runs if r.state in RESUMABLE), None)
        if resumable is not None and runs and runs[0].id != resumable.id and runs[0].state is RunState.SUCCEEDED:
            resumable = None  # a later run succeeded: nothing to resume
        return Page("server.html", {"view": view, "record": record, "address": address(record) if record.host else "-",
                                    "runs": runs, "revisions": revisions, "scripts": scripts, "resumable": resumable,
                                    "running": next((r for r in runs if r.state is RunState.RUNNING), None),
                                    "server_json": views.server_show(view)})

    # runs
    def runs(self, who: Principal, wanted: RunFilter) -> Page:
        asked, allowed = team_query(who, wanted.team)
        runs: list[RunRecord] = []
        if wanted.server:
            server_of(self.c, who, wanted.server)
        if allowed:
            fetch = min(wanted.limit * 10, 5000) if wanted.narrowed() else wanted.limit
            found = self.c.store.list_runs(wanted.server or None, fetch, asked)
            runs = [r for r in found if visible(who, r.team) and wanted.keeps(r)][:wanted.limit]
        servers = sorted(s.name for s in self.c.store.list_servers(who.team) if visible(who, s.team))
        return Page("runs.html", {"runs": runs, "filter": wanted, "phases": PHASES, "states": STATES,
                                  "servers": servers})

    # queued fleets
    def fleets(self, who: Principal) -> Page:
        try:
            fleets = [f for f in queued.list_fleets(self.c, 50) if visible(who, f.team)]
            problem = ""
        except BadInput as exc:  # a SQLite store: no queue
            fleets, problem = [], str(exc)
        rows = [{"fleet": f, "counts": fleet_counts(f.units)} for f in fleets]
        return Page("fleets.html", {"rows": rows, "problem": problem, "workers": self._workers()})

    def fleet(self, who: Principal, fleet_id: str) -> Page:
        fleet = fleet_of(self.c, who, fleet_id)
        failed = fleet.count("failed") + fleet.count("error")
        done = sum(fleet.count(state) for state in UNIT_DONE)
        live = {}  # a running unit's run (the unit records it when it ends): its live page
        for unit in fleet.units:
            if unit.state == UnitState.RUNNING and not unit.run_id:
                last = self.c.store.list_runs(unit.server, 1)
                if last and last[0].state is RunState.RUNNING:
                    live[unit.server] = last[0].id
        return Page("fleet.html", {"live": live, "fleet": fleet, "counts": fleet_counts(fleet.units), "failed": failed,
                                   "done": done, "total": len(fleet.units), "cancellable": fleet.state in FLEET_ACTIVE,
                                   "over_budget": failed > fleet.budget, "data": views.fleet_data(fleet)})

    def _workers(self) -> list[Any]:
        try:
            return list(queued.list_workers(self.c))
        except StackscriptsError:
            return []


def fleet_counts(units: Any) -> list[tuple[str, int]]:
    """Units per state, in the order a fleet moves through them (states with none left out)."""
    return [(state, n) for state in (*UNIT_ACTIVE, *UNIT_DONE) if (n := sum(1 for u in units if u.state == state))]


def template_name(path: str | None) -> str:
    return Path(path).name if path else "-"
