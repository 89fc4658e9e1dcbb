"""Every route of the dashboard: its method, path, what it answers, and the handler that builds the answer.

Framework-free: web/app.py turns each `Route` into Starlette's, and web/openapi.py lists them all. A page handler
returns a `Page` (HTML), an API handler an (command, data) `Answer` (the envelope), an action a `Redirect`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from .dashboard import Call, Dashboard
from .pages import Page, RunFilter


@dataclass(frozen=True)
class Redirect:
    url: str


@dataclass(frozen=True)
class Stream:
    """A run's live events (server-sent) after seq `after`."""

    run_id: str
    after: int


@dataclass(frozen=True)
class Route:
    method: str  # GET or POST
    path: str  # Starlette's syntax: /runs/{run_id}, /runs/{run_id}/steps/{step:int}
    kind: str  # page, api, live, action (a form's POST: a redirect)
    handler: Callable[[Dashboard, Call], Any]
    summary: str
    query: tuple[str, ...] = ()  # the query (or form) parameters it reads
    nav: str = ""  # the menu entry a page belongs to


def run_filter(call: Call) -> RunFilter:
    return RunFilter(server=call.arg("server"), phase=call.arg("phase"), state=call.arg("state"),
                     who=call.arg("who"), team=call.arg("team"), limit=call.number("limit", 100, 1, 1000))


def landing(started: dict[str, Any]) -> Redirect:
    """Where an action's browser goes next: the run's live page, the queued fleet, or the server."""
    if started.get("run_id"):
        return Redirect(f"/runs/{quote(started['run_id'])}")
    if started.get("fleet"):
        return Redirect(f"/fleets/{quote(started['fleet'])}")
    return Redirect(f"/servers/{quote(started['server'])}?" + urlencode({"note": started.get("message", "")}))


def _action(d: Dashboard, call: Call, name: str) -> tuple[str, Any]:
    """An action through the JSON API's own checks (who may act, which records they see)."""
    if name == "boot":
        return d.api.boot(call.who, call.need("server"), call.arg("revision"), call.arg("force") in ("1", "on", "true"))
    if name == "resume":
        return d.api.resume(call.who, call.need("run"))
    if name == "run":
        return d.api.run(call.who, call.need("server"), call.need("script"))
    return d.api.terminate(call.who, call.need("server"))


def _act(name: str) -> Callable[[Dashboard, Call], Redirect]:
    """A form's action: started, then the browser is sent where it can watch it."""
    return lambda d, call: landing(_action(d, call, name)[1])


def _api_action(name: str) -> Callable[[Dashboard, Call], Any]:
    return lambda d, call: _action(d, call, name)


def _cancel(d: Dashboard, call: Call) -> Redirect:
    d.api.fleets_cancel(call.who, call.need("fleet"))
    return Redirect(f"/fleets/{quote(call.need('fleet'))}")


def _page(name: str) -> Callable[[Dashboard, Call], Page]:
    builders: dict[str, Callable[[Dashboard, Call], Page]] = {
        "servers": lambda d, c: d.pages.servers(c.who, c.arg("team")),
        "server": lambda d, c: d.pages.server(c.who, c.need("name")),
        "runs": lambda d, c: d.pages.runs(c.who, run_filter(c)),
        "run": lambda d, c: d.runs.run(c.who, c.need("run_id")),
        "output": lambda d, c: d.runs.output(c.who, c.need("run_id"), int(c.need("step")), c.number("after", 0)),
        "compare": lambda d, c: d.runs.compare(c.who, c.args("run")),
        "revisions": lambda d, c: d.revisions.revisions(c.who, c.arg("template")),
        "revision": lambda d, c: d.revisions.revision(c.who, c.need("digest")),
        "diff": lambda d, c: d.revisions.diff(c.who, c.need("old"), c.need("new")),
        "fleets": lambda d, c: d.pages.fleets(c.who),
        "fleet": lambda d, c: d.pages.fleet(c.who, c.need("fleet")),
    }
    return builders[name]


def _live(d: Dashboard, call: Call) -> Stream:
    from .scope import run_of

    return Stream(run_of(d.c, call.who, call.need("run_id")).id, call.number("after", 0))


RUN_FILTERS = ("server", "phase", "state", "who", "team", "limit")

ROUTES: tuple[Route, ...] = (
    # pages
    Route("GET", "/", "page", lambda d, c: Redirect("/servers"), "The dashboard: its Servers page."),
    Route("GET", "/servers", "page", _page("servers"), "Servers: state, cloud, address, revision and drift, last run.",
          ("team",), "servers"),
    Route("GET", "/servers/{name}", "page", _page("server"), "A server, its history and its actions.", (), "servers"),
    Route("GET", "/runs", "page", _page("runs"), "Runs, newest first, filtered; choose runs to compare.", RUN_FILTERS,
          "runs"),
    Route("GET", "/runs/{run_id}", "page", _page("run"),
          "A run: the boot-time table, the timeline, each step's output (live while it runs).", (), "runs"),
    Route("GET", "/runs/{run_id}/steps/{step:int}", "page", _page("output"), "A page of a step's output.",
          ("after",), "runs"),
    Route("GET", "/runs/{run_id}/live", "live", _live,
          "A running run's steps and output as server-sent events (after: the last seq seen).", ("after",)),
    Route("GET", "/compare", "page", _page("compare"), "Runs side by side with deltas, as `report A B`.", ("run",),
          "compare"),
    Route("GET", "/revisions", "page", _page("revisions"), "Templates and their kept revisions.", ("template",),
          "revisions"),
    Route("GET", "/revisions/diff", "page", _page("diff"), "What changes between two revisions.", ("old", "new"),
          "revisions"),
    Route("GET", "/revisions/{digest}", "page", _page("revision"), "A revision: scripts per phase, servers, files.",
          (), "revisions"),
    Route("GET", "/fleets", "page", _page("fleets"), "Queued fleets and the workers.", (), "fleets"),
    Route("GET", "/fleets/{fleet}", "page", _page("fleet"), "A queued fleet: progress, failures against max-errors.",
          (), "fleets"),
    # form actions (operators; CSRF)
    Route("POST", "/actions/boot", "action", _act("boot"), "Boot a server from a kept revision.",
          ("server", "revision", "force")),
    Route("POST", "/actions/resume", "action", _act("resume"), "Resume a failed, interrupted or cancelled run.",
          ("run",)),
    Route("POST", "/actions/run", "action", _act("run"), "Run an operational script on a server.",
          ("server", "script")),
    Route("POST", "/actions/terminate", "action", _act("terminate"),
          "Terminate a server: its decommission scripts, then its instance.", ("server",)),
    Route("POST", "/fleets/{fleet}/cancel", "action", _cancel, "Cancel a queued fleet."),
    # the JSON API: the CLI's envelopes
    Route("GET", "/api/v1/servers", "api", lambda d, c: d.api.servers_list(c.who, c.arg("team")),
          "`servers list --json`.", ("team",)),
    Route("GET", "/api/v1/servers/{name}", "api", lambda d, c: d.api.servers_show(c.who, c.need("name")),
          "`servers show NAME --json`."),
    Route("GET", "/api/v1/runs", "api", lambda d, c: d.api.runs_list(c.who, run_filter(c)), "`runs list --json`.",
          RUN_FILTERS),
    Route("GET", "/api/v1/runs/{run_id}", "api", lambda d, c: d.api.runs_show(c.who, c.need("run_id")),
          "`runs show RUN --json`."),
    Route("GET", "/api/v1/runs/{run_id}/steps/{step:int}/log", "api",
          lambda d, c: d.api.runs_log(c.who, c.need("run_id"), int(c.need("step")), c.number("after", 0),
                                      c.number("limit", 64 * 1024)),
          "`runs log RUN STEP --json`, a page at a time.", ("after", "limit")),
    Route("GET", "/api/v1/report", "api", lambda d, c: d.api.report(c.who, c.args("run")),
          "`report RUN [RUN...] --json`.", ("run",)),
    Route("GET", "/api/v1/revisions", "api", lambda d, c: d.api.revisions_list(c.who, c.arg("template")),
          "`revisions list [TEMPLATE] --json`.", ("template",)),
    Route("GET", "/api/v1/revisions/diff", "api",
          lambda d, c: d.api.revisions_diff(c.who, c.need("old"), c.need("new")), "`revisions diff OLD NEW --json`.",
          ("old", "new")),
    Route("GET", "/api/v1/revisions/{digest}", "api", lambda d, c: d.api.revisions_show(c.who, c.need("digest")),
          "`revisions show REV --json`."),
    Route("GET", "/api/v1/fleets", "api", lambda d, c: d.api.fleets_list(c.who, c.number("limit", 20, 1, 1000)),
          "`fleets list --json`.", ("limit",)),
    Route("GET", "/api/v1/fleets/{fleet}", "api", lambda d, c: d.api.fleets_show(c.who, c.need("fleet")),
          "`fleets show FLEET --json`."),
    Route("POST", "/api/v1/fleets/{fleet}/cancel", "api", lambda d, c: d.api.fleets_cancel(c.who, c.need("fleet")),
          "`fleets cancel FLEET --json`."),
    Route("POST", "/api/v1/boot", "api", _api_action("boot"), "Start a boot (queued when workers serve the store).",
          ("server", "revision", "force")),
    Route("POST", "/api/v1/resume", "api", _api_action("resume"), "Start resuming a run.", ("run",)),
    Route("POST", "/api/v1/run", "api", _api_action("run"), "Start an operational script.", ("server", "script")),
    Route("POST", "/api/v1/terminate", "api", _api_action("terminate"), "Start terminating a server.", ("server",)),
)
