"""The SQLite side of template revisions: revisions, their content-addressed blobs, pins and server events.

Mixed into `SQLiteStore` (store/sqlite.py), whose `_tx` gives each method one transaction. Nothing read back is
trusted: a revision's manifest must still hash to its digest and a blob to its sha256, else BadInput (exit 2)
naming what was changed behind the store's back. Writes are all or nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import sqlite3
import time
from collections.abc import Mapping

from ..errors import BadInput, NotFound
from ..revisions.manifest import PREFIX, is_digest, parse
from .base import RevisionRecord, ServerEvent
from .liveness import Controller, check_lock

_HEX = re.compile(r"[0-9a-f]{4,64}")
SHOWN = 5


class RevisionsSQL:
    """Store methods for revisions (see store.base.Store); `_tx` and `_controller` come from SQLiteStore."""

    _controller: Controller

    def _tx(self, begin: str = "BEGIN IMMEDIATE") -> contextlib.AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def put_revision(self, revision: RevisionRecord, blobs: Mapping[str, bytes]) -> bool:
        manifest = parse(revision.manifest, f"revision {revision.digest}")
        if manifest.digest != revision.digest:
            raise BadInput(f"revision {revision.digest}: its manifest hashes to {manifest.digest}",
                           hint="The revision was built wrongly: report it as a bug.")
        for sha256, data in blobs.items():
            if hashlib.sha256(data).hexdigest() != sha256:
                raise BadInput(f"revision {revision.digest}: the bytes given for {sha256[:12]}... do not hash to it",
                               hint="A file changed while the revision was made: try again.")
        needed = {entry.sha256: entry.path for entry in manifest.entries}
        with self._tx() as conn:
            if conn.execute("SELECT 1 FROM revisions WHERE digest = ?", (revision.digest,)).fetchone():
                return False
            for sha256, path in needed.items():
                if sha256 in blobs:
                    conn.execute("INSERT OR IGNORE INTO blobs (sha256, data) VALUES (?, ?)", (sha256, blobs[sha256]))
                elif not conn.execute("SELECT 1 FROM blobs WHERE sha256 = ?", (sha256,)).fetchone():
                    raise BadInput(f"revision {revision.digest}: the bytes of {path} are neither given nor kept",
                                   hint="Give every file's bytes when keeping a revision.")
            conn.execute(
                "INSERT INTO revisions (digest, template, created, who, message, manifest, source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (revision.digest, revision.template, revision.created or time.time(), revision.who, revision.message,
                 revision.manifest, revision.source))
        return True

    def get_revision(self, digest: str) -> RevisionRecord:
        with self._tx("BEGIN") as conn:
            return _checked(_find(conn, digest))

    def list_revisions(self, template: str | None = None) -> list[RevisionRecord]:
        where, params = ("WHERE template = ?", (template,)) if template is not None else ("", ())
        with self._tx("BEGIN") as conn:
            found = conn.execute(f"SELECT * FROM revisions {where} ORDER BY created DESC, digest", params).fetchall()
        return [_record(row) for row in found]

    def get_blob(self, sha256: str) -> bytes:
        with self._tx("BEGIN") as conn:
            row = conn.execute("SELECT data FROM blobs WHERE sha256 = ?", (sha256,)).fetchone()
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
        with self._tx() as conn:
            server = conn.execute("SELECT * FROM servers WHERE name = ?", (name,)).fetchone()
            if server is None:
                raise NotFound(f"unknown server {name!r}")
            digest = _checked(_find(conn, revision)).digest
            check_lock(conn, name, now, self._controller.host)
            changes = {"revision": digest, "updated": max(now, server["updated"] + 1e-6)}
            if template is not None:
                changes.update(template=template, template_sha256=None)
            assignments = ", ".join(f"{column} = ?" for column in changes)
            conn.execute(f"UPDATE servers SET {assignments} WHERE name = ?", (*changes.values(), name))
            event = ServerEvent(name, now, "upgrade", who, digest, server["revision"], message)
            conn.execute("INSERT INTO server_events (server, at, kind, who, revision, previous, message) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", (name, now, event.kind, who, digest, event.previous, message))
        return event

    def server_events(self, server: str | None = None) -> list[ServerEvent]:
        where, params = ("WHERE server = ?", (server,)) if server is not None else ("", ())
        with self._tx("BEGIN") as conn:
            found = conn.execute(f"SELECT * FROM server_events {where} ORDER BY at, id", params).fetchall()
        return [ServerEvent(row["server"], row["at"], row["kind"], row["who"], row["revision"], row["previous"],
                            row["message"]) for row in found]


def _find(conn: sqlite3.Connection, text: str) -> sqlite3.Row:
    """A revision by its digest, or by a unique prefix of its hex digits (with or without 'sha256:')."""
    given = text.strip()
    part = given.removeprefix(PREFIX).lower()
    if not _HEX.fullmatch(part):
        raise BadInput(f"{text!r} is not a revision", hint="Give sha256:<64 hex digits>, or 4 or more of its first hex "
                       "digits ('stackscripts revisions list' shows them).")
    if is_digest(PREFIX + part):
        row: sqlite3.Row | None = conn.execute("SELECT * FROM revisions WHERE digest = ?", (PREFIX + part,)).fetchone()
        found = [row] if row is not None else []
    else:
        found = conn.execute("SELECT * FROM revisions WHERE substr(digest, 1, ?) = ? ORDER BY digest LIMIT ?",
                             (len(PREFIX) + len(part), PREFIX + part, SHOWN + 1)).fetchall()
    if len(found) == 1:
        return found[0]
    if found:
        shown = "; ".join(f"{row['digest'][:19]}... ({row['template']})" for row in found[:SHOWN])
        raise BadInput(f"revision {text!r} is ambiguous: it matches {shown}", hint="Give more of its digits.")
    raise NotFound(f"unknown revision {text!r}",
                   hint="List the revisions this store keeps with 'stackscripts revisions list'; a revision made "
                        "elsewhere is kept in that store.")


def _record(row: sqlite3.Row) -> RevisionRecord:
    return RevisionRecord(row["digest"], row["template"], row["created"], row["who"], row["message"],
                          bytes(row["manifest"]), row["source"])


def _checked(row: sqlite3.Row) -> RevisionRecord:
    record = _record(row)
    actual = PREFIX + hashlib.sha256(record.manifest).hexdigest()
    if actual != record.digest:
        raise BadInput(f"the audit store's revision {record.digest} was changed: its manifest hashes to {actual}",
                       hint="Someone edited the store behind stackscripts' back; the revision cannot be trusted. "
                            "Restore the store from a backup, or commit the template again.")
    return record
