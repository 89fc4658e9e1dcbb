"""A boot on a server already booted from another template or revision: refused unless forced, then kept in
the server's history (a `retemplate` event) before its recorded template and inputs are replaced. A stranded
server booted again from its own template file, edited (the fix-and-retry loop), needs no --force."""

from __future__ import annotations

import time

from ..errors import Conflict
from ..model import ServerState
from ..store.base import ServerEvent, ServerRecord, Store


def booted_before(record: ServerRecord) -> bool:
    """Whether the server has been booted from a template (a pending or terminated server has nothing to keep)."""
    return bool(record.revision) and record.state not in (ServerState.PENDING.value, ServerState.TERMINATED.value)


def check_retemplate(store: Store, record: ServerRecord, revision: str, template: str | None, *, force: bool,
                     who: str) -> None:
    """Conflict when the boot would re-template the server without --force; with it, record what it was."""
    if not booted_before(record) or record.revision == revision:
        return
    was = f"{record.template or 'a kept revision'} (revision {short(record.revision)})"
    now = f"{template or 'a kept revision'} (revision {short(revision)})"
    same_file = template is not None and template == record.template
    retry = same_file and record.state == ServerState.STRANDED.value  # its boot never finished: fix and boot again
    if not force and not retry:
        why = (f"its template has changed since (now revision {short(revision)})" if same_file
               else f"this boot is from another template, {now}")
        raise Conflict(
            f"server {record.name} is {record.state}, booted from {was}; {why}. Booting it would replace its "
            "recorded template and inputs",
            hint=f"Review with 'stackscripts revisions diff {short(record.revision)} {template or revision}'; "
                 f"pass --force to boot it anyway (kept in its history), 'stackscripts servers upgrade {record.name} "
                 f"--to REV' to pin a new revision without booting, or 'stackscripts resume' to finish a failed boot.")
    inputs = ", ".join(f"{k}={v}" for k, v in sorted(record.inputs.items()))
    how = "forced boot" if force else "boot again after a failed boot"
    store.record_event(ServerEvent(record.name, time.time(), "retemplate", who, revision, record.revision,
                                   f"{how}: was {was}" + (f" with inputs {inputs}" if inputs else "")))


def short(revision: str | None) -> str:
    return revision.removeprefix("sha256:")[:12] if revision else "-"
