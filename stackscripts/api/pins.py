"""A template's library references, resolved to revisions in the cache and pinned in a catalog.

With a lock file beside the template, its digests are used (fetched into the cache when missing, each
verified against the lock) and the lock is first checked against the template and project file; without
one, each reference resolves through its source now. Either way the catalog gets files of read-only
cached trees (`Catalog.pin`); it never sees a source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..catalog.library import Catalog, Library
from ..errors import BadInput, NotFound
from ..model import Phase, Template
from ..project import LibrarySpec, Project
from ..revisions.manifest import is_digest
from ..revisions.refs import LibraryRef, from_right_st, parse
from ..sources.cache import Cache

if TYPE_CHECKING:  # a template of script files only (most boots) never needs a lock, a source or a library
    from ..revisions.lock import Lock, LockEntry, Want
    from ..sources.base import Fetched

__all__ = ["Resolver", "TemplateRef", "ensure", "library_refs", "pin_template"]


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
            text = step.key.strip()
            if text in seen or (step.publisher is None and (template.path.parent / text).exists()):
                continue
            parsed = (from_right_st(step.ref, step.revision or "", step.publisher) if step.publisher is not None
                      else parse(text, file=str(template.path), line=step.line, libraries=names))
            if parsed is not None:
                seen[text] = TemplateRef(text, parsed, step.line)
    return list(seen.values())


class Resolver:
    """Finds the library of each reference; right_st's Publisher form searches the namespace's libraries (each
    fetched once, at its ref) for the script, and two libraries offering it is an error naming both."""

    def __init__(self, template: Template, proj: Project | None, cache: Cache | None = None,
                 lock: Lock | None = None) -> None:
        self.template, self.proj, self.lock = template, proj, lock
        self.cache = cache or Cache()
        self.memo: dict[tuple[str, str], Fetched] = {}
        self._libraries: dict[Path, Library] = {}  # one index per cached tree, shared by its references

    def tree_library(self, tree: Path, name: str) -> Library:
        if tree not in self._libraries:
            self._libraries[tree] = Library(tree, name)
        return self._libraries[tree]

    def library(self, item: TemplateRef) -> tuple[Project, LibrarySpec, str]:
        """(project, library, requested ref) of a reference; BadInput/NotFound at the template's line."""
        proj, name = self.proj, item.ref.library_name
        if name is None:
            name = self._publisher_library(item)
        spec = proj.library(name) if proj else None
        if proj is None or spec is None:
            where = f"the project file {proj.file}" if proj else "a project file (none found: stackscripts.yaml)"
            raise NotFound(f"{item.text}: library {name} is not in {where}", file=str(self.template.path),
                           line=item.line, hint=f"Add it: stackscripts libraries add {name} SOURCE[@REF].")
        return proj, spec, item.ref.version or spec.ref or "head"

    def _publisher_library(self, item: TemplateRef) -> str:
        namespace = item.ref.namespace
        specs = [lib for lib in self.proj.libraries if lib.name.split("/")[0] == namespace] if self.proj else []
        if not specs:
            where = f"the project file {self.proj.file}" if self.proj else "a project file (none found)"
            raise NotFound(f"{item.text}: no library of namespace {namespace!r} (Publisher) is in {where}",
                           file=str(self.template.path), line=item.line,
                           hint=f"Add one: stackscripts libraries add {namespace}/LIBRARY SOURCE[@REF].")
        pinned = self.lock.get(item.text) if self.lock else None
        if pinned is not None and any(s.name == pinned.library for s in specs):
            return pinned.library  # the lock says which library offered it: no fetch
        offering = [s for s in specs if self.tree_library(self.fetched(s, item.ref.version or s.ref or "head").tree,
                                                          s.name).find(item.ref.script)]
        if len(offering) > 1:
            both = " and ".join(f"{s.name} ({s.source})" for s in offering)
            raise BadInput(f"{item.text}: libraries {both} both offer script {item.ref.script!r} of namespace "
                           f"{namespace!r}; a reference must name one library", file=str(self.template.path),
                           line=item.line, hint=f"Write {offering[0].name}/{item.ref.script}"
                                                f"{'@' + item.ref.version if item.ref.version else ''} instead.")
        if not offering:
            searched = ", ".join(s.name for s in specs)
            raise NotFound(f"{item.text}: no library of namespace {namespace!r} has script {item.ref.script!r} "
                           f"(searched {searched})", file=str(self.template.path), line=item.line,
                           hint="Check the script's RightScript Name, or the Revision.")
        return offering[0].name

    def fetched(self, spec: LibrarySpec, requested: str, item: TemplateRef | None = None) -> Fetched:
        """The library at requested, fetched once (a digest: only from the cache, which alone can have it)."""
        from ..sources.base import Fetched, Resolved
        from .libraries import fetch_library

        key = (spec.name, requested)
        if key not in self.memo:
            if is_digest(requested):
                tree, manifest = self.cache.tree(requested), self.cache.manifest(requested)
                if tree is None or manifest is None:
                    raise NotFound(f"{item.text if item else spec.name}: revision {requested} is not in the local "
                                   f"cache ({self.cache.root})", file=str(self.template.path),
                                   line=item.line if item else None,
                                   hint=f"Fetch a ref that has it first (stackscripts libraries fetch {spec.name}), "
                                        "or name a version instead.")
                self.memo[key] = Fetched(Resolved(spec.source, requested, requested, requested), manifest, tree, 0, 0)
            else:
                assert self.proj is not None
                self.memo[key] = fetch_library(spec, self.proj, requested, cache=self.cache)
        return self.memo[key]

    def want(self, item: TemplateRef) -> Want:
        from ..revisions.lock import Want

        _, spec, requested = self.library(item)
        return Want(item.text, spec.name, spec.source, requested, line=item.line)

    def entry(self, item: TemplateRef) -> LockEntry:
        """Resolve one reference through its source now: the lock entry it would get."""
        from ..revisions.lock import LockEntry

        _, spec, requested = self.library(item)
        fetched = self.fetched(spec, requested, item)
        library = self.tree_library(fetched.tree, spec.name)
        script = library.find(item.ref.script)
        if script is None:
            names = sorted({p.stem for p in library.files()})
            raise NotFound(f"{item.text}: library {spec.name} at {requested} ({fetched.manifest.digest[:19]}...) "
                           f"has no script {item.ref.script!r}", file=str(self.template.path), line=item.line,
                           hint=f"Its scripts: {', '.join(names[:20]) or 'none'}.")
        path = script.path.relative_to(fetched.tree).as_posix()
        return LockEntry(item.text, spec.name, spec.source, requested, fetched.resolved.resolved_ref,
                         fetched.manifest.digest, path)


def ensure(proj: Project, entry: LockEntry, cache: Cache) -> Path:
    """The cached tree of a locked revision, fetched (and verified against the lock's digest) when missing."""
    from .libraries import source_of, trust_of

    tree = cache.tree(entry.digest)
    if tree is not None:
        return tree
    spec = proj.library(entry.library)
    if spec is None:  # check() ran first: cannot happen
        raise NotFound(f"library {entry.library} is not in {proj.file}")
    source = source_of(spec, proj, cache)
    return source.fetch(source.pinned_ref(entry.resolved, entry.digest), cache, expected=entry.digest,
                        trust=trust_of(proj, spec.name)).tree


def pinned_lock(template: Template, proj: Project | None, refs: list[TemplateRef]) -> Lock | None:
    """The template's lock file, checked against the template and project file; None when there is none."""
    from ..revisions.lock import check, load, lock_path

    file = lock_path(template.path)
    if not file.exists():
        return None
    lock = load(file)
    resolver = Resolver(template, proj, lock=lock)
    check(lock, [resolver.want(item) for item in refs], str(template.path))
    return lock


def pin_template(catalog: Catalog, template: Template, *, cache: Cache | None = None) -> None:
    """Pin every library reference of the template in the catalog (locked digests when a lock file exists)."""
    if all((template.path.parent / s.ref).exists() for p in Phase for s in template.steps(p)):
        return
    from .libraries import project as find_project

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
    resolver = Resolver(template, proj, cache)
    for item in refs:
        entry = resolver.entry(item)
        catalog.pin(entry.reference, cache.tree_path(entry.digest) / entry.path, entry.library)


def bad_update(update: str, refs: list[TemplateRef]) -> BadInput:
    return BadInput(f"--update {update}: no library reference of the template matches",
                    hint=f"References: {', '.join(r.text for r in refs) or 'none'}; name one, its script or its library.")
