"""Templates and their kept revisions: the list, one revision (its scripts, servers, files), and the diff of two."""

from __future__ import annotations

from typing import Any

from ..api import views
from ..api.controller import Controller
from ..api.snapshots import diff_revisions, show_revision
from ..errors import StackscriptsError
from ..revisions import difftext
from ..store.base import RevisionRecord
from .auth import Principal, visible
from .pages import Page
from .scope import revision_of

FILE_SHOWN = 64 * 1024  # a file's bytes shown inline on its revision's page


def diff_lines(text: str) -> list[tuple[str, str]]:
    """The diff text a line at a time, each with its kind for the page: add, del, change, hunk, head or plain."""
    kinds = {"+": "add", "-": "del", "~": "change", "@": "hunk"}
    out = []
    for line in text.splitlines():
        mark = line.lstrip()[:1]
        kind = "head" if line and not line.startswith(" ") else kinds.get(mark, "plain")
        if line.lstrip().startswith(("+++", "---")):
            kind = "hunk"
        out.append((kind, line))
    return out


class RevisionPages:
    def __init__(self, controller: Controller) -> None:
        self.c = controller

    def _visible(self, who: Principal) -> list[RevisionRecord]:
        return [r for r in self.c.store.list_revisions() if visible(who, r.team)]

    def revisions(self, who: Principal, template: str | None = None) -> Page:
        kept = self._visible(who)
        templates: dict[str, dict[str, Any]] = {}
        for record in kept:  # newest first: the first of a template is its latest
            entry = templates.setdefault(record.template, {"name": record.template, "latest": record, "count": 0})
            entry["count"] += 1
        pinned: dict[str, list[str]] = {}
        for server in self.c.store.list_servers(who.team):
            if server.revision and visible(who, server.team):
                pinned.setdefault(server.revision, []).append(server.name)
        shown = [r for r in kept if not template or r.template == template]
        return Page("revisions.html", {"templates": list(templates.values()), "revisions": shown,
                                       "template": template or "", "pinned": pinned,
                                       "rows": [views.revision_data(r) for r in shown]})

    def revision(self, who: Principal, digest: str) -> Page:
        revision_of(self.c, who, digest)
        shown = show_revision(self.c, digest)
        files = []
        for entry in shown.manifest.entries:
            text = None
            if entry.size <= FILE_SHOWN:
                text = self.c.store.get_blob(entry.sha256).decode("utf-8", "replace")
            files.append({"entry": entry, "text": text})
        servers = [name for name in shown.servers if self._server_visible(who, name)]
        others = [r for r in self._visible(who) if r.template == shown.record.template and r.digest != digest]
        return Page("revision.html", {"shown": shown, "data": views.revision_show(shown), "files": files,
                                      "servers": servers, "others": others})

    def _server_visible(self, who: Principal, name: str) -> bool:
        try:
            return visible(who, self.c.store.get_server(name).team)
        except StackscriptsError:  # removed meanwhile
            return False

    def diff(self, who: Principal, old: str, new: str) -> Page:
        revision_of(self.c, who, old)
        revision_of(self.c, who, new)
        found = diff_revisions(self.c, old, new)
        return Page("diff.html", {"old": old, "new": new, "diff": found, "data": difftext.to_json(found),
                                  "lines": diff_lines(difftext.render(found))})
