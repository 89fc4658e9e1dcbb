"""Template revisions on either backend: revisions, their content-addressed blobs, pins and server events.

Part of `SQLStore` (store/sql_store.py); `_tx` (store/sql.py) gives each method one transaction. Nothing read back is
trusted: a revision's manifest must still hash to its digest and a blob to its sha256, else BadInput (exit 2)
naming what was changed behind the store's back. Writes are all or nothing.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Mapping

from ..errors import BadInput, NotFound
from ..revisions.manifest import PREFIX, is_digest, parse
from . import access
from .base import RevisionRecord, ServerEvent
from .liveness import check_lock
from .rows import Row, Tx
from .sql import Link, SQLCore

_HEX = re.compile(r"[0-9a-f]{4,64}")
SHOWN = 5


class RevisionsSQL(SQLCore):
    """Store methods for revisions (see store.base.Store). A revision never changes (its digest is its content's), so
    the store remembers those it checked or kept: a fleet of 500 servers of one template reads and keeps it once."""

    def _connect(self, make: Callable[[], Link], location: str, flush_interval: float) -> None:
        super()._connect(make, location, flush_interval)
        self._known: dict[str, RevisionRecord] = {}  # by digest: read and checked by this store
        self._kept: set[str] = set()  # digests this store kept for its team
        self._keeping = threading.Lock()

    def put_revision(self, revision: RevisionRecord, blobs: Mapping[str, bytes]) -> bool:
        with self._keeping:  # a fleet's threads keep the same revision at once: the first keeps it, the rest know
            if revision.digest in self._kept:
                return False  # kept by this store already (for its team)
            return self._put_revision(revision, blobs)

    def _put_revision(self, revision: RevisionRecord, blobs: Mapping[str, bytes]) -> bool:
        manifest = parse(revision.manifest, f"revision {revision.digest}")
        if manifest.digest != revision.digest:
            raise BadInput(f"revision {revision.digest}: its manifest hashes to {manifest.digest}",
                           hint="The revision was built wrongly: report it as a bug.")
        for sha256, data in blobs.items():
            if hashlib.sha256(data).hexdigest() != sha256:
                raise BadInput(f"revision {revision.digest}: the bytes given for {sha256[:12]}... do not hash to it",
                               hint="A file changed while the revision was made: try again.")
        needed = {entry.sha256: entry.path for entry in manifest.entries}
        team = {"digest": revision.digest, "team": self.team}
        with self._tx() as tx:
            access.check_writer(tx, self.team, f"revision {revision.digest}")
            seen = tx.one("SELECT 1 FROM revisions WHERE digest = :digest", team) is not None
            if seen and tx.one("SELECT 1 FROM revision_teams WHERE digest = :digest AND team = :team", team):
                self._kept.add(revision.digest)
                return False
            for sha256, path in needed.items():  # a team claims bytes it gives, or already sees: never by hash alone
                if sha256 not in blobs and not tx.one("SELECT 1 FROM blobs WHERE sha256 = :sha256", {"sha256": sha256}):
                    raise BadInput(f"revision {revision.digest}: the bytes of {path} are neither given nor kept",
                                   hint="Give every file's bytes when keeping a revision.")
                tx.run("INSERT INTO blob_teams (sha256, team) VALUES (:sha256, :team) ON CONFLICT DO NOTHING",
                       {"sha256": sha256, "team": self.team})
                if sha256 in blobs:
                    tx.run("INSERT INTO blobs (sha256, data) VALUES (:sha256, :data) ON CONFLICT (sha256) DO NOTHING",
                           {"sha256": sha256, "data": blobs[sha256]})
            tx.run("INSERT INTO revision_teams (digest, team) VALUES (:digest, :team) ON CONFLICT DO NOTHING", team)
            tx.run("INSERT INTO revisions (digest, template, created, who, message, manifest, source, team) "
                   "VALUES (:digest, :template, :created, :who, :message, :manifest, :source, :team) "
                   "ON CONFLICT (digest) DO NOTHING",  # another team or process kept it meanwhile: the first stays
                   {**team, "template": revision.template, "created": revision.created or time.time(),
                    "who": revision.who, "message": revision.message, "manifest": revision.manifest,
                    "source": revision.source})
        self._kept.add(revision.digest)
        return not seen  # new to this store's user (another team's copy, unseen, is kept for theirs too)

    def get_revision(self, digest: str) -> RevisionRecord:
        known = self._known.get(digest)
        if known is not None:
            return known
        with self._tx(write=False) as tx:
            found = _checked(_find(tx, digest))
        self._known.setdefault(found.digest, found)
        return found

    def list_revisions(self, template: str | None = None) -> list[RevisionRecord]:
        where = "WHERE template = :template" if template is not None else ""
        with self._tx(write=False) as tx:
            found = tx.all(f"SELECT * FROM revisions {where} ORDER BY created DESC, digest", {"template": template})
        return [_record(row) for row in found]

    def get_blob(self, sha256: str) -> bytes:
        with self._tx(write=False) as tx:
            row = tx.one("SELECT data FROM blobs WHERE sha256 = :sha256", {"sha256": sha256})
        if row is None:
            raise NotFound(f"the audit store has no file with sha256 {sha256}",
                           hint="The revision was kept incompletely: commit the template again.")
        data = bytes(row["data"])
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise BadInput(f"the audit store's copy of file {sha256[:12]}... was changed: its bytes hash to "
                           f"{actual[:12]}...", hint="Someone edited the store behind stackscripts' back; the revision "
                           "cannot be trusted. Restore the store from a backup, or commit the template again.")
        return data

    def upgrade_server(self, name: str, revision: str, *, who: str, message: str = "",
                       template: str | None = None) -> ServerEvent:
        now = time.time()
        with self._tx() as tx:
            server = tx.one(f"SELECT * FROM servers WHERE name = :name{tx.for_update}", {"name": name})
            if server is None:
                raise NotFound(f"unknown server {name!r}")
            digest = _checked(_find(tx, revision)).digest
            check_lock(tx, name, now, self._controller.host)
            changes: dict[str, object] = {"revision": digest, "updated": max(now, server["updated"] + 1e-6)}
            if template is not None:
                changes.update(template=template, template_sha256=None)
            assignments = ", ".join(f"{column} = :{column}" for column in changes)
            tx.run(f"UPDATE servers SET {assignments} WHERE name = :name", {**changes, "name": name})
            event = ServerEvent(name, now, "upgrade", who, digest, server["revision"], message)
            _insert_event(tx, event, server["team"])
        return event

    def record_event(self, event: ServerEvent) -> None:
        with self._tx() as tx:
            server = tx.one("SELECT team FROM servers WHERE name = :name", {"name": event.server})
            if server is None:
                raise NotFound(f"unknown server {event.server!r}")
            _insert_event(tx, event, server["team"])

    def server_events(self, server: str | None = None) -> list[ServerEvent]:
        where = "WHERE server = :server" if server is not None else ""
        with self._tx(write=False) as tx:
            found = tx.all(f"SELECT * FROM server_events {where} ORDER BY at, id", {"server": server})
        return [ServerEvent(row["server"], row["at"], row["kind"], row["who"], row["revision"], row["previous"],
                            row["message"]) for row in found]


def _insert_event(tx: Tx, event: ServerEvent, team: str) -> None:
    """One row of a server's history, in the server's team."""
    tx.run("INSERT INTO server_events (server, at, kind, who, revision, previous, message, team) "
           "VALUES (:server, :at, :kind, :who, :revision, :previous, :message, :team)",
           {"server": event.server, "at": event.at, "kind": event.kind, "who": event.who, "revision": event.revision,
            "previous": event.previous, "message": event.message, "team": team})


def _find(tx: Tx, text: str) -> Row:
    """A revision by its digest, or by a unique prefix of its hex digits (with or without 'sha256:')."""
    given = text.strip()
    part = given.removeprefix(PREFIX).lower()
    if not _HEX.fullmatch(part):
        raise BadInput(f"{text!r} is not a revision", hint="Give sha256:<64 hex digits>, or 4 or more of its first hex "
                       "digits ('stackscripts revisions list' shows them).")
    if is_digest(PREFIX + part):
        row = tx.one("SELECT * FROM revisions WHERE digest = :digest", {"digest": PREFIX + part})
        found = [row] if row is not None else []
    else:  # hex digits only: no LIKE wildcard in the pattern
        found = tx.all("SELECT * FROM revisions WHERE digest LIKE :pattern ORDER BY digest LIMIT :limit",
                       {"pattern": PREFIX + part + "%", "limit": SHOWN + 1})
    if len(found) == 1:
        return found[0]
    if found:
        shown = "; ".join(f"{row['digest'][:19]}... ({row['template']})" for row in found[:SHOWN])
        raise BadInput(f"revision {text!r} is ambiguous: it matches {shown}", hint="Give more of its digits.")
    raise NotFound(f"unknown revision {text!r}",
                   hint="List the revisions this store keeps with 'stackscripts revisions list'; a revision made "
                        "elsewhere is kept in that store.")


def _record(row: Row) -> RevisionRecord:
    return RevisionRecord(row["digest"], row["template"], row["created"], row["who"], row["message"],
                          bytes(row["manifest"]), row["source"], row["team"])


def _checked(row: Row) -> RevisionRecord:
    record = _record(row)
    actual = PREFIX + hashlib.sha256(record.manifest).hexdigest()
    if actual != record.digest:
        raise BadInput(f"the audit store's revision {record.digest} was changed: its manifest hashes to {actual}",
                       hint="Someone edited the store behind stackscripts' back; the revision cannot be trusted. "
                            "Restore the store from a backup, or commit the template again.")
    return record
