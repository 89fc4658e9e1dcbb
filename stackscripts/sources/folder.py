"""A folder as a source: mutable, like right_st's HEAD. Its revision is computed from its files each time.

`/srv/acme/base`, `./scripts` (relative to the project file's folder) or `file:///srv/acme/base`. Its only
refs are `head` (also "" and `latest`: a folder has one state) and the digest of its current content; a
version is refused, since a folder cannot keep one. It cannot be published to: publish to git.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..revisions.manifest import Entry, Manifest, is_digest, scan
from .base import Resolved, Source


class FolderSource(Source):
    name = "folder"
    _last: Manifest | None = None  # the last scan, reused by manifest() for the same digest

    @property
    def path(self) -> Path:
        if self.url.startswith("file://"):
            parts = urlsplit(self.url)
            if parts.netloc not in ("", "localhost"):
                raise self.bad("a file:// URL names a folder of this machine (file:///PATH)")
            return Path(unquote(parts.path))
        path = Path(self.url).expanduser()
        return path if path.is_absolute() else self.base / path

    def _scan(self) -> Manifest:
        if not self.path.is_dir():
            raise self.bad(f"no such folder ({self.path})", hint="Check the library's source in stackscripts.yaml.")
        manifest = scan(self.path)
        self._last = manifest
        return manifest

    def resolve(self, ref: str) -> Resolved:
        if ref not in ("", "head", "latest") and not is_digest(ref):
            raise self.bad(f"unknown ref {ref!r}: a folder has no versions, only its current content (head)",
                           hint="Use @head (or @latest), or publish the library to git and use its versions.")
        manifest = self._scan()
        if is_digest(ref) and ref != manifest.digest:
            raise self.bad(f"unknown ref {ref}: the folder's content is {manifest.digest} now",
                           hint="A folder keeps no earlier revisions; fetch it from the cache or a versioned source.")
        return Resolved(self.url, ref, manifest.digest, manifest.digest)

    def manifest(self, resolved: Resolved) -> Manifest:
        last = self._last
        return last if last is not None and last.digest == resolved.digest else self._scan()

    def blobs(self, resolved: Resolved, entries: Sequence[Entry]) -> Iterator[tuple[Entry, bytes]]:
        for entry in entries:
            path = self.path / entry.path
            try:
                data = path.read_bytes() if not path.is_symlink() else b""
            except OSError as exc:
                raise self.bad(f"cannot read {entry.path}: {exc.strerror or exc}; nothing was cached",
                               hint="The folder changed while it was fetched: fetch again.") from None
            yield entry, data
