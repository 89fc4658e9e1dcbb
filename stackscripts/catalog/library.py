"""Libraries: folders of scripts with a namespace; scripts addressed by path or `library/name`."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .. import files
from ..errors import BadInput, NotFound
from ..model import Script
from .scripts import SCRIPT_SUFFIXES, load_script

_NAME_LINE = re.compile(r"^\s*(?:#|//|--)\s?RightScript Name:\s*(.+?)\s*$", re.MULTILINE)


def cached_load(cache: dict[Path, tuple[int, Script]], path: Path, library: str | None, *,
                require_metadata: bool = True) -> Script:
    """Parse a script once per version of the file (keyed by its mtime)."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return load_script(path, library, require_metadata=require_metadata)  # the clear BadInput for a missing file
    cached = cache.get(path)
    if cached is None or cached[0] != mtime:
        cached = cache[path] = (mtime, load_script(path, library, require_metadata=require_metadata))
    return cached[1]


class Library:
    """One folder of scripts. Names are indexed cheaply; scripts are parsed on first use."""

    def __init__(self, root: Path | str, name: str | None = None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise BadInput("library folder not found", file=str(self.root),
                           hint="Pass an existing folder with --library DIR (or NAME=DIR).")
        self.name = name or Path(os.path.realpath(self.root)).name
        self._index: dict[str, list[Path]] | None = None
        self._cache: dict[Path, tuple[int, Script]] = {}  # path -> (mtime, parsed script)

    @classmethod
    def parse_spec(cls, spec: str) -> Library:
        """`DIR` or `NAME=DIR`."""
        name, sep, folder = spec.partition("=")
        return cls(folder, name) if sep else cls(spec)

    def files(self) -> list[Path]:
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if d != "attachments" and not d.startswith("."))
            for filename in sorted(filenames):
                if filename.endswith(SCRIPT_SUFFIXES):
                    found.append(Path(dirpath) / filename)
        return found

    def index(self) -> dict[str, list[Path]]:
        """RightScript Name (and file stem) -> files; read with a regex, no YAML."""
        if self._index is None:
            index: dict[str, list[Path]] = {}
            for path in self.files():
                head = files.read_bytes(path, "script").decode("utf-8", "replace")[:8192]
                match = _NAME_LINE.search(head)
                keys = {path.stem, path.name}
                if match:
                    keys.add(match.group(1).strip("'\""))
                for key in keys:
                    index.setdefault(key, []).append(path)
            self._index = index
        return self._index

    def load(self, path: Path) -> Script:
        path = Path(path)
        return cached_load(self._cache, path, self.name)

    def find(self, name: str) -> Script | None:
        paths = self.index().get(name)
        if not paths:
            return None
        unique = sorted(set(paths))
        if len(unique) > 1:
            raise BadInput(f"library {self.name}: {len(unique)} scripts are named {name!r}: "
                           + ", ".join(str(p) for p in unique), hint="Give each script a unique RightScript Name.")
        return self.load(unique[0])

    def contains(self, path: Path) -> bool:
        # os.path.realpath, not Path.resolve: a symlink loop must not raise here
        real, root = os.path.realpath(path), os.path.realpath(self.root)
        return os.path.commonpath([real, root]) == root


def library_env_specs(value: str) -> list[str]:
    """The parts of STACKSCRIPTS_LIBRARY (DIR or NAME=DIR, separated by ':'); an empty part is an error."""
    parts = value.split(os.pathsep)
    for n, part in enumerate(parts, 1):
        name, sep, folder = part.partition("=")
        if not part.strip() or (sep and (not name.strip() or not folder.strip())):
            raise BadInput(f"STACKSCRIPTS_LIBRARY={value!r}: part {n} ({part!r}) is empty or has no folder",
                           hint="Write folders separated by ':', each DIR or NAME=DIR, or unset it "
                                "to use ./scripts.")
    return parts


class Catalog:
    """Every library in scope; resolves the script references of templates and commands."""

    def __init__(self, libraries: list[Library] | None = None, *, require_metadata: bool = True) -> None:
        self.libraries = list(libraries or [])
        self.require_metadata = require_metadata  # False: scripts outside libraries may lack a metadata block
        self._loose: dict[Path, tuple[int, Script]] = {}  # scripts outside any library, by path and mtime
        self.pins: dict[str, tuple[Path, str]] = {}  # library reference -> (script file in a cached tree, library)

    def pin(self, ref: str, path: Path, library: str) -> None:
        """Resolve the library reference `ref` (as a template writes it) to this file of a fetched revision.
        `api` fetches libraries into the cache and pins their references; the catalog never fetches."""
        self.pins[ref.strip()] = (Path(path), library)

    @classmethod
    def from_specs(cls, specs: list[str] | None) -> Catalog:
        specs = list(specs or [])
        if not specs and os.environ.get("STACKSCRIPTS_LIBRARY") is not None:
            specs = library_env_specs(os.environ["STACKSCRIPTS_LIBRARY"])
        if not specs and Path("scripts").is_dir():
            specs = ["scripts"]
        return cls([Library.parse_spec(s) for s in specs if s])

    def library_of(self, path: Path) -> Library | None:
        return next((lib for lib in self.libraries if lib.contains(path)), None)

    def load_path(self, path: Path) -> Script:
        library = self.library_of(path)
        if library:
            return library.load(path)
        return cached_load(self._loose, path, None, require_metadata=self.require_metadata)

    def resolve(self, ref: str, base: Path | None = None, *, file: str | None = None,
                line: int | None = None) -> Script:
        """A path (relative to base), a pinned library reference, `library/name`, or a name found in exactly one
        library."""
        candidate = (base / ref) if base is not None else Path(ref)
        if candidate.is_file() or candidate.is_symlink():  # a broken or looping link is reported when read
            return self.load_path(candidate)
        pinned = self.pins.get(ref.strip())
        if pinned is not None:
            return cached_load(self._loose, pinned[0], pinned[1])
        if ref.rpartition("@")[0].count("/") == 2 and not ref.startswith((".", "/")):
            raise NotFound(f"library reference {ref!r} is not resolved here", file=file, line=line,
                           hint="Library references are fetched through stackscripts.api (templates validate, "
                                "show, render, lock), from the libraries of stackscripts.yaml.")
        if candidate.is_dir():
            raise BadInput(f"{ref!r} is a folder, not a script", file=file or str(candidate), line=line,
                           hint=f"Name a script file inside it, e.g. {Path(ref) / 'install.sh'}.")
        lib_name, sep, script_name = ref.partition("/")
        if sep:
            for library in self.libraries:
                if library.name == lib_name:
                    found = library.find(script_name)
                    if found:
                        return found
        matches = [s for s in (lib.find(ref) for lib in self.libraries) if s is not None]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise BadInput(f"script {ref!r} is in several libraries: "
                           + ", ".join(m.ref for m in matches), file=file, line=line,
                           hint="Write LIBRARY/NAME to pick one.")
        known = ", ".join(lib.name for lib in self.libraries) or "none"
        if file is None and (ref.endswith(SCRIPT_SUFFIXES) or ref.startswith((".", "/"))):
            # a path given on the command line: name it as the file in error
            raise NotFound("no such script file", file=str(candidate),
                           hint=f"Check the path (no library has a script named {ref!r}; libraries: {known}).")
        raise NotFound(f"unknown script {ref!r}", file=file, line=line,
                       hint=f"No file {candidate} exists and no library has that name (libraries: {known}). "
                            "Write a path relative to the template, or LIBRARY/NAME with --library.")
