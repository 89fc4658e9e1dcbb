"""Debian's docker-registry (distribution 2.8) on a free loopback port, with its filesystem storage in a temporary
folder the tests can reach into (to tamper with a blob, or count what a publish stored)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from stackscripts.sources.oci import ACCEPT, OCI_MANIFEST
from tests.support.net import free_port
from tests.support.parts import require_binary
from tests.support.procs import stop


@dataclass
class Registry:
    root: Path  # the storage's rootdirectory
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def url(self, repository: str) -> str:
        return f"oci://127.0.0.1:{self.port}/{repository}"

    def blob(self, digest: str) -> Path:
        """Where the registry keeps a blob's bytes (shared by all its repositories)."""
        hex_ = digest.removeprefix("sha256:")
        return self.root / "docker" / "registry" / "v2" / "blobs" / "sha256" / hex_[:2] / hex_ / "data"

    def blobs(self) -> set[str]:
        """The digests of every blob stored."""
        folder = self.root / "docker" / "registry" / "v2" / "blobs" / "sha256"
        return {"sha256:" + p.parent.name for p in folder.glob("*/*/data")}

    def layers(self, repository: str) -> set[str]:
        """The digests of the blobs linked into one repository (uploaded to it or mounted)."""
        folder = self.root / "docker" / "registry" / "v2" / "repositories" / repository / "_layers" / "sha256"
        return {"sha256:" + p.parent.name for p in folder.glob("*/link")}

    def stop(self) -> None:
        stop(self.process)


def start_registry(folder: Path, htpasswd: Path | None = None) -> Registry:
    """`docker-registry serve` on 127.0.0.1 only, storing under folder/storage; htpasswd: Basic auth required."""
    binary = require_binary("docker-registry")
    folder.mkdir(parents=True, exist_ok=True)
    root = folder / "storage"
    auth = f"auth:\n  htpasswd:\n    realm: stackscripts-tests\n    path: {htpasswd}\n" if htpasswd else ""
    for _ in range(5):
        port = free_port()
        config = folder / "config.yml"
        config.write_text(f"version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
                          f"storage:\n  filesystem:\n    rootdirectory: {root}\n  delete:\n    enabled: true\n"
                          f"http:\n  addr: 127.0.0.1:{port}\n{auth}")
        log = folder / "registry.log"
        with open(log, "ab") as out:
            process = subprocess.Popen([binary, "serve", str(config)], stdout=out, stderr=out, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and process.poll() is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1).close()
                return Registry(root, port, process, log)
            except urllib.error.HTTPError as exc:
                if exc.code == 401:  # up, and asking for credentials
                    return Registry(root, port, process, log)
            except OSError:
                pass
            time.sleep(0.05)
        process.kill()
        process.wait()
    raise RuntimeError(f"docker-registry did not start: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def oci_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    registry = start_registry(tmp_path_factory.mktemp("oci-registry"))
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture
def oci_library_url(oci_registry: Registry) -> str:
    """A repository of its own for each test, on the session's registry."""
    return oci_registry.url(f"acme/t{uuid.uuid4().hex[:12]}")


def _api(url: str) -> str:
    parts = urlsplit(url)
    return f"http://{parts.netloc}/v2/{parts.path.strip('/')}/"


def repoint_oci(url: str, version: str, other: str) -> None:
    """Tag `version` with the manifest of `other` (a replaced artifact: what a careless publisher could do)."""
    request = urllib.request.Request(_api(url) + f"manifests/{other}", headers={"Accept": ACCEPT})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    put = urllib.request.Request(_api(url) + f"manifests/{version}", data=body, method="PUT",
                                 headers={"Content-Type": OCI_MANIFEST})
    urllib.request.urlopen(put, timeout=10).close()


def stored_manifest(url: str, tag: str) -> dict[str, object]:
    """The OCI manifest the registry serves under a tag, as JSON."""
    request = urllib.request.Request(_api(url) + f"manifests/{tag}", headers={"Accept": ACCEPT})
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, object] = json.loads(response.read())
    return result
