"""`stackscripts revisions ...`: list, show, diff — template revisions kept in the audit store."""

from __future__ import annotations

import click

from ..api.views import revision_data, revision_show, short, when
from .common import controller, db_option, library_option
from .output import console, emit, json_option, table

__all__ = ["command", "revision_data", "short", "when"]  # revision_data, short, when: other commands' too


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
    data = revision_show(shown)

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
