"""Pinning servers to template revisions: a template made into a revision and kept in the store, a kept revision
laid out in the local cache to run from, and what in a template can still change (a mutable source).

Library references are resolved by `api.pins` (locked digests when a lock file exists); this module reads the
resolved files once, hands their bytes to `revisions.snapshot` (pure) and keeps the tree in the store, so that a
server's later runs, a colleague's controller or a worker need nothing but the store.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import files, yamlsrc
from ..catalog.library import Catalog
from ..errors import BadInput
from ..model import Phase, ScriptRef, Template
from ..plan import ResolvedTemplate, resolve_template
from ..revisions.manifest import parse
from ..revisions.snapshot import TEMPLATE, ScriptFiles, Snapshot, Step, build
from ..sources.cache import Cache
from ..store.base import RevisionRecord, Store
from ..templates import load_template

if TYPE_CHECKING:
    from ..revisions.diff import Tree  # imported where a diff needs it: a boot does not

__all__ = ["Made", "Pin", "keep", "load", "make", "materialise", "mutable_steps", "pin", "tree_of_made",
           "tree_of_revision"]


@dataclass(frozen=True)
class Made:
    """A template on disk as a revision: the snapshot and the template resolved from the files it was made of."""

    snapshot: Snapshot
    resolved: ResolvedTemplate
    source: str  # the template file, absolute

    @property
    def digest(self) -> str:
        return self.snapshot.digest


def resolve(path: str | Path, catalog: Catalog) -> ResolvedTemplate:
    """The template with every script found, library references pinned (api.pins: the lock file's digests)."""
    from .pins import pin_template

    template = load_template(path)
    pin_template(catalog, template)
    return resolve_template(template, catalog)


def make(path: str | Path, catalog: Catalog) -> Made:
    """The revision the template on disk gives now (nothing kept)."""
    resolved = resolve(path, catalog)
    template = resolved.template
    raw = files.read_bytes(template.path, "template")
    if hashlib.sha256(raw).hexdigest() != template.sha256:
        raise BadInput("the template changed while it was read", file=str(template.path), hint="Try again.")
    data: Any = yamlsrc.load(files.decode_utf8(raw, str(template.path), "template"), str(template.path))
    scripts: dict[str, ScriptFiles] = {}
    steps: dict[Phase, list[Step]] = {}
    for phase, entries in resolved.steps.items():
        for ref, script in entries:
            key = os.path.realpath(script.path)
            if key not in scripts:
                attachments = {name: files.read_bytes(script.attach_dir / name, "attachment")
                               for name in script.attachments}
                scripts[key] = ScriptFiles(script.path.name, script.text.encode("utf-8"), attachments)
            steps.setdefault(phase, []).append(Step(key, ref.timeout, ref.retries, ref.stage))
    snapshot = build(data, steps, scripts)
    return Made(snapshot, resolved, str(template.path.resolve()))


def keep(store: Store, made: Made, *, who: str, message: str) -> RevisionRecord:
    """Keep the revision and its files' bytes in the store (the first record stays when it is kept already)."""
    snapshot = made.snapshot
    record = RevisionRecord(made.digest, made.resolved.template.name, time.time(), who, message,
                            snapshot.manifest.canonical, made.source)
    store.put_revision(record, {entry.sha256: snapshot.files[entry.path] for entry in snapshot.manifest.entries})
    return store.get_revision(made.digest)


@dataclass(frozen=True)
class Pin:
    """What a boot runs: a kept revision, the template file it came from and that file's sha256 (None when booted
    from a kept revision by digest), and the template resolved from the revision's tree."""

    revision: str
    source: str | None
    sha256: str | None
    resolved: ResolvedTemplate


def pin(store: Store, catalog: Catalog, template: str | Path, *, who: str, message: str,
        check: Callable[[ResolvedTemplate], object] = lambda resolved: None) -> Pin:
    """A template file made into a revision and kept (or a kept `sha256:...` revision), ready to run from.

    `check` sees the template first (e.g. a plan is built, so that a missing input names the user's file), and
    what it raises leaves the store as it was."""
    if str(template).startswith("sha256:"):
        kept = store.get_revision(str(template))
        loaded = load(store, kept.digest)
        check(loaded)
        return Pin(kept.digest, kept.source, None, loaded)
    made = make(template, catalog)
    check(made.resolved)
    keep(store, made, who=who, message=message)
    return Pin(made.digest, made.source, made.resolved.template.sha256, load(store, made.digest))


def materialise(store: Store, revision: str, cache: Cache | None = None) -> Path:
    """The read-only tree of a kept revision in the local cache, laid out from the store's blobs when missing
    (each checked), or checked file by file when it is there already."""
    cache = cache or Cache()
    record = store.get_revision(revision)
    manifest = parse(record.manifest, f"revision {record.digest}")
    tree = cache.tree(record.digest)
    if tree is not None:
        cache.check_tree(manifest)
        return tree
    with cache.staging() as stage:
        staged: dict[str, Path] = {}
        for entry in cache.missing(manifest):
            path = stage / entry.sha256
            path.write_bytes(store.get_blob(entry.sha256))
            staged[entry.sha256] = path
        return cache.commit(manifest, staged, stage)


def load(store: Store, revision: str, cache: Cache | None = None) -> ResolvedTemplate:
    """A kept revision's template, resolved inside its tree alone (no library, no file outside it). Its scripts
    were checked when it was kept: an ad-hoc script's revision (api/adhoc.py) may have no metadata block."""
    tree = materialise(store, revision, cache)
    return resolve_template(load_template(tree / TEMPLATE), Catalog(require_metadata=False))


def tree_of_revision(resolved: ResolvedTemplate, manifest_bytes: bytes, digest: str) -> Tree:
    """A kept revision (resolved from its tree) as one side of a diff."""
    from ..revisions.diff import Tree

    root = resolved.template.path.parent
    scripts = {script.path.relative_to(root).as_posix(): script for script in resolved.scripts()}
    phases = {phase: tuple(script.path.relative_to(root).as_posix() for _, script in entries)
              for phase, entries in resolved.steps.items() if entries}
    return Tree(parse(manifest_bytes, f"revision {digest}"), scripts, phases, resolved.template)


def tree_of_made(made: Made) -> Tree:
    """A template on disk, as the revision it would give, as one side of a diff."""
    from ..revisions.diff import Tree

    paths = made.snapshot.paths
    scripts = {paths[os.path.realpath(s.path)]: s for s in made.resolved.scripts()}
    return Tree(made.snapshot.manifest, scripts, made.snapshot.phases, made.resolved.template)


def mutable_steps(template: Template) -> list[tuple[Phase, ScriptRef, str]]:
    """Steps whose script can change after a commit: a script file or local library (a folder), a reference at
    @head, or a library whose source is a folder. Each with why, in phase order."""
    from ..sources.base import check_url
    from .libraries import project
    from .pins import library_refs

    proj = project(required=False)
    refs = {item.text: item for item in library_refs(template, proj)}
    found = []
    for phase in Phase:
        for step in template.steps(phase):
            item = refs.get(step.key.strip())
            spec = proj.library(item.ref.library_name or "") if proj and item else None
            if item is None:
                why = "a script file in a folder"
            elif item.ref.mutable:
                why = "a library reference at @head"
            elif spec is not None and check_url(spec.source) == "folder":
                why = f"from library {spec.name}, whose source is a folder ({spec.source})"
            else:
                continue
            found.append((phase, step, why))
    return found
