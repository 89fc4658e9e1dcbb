"""`stackscripts libraries ...`: add, list, show, fetch, publish, diff (shared libraries, docs/sharing.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..revisions.refs import short_ref
from .output import console, emit, json_option, table

if TYPE_CHECKING:
    from ..api.libraries import LibraryStatus


@click.group("libraries")
def command() -> None:
    """Shared libraries: add, list, show, fetch, publish, diff."""


def status_data(status: LibraryStatus) -> dict[str, Any]:
    return {"name": status.name, "source": status.source, "ref": status.ref, "resolved_ref": status.resolved_ref,
            "digest": status.digest, "files": status.files, "size": status.size, "transferred": status.transferred,
            "transferred_bytes": status.transferred_bytes, "tree": str(status.tree), "scripts": list(status.scripts),
            "signed": status.signed}


def _line(status: LibraryStatus) -> str:
    short = short_ref(status.resolved_ref)
    signed = "; signature verified" if status.signed else ""
    return (f"{status.name} {status.ref} -> {short}: {status.digest} ({status.files} files; "
            f"{status.transferred} fetched, {status.transferred_bytes:,} bytes{signed})")


@command.command("add")
@click.argument("name")
@click.argument("source")
@json_option
@click.pass_context
def add(ctx: click.Context, name: str, source: str, as_json: bool) -> None:
    """Add library NAME (NAMESPACE/LIBRARY) from SOURCE[@REF] to stackscripts.yaml, once it resolves and fetches."""
    from ..api import libraries

    status = libraries.add_library(name, source)
    emit(ctx, status_data(status), lambda: click.echo(f"added {_line(status)}"), as_json=as_json)


@command.command("list")
@json_option
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """The project file's libraries with their sources and refs (no source is contacted)."""
    from ..api import libraries

    found = libraries.project()
    specs = libraries.list_libraries()
    data = {"project": str(found.file) if found else None,
            "libraries": [{"name": s.name, "source": s.source, "ref": s.ref or "head", "line": s.line} for s in specs]}

    def human() -> None:
        t = table("Library", "Source", "Ref")
        for spec in specs:
            t.add_row(spec.name, spec.source, spec.ref or "head")
        console().print(t)

    emit(ctx, data, human, as_json=as_json)


@command.command("show")
@click.argument("name")
@json_option
@click.pass_context
def show(ctx: click.Context, name: str, as_json: bool) -> None:
    """A library at its ref: the revision it resolves to now, and its scripts."""
    from ..api import libraries

    status = libraries.show_library(name)

    def human() -> None:
        click.echo(_line(status))
        for script in status.scripts:
            click.echo(f"  {script}")

    emit(ctx, status_data(status), human, as_json=as_json)


@command.command("fetch")
@click.argument("names", nargs=-1)
@json_option
@click.pass_context
def fetch(ctx: click.Context, names: tuple[str, ...], as_json: bool) -> None:
    """Fetch libraries (all, or NAMES) at their refs into the local cache; every digest verified."""
    from ..api import libraries

    fetched = libraries.fetch_libraries(names)
    emit(ctx, [status_data(s) for s in fetched], lambda: click.echo("".join(_line(s) + "\n" for s in fetched), nl=False),
         as_json=as_json)


@command.command("publish")
@click.argument("folder")
@click.option("--as", "name", required=True, metavar="NAMESPACE/LIBRARY", help="The library's name.")
@click.option("--version", "version", required=True, metavar="VERSION", help="The version, e.g. 1.5 (git: tag v1.5).")
@click.option("--to", "to", required=True, metavar="URL",
              help="Where: git+file://, git+ssh://, git+https://..., s3://BUCKET/PREFIX, oci://HOST:PORT/REPO.")
@click.option("--sign-key", "sign_key", metavar="KEY", help="Sign the manifest with this SSH private key file.")
@json_option
@click.pass_context
def publish(ctx: click.Context, folder: str, name: str, version: str, to: str, sign_key: str | None,
            as_json: bool) -> None:
    """Publish FOLDER's scripts as an immutable version of a library (signed with --sign-key)."""
    from ..api import libraries

    done = libraries.publish_library(folder, name, version, to, sign_key=sign_key)
    short = short_ref(done.resolved_ref)
    data = {"name": name, "source": done.source, "version": done.version, "resolved_ref": done.resolved_ref,
            "digest": done.digest, "signed": bool(sign_key)}
    signed = ", signed" if sign_key else ""
    emit(ctx, data, lambda: click.echo(f"published {name} {version} to {to}{signed}: {short} {done.digest}"),
         as_json=as_json)


@command.command("diff")
@click.argument("old")
@click.argument("new")
@json_option
@click.pass_context
def diff(ctx: click.Context, old: str, new: str, as_json: bool) -> None:
    """What changes from OLD to NEW: each NAMESPACE/LIBRARY@REF, a folder, or a cached sha256: digest."""
    from ..api import revisions

    result = revisions.diff(old, new)
    emit(ctx, revisions.diff_json(result), lambda: click.echo(revisions.diff_text(result), nl=False), as_json=as_json)
