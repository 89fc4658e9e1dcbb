"""The one local content-addressed cache every source fetches into.

    $STACKSCRIPTS_CACHE, else $XDG_CACHE_HOME/stackscripts, else ~/.cache/stackscripts
    ├── blobs/sha256/9f/9f1c...      a file's bytes, named by their sha256 (0444)
    ├── manifests/sha256/<hex>       a revision's canonical manifest, named by its digest (0444)
    ├── trees/sha256/<hex>/...       the revision's files laid out read-only (0444/0555, folders 0555)
    ├── git/<key>.git                working state of a source (a git mirror), not content-addressed
    └── tmp/                         staging; every write is a temporary file or folder renamed into place

Nothing is trusted because it is here: `missing` and `check_tree` re-hash what a fetch relies on, and a
corrupt entry is refused (BadInput naming the file), never served or silently replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from ..errors import BadInput
from ..revisions.manifest import PREFIX, Entry, Manifest, is_digest, parse


def default_root() -> Path:
    if os.environ.get("STACKSCRIPTS_CACHE"):
        return Path(os.environ["STACKSCRIPTS_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "stackscripts"


def _hex(digest: str) -> str:
    if not is_digest(digest):
        raise BadInput(f"{digest!r} is not a revision digest", hint="Write sha256: and 64 hex digits.")
    return digest[len(PREFIX):]


class Cache:
    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()

    # -- paths
    def blob_path(self, sha256: str) -> Path:
        return self.root / "blobs" / "sha256" / sha256[:2] / sha256

    def manifest_path(self, digest: str) -> Path:
        return self.root / "manifests" / "sha256" / _hex(digest)

    def tree_path(self, digest: str) -> Path:
        return self.root / "trees" / "sha256" / _hex(digest)

    def work_dir(self, kind: str) -> Path:
        path = self.root / kind
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    # -- reading
    def manifest(self, digest: str) -> Manifest | None:
        """The cached manifest of a revision, checked against its name; None when it is not here."""
        path = self.manifest_path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        manifest = parse(data, str(path))
        if manifest.digest != digest:
            raise self.corrupt(path, f"its digest is {manifest.digest}")
        return manifest

    def tree(self, digest: str) -> Path | None:
        """The materialised tree of a cached revision, or None."""
        path = self.tree_path(digest)
        return path if path.is_dir() and self.manifest_path(digest).is_file() else None

    def digests(self) -> list[str]:
        folder = self.root / "manifests" / "sha256"
        return sorted(PREFIX + p.name for p in folder.iterdir()) if folder.is_dir() else []

    def missing(self, manifest: Manifest) -> list[Entry]:
        """Entries whose bytes are not cached (each distinct blob once); cached blobs are re-hashed first."""
        out, seen = [], set()
        for entry in manifest.entries:
            if entry.sha256 in seen:
                continue
            seen.add(entry.sha256)
            path = self.blob_path(entry.sha256)
            if path.is_file():
                self._check_file(path, entry.sha256, entry.size)
            else:
                out.append(entry)
        return out

    def check_tree(self, manifest: Manifest) -> None:
        """The materialised tree holds exactly the manifest's files, with their bytes and modes."""
        root = self.tree_path(manifest.digest)
        found = {p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir()}
        extra = sorted(found - set(manifest.paths()))
        if extra:
            raise self.corrupt(root / extra[0], "it is not in the revision's manifest")
        for entry in manifest.entries:
            path = root / entry.path
            if not path.is_file():
                raise self.corrupt(path, "it is missing")
            self._check_file(path, entry.sha256, entry.size)
            if bool(path.stat().st_mode & stat.S_IXUSR) != entry.executable:
                raise self.corrupt(path, f"its mode is not {entry.mode:04o}")

    def _check_file(self, path: Path, sha256: str, size: int) -> None:
        digest, total = hashlib.sha256(), 0
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                total += len(chunk)
        if total != size or digest.hexdigest() != sha256:
            raise self.corrupt(path, f"its bytes hash to {digest.hexdigest()[:12]}..., not {sha256[:12]}...")

    def corrupt(self, path: Path, why: str) -> BadInput:
        return BadInput(f"the local cache is corrupt: {why}", file=str(path),
                        hint=f"Something changed the cache behind stackscripts' back. Remove {self.root} "
                             "(or that entry) and fetch again.")

    # -- writing (all or nothing)
    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A temporary folder on the cache's file system, removed on exit (whatever was not moved out of it)."""
        tmp = self.work_dir("tmp")
        stage = Path(tempfile.mkdtemp(prefix="stage-", dir=tmp))
        try:
            yield stage
        finally:
            _remove(stage)

    def commit(self, manifest: Manifest, staged: Mapping[str, Path], stage: Path) -> Path:
        """Move verified staged blobs (sha256 -> file in stage) into place, then the manifest, then the tree."""
        for sha256, path in staged.items():
            target = self.blob_path(sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            path.chmod(0o444)
            os.replace(path, target)
        target = self.manifest_path(manifest.digest)
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = stage / "manifest"
            temp.write_bytes(manifest.canonical)
            temp.chmod(0o444)
            os.replace(temp, target)
        return self._materialise(manifest, stage)

    def _materialise(self, manifest: Manifest, stage: Path) -> Path:
        target = self.tree_path(manifest.digest)
        if target.is_dir():
            return target
        tree = stage / "tree"
        tree.mkdir()
        for entry in manifest.entries:
            path = tree / entry.path
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.blob_path(entry.sha256), path)
            self._check_file(path, entry.sha256, entry.size)
            path.chmod(0o555 if entry.executable else 0o444)
        for folder in sorted((p for p in tree.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            folder.chmod(0o555)
        tree.chmod(0o555)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(tree, target)
        except OSError:
            if not target.is_dir():  # another process won the race with the same content: keep theirs
                raise
        return target


def _remove(path: Path) -> None:
    """rm -rf, also of read-only folders."""
    if not path.exists():
        return
    for folder in [path, *(p for p in path.rglob("*") if p.is_dir() and not p.is_symlink())]:
        folder.chmod(0o700)
    shutil.rmtree(path)
