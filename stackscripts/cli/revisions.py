"""`stackscripts revisions ...`: list, show, diff — template revisions kept in the audit store."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import click

from .common import controller, db_option, library_option
from .output import console, emit, json_option, table

if TYPE_CHECKING:
    from ..store.base import RevisionRecord


def when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def short(digest: str | None) -> str:
    """sha256: and the first 12 hex digits (what `revisions show` and `diff` accept back)."""
    return digest[:19] if digest else "-"


def revision_data(record: RevisionRecord) -> dict[str, Any]:
    from ..revisions.manifest import parse

    manifest = parse(record.manifest, f"revision {record.digest}")
    return {"revision": record.digest, "template": record.template, "created": record.created,
            "when": when(record.created), "who": record.who, "message": record.message, "source": record.source,
            "files": len(manifest.entries), "size": manifest.size}


@click.group("revisions")
def command() -> None:
    """Template revisions kept in the audit store (by 'templates commit' and every boot)."""


@command.command("list")
@click.argument("template", required=False)
@db_option
@json_option
@click.pass_context
def list_(ctx: click.Context, template: str | None, db: str | None, as_json: bool) -> None:
    """Newest first; TEMPLATE (a template file or Name) shows that template's only."""
    from .. import api

    with controller(db, printer=False) as c:
        found = [revision_data(r) for r in api.list_revisions(c, template)]

    def human() -> None:
        t = table("Revision", "Template", "Created", "Who", "Files", "Message")
        for r in found:
            t.add_row(short(r["revision"]), r["template"], r["when"], r["who"], str(r["files"]), r["message"])
        console().print(t)

    emit(ctx, found, human, as_json=as_json)


@command.command("show")
@click.argument("revision")
@db_option
@json_option
@click.pass_context
def show(ctx: click.Context, revision: str, db: str | None, as_json: bool) -> None:
    """One revision (a digest or 4+ of its first hex digits): message, scripts per phase, files, servers on it."""
    from .. import api

    with controller(db, printer=False) as c:
        shown = api.show_revision(c, revision)
    data = {**revision_data(shown.record),
            "phases": {phase.value: list(names) for phase, names in shown.phases.items()},
            "servers": list(shown.servers),
            "manifest": [{"path": e.path, "mode": f"{e.mode:04o}", "sha256": e.sha256, "size": e.size}
                         for e in shown.manifest.entries]}

    def human() -> None:
        out = console()
        out.print(f"[bold]{shown.digest}[/]", markup=True)
        out.print(f"template {data['template']}  kept {data['when']} by {data['who']}", markup=False)
        out.print(f"    {data['message']}", markup=False)
        if data["source"]:
            out.print(f"from     {data['source']}", markup=False)
        for phase, names in data["phases"].items():
            out.print(f"\n{phase}:", markup=False)
            for n, name in enumerate(names, 1):
                out.print(f"  {n}. {name}", markup=False)
        out.print(f"\nservers: {', '.join(data['servers']) or 'none'}", markup=False)
        out.print(f"files ({data['files']}, {data['size']:,} bytes):", markup=False)
        for e in data["manifest"]:
            out.print(f"  {e['mode']} {e['sha256'][:12]} {e['size']:>8} {e['path']}", markup=False)

    emit(ctx, data, human, as_json=as_json)


@command.command("diff")
@click.argument("old")
@click.argument("new")
@library_option
@db_option
@json_option
@click.pass_context
def diff(ctx: click.Context, old: str, new: str, libraries: tuple[str, ...], db: str | None, as_json: bool) -> None:
    """What changes from OLD to NEW: each a revision (digest or prefix) or a template file (as it is now)."""
    from .. import api
    from ..revisions import difftext

    with controller(db, libraries, printer=False) as c:
        found = api.diff_revisions(c, old, new)
    from .termsafe import printable

    emit(ctx, difftext.to_json(found), lambda: click.echo(printable(difftext.render(found)), nl=False),
         as_json=as_json)
