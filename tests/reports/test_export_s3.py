"""Export of a recorded run to S3, against a real moto server and a real SQLite audit store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from stackscripts.errors import BadInput, CloudError
from stackscripts.export import export_run, export_run_s3, parse_s3_url
from stackscripts.store.base import RunRecord, ServerRecord
from stackscripts.store.sqlite import SQLiteStore
from tests.support.moto import MotoServer
from tests.support.net import free_port

pytestmark = pytest.mark.timeout(120)

BUCKET = "audit-exports"
RUN_INPUTS = {"DB_PASSWORD": "cred:DB_PASSWORD", "API_TOKEN": "********", "PORT": "text:3306",
              "GREETING": "text:héllo wörld"}


@pytest.fixture
def s3(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """AWS settings pointing at moto, a fresh bucket, and a boto3 client to read back with."""
    import boto3

    for name, value in moto_server.env().items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=moto_server.endpoint, region_name="us-east-1")
    try:
        client.create_bucket(Bucket=BUCKET)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    return client


@pytest.fixture
def run(tmp_path: Path) -> Iterator[RunRecord]:
    """A two-step boot recorded through the store API: one step ok, one failed with output."""
    store = SQLiteStore(tmp_path / "audit.db")
    try:
        store.put_server(ServerRecord(name="db1", host="127.0.0.1", state="booting", template="/t/template.yaml"))
        run_id = store.start_run("db1", "Boot", who="tester@host", template="/t/template.yaml", inputs=RUN_INPUTS)
        store.start_step(run_id, 0, "Install MariaDB", "Boot", sha256="a" * 64,
                         inputs={"PORT": "text:3306", "DB_PASSWORD": "cred:DB_PASSWORD"})
        store.append_output(run_id, 0, "stdout", "installing mariadb\n")
        store.append_output(run_id, 0, "stderr", "warning: no swap\n")
        store.append_output(run_id, 0, "stdout", "done\n")
        store.finish_step(run_id, 0, 0, None)
        store.start_step(run_id, 1, "Start MariaDB", "Boot", sha256="b" * 64, inputs={"GREETING": "text:héllo wörld"})
        store.append_output(run_id, 1, "stderr", "port 3306 already in use\n")
        store.finish_step(run_id, 1, 7, None)
        store.finish_run(run_id, "failed")
        yield store.get_run(run_id)
    finally:
        store.close()


def test_export_run_holds_the_whole_record(run: RunRecord) -> None:
    data = export_run(run)
    assert json.loads(json.dumps(data)) == data  # JSON-ready as it is
    assert data["format"] == "stackscripts.run" and data["version"] == 1
    assert data["run"]["id"] == run.id and data["run"]["server"] == "db1" and data["run"]["phase"] == "Boot"
    assert data["run"]["state"] == "failed" and data["run"]["who"] == "tester@host"
    assert data["run"]["inputs"] == RUN_INPUTS  # masked exactly as stored, secrets never in clear
    assert data["run"]["duration"] >= 0
    first, second = data["steps"]
    assert (first["index"], first["name"], first["exit_code"], first["error"]) == (0, "Install MariaDB", 0, None)
    assert first["stdout"] == "installing mariadb\ndone\n" and first["stderr"] == "warning: no swap\n"
    assert sorted(first["output"].splitlines()) == ["done", "installing mariadb", "warning: no swap"]
    assert first["inputs"] == {"PORT": "text:3306", "DB_PASSWORD": "cred:DB_PASSWORD"}
    assert first["sha256"] == "a" * 64 and first["duration"] >= 0
    assert (second["index"], second["exit_code"], second["stderr"]) == (1, 7, "port 3306 already in use\n")


@pytest.mark.parametrize("prefix, key", [("runs/2024", "runs/2024/{id}.json"), ("runs/", "runs/{id}.json"),
                                         ("", "{id}.json")])
def test_export_to_s3_writes_one_json_object(s3, run: RunRecord, prefix: str, key: str) -> None:  # type: ignore[no-untyped-def]
    url = export_run_s3(run, f"s3://{BUCKET}/{prefix}" if prefix else f"s3://{BUCKET}")
    expected_key = key.format(id=run.id)
    assert url == f"s3://{BUCKET}/{expected_key}"
    obj = s3.get_object(Bucket=BUCKET, Key=expected_key)
    assert obj["ContentType"] == "application/json"
    assert obj["Metadata"]["stackscripts-run"] == run.id
    assert json.loads(obj["Body"].read().decode("utf-8")) == export_run(run)


@pytest.mark.parametrize("url, fragment", [
    ("http://bucket/prefix", "not an S3 URL"),
    ("bucket/prefix", "not an S3 URL"),
    ("s3://", "no valid bucket name"),
    ("s3:///prefix", "no valid bucket name"),
    ("s3://Bad_Bucket/x", "no valid bucket name"),
    ("s3://bucket/a//b", "empty or relative path segment"),
    ("s3://bucket/../x", "empty or relative path segment"),
])
def test_malformed_url_is_bad_input(run: RunRecord, url: str, fragment: str) -> None:
    with pytest.raises(BadInput) as caught:
        export_run_s3(run, url)
    assert fragment in str(caught.value) and "s3://BUCKET" in str(caught.value)


def test_parse_s3_url() -> None:
    assert parse_s3_url("s3://my.bucket-1/a/b/") == ("my.bucket-1", "a/b")
    assert parse_s3_url("s3://abc") == ("abc", "")


def test_missing_bucket_is_a_cloud_error(s3, run: RunRecord) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CloudError) as caught:
        export_run_s3(run, "s3://no-such-bucket-here/runs")
    message = str(caught.value)
    assert "s3://no-such-bucket-here/runs/" in message and "NoSuchBucket" in message
    assert "Traceback" not in message


def test_unreachable_endpoint_is_a_cloud_error(s3, run: RunRecord, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(CloudError) as caught:
        export_run_s3(run, f"s3://{BUCKET}/runs")
    assert "S3 PutObject" in str(caught.value) and "AWS_ENDPOINT_URL" in str(caught.value)
