"""S3 for the source tests: a fresh bucket on the session's moto server per test, and what a compromised
publisher could do to it (rewrite a version pointer, replace an object)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from stackscripts import aws
from tests.support.moto import MotoServer


def s3() -> Any:
    """A client for the moto server the test's environment points at (set by `s3_library_url`)."""
    return aws.client("s3")


def split(url: str) -> tuple[str, str]:
    """s3://bucket/acme/base -> ("bucket", "acme/base/")."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    return bucket, prefix.strip("/") + "/" if prefix.strip("/") else ""


def objects(url: str) -> dict[str, bytes]:
    """Every object under the library's prefix (key relative to it) with its bytes."""
    bucket, prefix = split(url)
    client = s3()
    out: dict[str, bytes] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            out[item["Key"][len(prefix):]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return out


def put(url: str, name: str, data: bytes) -> None:
    """Overwrite (or create) the object `name` under the library's prefix."""
    bucket, prefix = split(url)
    s3().put_object(Bucket=bucket, Key=prefix + name, Body=data)


def new_bucket(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, versioned: bool = False) -> str:
    for name, value in moto_server.env().items():
        monkeypatch.setenv(name, value)
    bucket = f"lib-{uuid.uuid4().hex[:24]}"
    s3().create_bucket(Bucket=bucket)
    if versioned:
        s3().put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


@pytest.fixture
def s3_library_url(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """s3://<a new bucket>/acme/base, the process pointed at the session's moto server."""
    return f"s3://{new_bucket(moto_server, monkeypatch)}/acme/base"


def repoint_s3(url: str, version: str, other: str) -> None:
    """Make `versions/<version>` name `other`'s manifest (a rewritten pointer: tampering)."""
    put(url, f"versions/{version}", objects(url)[f"versions/{other}"])
