"""Revisions for callers: manifests of folders, lock files of templates, diffs of library revisions.

    from stackscripts.api import revisions

    revisions.manifest("scripts").digest                      # sha256:... of the folder as it is now
    result = revisions.lock_template("servertemplates/app.yaml")              # writes app.lock.yaml
    result = revisions.lock_template("servertemplates/app.yaml", update="")   # re-resolve every reference
    d = revisions.diff("acme/base@1.4", "acme/base@1.5")      # or two folders, or two cached sha256: digests
    print(revisions.diff_text(d))
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalog.library import Library
from ..catalog.scripts import load_script
from ..errors import BadInput
from ..revisions import difftext
from ..revisions.diff import Diff, Tree
from ..revisions.diff import diff as diff_trees
from ..revisions.lock import Lock, LockEntry, Want, dump, lock_path
from ..revisions.manifest import Manifest, is_digest, scan
from ..revisions.refs import short_ref, split_ref
from ..sources.cache import Cache
from ..templates import load_template
from .libraries import fetch_library, project
from .pins import Resolver, bad_update, ensure, library_refs, pinned_lock

__all__ = ["Diff", "LockResult", "diff", "diff_json", "diff_text", "lock_template", "manifest", "tree"]


@dataclass(frozen=True)
class LockResult:
    file: Path
    lock: Lock
    added: tuple[str, ...] = ()  # references newly pinned
    updated: tuple[str, ...] = ()  # references whose pin changed (digest, resolved ref or source)
    removed: tuple[str, ...] = ()  # pins of references the template no longer uses
    unchanged: tuple[str, ...] = ()
    written: bool = False


def manifest(folder: str | Path) -> Manifest:
    """The manifest of a folder as it is now (its digest is the folder's revision)."""
    return scan(folder)


def lock_template(template: str | Path, update: str | None = None, *, cache: Cache | None = None) -> LockResult:
    """Write T.lock.yaml beside the template: every library reference pinned to a digest.

    Pins already in the lock stay as they are (each checked in the cache, fetched when missing) unless the
    template or project file now asks for something else; `update=""` re-resolves every reference, `update=X`
    those whose text, script or library is X."""
    loaded = load_template(template)
    proj = project(required=False)
    refs = library_refs(loaded, proj)
    cache = cache or Cache()
    file = lock_path(loaded.path)
    old = Lock(loaded.path.name)
    if file.exists():
        from ..revisions.lock import load

        old = load(file)
    if update:
        chosen = {r.text for r in refs if update in (r.text, r.ref.script, r.ref.library_name)}
        if not chosen:
            raise bad_update(update, refs)
    else:
        chosen = {r.text for r in refs} if update == "" else set()
    current = {item.text: Resolver(loaded, proj, cache, lock=old).want(item) for item in refs}
    resolver = Resolver(loaded, proj, cache)
    entries: list[LockEntry] = []
    added, updated, unchanged = [], [], []
    for item in refs:
        was = old.get(item.text)
        if was is not None and item.text not in chosen and _same(was, current[item.text]):
            assert proj is not None
            ensure(proj, was, cache)
            entries.append(was)
            unchanged.append(item.text)
            continue
        entry = resolver.entry(item)
        if was is not None and _same(was, current[item.text]) and item.ref.kind in ("version", "project") \
                and entry.requested not in ("head", "latest") and entry.digest != was.digest:
            raise _moved(was, entry, file)
        entries.append(entry)
        if was is None:
            added.append(item.text)
        elif entry != was:
            updated.append(item.text)
        else:
            unchanged.append(item.text)
    removed = tuple(e.reference for e in old.entries if e.reference not in current)
    lock = Lock(loaded.path.name, tuple(entries), str(file)).sorted()
    text = dump(lock)
    written = not file.exists() or file.read_text("utf-8") != text
    if written:
        _write(file, text)
    return LockResult(file, lock, tuple(added), tuple(updated), removed, tuple(unchanged), written)


def _moved(was: LockEntry, now: LockEntry, file: Path) -> BadInput:
    """A version is immutable: the same version giving other content is refused, not silently re-pinned."""
    return BadInput(f"{was.source}: digest mismatch for version {was.requested} of {was.library}: the lock pins "
                    f"{was.digest} ({short_ref(was.resolved)}), and the source now gives {now.digest} "
                    f"({short_ref(now.resolved)}) for the same version; the lock was left unchanged", file=str(file),
                    line=was.line,
                    hint="A published version must never change (a moved tag, a replaced artifact, tampering). Ask "
                         "the publisher; to accept it anyway, delete this entry from the lock file and lock again.")


def _same(entry: LockEntry, want: Want) -> bool:
    return (entry.library, entry.source, entry.requested) == (want.library, want.source, want.requested)


def _write(path: Path, text: str) -> None:
    fd, temp = tempfile.mkstemp(prefix=".lock.", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def tree(root: str | Path, revision: Manifest | None = None) -> Tree:
    """A folder (or cached tree) read for a diff: its manifest and its scripts by manifest path."""
    root = Path(root)
    revision = revision or scan(root)
    scripts = {p.relative_to(root).as_posix(): load_script(p, require_metadata=False) for p in Library(root).files()}
    return Tree(revision, scripts)


def _side(spec: str | Path, cache: Cache) -> Tree:
    """A folder, a cached digest, or NAME@REF: a project library at a ref (fetched)."""
    text = str(spec)
    if is_digest(text):
        found, revision = cache.tree(text), cache.manifest(text)
        if found is None or revision is None:
            raise BadInput(f"revision {text} is not in the local cache ({cache.root})",
                           hint="Fetch the library at a ref that has it, or name NAME@REF or a folder.")
        return tree(found, revision)
    if Path(text).is_dir():
        return tree(text)
    name, ref = split_ref(text)
    proj = project()
    assert proj is not None
    spec_ = proj.library(name)
    if spec_ is None:
        raise BadInput(f"{text!r} is not a folder, a cached sha256: digest or a library of {proj.file} at a ref",
                       hint="Write NAMESPACE/LIBRARY@REF (e.g. acme/base@1.4), a folder or a digest.")
    fetched = fetch_library(spec_, proj, ref, cache=cache)
    return tree(fetched.tree, fetched.manifest)


def diff(old: str | Path, new: str | Path, *, cache: Cache | None = None) -> Diff:
    """The diff of two revisions: each a folder, a cached `sha256:` digest, or `NAMESPACE/LIBRARY@REF`."""
    cache = cache or Cache()
    return diff_trees(_side(old, cache), _side(new, cache))


def diff_text(d: Diff) -> str:
    return difftext.render(d)


def diff_json(d: Diff) -> dict[str, Any]:
    return difftext.to_json(d)


def check_lock(template: str | Path) -> Lock | None:
    """The template's lock, checked against the template and project file (BadInput naming the line to fix)."""
    loaded = load_template(template)
    proj = project(required=False)
    return pinned_lock(loaded, proj, library_refs(loaded, proj))
