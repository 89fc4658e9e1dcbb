"""What `servers show` and `servers upgrade` print about a server's revisions: its drift, in lines for people.

The history itself (the server's runs and its events outside runs, oldest first, each with a `line` for people) is
JSON data built by stackscripts/api/views.py, for the CLI and the dashboard alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..api.views import short

if TYPE_CHECKING:
    from ..api.snapshots import Drift


def drift_rows(drift: Drift) -> list[tuple[str, str]]:
    """The labelled lines of `servers show` about the server's revision and drift."""
    rows = [("revision", drift.revision or "- (booted before revisions)")]
    if drift.state == "current":
        return [*rows, ("drift", "none: the template on disk gives the same revision")]
    if drift.state == "drifted":
        return [*rows, ("drift", f"the template on disk now gives {short(drift.current)}"),
                ("review", f"stackscripts revisions diff {short(drift.revision)} {drift.template}"),
                ("adopt", f"stackscripts templates commit ... && stackscripts servers upgrade {drift.server} --to REV")]
    return [*rows, ("drift", f"{drift.state}: {drift.reason}")]
