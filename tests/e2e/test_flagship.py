"""The flagship, for real on the local cloud: a private registry server and the Docker all-in-one server."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT, Cli, docker_names

pytestmark = pytest.mark.e2e
PREFIX = "e2e-flag"


def demo_deployment(tmp_path: Path) -> Path:
    """deployments/demo.yaml with server names of this test (templates made absolute)."""
    text = (ROOT / "deployments" / "demo.yaml").read_text()
    text = text.replace("../servertemplates/", f"{ROOT}/servertemplates/")
    text = re.sub(r"Name: registry\b", f"Name: {PREFIX}-registry", text)
    text = re.sub(r"Name: app\b", f"Name: {PREFIX}-app", text)
    text = text.replace("env:registry:", f"env:{PREFIX}-registry:")
    path = tmp_path / "demo.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def source_registry() -> str:
    proc = subprocess.run(["bash", str(ROOT / "demo" / "prepare.sh")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def test_flagship_end_to_end(cli: Cli, tmp_path: Path, source_registry: str) -> None:
    deployment = demo_deployment(tmp_path)
    try:
        code, doc = cli.json("deploy", str(deployment), "-i", f"MIRROR_SOURCE=text:{source_registry}")
        assert code == 0 and doc["ok"], doc
        servers = {s["server"]: s for s in doc["data"]["servers"]}
        assert [servers[f"{PREFIX}-registry"]["status"], servers[f"{PREFIX}-app"]["status"]] == ["succeeded"] * 2
        app_run = servers[f"{PREFIX}-app"]["run"]
        assert [s["name"] for s in app_run["steps"]] == [
            "Install Docker", "Setup Btrfs Docker Root", "Registry Keys", "Launch Service Containers",
            "Launch Application Containers", "Check Services"]
        assert all(s["exit_code"] == 0 for s in app_run["steps"])

        # every step's output is in the store; the check proved each service at its protocol (tests/e2e/test_seed.py
        # asserts every line, for both versions)
        code, log = cli.json("runs", "log", app_run["run_id"], "6")
        assert code == 0
        for line in ("redis: PING -> PONG", "zookeeper: ruok -> imok", "mariadb: SELECT 1 as app@127.0.0.1:3306 -> 1",
                     "all 9 services answer at their protocol"):
            assert f"stackscripts: {line}" in log["data"]["text"], (line, log["data"]["text"])
        _, btrfs = cli.json("runs", "log", app_run["run_id"], "2")
        assert "btrfs" in btrfs["data"]["text"].lower()

        # the boot-time table, from the store
        report = cli.run("report", app_run["run_id"])
        assert report.returncode == 0 and "| TOTAL |" in report.stdout
        for stage in ("Prep VM environment", "Install & launch zookeeper, redis, kafka, mariadb, graphite, statsd",
                      "Install & launch custom apps"):  # the template's Stage rows (tests/e2e/test_seed.py: both versions)
            assert f"| {stage} |" in report.stdout, report.stdout

        # an operational script on the running server
        code, op = cli.json("run", f"{PREFIX}-app", "restart-container", "-i", "CONTAINER=text:redis")
        assert code == 0 and op["data"]["state"] == "succeeded", op

        # the secrets never reach the store or the terminal
        db_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("audit.db*"))
        assert b"e2e-Registry-s3cret!" not in db_bytes and b"e2e-MariaDB-s3cret!" not in db_bytes
    finally:
        code, term = cli.json("terminate", f"{PREFIX}-app", f"{PREFIX}-registry")
    assert code == 0, term
    decommission = term["data"][0]["decommission"]
    assert decommission["phase"] == "Decommission" and len(decommission["steps"]) == 2
    assert docker_names(PREFIX) == []
    code, listing = cli.json("servers", "list")
    assert {s["state"] for s in listing["data"]} == {"terminated"}


def test_wrong_registry_password_strands_the_server(cli: Cli, tmp_path: Path, source_registry: str) -> None:
    prefix = f"{PREFIX}-pw"
    registry = str(ROOT / "servertemplates" / "docker-registry.yaml")
    app = str(ROOT / "servertemplates" / "docker-all-in-one.yaml")
    try:
        code, doc = cli.json("launch", registry, "--name", f"{prefix}-registry")
        assert code == 0, doc
        proc = cli.run("launch", app, "--name", f"{prefix}-app",
                       "-i", f"REGISTRY_HOSTS=array:[\"env:{prefix}-registry:PRIVATE_IP\"]",
                       "-i", f"IMAGE_REGISTRY=env:{prefix}-registry:PRIVATE_IP", "-i", "REGISTRY_INSECURE=text:true",
                       "-i", "REGISTRY_PASSWORD=cred:WRONG_PASSWORD",
                       "-i", "APP_API_IMAGE=text:stackscripts/app-api:demo",
                       "-i", "APP_WORKER_IMAGE=text:stackscripts/app-worker:demo")
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "Registry Keys" in proc.stderr + proc.stdout
        assert "e2e-Wrong-pa55word!" not in proc.stdout + proc.stderr
        code, show = cli.json("servers", "show", f"{prefix}-app")
        assert show["data"]["state"] == "stranded"
        assert show["data"]["inputs"]["REGISTRY_PASSWORD"] == "cred:WRONG_PASSWORD"
        db_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("audit.db*"))
        assert b"e2e-Wrong-pa55word!" not in db_bytes
    finally:
        cli.run("terminate", f"{prefix}-app", f"{prefix}-registry")
    assert docker_names(prefix) == []
