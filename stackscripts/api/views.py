"""The data the CLI's --json and the dashboard's /api/v1 answer with, built once for both faces.

    from stackscripts.api import Controller, views

    with Controller(db) as c:
        views.run_show(c.get_run("r-2026"))        # what `runs show --json` prints as `data`
        views.server_show(views.server_view(c, "web1"))   # `servers show --json`: the record, drift, history
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ..envelope import jsonable
from ..revisions.manifest import parse
from ..store.base import RevisionRecord, RunRecord, ServerEvent, ServerRecord
from ..store.fleets import FleetRecord

if TYPE_CHECKING:
    from .controller import Controller
    from .snapshots import Drift, Revision

RUNS_SHOWN = 20  # runs in a server's history


def when(ts: float) -> str:
    """A time as the CLI shows it: local, to the second."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def short(digest: str | None) -> str:
    """sha256: and the first 12 hex digits (what `revisions show` and `diff` accept back)."""
    return digest[:19] if digest else "-"


# runs
def run_summary(r: RunRecord) -> dict[str, Any]:
    """A run without its steps: id, server, phase, state, who, template, times, revision, team."""
    return {"id": r.id, "server": r.server, "phase": r.phase, "state": r.state.value, "who": r.who,
            "template": r.template, "started": r.started, "ended": r.ended, "resumed_from": r.resumed_from,
            "error": r.error, "revision": r.revision, "team": r.team}


def runs_list(runs: Sequence[RunRecord]) -> list[dict[str, Any]]:
    """`runs list --json`: each run's summary and how many steps it has."""
    return [{**run_summary(r), "steps": len(r.steps)} for r in runs]


def run_show(r: RunRecord) -> dict[str, Any]:
    """`runs show --json`: the summary, its masked inputs and each step's timing and exit code."""
    steps = [{"index": s.index, "name": s.name, "phase": s.phase, "sha256": s.sha256, "exit_code": s.exit_code,
              "error": s.error, "started": s.started, "ended": s.ended, "inputs": dict(s.inputs)} for s in r.steps]
    return {**run_summary(r), "inputs": dict(r.inputs), "steps": steps}


# revisions
def revision_data(record: RevisionRecord) -> dict[str, Any]:
    """`revisions list --json`: one kept revision, how many files and bytes it holds."""
    manifest = parse(record.manifest, f"revision {record.digest}")
    return {"revision": record.digest, "template": record.template, "created": record.created,
            "when": when(record.created), "who": record.who, "message": record.message, "source": record.source,
            "files": len(manifest.entries), "size": manifest.size}


def revision_show(shown: Revision) -> dict[str, Any]:
    """`revisions show --json`: the revision, its scripts per phase, the servers on it, its manifest."""
    return {**revision_data(shown.record),
            "phases": {phase.value: list(names) for phase, names in shown.phases.items()},
            "servers": list(shown.servers),
            "manifest": [{"path": e.path, "mode": f"{e.mode:04o}", "sha256": e.sha256, "size": e.size}
                         for e in shown.manifest.entries]}


# queued fleets
def fleet_data(fleet: FleetRecord) -> dict[str, Any]:
    """`fleets show --json`: the fleet, its units (without the serialised work) and a count per state."""
    data = asdict(fleet)
    for unit in data["units"]:
        unit.pop("unit", None)  # the serialised work: `fleets show --json` shows its parts instead
    data["counts"] = {state: sum(1 for u in data["units"] if u["state"] == state) for state in
                      sorted({u["state"] for u in data["units"]})}
    return data


# a server and its history
def event_data(event: ServerEvent) -> dict[str, Any]:
    """An upgrade (or forced re-template) of a server, with a `line` for people."""
    why = f": {event.message}" if event.message else ""
    line = f"{when(event.at)}  {event.kind} {short(event.previous)} -> {short(event.revision)} by {event.who}{why}"
    return {"at": event.at, "kind": event.kind, "revision": event.revision, "previous": event.previous,
            "who": event.who, "message": event.message, "line": line}


def history_run(run: RunRecord) -> dict[str, Any]:
    """A run as an item of its server's history."""
    line = f"{when(run.started)}  {run.phase.lower()} {run.id} {run.state.value} ({short(run.revision)}) by {run.who}"
    return {"at": run.started, "kind": "run", "run": run.id, "phase": run.phase, "state": run.state.value,
            "revision": run.revision, "who": run.who, "line": line}


def history(c: Controller, server: str, runs: int = RUNS_SHOWN) -> list[dict[str, Any]]:
    """The server's last runs and its upgrades, oldest first."""
    items = [history_run(r) for r in c.runs(server, runs)]
    items += [event_data(e) for e in c.store.server_events(server)]
    return sorted(items, key=lambda item: float(item["at"]))


@dataclass(frozen=True)
class ServerView:
    """A server as `servers show` and the dashboard show it: the record, its drift, its history."""

    record: ServerRecord
    drift: Drift
    history: list[dict[str, Any]]


def server_view(c: Controller, name: str) -> ServerView:
    """A server, whether its template on disk drifted from its revision, and its history."""
    from .snapshots import template_drift

    return ServerView(c.store.get_server(name), template_drift(c, name), history(c, name))


def server_show(view: ServerView) -> dict[str, Any]:
    """`servers show --json`: the record, its revision's drift and its history."""
    data: dict[str, Any] = jsonable(view.record)
    return {**data, "drift": jsonable(view.drift), "history": view.history}


__all__ = ["RUNS_SHOWN", "ServerView", "event_data", "fleet_data", "history", "history_run", "revision_data", "revision_show",
           "run_show", "run_summary", "runs_list", "server_show", "server_view", "short",
           "when"]
