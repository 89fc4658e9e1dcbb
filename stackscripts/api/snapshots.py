"""Template revisions for callers: commit a template, list and show kept revisions, diff two, upgrade a server.

    from stackscripts.api import Controller, commit_template, diff_revisions, template_drift, upgrade_server

    with Controller("audit.db") as c:
        kept = commit_template(c, "servertemplates/app.yml", "first release", commit_heads=True)
        print(kept.digest)                                            # sha256:...
        print(diff_revisions(c, kept.digest, "servertemplates/app.yml").empty)   # the template on disk vs the kept one
        if template_drift(c, "web1").state == "drifted":
            upgrade_server(c, "web1", kept.digest, "adopt the new release")

A revision is the template and every script it uses (with attachments) as a tree of files; its digest is the
sha256 of the tree's canonical manifest (docs/sharing.md, "Revisions and pinning"). `boot` keeps one implicitly
and pins the server and the run to it; `run`, `decommission` and `resume` run exactly that revision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput, Conflict, StackscriptsError
from ..model import Phase, ServerState
from ..revisions.diff import Diff, Tree
from ..revisions.diff import diff as diff_trees
from ..revisions.manifest import Manifest, parse
from ..store.base import RevisionRecord, ServerEvent
from ..templates import load_template
from . import pinning
from .controller import Controller, who

__all__ = ["Diff", "Drift", "Revision", "RevisionRecord", "ServerEvent", "commit_template", "diff_revisions",
           "list_revisions", "show_revision", "template_drift", "upgrade_server"]


@dataclass(frozen=True)
class Revision:
    """A kept revision with its manifest, its scripts' names per phase and the servers pinned to it."""

    record: RevisionRecord
    manifest: Manifest
    phases: Mapping[Phase, tuple[str, ...]]
    servers: tuple[str, ...] = ()

    @property
    def digest(self) -> str:
        return self.record.digest


@dataclass(frozen=True)
class Drift:
    """Whether the template a server came from would now give another revision than the one it is pinned to.

    `state`: "current" (the same revision), "drifted" (`current` is the revision it would give), "unknown" (the
    template cannot be read here: `reason` says why) or "unpinned" (booted before revisions)."""

    server: str
    revision: str | None
    template: str | None
    state: str
    current: str | None = None
    reason: str = ""


def commit_template(c: Controller, template: str | Path, message: str, *, commit_heads: bool = False) -> RevisionRecord:
    """Keep the template and all it uses as a revision; the first record stays when the same content is kept.

    A template that uses a mutable source (a script file in a folder, a reference at @head, a library whose source
    is a folder) is refused (BadInput naming its line) unless `commit_heads` freezes their current bytes."""
    if not message.strip():
        raise BadInput("a commit needs a message saying why", hint="Pass -m \"why\" (message=... in Python).")
    loaded = load_template(template)
    mutable = pinning.mutable_steps(loaded)
    if mutable and not commit_heads:
        phase, step, why = mutable[0]
        more = f"; {len(mutable) - 1} more step(s) too" if len(mutable) > 1 else ""
        raise BadInput(f"{phase.value} step {step.ref!r} is {why}, a mutable source that can change after the "
                       f"commit{more}", file=str(loaded.path), line=step.line,
                       hint="Pass --commit-heads to freeze their current bytes into the revision (as right_st's "
                            "'st commit --commit-head' does), or use library references at a version, pinned by a "
                            "lock file ('stackscripts templates lock').")
    made = pinning.make(template, c.catalog)
    return pinning.keep(c.store, made, who=who(), message=message.strip())


def list_revisions(c: Controller, template: str | Path | None = None) -> list[RevisionRecord]:
    """Kept revisions, newest first; one template's when given (its Name, or a template file for its Name)."""
    if template is None:
        return c.store.list_revisions()
    name = load_template(template).name if Path(template).is_file() else str(template)
    return c.store.list_revisions(name)


def show_revision(c: Controller, revision: str) -> Revision:
    """A kept revision (its digest, or 4 or more of its first hex digits): its files, scripts and pinned servers."""
    record = c.store.get_revision(revision)
    resolved = pinning.load(c.store, record.digest)
    phases = {phase: tuple(script.name for _, script in steps) for phase, steps in resolved.steps.items() if steps}
    servers = tuple(s.name for s in c.store.list_servers() if s.revision == record.digest)
    return Revision(record, parse(record.manifest, f"revision {record.digest}"), phases, servers)


def diff_revisions(c: Controller, old: str | Path, new: str | Path) -> Diff:
    """What changes from `old` to `new`, each a kept revision or a template file (the revision it would give now)."""
    return diff_trees(_side(c, old), _side(c, new))


def _side(c: Controller, spec: str | Path) -> Tree:
    if Path(spec).is_file():
        return pinning.tree_of_made(pinning.make(spec, c.catalog))
    record = c.store.get_revision(str(spec))
    return pinning.tree_of_revision(pinning.load(c.store, record.digest), record.manifest, record.digest)


def upgrade_server(c: Controller, server: str, to: str, message: str = "") -> ServerEvent:
    """Pin a server to another kept revision: its later Operational and Decommission runs come from it. Recorded
    as an event of the server (`c.store.server_events(server)`); Conflict while a run holds it or once terminated."""
    record = c.store.get_server(server)
    if record.state == ServerState.TERMINATED.value:
        raise Conflict(f"server {server} is terminated", hint="Only a server that still runs can be upgraded.")
    kept = c.store.get_revision(to)
    pinning.load(c.store, kept.digest)  # every file there and intact before the server depends on it
    return c.store.upgrade_server(server, kept.digest, who=who(), message=message.strip(), template=kept.source)


def template_drift(c: Controller, server: str) -> Drift:
    """Whether the server's template, as it is on disk now, would give another revision than the server's."""
    record = c.store.get_server(server)
    if not record.revision:
        return Drift(server, None, record.template, "unpinned",
                     reason="booted before revisions: 'stackscripts servers upgrade' pins it to a kept revision")
    if not record.template or not Path(record.template).is_file():
        return Drift(server, record.revision, record.template, "unknown",
                     reason=f"its template file {record.template or '(none)'} is not on this machine")
    try:
        current = pinning.make(record.template, c.catalog).digest
    except StackscriptsError as exc:
        return Drift(server, record.revision, record.template, "unknown", reason=str(exc))
    state = "current" if current == record.revision else "drifted"
    return Drift(server, record.revision, record.template, state, current)
