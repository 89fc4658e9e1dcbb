"""The source contract: where libraries come from. Sources only resolve, fetch and publish; above them,
everything sees digests and folders of the local cache (`cache.py`).

A source is chosen by its URL's scheme (`open_source`) and named in the `sources` registry:

| URL | Source |
|---|---|
| `/srv/acme/base`, `./scripts`, `file:///srv/acme/base` | `folder` (mutable: its revision is computed each time) |
| `git+file:///srv/git/base.git`, `git+ssh://git@host/base.git`, `git+https://host/base.git`, `git://host/base.git` | `git` |
| `s3://bucket/prefix` | `s3` (a manifest object per version plus content-addressed blobs) |
| `oci://registry:5000/acme/base` | `oci` (an OCI artifact per version, tagged with the version) |

A URL may carry a ref after '@' in its path, as pip writes it: `git+https://host/acme/base.git@v1.4`.

Adding a source (S3, an OCI registry...): subclass `Source` in its own module (the only one importing its
third-party library), register it lazily and map its schemes:

    sources.register("s3", "stackscripts.sources.s3:S3Source")
    register_scheme("s3", "s3")

and implement three methods; `fetch` (here, shared by all) does the verifying and the caching:

- `resolve(ref) -> Resolved`: `ref` is a version ("1.4"), `latest`, `head` or "" (the source's default).
  Return the immutable id the source gives that revision (`resolved_ref`: a commit, an object version, an
  OCI manifest digest) and the revision's digest (`sha256:` of its canonical manifest). An unknown ref or an
  unreachable source is `self.bad(...)`: BadInput (exit 2) naming the source.
- `manifest(resolved) -> Manifest`: the revision's manifest (a source storing manifests returns the parsed
  canonical bytes; `fetch` checks that its digest is the one `resolve` gave).
- `blobs(resolved, entries) -> Iterator[(Entry, bytes)]`: the bytes of exactly these entries (those the cache
  lacks: a fetch transfers only what changed). `fetch` hashes every one against its entry.
- optionally `publish(folder, version, name=None, signature=None) -> Published`: store the folder's files as an
  immutable version; refuse (BadInput) a version that exists. The returned digest must be the folder's manifest
  digest. `signature` (armoured `ssh-keygen -Y sign` text over the manifest's canonical bytes) is stored with it.
- optionally `signature(resolved) -> str | None`: the signature published with that revision (None: unsigned).

`fetch(ref, cache, expected=None, trust=None)`: a digest other than `expected` (a lock's), a blob whose bytes do
not hash to its entry, a corrupt cache entry, or (with `trust`, the namespace's allowed signers) a missing or bad
signature refuses the fetch, and the cache is left exactly as it was: blobs are staged, verified, and only then
moved into place with the manifest and the read-only tree.
"""

from __future__ import annotations

import abc
import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TypeVar

from ..errors import BadInput
from ..registry import Registry
from ..revisions.manifest import Entry, Manifest
from ..revisions.refs import scheme_of, split_ref
from .cache import Cache
from .signing import Trust, verify

__all__ = ["Fetched", "Published", "Resolved", "Source", "check_url", "in_parallel", "open_source", "register_scheme",
           "scheme_of", "sources", "split_ref"]

T = TypeVar("T")
R = TypeVar("R")
FETCH_WORKERS = 8  # concurrent requests of a network source's blobs (S3, OCI): a fetch waits on round trips


@dataclass(frozen=True)
class Resolved:
    source: str  # the URL
    ref: str  # as asked
    resolved_ref: str  # the source's immutable id of the revision: a commit, a version id, a digest
    digest: str  # sha256:... of the canonical manifest


@dataclass(frozen=True)
class Fetched:
    resolved: Resolved
    manifest: Manifest
    tree: Path  # the read-only materialised tree in the cache
    transferred: int  # blobs this fetch brought into the cache
    transferred_bytes: int
    signed: bool = False  # a key the namespace trusts signed the manifest (checked by this fetch)


@dataclass(frozen=True)
class Published:
    source: str
    version: str
    resolved_ref: str
    digest: str


class Source(abc.ABC):
    """One library location. `base` resolves relative paths (the project file's folder)."""

    name: ClassVar[str] = ""

    def __init__(self, url: str, *, base: Path | None = None, cache: Cache | None = None) -> None:
        self.url = url
        self.base = base or Path.cwd()
        self.cache = cache or Cache()

    @abc.abstractmethod
    def resolve(self, ref: str) -> Resolved: ...

    @abc.abstractmethod
    def manifest(self, resolved: Resolved) -> Manifest: ...

    @abc.abstractmethod
    def blobs(self, resolved: Resolved, entries: Sequence[Entry]) -> Iterator[tuple[Entry, bytes]]: ...

    def publish(self, folder: Path, version: str, name: str | None = None,
                signature: str | None = None) -> Published:
        raise self.bad(f"a {self.name} source cannot be published to",
                       hint="Publish to a git URL (git+file://, git+ssh://...): a commit tagged vVERSION.")

    def pinned_ref(self, resolved_ref: str, digest: str) -> str:
        """The ref that fetches exactly this revision again (a lock's): its digest, where the source serves content by
        digest; a source whose ids are its own (git's commits) overrides it."""
        return digest

    def signature(self, resolved: Resolved) -> str | None:
        """The signature published with this revision, None when it has none."""
        return None

    def bad(self, message: str, hint: str | None = None) -> BadInput:
        """Bad input naming this source."""
        return BadInput(f"{self.url}: {message}", hint=hint)

    def fetch(self, ref: str, cache: Cache | None = None, expected: str | None = None,
              trust: Trust | None = None) -> Fetched:
        cache = cache or self.cache
        resolved = self.resolve(ref)
        if expected is not None and resolved.digest != expected:
            raise self.mismatch(resolved, expected)
        manifest = cache.manifest(resolved.digest) or self.manifest(resolved)
        if manifest.digest != resolved.digest:
            raise self.mismatch(resolved, manifest.digest, what="its manifest hashes to")
        signed = trust is not None and verify(manifest.canonical, self.signature(resolved), trust, source=self.url)
        missing = cache.missing(manifest)
        if not missing and cache.tree(manifest.digest):
            cache.check_tree(manifest)
            return Fetched(resolved, manifest, cache.tree_path(manifest.digest), 0, 0, signed)
        with cache.staging() as stage:
            staged: dict[str, Path] = {}
            size = 0
            for entry, data in self.blobs(resolved, missing):
                if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
                    raise self.bad(f"the bytes of {entry.path} at {resolved.ref or 'head'} ({resolved.resolved_ref}) "
                                   f"do not match the manifest (sha256 {hashlib.sha256(data).hexdigest()[:12]}..., "
                                   f"expected {entry.sha256[:12]}...): the content was tampered with or changed "
                                   "while it was read; nothing was cached",
                                   hint="Fetch again; if it persists, tell the library's publisher.")
                path = stage / entry.sha256
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                staged[entry.sha256] = path
                size += len(data)
            lacking = [e.path for e in missing if e.sha256 not in staged]
            if lacking:
                raise self.bad(f"the source did not deliver {lacking[0]} ({len(lacking)} file(s) missing); "
                               "nothing was cached", hint="Fetch again.")
            tree = cache.commit(manifest, staged, stage)
        return Fetched(resolved, manifest, tree, len(staged), size, signed)

    def mismatch(self, resolved: Resolved, expected: str, what: str = "it is") -> BadInput:
        return self.bad(
            f"digest mismatch for ref {resolved.ref or 'head'} ({resolved.resolved_ref}): {what} {expected}, "
            f"and the source's content is {resolved.digest}; the fetch was refused and the cache left unchanged",
            hint="The source changed under a pinned ref (a moved tag, an edited folder, tampering). If the change "
                 "is expected, review it and run 'stackscripts templates lock TEMPLATE --update'.")


def in_parallel(fn: Callable[[T], R], items: Sequence[T], workers: int = FETCH_WORKERS) -> Iterator[R]:
    """fn over items on a few threads, the results in order; the first failure stops the rest (not yet started)."""
    if len(items) <= 1:
        yield from map(fn, items)
        return
    pool = ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="stackscripts-fetch")
    try:
        yield from pool.map(fn, items)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


sources: Registry[Source] = Registry("source")
sources.register("folder", "stackscripts.sources.folder:FolderSource")
sources.register("git", "stackscripts.sources.git:GitSource")
sources.register("s3", "stackscripts.sources.s3:S3Source")
sources.register("oci", "stackscripts.sources.oci:OciSource")

SCHEMES: dict[str, str] = {"": "folder", "file": "folder", "git": "git", "git+file": "git", "git+ssh": "git",
                           "git+https": "git", "git+http": "git", "s3": "s3", "oci": "oci"}


def register_scheme(scheme: str, source: str) -> None:
    SCHEMES[scheme] = source


def check_url(url: str, *, file: str | None = None, line: int | None = None) -> str:
    """The source kind of url; BadInput for a scheme no source handles."""
    scheme = scheme_of(url)
    if scheme not in SCHEMES:
        known = ", ".join(f"{s}://" for s in sorted(SCHEMES) if s)
        raise BadInput(f"no source handles {url!r} (scheme {scheme}://)", file=file, line=line,
                       hint=f"Write a folder path or a URL starting with one of: {known}.")
    return SCHEMES[scheme]


def open_source(url: str, *, base: Path | None = None, cache: Cache | None = None) -> Source:
    return sources.get(check_url(url))(url, base=base, cache=cache)
