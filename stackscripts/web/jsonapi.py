"""/api/v1: the CLI's envelopes over HTTP. Each answer is (command, data) where `data` is what the matching CLI
command prints under --json, built by the same code (stackscripts/api/views.py and the api's own data functions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..api import reports, views
from ..api.controller import Controller
from ..api.queued import cancel_fleet, list_fleets
from ..api.snapshots import diff_revisions, show_revision
from ..envelope import jsonable
from ..errors import BadInput, NotFound
from ..revisions import difftext
from .actions import Actions, Started
from .auth import Principal, visible
from .outview import PAGE_BYTES, read_page
from .pages import RunFilter
from .run_pages import COMPARED_MAX
from .scope import fleet_of, may_act, revision_of, run_of, server_of, team_query

Answer = tuple[str, Any]


class JsonApi:
    """The JSON answers over one Controller (and its actions), each for one principal."""

    def __init__(self, controller: Controller, actions: Actions) -> None:
        self.c, self.actions = controller, actions

    # servers
    def servers_list(self, who: Principal, team: str | None = None) -> Answer:
        asked, allowed = team_query(who, team)
        records = [s for s in self.c.store.list_servers(asked) if visible(who, s.team)] if allowed else []
        return "servers list", jsonable(records)

    def servers_show(self, who: Principal, name: str) -> Answer:
        server_of(self.c, who, name)
        return "servers show", views.server_show(views.server_view(self.c, name))

    # runs
    def runs_list(self, who: Principal, wanted: RunFilter) -> Answer:
        asked, allowed = team_query(who, wanted.team)
        if wanted.server:
            server_of(self.c, who, wanted.server)
        runs = []
        if allowed:
            fetch = min(wanted.limit * 10, 5000) if wanted.narrowed() else wanted.limit
            runs = [r for r in self.c.store.list_runs(wanted.server or None, fetch, asked)
                    if visible(who, r.team) and wanted.keeps(r)][:wanted.limit]
        return "runs list", views.runs_list(runs)

    def runs_show(self, who: Principal, run_id: str) -> Answer:
        return "runs show", views.run_show(run_of(self.c, who, run_id))

    def runs_log(self, who: Principal, run_id: str, step: int, after: int = 0, limit: int = PAGE_BYTES) -> Answer:
        """A page of a step's output (`runs log --json`'s text, a page at a time: `next` is the next page's
        `after`, `more` whether there is one)."""
        run = run_of(self.c, who, run_id)
        if not any(s.index == step - 1 for s in run.steps):
            raise NotFound(f"run {run.id} has no step {step}",
                           hint=f"It has steps {', '.join(str(s.index + 1) for s in run.steps) or 'none'}.")
        page = read_page(self.c.store, run.id, step - 1, max(after, 0), max(1024, min(limit, 16 * PAGE_BYTES)))
        return "runs log", {"run_id": run.id, "step": step, "stream": "output", "text": page.text, "after": after,
                            "next": page.after, "more": page.more, "offset": page.offset, "size": page.size}

    def report(self, who: Principal, run_ids: Sequence[str]) -> Answer:
        if not run_ids:
            raise BadInput("no run to report on", hint="Name one run id (run=...), or several to compare them.")
        if len(run_ids) > COMPARED_MAX:
            raise BadInput(f"{len(run_ids)} runs: report on at most {COMPARED_MAX} at once")
        ids = [run_of(self.c, who, run_id).id for run_id in run_ids]
        return "report", reports.comparison_data(reports.compare(self.c, ids))

    # revisions
    def revisions_list(self, who: Principal, template: str | None = None) -> Answer:
        kept = [r for r in self.c.store.list_revisions(template or None) if visible(who, r.team)]
        return "revisions list", [views.revision_data(r) for r in kept]

    def revisions_show(self, who: Principal, digest: str) -> Answer:
        revision_of(self.c, who, digest)
        return "revisions show", views.revision_show(show_revision(self.c, digest))

    def revisions_diff(self, who: Principal, old: str, new: str) -> Answer:
        revision_of(self.c, who, old)
        revision_of(self.c, who, new)
        return "revisions diff", difftext.to_json(diff_revisions(self.c, old, new))

    # queued fleets
    def fleets_list(self, who: Principal, limit: int = 20) -> Answer:
        fleets = [f for f in list_fleets(self.c, limit) if visible(who, f.team)]
        return "fleets list", {"fleets": [views.fleet_data(f) for f in fleets]}

    def fleets_show(self, who: Principal, fleet_id: str) -> Answer:
        return "fleets show", views.fleet_data(fleet_of(self.c, who, fleet_id))

    def fleets_cancel(self, who: Principal, fleet_id: str) -> Answer:
        may_act(who)
        fleet_of(self.c, who, fleet_id)
        return "fleets cancel", views.fleet_data(cancel_fleet(self.c, fleet_id))

    # actions
    def boot(self, who: Principal, server: str, revision: str | None = None, force: bool = False) -> Answer:
        may_act(who)
        server_of(self.c, who, server)
        if revision:
            revision_of(self.c, who, revision)
        return "boot", started(self.actions.boot(server, revision, force))

    def resume(self, who: Principal, run_id: str) -> Answer:
        may_act(who)
        return "resume", started(self.actions.resume(run_of(self.c, who, run_id).id))

    def run(self, who: Principal, server: str, script: str) -> Answer:
        may_act(who)
        server_of(self.c, who, server)
        return "run", started(self.actions.run(server, script))

    def terminate(self, who: Principal, server: str) -> Answer:
        may_act(who)
        server_of(self.c, who, server)
        return "terminate", started(self.actions.terminate(server))


def started(action: Started) -> dict[str, Any]:
    data: dict[str, Any] = jsonable(action)
    return data
