"""The canonical manifest of a tree of files, and its digest: the revision.

A manifest lists every file of a library or template tree: its path (relative, POSIX, UTF-8), its mode
normalised as git does (0755 when the owner may execute it, else 0644), and the sha256 and size of its
bytes. Its canonical bytes (docs/sharing.md, "The manifest") are one header line, then one line per file
in the byte order of the paths:

    stackscripts-manifest 1
    0755 <sha256 hex> <size> install-docker.sh
    0644 <sha256 hex> <size> attachments/daemon.json

and the revision is `sha256:` + the hex sha256 of those bytes. Nothing else enters it (no times, owners,
folders or file-system order), so the same files give the same revision on every machine and through every
source. Names starting with '.' (at any depth: .git, .gitignore, editor files) are not part of a tree;
symbolic links and other special files are refused.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..errors import BadInput
from ..files import kind_of

HEADER = b"stackscripts-manifest 1\n"
PREFIX = "sha256:"
MAX_FILES = 100_000
MAX_PATH = 1024
_HEX = re.compile(r"[0-9a-f]{64}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def normal_mode(st_mode: int) -> int:
    """0755 if the owner's execute bit is set, else 0644 (git's rule for regular files)."""
    return 0o755 if st_mode & stat.S_IXUSR else 0o644


def is_digest(text: str) -> bool:
    return bool(_DIGEST.fullmatch(text))


def path_problem(path: str) -> str | None:
    """Why a path cannot be in a manifest, or None."""
    if not path or len(path) > MAX_PATH:
        return "a path must have 1 to 1024 characters"
    if any(c in path for c in "\0\n\r"):
        return "a path may not hold a NUL, newline or carriage return"
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "a path must be relative, with no empty, '.' or '..' part"
    if any(part.startswith(".") for part in parts):
        return "names starting with '.' are not part of a tree"
    return None


@dataclass(frozen=True)
class Entry:
    """One file: path, normalised mode, sha256 (hex) and size of its bytes."""

    path: str
    mode: int
    sha256: str
    size: int

    def __post_init__(self) -> None:
        problem = path_problem(self.path)
        if problem or self.mode not in (0o644, 0o755) or not _HEX.fullmatch(self.sha256) or self.size < 0:
            raise ValueError(f"invalid manifest entry {self!r}: {problem or 'bad mode, sha256 or size'}")

    def line(self) -> bytes:
        return f"{self.mode:04o} {self.sha256} {self.size} {self.path}\n".encode()

    @property
    def executable(self) -> bool:
        return self.mode == 0o755


@dataclass(frozen=True)
class Manifest:
    """Files sorted by the UTF-8 bytes of their paths, each path once. Build it with `Manifest.of`."""

    entries: tuple[Entry, ...] = ()
    _by_path: dict[str, Entry] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = [e.path.encode() for e in self.entries]
        if keys != sorted(set(keys)):
            raise ValueError("manifest entries must be sorted by path, each path once (use Manifest.of)")
        self._by_path.update((e.path, e) for e in self.entries)

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> Manifest:
        items = sorted(entries, key=lambda e: e.path.encode())
        for before, after in zip(items, items[1:], strict=False):
            if before.path == after.path:
                raise ValueError(f"path {before.path!r} is listed twice")
        return cls(tuple(items))

    @cached_property
    def canonical(self) -> bytes:
        return HEADER + b"".join(e.line() for e in self.entries)

    @cached_property
    def digest(self) -> str:
        return PREFIX + hashlib.sha256(self.canonical).hexdigest()

    def get(self, path: str) -> Entry | None:
        return self._by_path.get(path)

    def paths(self) -> list[str]:
        return [e.path for e in self.entries]

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)


def entry_of(path: str, data: bytes, executable: bool = False) -> Entry:
    return Entry(path, 0o755 if executable else 0o644, hashlib.sha256(data).hexdigest(), len(data))


def parse(data: bytes, source: str) -> Manifest:
    """Canonical bytes back into a Manifest; anything not exactly canonical is refused (BadInput naming source)."""

    def bad(why: str, line: int | None = None) -> BadInput:
        return BadInput(f"not a canonical stackscripts manifest: {why}", file=source, line=line,
                        hint="The manifest was damaged or written by something else: fetch the library again.")

    if not data.startswith(HEADER):
        raise bad("it does not start with 'stackscripts-manifest 1'", 1)
    entries = []
    lines = data[len(HEADER):].split(b"\n")
    if lines[-1] != b"":
        raise bad("the last line does not end with a newline", len(lines) + 1)
    for number, raw in enumerate(lines[:-1], 2):
        try:
            mode, sha, size, path = raw.decode("utf-8").split(" ", 3)
            entry = Entry(path, int(mode, 8), sha, int(size))
        except (UnicodeDecodeError, ValueError):
            raise bad("a line is not 'MODE SHA256 SIZE PATH'", number) from None
        if entry.line() != raw + b"\n":
            raise bad("a line is not written canonically", number)
        entries.append(entry)
    try:
        manifest = Manifest(tuple(entries))
    except ValueError as exc:
        raise bad(str(exc)) from None
    return manifest


def scan(root: Path | str) -> Manifest:
    """The manifest of a folder as it is now (each file read and hashed); BadInput for what a tree cannot hold."""
    root = Path(root)
    if not root.is_dir():
        raise BadInput("no such folder", file=str(root), hint="Name the folder that holds the library's scripts.")
    entries = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=_walk_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in dirnames:
            if os.path.islink(os.path.join(dirpath, name)):
                raise _not_regular(Path(dirpath) / name, "a symbolic link")
        for name in filenames:
            if name.startswith("."):
                continue
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            try:
                rel.encode("utf-8")
            except UnicodeEncodeError:
                raise BadInput("the file name is not UTF-8", file=str(full), hint="Rename it.") from None
            problem = path_problem(rel)
            if problem:
                raise BadInput(f"cannot be part of a tree: {problem}", file=str(full), hint="Rename it.")
            entries.append(hash_file(full, rel))
            if len(entries) > MAX_FILES:
                raise BadInput(f"holds more than {MAX_FILES:,} files", file=str(root),
                               hint="Check that this is the library's folder.")
    return Manifest.of(entries)


def hash_file(full: Path, rel: str) -> Entry:
    """The entry of one regular file (not following a symbolic link), read in chunks."""
    try:
        fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if os.path.islink(full):
            raise _not_regular(full, "a symbolic link") from None
        raise BadInput(f"cannot read this file: {exc.strerror or exc}", file=str(full)) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _not_regular(full, kind_of(info.st_mode))
        digest, size = hashlib.sha256(), 0
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return Entry(rel, normal_mode(info.st_mode), digest.hexdigest(), size)


def _not_regular(path: Path, what: str) -> BadInput:
    return BadInput(f"is {what}; a library or template tree holds regular files and folders only", file=str(path),
                    hint="Replace it with a copy of the file, or move it out of the tree.")


def _walk_error(exc: OSError) -> None:
    raise BadInput(f"cannot read this folder: {exc.strerror or exc}", file=exc.filename)
