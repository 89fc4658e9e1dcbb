"""What a principal may see and do: its team's records, named exactly; another team's answer as unknown ones do.

Every record the dashboard shows passes through here. A run, server, revision or fleet of another team is
`NotFound` with the very message an unknown one gets, and ids are taken whole (the CLI's unique parts could match,
and so name, another team's records); a viewer's action is `Forbidden` (403).
"""

from __future__ import annotations

import re

from ..api.controller import Controller
from ..errors import NotFound, StackscriptsError
from ..store.base import RevisionRecord, RunRecord, ServerRecord
from ..store.fleets import FleetRecord
from .auth import Principal, can_act, visible

RUN_ID = re.compile(r"r-\d{8}-\d{6}-[0-9a-z]{2,16}")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
FLEET_ID = re.compile(r"f[0-9a-f]{6,32}")


class Forbidden(StackscriptsError):
    """The principal may see this but not do it (a viewer's action): 403."""

    exit_code = 2


def unknown_run(run_id: str) -> NotFound:
    return NotFound(f"unknown run {run_id!r}", hint="List runs with 'stackscripts runs list'.")


def run_of(c: Controller, who: Principal, run_id: str) -> RunRecord:
    """A run of the principal's team by its whole id, without output (read it a page at a time)."""
    if not RUN_ID.fullmatch(run_id):
        raise unknown_run(run_id)
    try:
        run = c.store.get_run(run_id, output=False)
    except NotFound:
        raise unknown_run(run_id) from None
    if run.id != run_id or not visible(who, run.team):
        raise unknown_run(run_id)
    return run


def server_of(c: Controller, who: Principal, name: str) -> ServerRecord:
    record = c.store.get_server(name)
    if record.name != name or not visible(who, record.team):
        raise NotFound(f"unknown server {name!r}")
    return record


def revision_of(c: Controller, who: Principal, digest: str) -> RevisionRecord:
    """A kept revision by its whole digest (sha256:...), kept by the principal's team."""
    missing = NotFound(f"unknown revision {digest!r}",
                       hint="List the revisions this store keeps with 'stackscripts revisions list'; a revision made "
                            "elsewhere is kept in that store.")
    if not DIGEST.fullmatch(digest):
        raise missing
    try:
        record = c.store.get_revision(digest)
    except NotFound:
        raise missing from None
    if record.digest != digest or not visible(who, record.team):
        raise missing
    return record


def fleet_of(c: Controller, who: Principal, fleet_id: str) -> FleetRecord:
    from ..api.queued import fleet_status

    missing = NotFound(f"unknown fleet {fleet_id!r}", hint="List them with 'stackscripts fleets list'.")
    if not FLEET_ID.fullmatch(fleet_id):
        raise missing
    try:
        fleet = fleet_status(c, fleet_id)
    except NotFound:
        raise missing from None
    if fleet.id != fleet_id or not visible(who, fleet.team):
        raise missing
    return fleet


def may_act(who: Principal) -> None:
    """Forbidden unless the principal may act (operators)."""
    if not can_act(who):
        raise Forbidden(f"{who.name} is a {who.role}: only an operator may act",
                        hint="Ask for an operator token ('stackscripts tokens create --role operator').")


def team_query(who: Principal, team: str | None) -> tuple[str | None, bool]:
    """The team to ask the store for, and whether the principal may see it at all (another team's: nothing)."""
    if team:
        return team, visible(who, team)
    return who.team, True
