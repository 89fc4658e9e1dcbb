"""`stackscripts report RUN [RUN...] [--html FILE]`: the boot-time table, side by side, or an HTML page."""

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
