"""`stackscripts deployments list | show D | terminate D`: deployments as the store knows them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .common import controller, db_option, library_option, quiet_option
from .output import console, emit, json_option, table

if TYPE_CHECKING:
    from ..api.deployments import DeploymentRecord


@click.group("deployments")
def command() -> None:
    """Deployments (servers launched by `deploy`): list, show, terminate."""


def deployment_data(d: DeploymentRecord, drift: dict[str, Any] | None = None) -> dict[str, Any]:
    from ..api.servers import address

    return {"name": d.name, "state": d.state, "file": d.file, "waves": [list(w) for w in d.waves],
            "servers": [{"name": s.name, "state": s.state, "address": address(s) if s.host else None,
                         "cloud": s.cloud, "node_id": s.node_id, "revision": s.revision, "template": s.template,
                         "references": list(s.extra.get("references") or []),
                         **({"drift": drift[s.name]} if drift is not None else {})} for s in d.servers]}


@command.command("list")
@click.option("--team", help="Only this team's deployments.")
@db_option
@json_option
@click.pass_context
def list_(ctx: click.Context, team: str | None, db: str | None, as_json: bool) -> None:
    """Every deployment with its servers' states."""
    from ..api.deployments import list_deployments

    with controller(db, printer=False) as c:
        found = list_deployments(c, team)

    def human() -> None:
        t = table("Deployment", "Servers", "State", "File")
        for d in found:
            t.add_row(d.name, str(len(d.live)), d.state, d.file or "-")
        console().print(t)

    emit(ctx, {"deployments": [deployment_data(d) for d in found]}, human, as_json=as_json)


@command.command("show")
@click.argument("name")
@db_option
@json_option
@click.pass_context
def show(ctx: click.Context, name: str, db: str | None, as_json: bool) -> None:
    """One deployment: its servers in launch order, their state, address, revision and drift."""
    from ..api.deployments import get_deployment
    from ..api.snapshots import template_drift

    with controller(db, printer=False) as c:
        d = get_deployment(c, name)
        drift = {s.name: template_drift(c, s.name).state for s in d.servers}
    data = deployment_data(d, drift)

    def human() -> None:
        console().print(f"[bold]{d.name}[/]  {d.state}  file: {d.file or '-'}")
        t = table("Wave", "Server", "State", "Address", "Revision", "Drift", "References")
        wave_of = {s: i + 1 for i, wave in enumerate(d.waves) for s in wave}
        for s in data["servers"]:
            t.add_row(str(wave_of[s["name"]]), s["name"], s["state"], s["address"] or "-",
                      (s["revision"] or "-").removeprefix("sha256:")[:12], s["drift"], ", ".join(s["references"]) or "-")
        console().print(t)

    emit(ctx, data, human, as_json=as_json)


@command.command("terminate")
@click.argument("name")
@click.option("--budget", default=600.0, show_default=True, type=float,
              help="Seconds for each server's decommission scripts.")
@click.option("--parallel", default=10, show_default=True, type=int, help="Servers at once within a wave.")
@library_option
@db_option
@quiet_option
@json_option
@click.pass_context
def terminate(ctx: click.Context, name: str, budget: float, parallel: int, libraries: tuple[str, ...],
              db: str | None, quiet: bool, as_json: bool) -> None:
    """Decommission every server (dependants before what they reference), then destroy every instance."""
    from ..api.deployments import terminate_deployment
    from ..api.launcher import Launcher
    from .launch import progress_printer
    from .terminate import outcome

    with controller(db, libraries, as_json=as_json, quiet=quiet) as c:
        result = terminate_deployment(Launcher(c, progress_printer(as_json, quiet)), name, budget=budget,
                                      parallel=parallel)
        records = {o.server: c.store.get_server(o.server) for o in result.outcomes}
    rows = [{"server": o.server, "status": o.status, "message": o.message, "cloud": records[o.server].cloud,
             "state": records[o.server].state, "destroyed": list(records[o.server].extra.get("destroyed") or []),
             "decommission": o.result.run_id if o.result and o.result.run_id else None} for o in result.outcomes]

    def human() -> None:
        t = table("Server", "Decommission", "Run", "Destroyed", "Detail", title=f"Deployment {name}: terminated")
        for r in rows:
            t.add_row(r["server"], r["status"], r["decommission"] or "-", outcome(r), r["message"] or "")
        console().print(t)

    emit(ctx, {"deployment": name, "ok": result.ok, "servers": rows}, human, as_json=as_json, ok=result.ok)
