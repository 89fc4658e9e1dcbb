"""`stackscripts templates lock T [--update [SCRIPT]]`: write the template's lock file (docs/sharing.md)."""

from __future__ import annotations

from typing import Any

import click

from ..revisions.refs import short_ref
from .output import emit, json_option


@click.command("lock")
@click.argument("template")
@click.option("--update", "update", is_flag=False, flag_value="", default=None, metavar="[SCRIPT]",
              help="Resolve again every library reference, or those of SCRIPT (a reference, script or library).")
@json_option
@click.pass_context
def command(ctx: click.Context, template: str, update: str | None, as_json: bool) -> None:
    """Pin each library reference of TEMPLATE to a revision in T.lock.yaml beside it."""
    from ..api import revisions

    result = revisions.lock_template(template, update)
    data: dict[str, Any] = {
        "template": template, "lock_file": str(result.file), "written": result.written,
        "added": list(result.added), "updated": list(result.updated), "removed": list(result.removed),
        "unchanged": list(result.unchanged),
        "scripts": [{"reference": e.reference, "library": e.library, "source": e.source, "requested": e.requested,
                     "resolved": e.resolved, "digest": e.digest, "path": e.path} for e in result.lock.entries],
    }

    def human() -> None:
        for word, refs in (("added", result.added), ("updated", result.updated), ("removed", result.removed)):
            for ref in refs:
                entry = result.lock.get(ref)
                click.echo(f"{word} {ref}" + (f": {entry.digest} ({short_ref(entry.resolved)})" if entry else ""))
        state = "written" if result.written else "unchanged"
        click.echo(f"{result.file}: {len(result.lock.entries)} reference(s) pinned, {state}")

    emit(ctx, data, human, as_json=as_json)
