"""Editing the project file in place: `libraries add` changes only the lines of the library it adds or replaces.

Comments, key order and every other line stay as written. The result is loaded (strictly) before it is
written, and written atomically (a temporary file renamed over the old one).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from . import yamlsrc
from .errors import BadInput
from .project import FILE_NAME, LibrarySpec, Project, loads
from .revisions.lock import scalar

HEADER = ("# stackscripts project file: the libraries this project uses, with their sources (docs/sharing.md).\n"
          "# Commit it; 'stackscripts libraries add NAME SOURCE[@REF]' edits it.\n")


def _entry(spec: LibrarySpec, indent: str) -> list[str]:
    lines = [f"{indent}{spec.name}:", f"{indent}  source: {scalar(spec.source)}"]
    if spec.ref:
        lines.append(f"{indent}  ref: {scalar(spec.ref)}")
    return lines


def with_library(text: str, spec: LibrarySpec, file: str) -> str:
    """The project file's text with spec added, or replacing the library of that name."""
    data = yamlsrc.load(text, file) if text.strip() else None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not isinstance(data, dict) or "libraries" not in data:
        if not text.strip():
            lines = HEADER.rstrip("\n").split("\n")
        return "\n".join([*lines, "libraries:", *_entry(spec, "  ")]) + "\n"
    libraries = data["libraries"]
    at = yamlsrc.line_of(data, "libraries") or 1  # 1-based line of 'libraries:'
    if not libraries:  # 'libraries:', 'libraries: {}' or 'libraries: null'
        if lines[at - 1].split("#")[0].strip() not in ("libraries:", "libraries: {}", "libraries: null",
                                                       "libraries: ~"):
            raise _flow(file, at)
        lines[at - 1: at] = ["libraries:", *_entry(spec, "  ")]
        return "\n".join(lines) + "\n"
    starts = [libraries.lines[name] for name in libraries]
    if any(line == at for line in starts):
        raise _flow(file, at)
    first = lines[starts[0] - 1]
    indent = first[: len(first) - len(first.lstrip())]
    end = _block_end(lines, at, indent)  # 0-based index after the libraries block's last line
    if spec.name in libraries:
        begin = libraries.lines[spec.name] - 1
        later = [line - 1 for line in starts if line - 1 > begin]
        stop = _trim(lines, begin + 1, later[0] if later else end)
        lines[begin:stop] = _entry(spec, indent)
    else:
        stop = _trim(lines, at, end)
        lines[stop:stop] = _entry(spec, indent)
    return "\n".join(lines) + "\n"


def _block_end(lines: list[str], at: int, indent: str) -> int:
    """The index of the first line after 'libraries:' (line `at`) that is less indented than its entries."""
    for index in range(at, len(lines)):
        line = lines[index]
        if line.strip() and not line.lstrip().startswith("#") and not line.startswith(indent):
            return index
    return len(lines)


def _trim(lines: list[str], begin: int, stop: int) -> int:
    """stop, moved back over blank and comment lines (they belong to what follows)."""
    while stop > begin and (not lines[stop - 1].strip() or lines[stop - 1].lstrip().startswith("#")):
        stop -= 1
    return stop


def _flow(file: str, line: int) -> BadInput:
    return BadInput("'libraries add' cannot edit 'libraries' written in flow style ({...})", file=file, line=line,
                    hint="Write it as a block: 'libraries:' then one '  NAMESPACE/LIBRARY:' entry per line.")


def add_library(path: Path | None, spec: LibrarySpec, start: Path | None = None) -> Project:
    """Add or replace a library in the project file (created in start, default the working folder, when none)."""
    from . import files

    target = path or Path(start or Path.cwd()) / FILE_NAME
    text = files.read_text(target, "project file") if target.exists() else ""
    new = with_library(text, spec, str(target))
    project = loads(new, target)  # never write a file that would not load
    fd, temp = tempfile.mkstemp(prefix=".stackscripts.", suffix=".yaml", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(new)
        if target.exists():
            os.chmod(temp, target.stat().st_mode & 0o777)
        else:
            os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return project
