"""`stackscripts terminate SERVER`: decommission scripts first, then destroy the instance and its volumes."""

from __future__ import annotations

from typing import Any

import click

from .common import controller, db_option, library_option, quiet_option, run_data
from .launch import progress_printer
from .output import emit, json_option


@click.command("terminate")
@click.argument("servers", nargs=-1, required=True)
@click.option("--budget", default=600.0, show_default=True, type=float, help="Seconds for the decommission scripts.")
@library_option
@db_option
@quiet_option
@json_option
@click.pass_context
def command(ctx: click.Context, servers: tuple[str, ...], budget: float, libraries: tuple[str, ...], db: str | None,
            quiet: bool, as_json: bool) -> None:
    """Run each server's Decommission scripts (recorded), then destroy what its launch made.

    What is destroyed is what the cloud has under the recorded node id or launch token (also after a launch
    killed half-way); "nothing to destroy" only when it has nothing."""
    from ..api.launcher import Launcher
    from ..errors import RunFailed

    results, ok = [], True
    with controller(db, libraries, as_json=as_json, quiet=quiet) as c:
        launcher = Launcher(c, progress_printer(as_json, quiet))
        for name in servers:
            try:
                result = launcher.terminate(name, budget)
            except RunFailed as exc:
                result, ok = exc.result, False
            record = c.store.get_server(name)
            results.append({"server": name, "state": "terminated", "cloud": record.cloud,
                            "destroyed": list(record.extra.get("destroyed") or []),
                            "decommission": run_data(result) if result else None})
    emit(ctx, results, lambda: click.echo("".join(f"{r['server']}: terminated ({outcome(r)})\n" for r in results),
                                          nl=False), as_json=as_json, ok=ok)


def outcome(result: dict[str, Any]) -> str:
    if not result["cloud"]:
        return "added by hand: no instance to destroy"
    return f"destroyed {', '.join(result['destroyed'])}" if result["destroyed"] else "nothing to destroy"
