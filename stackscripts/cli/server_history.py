"""What `servers show` and `servers upgrade` print about a server's revisions: its drift and its history.

The history is the server's runs (each with the revision it ran) and its events outside runs (upgrades to
another revision), oldest first; each item is JSON data with a `line` for people.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .revisions import short, when

if TYPE_CHECKING:
    from ..api.controller import Controller
    from ..api.snapshots import Drift
    from ..store.base import RunRecord, ServerEvent

RUNS_SHOWN = 20


def drift_rows(drift: Drift) -> list[tuple[str, str]]:
    """The labelled lines of `servers show` about the server's revision and drift."""
    rows = [("revision", drift.revision or "- (booted before revisions)")]
    if drift.state == "current":
        return [*rows, ("drift", "none: the template on disk gives the same revision")]
    if drift.state == "drifted":
        return [*rows, ("drift", f"the template on disk now gives {short(drift.current)}"),
                ("review", f"stackscripts revisions diff {short(drift.revision)} {drift.template}"),
                ("adopt", f"stackscripts templates commit ... && stackscripts servers upgrade {drift.server} --to REV")]
    return [*rows, ("drift", f"{drift.state}: {drift.reason}")]


def event_data(event: ServerEvent) -> dict[str, Any]:
    why = f": {event.message}" if event.message else ""
    line = (f"{when(event.at)}  {event.kind} {short(event.previous)} -> {short(event.revision)} by {event.who}{why}")
    return {"at": event.at, "kind": event.kind, "revision": event.revision, "previous": event.previous,
            "who": event.who, "message": event.message, "line": line}


def run_data(run: RunRecord) -> dict[str, Any]:
    line = f"{when(run.started)}  {run.phase.lower()} {run.id} {run.state.value} ({short(run.revision)}) by {run.who}"
    return {"at": run.started, "kind": "run", "run": run.id, "phase": run.phase, "state": run.state.value,
            "revision": run.revision, "who": run.who, "line": line}


def history(c: Controller, server: str) -> list[dict[str, Any]]:
    """The server's last runs and its upgrades, oldest first."""
    items = [run_data(r) for r in c.runs(server, RUNS_SHOWN)]
    items += [event_data(e) for e in c.store.server_events(server)]
    return sorted(items, key=lambda item: item["at"])
