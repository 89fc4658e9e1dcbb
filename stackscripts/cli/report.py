"""`stackscripts report RUN [RUN...] [--html FILE]`: the boot-time table, side by side, or an HTML page."""

from __future__ import annotations

from pathlib import Path

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
    from ..errors import BadInput, NotFound
    from ..reports.table import as_data, compare, render

    with controller(db, printer=False) as c:
        runs = [c.get_run(r) for r in run_ids]
        servers = {}
        for run in runs:
            try:
                servers[run.server] = c.store.get_server(run.server)
            except NotFound:
                pass
    comparison = compare(runs, servers)
    data = as_data(comparison)
    if html_path:
        from ..reports.html import render_html

        page = render_html(runs, servers)
        try:
            Path(html_path).write_text(page, "utf-8")
        except OSError as exc:  # a bad path is the user's input, not an internal error
            raise BadInput(f"cannot write the HTML report: {exc.strerror or exc}", file=html_path) from None
        data["html"] = html_path
    emit(ctx, data, lambda: click.echo(render(comparison), nl=False), as_json=as_json)
