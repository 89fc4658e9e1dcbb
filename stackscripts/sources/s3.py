"""S3 (or an S3-compatible store) as a source, through boto3 (imported only by `stackscripts.aws`).

URL: `s3://BUCKET/PREFIX` (the prefix may be empty: `s3://BUCKET`). Endpoint, region and credentials are boto3's
usual settings (AWS_ENDPOINT_URL, AWS_PROFILE, ...). Under the prefix, a library is four kinds of object:

    PREFIX/versions/1.4               "sha256:<hex>\\n": the digest of version 1.4's manifest (a pointer)
    PREFIX/manifests/sha256/<hex>     the canonical manifest bytes, named by their digest
    PREFIX/blobs/sha256/<hex>         one file's bytes, named by their sha256 (shared by every version)
    PREFIX/signatures/sha256/<hex>    optional: the armoured SSH signature over manifests/sha256/<hex>

Everything but a version pointer is content-addressed: its name is the hash of its bytes, so the bucket can
only hold it right or wrong, and `fetch` hashes every byte it gets. A pointer is the one name that could be
rewritten; publishing never does (it refuses an existing version), and a pinned digest refuses a pointer
someone else moved.

Refs: a version `1.4` (`v1.4` also finds `versions/1.4`); `latest` = the highest version whose name is dotted
numbers (`1.10` > `1.9`, compared as numbers); `head` and "" are the same as `latest` (a bucket has no branch
moving ahead of its versions); `sha256:<hex>` = that manifest, when the bucket holds it. `resolved_ref` is the
pointer object's identity: its S3 VersionId when the bucket is versioned, else its ETag (unquoted); for a
digest ref, the digest itself.

Publishing uploads the blobs the bucket lacks (one listing of `blobs/sha256/` first: a new version after one
script changed uploads that script's bytes only), then the manifest, the signature if any, and the version
pointer LAST, written with `If-None-Match: *`: a half-done publish is never visible as a version, and of two
publishers of one version only one wins. A later signed publish of the same content replaces its signature.

Any S3 failure (no endpoint, no bucket, access denied, no credentials) is BadInput naming the URL: a
connection is given CONNECT_TIMEOUT seconds and ATTEMPTS tries, so a wrong endpoint fails in seconds.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .. import aws
from ..errors import BadInput
from ..revisions.manifest import PREFIX, Entry, Manifest, is_digest, parse, scan
from ..revisions.refs import VERSION
from .base import Published, Resolved, Source, in_parallel
from .cache import Cache

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0
ATTEMPTS = 2
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_NUMBERED = re.compile(r"v?(\d+(?:\.\d+)*)")
_ABSENT = ("NoSuchKey", "404", "NotFound")
_DENIED = ("AccessDenied", "403", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken")
_HINT = "Check the URL, the AWS settings (AWS_ENDPOINT_URL, AWS_PROFILE, credentials) and that the endpoint is up."


class S3Source(Source):
    name = "s3"

    def __init__(self, url: str, *, base: Path | None = None, cache: Cache | None = None) -> None:
        super().__init__(url, base=base, cache=cache)
        bucket, _, prefix = url.partition("://")[2].partition("/")
        if not url.startswith("s3://") or not _BUCKET.fullmatch(bucket) or ".." in bucket:
            raise self.bad(f"not an S3 source URL (bucket {bucket!r})",
                           hint="Write s3://BUCKET/PREFIX; bucket names are 3-63 lower-case letters, digits, '.', '-'.")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self._client: Any = None
        self._manifests: dict[str, bytes] = {}  # digest -> canonical bytes already read

    # -- S3 calls: absent is None, every other failure a BadInput naming the source
    def client(self) -> Any:
        if self._client is None:
            try:
                self._client = aws.client("s3", connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT,
                                          retries={"mode": "standard", "total_max_attempts": ATTEMPTS})
            except ImportError:
                raise self.bad("boto3 is not installed: the S3 source needs it", hint="pip install boto3") from None
            except Exception as exc:  # botocore raises many unrelated types
                raise self.failure("cannot set up the S3 client", exc) from None
        return self._client

    def key(self, name: str) -> str:
        """The S3 key of `name` (relative to the URL: versions/1.4, blobs/sha256/<hex>...)."""
        return f"{self.prefix}/{name}" if self.prefix else name

    def failure(self, what: str, exc: BaseException) -> BadInput:
        code = aws.error_code(exc)
        if code == "NoSuchBucket":
            why = f"the bucket {self.bucket} does not exist"
        elif code in _DENIED:
            why = f"{what}: access denied ({code})"
        else:
            why = f"{what}: {' '.join(str(exc).split()) or type(exc).__name__}"
        return self.bad(f"cannot reach the source: {why}", hint=_HINT)

    def _get(self, name: str) -> tuple[bytes, str] | None:
        """The object's bytes and identity (VersionId if versioned, else ETag), None when there is none."""
        try:
            response = self.client().get_object(Bucket=self.bucket, Key=self.key(name))
            data = response["Body"].read()
        except Exception as exc:
            if aws.error_code(exc) in _ABSENT:
                return None
            raise self.failure(f"cannot read {name}", exc) from None
        version_id = response.get("VersionId")
        identity = version_id if version_id and version_id != "null" else str(response.get("ETag", "")).strip('"')
        return data, identity

    def _put(self, name: str, data: bytes, content_type: str, **extra: Any) -> None:
        try:
            self.client().put_object(Bucket=self.bucket, Key=self.key(name), Body=data, ContentType=content_type, **extra)
        except Exception as exc:
            if extra.get("IfNoneMatch") == "*" and aws.error_code(exc) in ("PreconditionFailed", "412"):
                raise self.bad(f"{name} was written by someone else while publishing; a version "
                               "never changes", hint="Publish a new version number.") from None
            raise self.failure(f"cannot write {name}", exc) from None

    def _list(self, name: str) -> list[str]:
        """The names of the objects in folder `name` (one level, paginated)."""
        folder = self.key(name) + "/"
        names: list[str] = []
        token: dict[str, str] = {}
        while True:
            try:
                page = self.client().list_objects_v2(Bucket=self.bucket, Prefix=folder, **token)
            except Exception as exc:
                raise self.failure(f"cannot list {name}/", exc) from None
            names += [o["Key"][len(folder):] for o in page.get("Contents", []) if "/" not in o["Key"][len(folder):]]
            if not page.get("IsTruncated"):
                return names
            token = {"ContinuationToken": page["NextContinuationToken"]}

    # -- the contract
    def versions(self) -> list[str]:
        """Published versions, numbered ones in numeric order first."""
        names = self._list("versions")
        numbered = sorted((tuple(int(n) for n in m.group(1).split(".")), v) for v in names
                          if (m := _NUMBERED.fullmatch(v)))
        return [v for _, v in numbered] + sorted(set(names) - {v for _, v in numbered})

    def resolve(self, ref: str) -> Resolved:
        if is_digest(ref):
            got = self._get(f"manifests/sha256/{ref[len(PREFIX):]}")
            if got is None:
                raise self.bad(f"unknown ref {ref!r}: the bucket holds no such manifest",
                               hint="Check the digest, or ask for a version.")
            self._manifests[ref] = got[0]
            return Resolved(self.url, ref, ref, ref)
        if ref in ("", "head", "HEAD", "latest"):
            numbered = [v for v in self.versions() if _NUMBERED.fullmatch(v)]
            if not numbered:
                raise self.bad(f"unknown ref {ref or 'head'!r}: nothing is published here (no versions/X.Y object)",
                               hint="Publish a version (stackscripts libraries publish DIR --version 1.0 ...).")
            name = numbered[-1]
        else:
            name = ref
        for candidate in dict.fromkeys([name, name[1:] if _NUMBERED.fullmatch(name) and name[0] == "v" else name]):
            pointer = self._get(f"versions/{candidate}") if VERSION.fullmatch(candidate) else None
            if pointer is not None:
                return Resolved(self.url, ref, pointer[1], self._digest_of(candidate, pointer[0]))
        known = self.versions()
        raise self.bad(f"unknown ref {ref!r} (no object versions/{name})",
                       hint=f"Versions: {', '.join(known[-10:]) or 'none'}; or latest, or a sha256: digest.")

    def _digest_of(self, version: str, data: bytes) -> str:
        text = data.decode("utf-8", "replace").strip()
        if not is_digest(text):
            raise self.bad(f"versions/{version} does not hold a manifest digest "
                           f"(sha256:<64 hex digits>) but {text[:40]!r}",
                           hint="The version pointer was damaged or written by something else: tell the publisher.")
        return text

    def manifest(self, resolved: Resolved) -> Manifest:
        name = f"manifests/sha256/{resolved.digest[len(PREFIX):]}"
        data = self._manifests.get(resolved.digest)
        if data is None:
            got = self._get(name)
            if got is None:
                raise self.bad(f"the manifest of {resolved.ref or 'head'} ({name}) is missing",
                               hint="The version's publish was incomplete or the object was deleted: tell the publisher.")
            data = got[0]
        return parse(data, f"{self.url.rstrip('/')}/{name}")

    def blobs(self, resolved: Resolved, entries: Sequence[Entry]) -> Iterator[tuple[Entry, bytes]]:
        def get(entry: Entry) -> tuple[Entry, bytes]:
            got = self._get(f"blobs/sha256/{entry.sha256}")
            if got is None:
                raise self.bad(f"the bytes of {entry.path} (blobs/sha256/{entry.sha256}) are missing; nothing was cached",
                               hint="The object was deleted: tell the library's publisher.")
            return entry, got[0]

        yield from in_parallel(get, entries)  # boto3 clients are thread-safe

    def signature(self, resolved: Resolved) -> str | None:
        got = self._get(f"signatures/sha256/{resolved.digest[len(PREFIX):]}")
        return got[0].decode("utf-8", "replace") if got is not None else None

    def publish(self, folder: Path, version: str, name: str | None = None,
                signature: str | None = None) -> Published:
        if not VERSION.fullmatch(version) or version.lower() in ("latest", "head"):
            raise self.bad(f"{version!r} is not a version to publish", hint="Write a version such as 1.4.")
        manifest = scan(folder)
        pointer = f"versions/{version}"
        existing = self._get(pointer)
        if existing is not None:
            raise self.bad(f"version {version} is already published ({pointer} -> "
                           f"{existing[0].decode('utf-8', 'replace').strip()[:71]}); a version never changes",
                           hint="Publish a new version number.")
        present = set(self._list("blobs/sha256"))
        for entry in manifest.entries:
            if entry.sha256 in present:
                continue
            data = (folder / entry.path).read_bytes()
            if hashlib.sha256(data).hexdigest() != entry.sha256:
                raise BadInput("the file changed while it was being published", file=str(folder / entry.path),
                               hint="Publish again once nothing is writing to the folder.")
            self._put(f"blobs/sha256/{entry.sha256}", data, "application/octet-stream")
            present.add(entry.sha256)
        hex_digest = manifest.digest[len(PREFIX):]
        manifest_key = f"manifests/sha256/{hex_digest}"
        if self._get(manifest_key) is None:
            self._put(manifest_key, manifest.canonical, "text/plain; charset=utf-8")
        if signature:
            self._put(f"signatures/sha256/{hex_digest}", signature.encode(), "text/plain; charset=utf-8")
        metadata = {"library": name} if name and name.isascii() else {}
        self._put(pointer, f"{manifest.digest}\n".encode(), "text/plain; charset=utf-8", IfNoneMatch="*",
                  Metadata=metadata)
        published = self.resolve(version)
        if published.digest != manifest.digest:
            raise self.bad(f"{pointer} reads {published.digest}, not the folder's {manifest.digest}",
                           hint="Something else writes to this prefix: check the bucket.")
        return Published(self.url, version, published.resolved_ref, manifest.digest)
