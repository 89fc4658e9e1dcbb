"""Export a recorded run: as JSON-ready data, or as one JSON object in S3 (boto3 only via `aws`)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .errors import BadInput
from .store.base import RunRecord, StepRecord

FORMAT = "stackscripts.run"
VERSION = 1
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def _duration(started: float | None, ended: float | None) -> float | None:
    return round(ended - started, 6) if started is not None and ended is not None else None


def _step(step: StepRecord) -> dict[str, Any]:
    return {"index": step.index, "name": step.name, "phase": step.phase, "sha256": step.sha256,
            "inputs": dict(step.inputs), "started": step.started, "ended": step.ended,
            "duration": _duration(step.started, step.ended), "exit_code": step.exit_code, "error": step.error,
            "stdout": step.stdout, "stderr": step.stderr, "output": step.output}


def export_run(run: RunRecord) -> dict[str, Any]:
    """The whole record of a run as plain JSON data; inputs stay masked exactly as the store holds them."""
    return {
        "format": FORMAT, "version": VERSION,
        "run": {"id": run.id, "server": run.server, "phase": run.phase, "state": run.state.value, "who": run.who,
                "template": run.template, "started": run.started, "ended": run.ended,
                "duration": _duration(run.started, run.ended), "resumed_from": run.resumed_from,
                "revision": run.revision, "inputs": dict(run.inputs)},
        "steps": [_step(step) for step in run.steps],
    }


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> (bucket, "some/prefix"); BadInput for anything else."""
    hint = "Write s3://BUCKET or s3://BUCKET/PREFIX, e.g. s3://audit-exports/stackscripts/runs."
    if not isinstance(url, str) or not url.startswith("s3://"):
        raise BadInput(f"not an S3 URL: {url!r}", hint=hint)
    bucket, _, prefix = url[len("s3://"):].partition("/")
    if not BUCKET.match(bucket) or ".." in bucket:
        raise BadInput(f"S3 URL {url!r} has no valid bucket name ({bucket!r})",
                       hint="Bucket names are 3-63 lower-case letters, digits, '.' and '-'. " + hint)
    prefix = prefix.strip("/")
    if "//" in prefix or any(part in (".", "..") for part in prefix.split("/") if prefix):
        raise BadInput(f"S3 URL {url!r} has an empty or relative path segment", hint=hint)
    return bucket, prefix


def export_run_s3(run: RunRecord, url: str) -> str:
    """Write `<prefix>/<run id>.json` (application/json) and return its s3:// URL."""
    from . import aws

    bucket, prefix = parse_s3_url(url)
    key = f"{prefix}/{run.id}.json" if prefix else f"{run.id}.json"
    body = json.dumps(export_run(run), indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    s3 = aws.call("S3 client setup", aws.client, "s3")
    aws.call(f"S3 PutObject to s3://{bucket}/{key}", s3.put_object, Bucket=bucket, Key=key, Body=body,
             ContentType="application/json", Metadata=_metadata(run))
    return f"s3://{bucket}/{key}"


def _metadata(run: RunRecord) -> Mapping[str, str]:
    """A few searchable fields as object metadata (ASCII only, as S3 requires)."""
    fields = {"stackscripts-run": run.id, "stackscripts-server": run.server, "stackscripts-state": run.state.value}
    return {k: v for k, v in fields.items() if v.isascii()}
