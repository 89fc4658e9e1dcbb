"""The one place that imports boto3 (credentials from SSM / Secrets Manager, exports to S3)."""

from __future__ import annotations

import os
from typing import Any

from .errors import CloudError


def client(service: str, **config: Any) -> Any:
    """A boto3 client; honours AWS_ENDPOINT_URL (e.g. a moto server) and the usual AWS settings. `config` is
    passed to botocore's Config (e.g. connect_timeout=5, retries={"total_max_attempts": 2})."""
    import boto3

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    if not config:
        return boto3.client(service, region_name=region)
    from botocore.config import Config

    return boto3.client(service, region_name=region, config=Config(**config))


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, None for other errors."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def call(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call an AWS API, turning low-level failures into a clear CloudError."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # botocore raises many unrelated types
        if error_code(exc) in ("ParameterNotFound", "ResourceNotFoundException", "NoSuchKey"):
            raise
        raise CloudError(f"AWS {what} failed: {exc}",
                         hint="Check AWS credentials, region and AWS_ENDPOINT_URL.") from None
