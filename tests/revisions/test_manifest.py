"""The canonical manifest: exact bytes, determinism across folders, modes normalised, what a tree may not hold."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from stackscripts.errors import BadInput
from stackscripts.revisions.manifest import Entry, Manifest, entry_of, parse, scan


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_canonical_bytes_are_as_documented(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "run.sh").write_bytes(b"echo hi\n")
    (tmp_path / "run.sh").chmod(0o700)
    (tmp_path / "b" / "c.txt").write_bytes(b"")
    manifest = scan(tmp_path)
    empty, hi = sha(b""), sha(b"echo hi\n")
    expected = (b"stackscripts-manifest 1\n"
                + f"0644 {empty} 0 b/c.txt\n".encode()
                + f"0755 {hi} 8 run.sh\n".encode())
    assert manifest.canonical == expected
    assert manifest.digest == "sha256:" + sha(expected)
    # by hand, as docs/sharing.md shows it
    assert manifest.digest == "sha256:" + hashlib.sha256(expected).hexdigest()


def write_tree(root: Path, order: list[str], exec_mode: int, plain_mode: int, umask: int) -> None:
    files = {"z.sh": b"#!/bin/sh\necho z\n", "a/attachments/x.conf": b"port=1\n", "a/b.sh": b"echo b\n",
             "\u00e9t\u00e9.txt": "caf\u00e9\n".encode()}
    old = os.umask(umask)
    try:
        for name in order:
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(files[name])
            path.chmod(exec_mode if name.endswith(".sh") else plain_mode)
    finally:
        os.umask(old)


def test_same_files_same_digest_whatever_the_folder(tmp_path: Path) -> None:
    write_tree(tmp_path / "one", ["z.sh", "a/b.sh", "a/attachments/x.conf", "\u00e9t\u00e9.txt"], 0o755, 0o644, 0o022)
    write_tree(tmp_path / "two", ["\u00e9t\u00e9.txt", "a/attachments/x.conf", "a/b.sh", "z.sh"], 0o700, 0o600, 0o077)
    os.utime(tmp_path / "two" / "z.sh", (1, 1))
    (tmp_path / "two" / ".git").mkdir()
    (tmp_path / "two" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "two" / "a" / ".b.sh.swp").write_bytes(b"editor junk")
    (tmp_path / "two" / "empty-folder").mkdir()
    one, two = scan(tmp_path / "one"), scan(tmp_path / "two")
    assert one == two and one.digest == two.digest
    assert [(e.path, e.mode) for e in one.entries] == [
        ("a/attachments/x.conf", 0o644), ("a/b.sh", 0o755), ("z.sh", 0o755), ("\u00e9t\u00e9.txt", 0o644)]


@pytest.mark.parametrize(("mode", "normal"), [(0o755, 0o755), (0o700, 0o755), (0o744, 0o755), (0o644, 0o644),
                                              (0o600, 0o644), (0o666, 0o644), (0o611, 0o644), (0o4755, 0o755)])
def test_modes_are_normalised_by_the_owners_execute_bit(tmp_path: Path, mode: int, normal: int) -> None:
    (tmp_path / "f").write_text("x")
    (tmp_path / "f").chmod(mode)
    assert scan(tmp_path).entries[0].mode == normal


def test_parse_reads_back_only_canonical_bytes(tmp_path: Path) -> None:
    manifest = Manifest.of([entry_of("b.sh", b"b", executable=True), entry_of("a/c", b"c")])
    assert parse(manifest.canonical, "m") == manifest
    broken = {
        b"stackscripts-manifest 2\n": 1,
        manifest.canonical.replace(b"0755", b"755"): 3,
        manifest.canonical.replace(b" 1 b.sh", b" 01 b.sh"): 3,
        manifest.canonical[:-1]: 3,
        manifest.canonical + manifest.canonical.split(b"\n")[1] + b"\n": None,  # a path twice
    }
    for data, line in broken.items():
        with pytest.raises(BadInput) as caught:
            parse(data, "cache/manifests/x")
        assert caught.value.file == "cache/manifests/x" and caught.value.line == line, (data, caught.value)
        assert "not a canonical stackscripts manifest" in str(caught.value)


@pytest.mark.parametrize("path", ["", "/abs", "a//b", "a/../b", "./a", "a/.hidden", "a\nb", "a\0b"])
def test_paths_a_manifest_cannot_hold(path: str) -> None:
    with pytest.raises(ValueError):
        Entry(path, 0o644, "0" * 64, 0)


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real.sh").write_text("echo\n")
    (tmp_path / "link.sh").symlink_to("real.sh")
    with pytest.raises(BadInput) as caught:
        scan(tmp_path)
    assert caught.value.file == str(tmp_path / "link.sh")
    assert "is a symbolic link; a library or template tree holds regular files and folders only" in str(caught.value)


def test_a_linked_folder_and_a_fifo_are_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "linked").symlink_to("real")
    with pytest.raises(BadInput, match="is a symbolic link"):
        scan(tmp_path)
    (tmp_path / "linked").unlink()
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(BadInput, match="is a FIFO"):
        scan(tmp_path)


def test_no_folder(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no such folder"):
        scan(tmp_path / "nope")
