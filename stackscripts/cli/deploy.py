"""`stackscripts deploy DEPLOYMENT`: several servers, launched in env: reference order."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .common import controller, run_data, run_options
from .fleet_queued import check_wait, queue_option, queued, wait_option
from .launch import cloud_option, progress_printer
from .live import fmt_duration
from .output import console, emit, table

if TYPE_CHECKING:
    from ..api.converge import DeployPlan


@click.command("deploy")
@click.argument("deployment")
@cloud_option
@click.option("--parallel", default=10, show_default=True, type=int, help="Servers launched at once in a wave.")
@click.option("--destroy-on-failure", is_flag=True, help="Destroy instances whose boot fails.")
@click.option("--report", "show_report", is_flag=True, help="Print the boot-time table of every server at the end.")
@click.option("--plan", "plan_only", is_flag=True, help="Print what converging would change, and change nothing.")
@click.option("--replace", "replace", multiple=True, metavar="SERVER",
              help="Rebuild this server: decommission, destroy, launch again (repeatable).")
@queue_option
@wait_option
@run_options
def command(ctx: click.Context, deployment: str, cloud: str | None, parallel: int, destroy_on_failure: bool,
            show_report: bool, plan_only: bool, replace: tuple[str, ...], queue: str | None, wait_: bool,
            inputs: tuple[str, ...], libraries: tuple[str, ...],
            db: str | None, quiet: bool, as_json: bool) -> None:
    """Converge DEPLOYMENT: launch the servers it lacks (independent ones in parallel, in env: reference order),
    resume stranded boots, leave operational servers alone and report their drift; the plan is printed first."""
    from ..api.deploy import deploy
    from ..api.launcher import Launcher

    check_wait(queue, wait_)
    if queue is not None and (plan_only or replace):
        raise click.UsageError("--plan and --replace converge in this process; leave out --queue")
    if queue is not None:
        from ..api.queued import submit_deploy

        queued(ctx, lambda c: submit_deploy(c, deployment, inputs, cloud=cloud, parallel=parallel, queue=queue),
               db=db, libraries=libraries, wait=wait_, quiet=quiet, as_json=as_json)
        return

    with controller(db, libraries, as_json=as_json, quiet=quiet) as c:
        done = deploy(Launcher(c, progress_printer(as_json, quiet)), deployment, inputs, cloud, parallel,
                      destroy_on_failure, replace=replace, plan_only=plan_only,
                      on_plan=None if as_json else lambda p: show_plan(p, plan_only))
        result = done.result
        runs = [o.result.run_id for o in result.outcomes if o.result]
        report = None
        if show_report and runs and not as_json:
            from ..reports.table import boot_table

            records = [c.get_run(r) for r in runs]
            servers = {r.server: c.store.get_server(r.server) for r in records}
            report = "\n".join(boot_table([r], servers) for r in records)
    data = {"ok": result.ok, "deployment": done.plan.deployment, "applied": done.applied, "changed": done.changed,
            "plan": [{"server": x.server, "action": x.action, "wave": x.wave, "detail": x.detail, "run": x.run}
                     for x in done.plan.changes],
            "servers": [{"server": o.server, "status": o.status, "message": o.message,
                         "run": run_data(o.result) if o.result else None} for o in result.outcomes]}

    def human() -> None:
        if not done.changed:
            return  # the plan said it all
        t = table("Server", "Status", "Run", "Duration", "Detail", title="Deployment")
        for o in result.outcomes:
            t.add_row(o.server, o.status, o.result.run_id if o.result else "-", fmt_duration(o.duration), o.message or "")
        console().print(t)
        if report is not None:
            click.echo(report)

    emit(ctx, data, human, as_json=as_json, ok=result.ok)


def show_plan(plan: DeployPlan, plan_only: bool) -> None:
    """The plan, printed before anything changes, and what it comes to."""
    p = table("Server", "Wave", "Action", "Detail", title=f"Deployment {plan.deployment}: plan")
    for x in plan.changes:
        p.add_row(x.server, str(x.wave + 1) if x.wave >= 0 else "-", x.action, x.detail)
    console().print(p)
    up = sum(1 for x in plan.changes if x.action in ("unchanged", "drift"))
    if plan.blocked:
        console().print(f"{len(plan.blocked)} server(s) need a decision first: deploy changes nothing until then")
    elif plan.pending:
        console().print(f"{len(plan.pending)} server(s) {'would change' if plan_only else 'to change'}")
    else:
        console().print(f"nothing to do: {up} server(s) operational ({plan.count('drift')} drifted)")
