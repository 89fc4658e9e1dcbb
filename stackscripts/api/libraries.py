"""Shared libraries: the project file's libraries, fetched through their sources into the local cache.

    from stackscripts.api import libraries

    libraries.add_library("acme/base", "git+https://git.example/acme/base.git@v1.4")   # checked, then written
    for fetched in libraries.fetch_libraries():                                         # digests verified
        print(fetched.name, fetched.digest, fetched.transferred)
    libraries.publish_library("scripts", "acme/base", "1.5", "git+ssh://git@git.example/acme/base.git")

The project file (`stackscripts.yaml`) is found by walking up from `start` (default: the working folder).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..catalog.library import Library
from ..errors import BadInput, NotFound
from ..project import FILE_NAME, LibrarySpec, Project, find, load
from ..revisions.manifest import scan
from ..revisions.refs import check_version, library_name_problem, split_ref
from ..sources.base import Fetched, Published, Source, check_url, open_source
from ..sources.cache import Cache
from ..sources.signing import Trust, sign

__all__ = ["LibraryStatus", "add_library", "fetch_libraries", "fetch_library", "list_libraries", "project",
           "publish_library", "show_library", "source_of", "trust_of"]


@dataclass(frozen=True)
class LibraryStatus:
    """A library of the project and the revision its ref resolves to now (fetched into the cache)."""

    name: str
    source: str
    ref: str  # as configured ("head" when the project file gives none)
    resolved_ref: str  # the commit, version id, or (a folder) its digest
    digest: str
    files: int
    size: int
    transferred: int  # blobs this call brought into the cache
    transferred_bytes: int
    tree: Path
    scripts: tuple[str, ...] = ()  # RightScript Names (filled by show_library)
    signed: bool = False  # a key its namespace trusts (stackscripts.yaml's trust) signed it


def project(start: str | Path | None = None, *, required: bool = True) -> Project | None:
    """The project file found from start, validated (sources' URL schemes too); BadInput when required and none."""
    path = find(start)
    if path is None:
        if required:
            where = Path(start or Path.cwd()).resolve()
            raise BadInput(f"no project file: no {FILE_NAME} in {where} or any folder above it",
                           hint="Run 'stackscripts libraries add NAMESPACE/LIBRARY SOURCE[@REF]' to create one.")
        return None
    loaded = load(path)
    for lib in loaded.libraries:
        check_url(lib.source, file=str(path), line=lib.line)
    return loaded


def _required(start: str | Path | None) -> Project:
    found = project(start)
    assert found is not None
    return found


def source_of(spec: LibrarySpec, proj: Project, cache: Cache | None = None) -> Source:
    """The source of a project library (relative folders and git+file paths against the project file's folder)."""
    return open_source(spec.source, base=proj.folder, cache=cache)


def trust_of(proj: Project | None, library: str) -> Trust | None:
    """The signing rule of the library's namespace in the project file, None when it has none."""
    rule = proj.trust_of(library) if proj else None
    return Trust(rule.namespace, rule.allowed_signers, rule.required) if rule else None


def fetch_library(spec: LibrarySpec, proj: Project, ref: str | None = None, *, cache: Cache | None = None,
                  expected: str | None = None) -> Fetched:
    """A project library at ref (default: its configured ref) fetched into the cache: digests checked, and the
    signature where its namespace has a trust rule."""
    return source_of(spec, proj, cache).fetch(ref or spec.ref or "head", cache, expected=expected,
                                              trust=trust_of(proj, spec.name))


def _spec(proj: Project, name: str) -> LibrarySpec:
    spec = proj.library(name)
    if spec is None:
        known = ", ".join(lib.name for lib in proj.libraries) or "none"
        raise NotFound(f"unknown library {name!r} (the project's libraries: {known})", file=str(proj.file),
                       hint=f"Add it with 'stackscripts libraries add {name} SOURCE[@REF]'.")
    return spec


def _status(spec: LibrarySpec, fetched: Fetched, scripts: tuple[str, ...] = ()) -> LibraryStatus:
    return LibraryStatus(spec.name, spec.source, spec.ref or "head", fetched.resolved.resolved_ref,
                         fetched.manifest.digest, len(fetched.manifest.entries), fetched.manifest.size,
                         fetched.transferred, fetched.transferred_bytes, fetched.tree, scripts, fetched.signed)


def add_library(name: str, source: str, *, start: str | Path | None = None, cache: Cache | None = None) -> LibraryStatus:
    """Check that SOURCE[@REF] resolves and fetch it, then add (or replace) NAME in the project file (created in
    start, default the working folder, when there is none)."""
    from ..project_edit import add_library as write

    problem = library_name_problem(name)
    if problem:
        raise BadInput(problem, hint="e.g. 'stackscripts libraries add acme/base git+https://host/acme/base.git@v1.4'.")
    url, ref = split_ref(source.strip())
    check_url(url)
    if ref:
        check_version(ref, what="ref")
    existing = find(start)
    folder = existing.parent if existing else Path(start or Path.cwd())
    spec = LibrarySpec(name, url, ref)
    trust = trust_of(load(existing), name) if existing is not None and existing.is_file() else None
    fetched = open_source(url, base=folder, cache=cache).fetch(ref or "head", trust=trust)
    written = write(existing, spec, folder)
    return _status(written.library(name) or spec, fetched)


def list_libraries(start: str | Path | None = None) -> list[LibrarySpec]:
    """The project file's libraries, as written (no source is contacted)."""
    return list(_required(start).libraries)


def fetch_libraries(names: Sequence[str] = (), *, start: str | Path | None = None,
                    cache: Cache | None = None) -> list[LibraryStatus]:
    """Fetch each library (all when names is empty) at its ref into the cache; every blob and digest verified."""
    proj = _required(start)
    specs = [_spec(proj, n) for n in names] if names else list(proj.libraries)
    return [_status(spec, fetch_library(spec, proj, cache=cache)) for spec in specs]


def show_library(name: str, *, start: str | Path | None = None, cache: Cache | None = None) -> LibraryStatus:
    """One library at its ref, fetched, with the names of its scripts."""
    proj = _required(start)
    spec = _spec(proj, name)
    fetched = fetch_library(spec, proj, cache=cache)
    library = Library(fetched.tree, spec.name)
    return _status(spec, fetched, tuple(library.load(p).name for p in library.files()))


def publish_library(folder: str | Path, name: str, version: str, to: str, *, sign_key: str | Path | None = None,
                    start: str | Path | None = None, cache: Cache | None = None) -> Published:
    """Publish a folder's scripts as version VERSION of library NAME at URL (git: a commit tagged vVERSION).
    Every script must load (its metadata block is checked) before anything is sent; with sign_key (an SSH
    private key file) the manifest is signed (`ssh-keygen -Y sign`) and the signature published with it."""
    problem = library_name_problem(name)
    if problem:
        raise BadInput(problem, hint="Pass --as NAMESPACE/LIBRARY.")
    check_version(version, what="version")
    if version in ("latest", "head") or version.startswith("sha256:"):
        raise BadInput(f"{version!r} is not a version to publish", hint="Write a version such as 1.4.")
    root = Path(folder)
    if not root.is_dir():
        raise BadInput("no such folder", file=str(root), hint="Name the folder that holds the library's scripts.")
    library = Library(root, name)
    if not library.files():
        raise BadInput("no scripts to publish in this folder", file=str(root),
                       hint="Name the folder that holds the library's .sh (.py, .rb...) scripts.")
    for path in library.files():
        library.load(path)
    check_url(to)
    signature = sign(scan(root).canonical, sign_key) if sign_key else None
    base = Path(start or Path.cwd())
    return open_source(to, base=base, cache=cache).publish(root, version, name, signature)
