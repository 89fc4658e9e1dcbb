"""An OCI registry as a source, through the registry's HTTP API (the OCI distribution spec) and the standard
library only: no registry client, no Docker.

URL: `oci://HOST[:PORT]/REPOSITORY`, e.g. `oci://127.0.0.1:5000/acme/base`. HTTPS, except plain HTTP for a
loopback host (127.0.0.1, localhost, ::1) or when `STACKSCRIPTS_OCI_INSECURE=1` is set. Credentials:
`STACKSCRIPTS_OCI_USERNAME` / `STACKSCRIPTS_OCI_PASSWORD`, else the host's `auths` entry of
`$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`; `auth` = base64 of user:password; credential
helpers are not run). They answer the registry's challenge: Basic (docker-registry with htpasswd), or Bearer
(a token from the challenge's realm, as Docker Hub or GHCR ask). A password is never printed.

One version is one artifact: an OCI image manifest (`application/vnd.oci.image.manifest.v1+json`, artifactType
`application/vnd.stackscripts.library.v1`) tagged with the version ('+' written '_', as OCI tags cannot hold
it). Its config blob is the canonical stackscripts manifest (`application/vnd.stackscripts.library.manifest.v1`),
so the config's digest is the revision digest; each file is a layer (`application/vnd.stackscripts.library.file.v1`,
digest `sha256:` of its bytes, annotation `org.opencontainers.image.title` = its path). The manifest is annotated
with `org.opencontainers.image.version`, `dev.stackscripts.library.name` and, when signed,
`dev.stackscripts.library.signature` (the armoured `ssh-keygen -Y sign` text: it travels in the same PUT as the
version). Registries store a blob once per digest: publishing after one script changed uploads that file and
the new config only (each blob is HEADed first). Debian's docker-registry (distribution 2.8) accepts these media
types as they are.

Refs: a version `1.4` (tag `1.4`, else `v1.4`); `latest`, `head` and "" are the same here: the highest version
tag (dotted numbers compared as numbers); a `sha256:` digest is an OCI manifest digest, else a revision digest
looked up among the version tags. A ref resolves to the OCI manifest's digest (checked against the bytes the
registry sent) and the config's digest. An existing tag is never replaced by publish (the distribution API has
no create-only PUT: two publishers racing on one version is not detected; the digests they report differ).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from ..revisions.manifest import PREFIX, Entry, Manifest, is_digest, parse, scan
from ..revisions.refs import SPECIAL, VERSION
from .base import Published, Resolved, Source, in_parallel
from .cache import Cache
from .oci_http import HINT, RegistryClient

TIMEOUT = 10.0
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ARTIFACT = "application/vnd.stackscripts.library.v1"
CONFIG = "application/vnd.stackscripts.library.manifest.v1"
FILE = "application/vnd.stackscripts.library.file.v1"
TITLE, VERSION_KEY = "org.opencontainers.image.title", "org.opencontainers.image.version"
NAME_KEY, SIGNATURE_KEY = "dev.stackscripts.library.name", "dev.stackscripts.library.signature"
ACCEPT = ", ".join([OCI_MANIFEST, "application/vnd.docker.distribution.manifest.v2+json",
                    "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"])
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_REPO = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_VERSION_TAG = re.compile(r"v?(\d+(?:\.\d+)*)")

def sha256_of(data: bytes) -> str:
    return PREFIX + hashlib.sha256(data).hexdigest()


def version_tag(version: str) -> str:
    return version.replace("+", "_")


class OciSource(Source):
    name = "oci"

    def __init__(self, url: str, *, base: Path | None = None, cache: Cache | None = None) -> None:
        super().__init__(url, base=base, cache=cache)
        parts = urlsplit(url)
        self.repository = parts.path.strip("/")
        if not parts.hostname or parts.username or parts.query or parts.fragment or not _REPO.fullmatch(self.repository):
            raise self.bad("not an OCI repository URL", hint="Write oci://HOST[:PORT]/REPOSITORY, the repository in "
                           "lower case (letters, digits, '.', '_', '-', '/'), e.g. oci://registry:5000/acme/base; "
                           "credentials go in the environment or ~/.docker/config.json, not in the URL.")
        insecure = parts.hostname in LOOPBACK or os.environ.get("STACKSCRIPTS_OCI_INSECURE") == "1"
        self.endpoint = f"{'http' if insecure else 'https'}://{parts.netloc}/v2/{self.repository}/"
        self.http = RegistryClient(parts.netloc, self.endpoint, self.bad)
        self._manifests: dict[str, dict[str, Any]] = {}  # OCI manifest digest -> its JSON

    # -- reading
    def tags(self) -> list[str]:
        tags: list[str] = []
        path = "tags/list?n=1000"
        while path:
            response = self.http.call("GET", path)
            if response.status == 404:
                return []  # no such repository: nothing published yet
            if response.status != 200:
                raise self.http.failed(response, "cannot list the tags")
            try:
                tags += [str(t) for t in json.loads(response.body).get("tags") or []]
            except (ValueError, AttributeError, TypeError):
                raise self.bad("the registry's tag list is not JSON", hint=HINT) from None
            link = re.match(r"\s*<([^>]+)>", response.headers.get("Link", ""))
            path = link.group(1) if link else ""
        return tags

    def _get_manifest(self, reference: str, lenient: bool = False) -> tuple[str, dict[str, Any]] | None:
        """(digest, JSON) of the OCI manifest a tag or digest names; None when the registry has none (lenient: or
        fails to serve one)."""
        response = self.http.call("GET", f"manifests/{quote(reference, safe=':')}", headers={"Accept": ACCEPT})
        if response.status == 404 or (lenient and response.status != 200):
            return None
        if response.status != 200:
            raise self.http.failed(response, f"cannot read the manifest of {reference}")
        digest = sha256_of(response.body)
        if response.headers.get("Docker-Content-Digest", digest) != digest or (is_digest(reference) and reference != digest):
            raise self.bad(f"the registry's manifest for {reference} hashes to {digest}, not the digest it was given "
                           "under; the fetch was refused", hint="Tell the registry's operator: its storage is damaged.")
        try:
            body = json.loads(response.body)
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        config = body.get("config")
        if not isinstance(config, dict) or config.get("mediaType") != CONFIG or not is_digest(str(config.get("digest"))):
            kind = config.get("mediaType") if isinstance(config, dict) else body.get("mediaType")
            raise self.bad(f"{reference} is not a stackscripts library (an artifact of media type {kind}, "
                           f"not {CONFIG})", hint="Check the URL: it should name a repository of published libraries.")
        self._manifests[digest] = body
        return digest, body

    def _versions(self) -> list[tuple[tuple[int, ...], str]]:
        return sorted((tuple(int(n) for n in m.group(1).split(".")), t) for t in self.tags()
                      if (m := _VERSION_TAG.fullmatch(t)))

    def resolve(self, ref: str) -> Resolved:
        found: tuple[str, dict[str, Any]] | None = None
        if ref in ("", "head", "HEAD", "latest"):
            versions = self._versions()
            if not versions:
                raise self.bad(f"unknown ref {ref or 'head'!r}: the repository has no version tag",
                               hint="Publish a version (stackscripts libraries publish DIR --version 1.0 ...).")
            found = self._get_manifest(versions[-1][1])
        elif is_digest(ref):  # a version's manifest or config digest; else an untagged manifest's digest
            for _, tag in self._versions():
                if (candidate := self._get_manifest(tag)) and ref in (candidate[0], candidate[1]["config"]["digest"]):
                    found = candidate
                    break
            else:  # (the registry fails with 500 on a config digest asked as a manifest: not found, then)
                found = self._get_manifest(ref, lenient=True)
        elif _TAG.fullmatch(version_tag(ref)):
            found = self._get_manifest(version_tag(ref)) or self._get_manifest(f"v{version_tag(ref)}")
        if found is None:
            tags = self.tags()
            why = ("no version has that manifest or revision digest" if is_digest(ref)
                   else f"no tag {version_tag(ref)} or v{version_tag(ref)}")
            raise self.bad(f"unknown ref {ref!r} ({why})", hint=f"Tags: {', '.join(tags[-10:]) or 'none'}.")
        return Resolved(self.url, ref, found[0], found[1]["config"]["digest"])

    def pinned_ref(self, resolved_ref: str, digest: str) -> str:
        return resolved_ref  # the manifest digest: a re-pointed tag cannot change it

    def _oci(self, resolved: Resolved) -> dict[str, Any]:
        if resolved.resolved_ref not in self._manifests and not self._get_manifest(resolved.resolved_ref):
            raise self.bad(f"the manifest {resolved.resolved_ref} of {resolved.ref or 'head'} is gone from the registry")
        return self._manifests[resolved.resolved_ref]

    def _blob(self, digest: str, what: str) -> bytes:
        response = self.http.call("GET", f"blobs/{digest}")
        if response.status == 404:
            raise self.bad(f"the registry has no blob {digest} ({what}); nothing was cached",
                           hint="The artifact is incomplete: tell the library's publisher.")
        if response.status != 200:
            raise self.http.failed(response, f"cannot read {what}")
        return response.body

    def manifest(self, resolved: Resolved) -> Manifest:
        data = self._blob(resolved.digest, "the library's manifest")
        if sha256_of(data) != resolved.digest:
            raise self.mismatch(resolved, sha256_of(data), what="its manifest hashes to")
        return parse(data, f"{self.url}@{resolved.ref or 'head'} (config {resolved.digest})")

    def blobs(self, resolved: Resolved, entries: Sequence[Entry]) -> Iterator[tuple[Entry, bytes]]:
        # resolve() came first on this client: any auth challenge is answered before the threads start
        yield from in_parallel(lambda entry: (entry, self._blob(PREFIX + entry.sha256, entry.path)), entries)

    def signature(self, resolved: Resolved) -> str | None:
        value = (self._oci(resolved).get("annotations") or {}).get(SIGNATURE_KEY)
        return value if isinstance(value, str) else None

    # -- publishing
    def _upload(self, digest: str, data: bytes) -> bool:
        """Put a blob in the repository unless it is there already; True when its bytes were sent."""
        if self.http.call("HEAD", f"blobs/{digest}").status == 200:
            return False
        started = self.http.call("POST", "blobs/uploads/")
        if started.status != 202 or not started.headers.get("Location"):
            raise self.http.failed(started, "cannot publish (start a blob upload)")
        location = urljoin(self.endpoint, started.headers["Location"])
        done = self.http.call("PUT", f"{location}{'&' if '?' in location else '?'}digest={digest}", data,
                         {"Content-Type": "application/octet-stream"})
        if done.status != 201:
            raise self.http.failed(done, f"cannot publish (upload blob {digest})")
        return True

    def publish(self, folder: Path, version: str, name: str | None = None,
                signature: str | None = None) -> Published:
        tag = version_tag(version)
        if not VERSION.fullmatch(version) or version in SPECIAL or not _TAG.fullmatch(tag):
            raise self.bad(f"{version!r} is not a version to publish", hint="Write a version such as 1.4 (tagged 1.4).")
        manifest = scan(folder)
        for existing in (tag, f"v{tag}"):
            if self.http.call("HEAD", f"manifests/{existing}", headers={"Accept": ACCEPT}).status == 200:
                raise self.bad(f"version {version} is already published (tag {existing}); a version never changes",
                               hint="Publish a new version number.")
        self._upload(manifest.digest, manifest.canonical)
        layers = []
        for entry in manifest.entries:
            data = (folder / entry.path).read_bytes()
            if sha256_of(data) != PREFIX + entry.sha256:
                raise self.bad(f"{folder / entry.path} changed while it was published; nothing was tagged",
                               hint="Publish again once the folder is stable.")
            self._upload(PREFIX + entry.sha256, data)
            layers.append({"mediaType": FILE, "digest": PREFIX + entry.sha256, "size": entry.size,
                           "annotations": {TITLE: entry.path}})
        annotations = {VERSION_KEY: version, **({NAME_KEY: name} if name else {}),
                       **({SIGNATURE_KEY: signature} if signature else {})}
        body = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": ARTIFACT,
                           "config": {"mediaType": CONFIG, "digest": manifest.digest, "size": len(manifest.canonical)},
                           "layers": layers, "annotations": annotations}, separators=(",", ":")).encode()
        response = self.http.call("PUT", f"manifests/{tag}", body, {"Content-Type": OCI_MANIFEST})
        if response.status != 201:
            raise self.http.failed(response, f"cannot publish (tag {tag})")
        digest = sha256_of(body)
        if response.headers.get("Docker-Content-Digest", digest) != digest:
            raise self.bad(f"the registry stored the manifest of {tag} as {response.headers['Docker-Content-Digest']}, "
                           f"not {digest}", hint="The registry rewrote the manifest: use another registry.")
        return Published(self.url, version, digest, manifest.digest)
