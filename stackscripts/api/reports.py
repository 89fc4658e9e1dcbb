"""Reports and exports of recorded runs, read from a Controller's audit store.

    from stackscripts.api import Controller, reports

    with Controller("audit.db") as c:
        print(reports.boot_table(c, ["r-20260101-120000-ab12", "r-20260101-130000-cd34"]))

Runs are named by id or any unique part of it, as on the command line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import export
from ..errors import BadInput, NotFound
from ..reports.html import render_html
from ..reports.table import Comparison, as_data, render
from ..reports.table import compare as _compare
from ..store.base import RunRecord, ServerRecord

if TYPE_CHECKING:
    from .controller import Controller

RunIds = str | Sequence[str]
"""One run id, or several (a comparison: columns in this order, with a delta from the first to the last)."""

def recorded(controller: Controller, run_ids: RunIds, *, output: bool = True) -> tuple[list[RunRecord],
                                                                                      dict[str, ServerRecord]]:
    """The runs (with their steps' output unless output=False: a table needs only timings), and the records of
    their servers still in the store (for the launch row)."""
    ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
    if not ids:
        raise BadInput("no run to report on", hint="Name one run id, or several to compare them.")
    runs = [controller.store.get_run(run_id, output=output) for run_id in ids]
    servers: dict[str, ServerRecord] = {}
    for run in runs:
        try:
            servers[run.server] = controller.store.get_server(run.server)
        except NotFound:  # removed since: the table has no launch row for it
            pass
    return runs, servers


def compare(controller: Controller, run_ids: RunIds) -> Comparison:
    """Steps matched by phase and name across the runs, with each run's total (one run: its own steps). A resumed
    run is the whole run it finishes: the runs it continues, each step once, the time lost in failed attempts."""
    runs, servers = recorded(controller, run_ids, output=False)
    return _compare(runs, servers, history=lambda run_id: controller.store.get_run(run_id, output=False))


def boot_table(controller: Controller, run_ids: RunIds, title: str | None = None) -> str:
    """The boot-time table in Markdown: each step's duration, TOTAL, and a delta column when comparing."""
    return markdown(compare(controller, run_ids), title)


def markdown(comparison: Comparison, title: str | None = None) -> str:
    """A comparison as the Markdown table; failed steps marked ✗, runs that did not succeed listed below. Titled
    by what the runs are (None): "Boot time steps", "Operational run: SCRIPT on SERVER", "Decommission of ..."."""
    return render(comparison, title)


def html(controller: Controller, run_ids: RunIds, title: str = "stackscripts run report") -> str:
    """A self-contained HTML page (no external asset): the table, a timeline, each step's output."""
    runs, servers = recorded(controller, run_ids)
    return render_html(runs, servers, title, history=controller.get_run)


def write_html(controller: Controller, run_ids: RunIds, path: str | Path,
               title: str = "stackscripts run report") -> Path:
    """Write `html(...)` to path; a path that cannot be written is BadInput."""
    target = Path(path)
    page = html(controller, run_ids, title)
    try:
        target.write_text(page, "utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write the HTML report: {exc.strerror or exc}", file=str(target)) from None
    return target


def comparison_data(comparison: Comparison) -> dict[str, Any]:
    """A comparison as plain JSON data (what `report --json` prints)."""
    return as_data(comparison)


def export_run(controller: Controller, run_id: str) -> dict[str, Any]:
    """The whole record of a run as JSON data (format `stackscripts.run`, version 1); inputs stay masked."""
    return export.export_run(controller.get_run(run_id))


def export_run_s3(controller: Controller, run_id: str, url: str) -> str:
    """Write the record to S3 as `<prefix>/<run id>.json` and return its s3:// URL."""
    return export.export_run_s3(controller.get_run(run_id), url)


__all__ = ["Comparison", "RunIds", "boot_table", "compare", "comparison_data", "export_run", "export_run_s3", "html",
           "markdown", "recorded", "write_html"]
