"""`stackscripts report RUN [RUN...] [--html FILE]`: the boot-time table, side by side, or an HTML page.

A resumed run is shown as the whole run it finishes: the steps of the runs it continues each once, the time lost
in the failed attempts as a row of its own, and a note naming those runs (reports/resumed.py). The id of an
earlier failed run shows that run as it was. The table is titled by what it shows: "Boot time steps",
"Operational run: SCRIPT on SERVER", "Decommission of SERVER".
"""

from __future__ import annotations

import click

from .common import controller, db_option
from .output import emit, json_option


@click.command("report")
@click.argument("run_ids", nargs=-1, required=True)
@click.option("--html", "html_path", metavar="FILE", help="Also write a self-contained HTML report.")
@db_option
@json_option
@click.pass_context
def command(ctx: click.Context, run_ids: tuple[str, ...], html_path: str | None, db: str | None, as_json: bool) -> None:
    """Each step with its duration and TOTAL; several runs become columns with a delta."""
    from ..api import reports

    with controller(db, printer=False) as c:
        comparison = reports.compare(c, run_ids)
        if html_path:
            reports.write_html(c, run_ids, html_path)
    data = reports.comparison_data(comparison)
    if html_path:
        data["html"] = html_path
    emit(ctx, data, lambda: click.echo(reports.markdown(comparison), nl=False), as_json=as_json)
