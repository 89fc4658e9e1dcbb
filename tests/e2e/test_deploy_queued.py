"""A deployment queued for a worker, for real on the local cloud and the team store: the worker launches each server
once the servers its env: inputs reference have booted, a server whose reference failed is skipped (never
launched), and the fleet's table says why."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import postgres
from tests.support.cli import envelope, run_cli, spawn_cli

from .conftest import docker_names
from .test_deploy_waves import write_deployment

pytestmark = pytest.mark.e2e


@pytest.fixture
def dsn(local_base_image: str) -> Iterator[str]:  # noqa: F811 - the base image, built once per session
    pg = postgres.require_postgres()
    with postgres.fresh_database(pg) as name:
        yield pg.dsn(name)


def test_a_queued_deployment_launches_in_reference_order(dsn: str, tmp_path: Path) -> None:
    env = {"STACKSCRIPTS_KEYS_DIR": str(tmp_path / "keys"), "STACKSCRIPTS_DB": dsn,
           "STACKSCRIPTS_WORKER_HEARTBEAT": "1"}

    def json(*args: str, code: int = 0) -> Any:
        return envelope(run_cli(*args, "--json", env=env, timeout=900), code, quiet_stderr=False)

    prefix = f"e2e-qdep-{uuid.uuid4().hex[:4]}"
    names = {role: f"{prefix}-{role}" for role in ("first", "also", "second", "third")}
    deployment = write_deployment(tmp_path, prefix)
    worker = spawn_cli("worker", "--concurrency", "4", env=env)
    try:
        fleet = json("deploy", str(deployment), "--queue", "--wait", code=1)["data"]
        units = {u["server"]: u for u in fleet["units"]}
        assert fleet["kind"] == "deploy" and fleet["state"] == "failed", units
        assert {role: units[name]["state"] for role, name in names.items()} == {
            "first": "succeeded", "also": "succeeded", "second": "failed", "third": "skipped"}
        assert units[names["third"]]["message"] == f"skipped: {names['second']} did not succeed"
        assert units[names["second"]]["after"] == [names["first"]]
        assert docker_names(names["third"]) == []  # never launched
        second = json("runs", "show", units[names["second"]]["run_id"])["data"]
        for role in ("first", "also"):  # both had booted before the server that references one of them launched
            assert json("runs", "show", units[names[role]]["run_id"])["data"]["ended"] <= second["started"], role
        log = json("runs", "log", second["id"], "1")["data"]["text"]
        assert "upstream=" in log and "upstream=none" not in log and "told to fail" in log
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=120)
        run_cli("terminate", *(n for n in names.values() if docker_names(n)), env=env, timeout=900)
    assert all(docker_names(n) == [] for n in names.values())
