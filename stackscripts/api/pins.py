"""A template's library references, resolved to revisions in the cache and pinned in a catalog.

With a lock file beside the template, its digests are used (fetched into the cache when missing, each
verified against the lock) and the lock is first checked against the template and project file; without
one, each reference resolves through its source now. Either way the catalog gets files of read-only
cached trees (`Catalog.pin`); it never sees a source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..catalog.library import Catalog, Library
from ..errors import BadInput, NotFound
from ..model import Phase, Template
from ..project import Project
from ..revisions.lock import Lock, LockEntry, Want, check, load, lock_path
from ..revisions.manifest import is_digest
from ..revisions.refs import LibraryRef, parse
from ..sources.base import Fetched, Resolved
from ..sources.cache import Cache
from .libraries import project as find_project
from .libraries import source_of

__all__ = ["TemplateRef", "ensure", "library_refs", "pin_template", "resolve_ref", "wants"]


@dataclass(frozen=True)
class TemplateRef:
    text: str  # as the template writes it (the lock's key)
    ref: LibraryRef
    line: int | None


def library_refs(template: Template, proj: Project | None) -> list[TemplateRef]:
    """The template's steps that are library references (not existing files), each text once, in order."""
    names = proj.names() if proj else frozenset()
    seen: dict[str, TemplateRef] = {}
    for phase in Phase:
        for step in template.steps(phase):
            text = step.ref.strip()
            if text in seen or (template.path.parent / text).exists():
                continue
            parsed = parse(text, file=str(template.path), line=step.line, libraries=names)
            if parsed is not None:
                seen[text] = TemplateRef(text, parsed, step.line)
    return list(seen.values())


def _library(proj: Project | None, item: TemplateRef, template: Template) -> tuple[Project, str, str, str]:
    """(project, library name, source URL, requested ref) of a reference; BadInput at the template's line."""
    name = item.ref.library_name or ""
    spec = proj.library(name) if proj else None
    if proj is None or spec is None:
        where = f"the project file {proj.file}" if proj else "a project file (none found: stackscripts.yaml)"
        raise NotFound(f"{item.text}: library {name} is not in {where}", file=str(template.path), line=item.line,
                       hint=f"Add it: stackscripts libraries add {name} SOURCE[@REF].")
    return proj, spec.name, spec.source, item.ref.version or spec.ref or "head"


def wants(template: Template, proj: Project | None, refs: list[TemplateRef]) -> list[Want]:
    return [Want(item.text, *_library(proj, item, template)[1:], line=item.line) for item in refs]


def ensure(proj: Project, entry: LockEntry, cache: Cache) -> Path:
    """The cached tree of a locked revision, fetched (and verified against the lock's digest) when missing."""
    tree = cache.tree(entry.digest)
    if tree is not None:
        return tree
    spec = proj.library(entry.library)
    if spec is None:  # check() ran first: cannot happen
        raise NotFound(f"library {entry.library} is not in {proj.file}")
    ref = entry.requested if is_digest(entry.resolved) else entry.resolved  # a folder has no past revisions
    return source_of(spec, proj, cache).fetch(ref, cache, expected=entry.digest).tree


def resolve_ref(item: TemplateRef, template: Template, proj: Project | None, cache: Cache,
                memo: dict[tuple[str, str], Fetched]) -> LockEntry:
    """Resolve one reference through its source now: the lock entry it would get."""
    proj, library, source, requested = _library(proj, item, template)
    key = (library, requested)
    if key not in memo:
        spec = proj.library(library)
        assert spec is not None
        if is_digest(requested):  # exactly that revision: only the cache can have it by its digest
            tree, manifest = cache.tree(requested), cache.manifest(requested)
            if tree is None or manifest is None:
                raise NotFound(f"{item.text}: revision {requested} is not in the local cache ({cache.root})",
                               file=str(template.path), line=item.line,
                               hint=f"Fetch a ref that has it first (stackscripts libraries fetch {library}), "
                                    "or name a version instead.")
            memo[key] = Fetched(Resolved(source, requested, requested, requested), manifest, tree, 0, 0)
        else:
            memo[key] = source_of(spec, proj, cache).fetch(requested, cache)
    fetched = memo[key]
    script = Library(fetched.tree, library).find(item.ref.script)
    if script is None:
        names = sorted({p.stem for p in Library(fetched.tree, library).files()})
        raise NotFound(f"{item.text}: library {library} at {requested} ({fetched.manifest.digest[:19]}...) has no "
                       f"script {item.ref.script!r}", file=str(template.path), line=item.line,
                       hint=f"Its scripts: {', '.join(names[:20]) or 'none'}.")
    path = script.path.relative_to(fetched.tree).as_posix()
    return LockEntry(item.text, library, source, requested, fetched.resolved.resolved_ref, fetched.manifest.digest,
                     path)


def pinned_lock(template: Template, proj: Project | None, refs: list[TemplateRef]) -> Lock | None:
    """The template's lock file, checked against the template and project file; None when there is none."""
    file = lock_path(template.path)
    if not file.exists():
        return None
    lock = load(file)
    check(lock, wants(template, proj, refs), str(template.path))
    return lock


def pin_template(catalog: Catalog, template: Template, *, cache: Cache | None = None) -> None:
    """Pin every library reference of the template in the catalog (locked digests when a lock file exists)."""
    if all((template.path.parent / s.ref).exists() for p in Phase for s in template.steps(p)):
        return
    proj = find_project(required=False)
    refs = library_refs(template, proj)
    if not refs:
        return
    cache = cache or Cache()
    lock = pinned_lock(template, proj, refs)
    if lock is not None:
        assert proj is not None  # check() refuses references of libraries the project does not name
        for entry in lock.entries:
            catalog.pin(entry.reference, ensure(proj, entry, cache) / entry.path, entry.library)
        return
    memo: dict[tuple[str, str], Fetched] = {}
    for item in refs:
        entry = resolve_ref(item, template, proj, cache, memo)
        catalog.pin(entry.reference, cache.tree_path(entry.digest) / entry.path, entry.library)


def bad_update(update: str, refs: list[TemplateRef]) -> BadInput:
    return BadInput(f"--update {update}: no library reference of the template matches",
                    hint=f"References: {', '.join(r.text for r in refs) or 'none'}; name one, its script or its library.")
