"""A deployment launched for real on the local cloud: wave by wave in env: reference order, env: values passed
from one server to the next, and nothing launched after a wave that failed."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from tests.support.rightscripts import write_rightscript

from .conftest import Cli, docker_names

pytestmark = pytest.mark.e2e

TEMPLATE = """\
Name: Wave
RightScripts:
  Boot:
  - wave.sh
MultiCloudImages:
- Name: Debian 12
  Settings:
  - Cloud: local
    Image: stackscripts/debian:bookworm
"""
BODY = 'echo "upstream=$UPSTREAM"\nif [ "$FAIL" = yes ]; then echo "told to fail" >&2; exit 4; fi\n'


def write_deployment(folder: Path, prefix: str) -> Path:
    """first and also (wave 1), second <- first (wave 2, fails), third <- second (wave 3, never launched)."""
    write_rightscript(folder, "Wave", BODY, inputs={"UPSTREAM": "text:none", "FAIL": "text:no"})
    (folder / "wave.yaml").write_text(TEMPLATE)
    path = folder / "deployment.yaml"
    path.write_text(f"""\
Name: {prefix}
Servers:
- Name: {prefix}-third
  Template: wave.yaml
  Inputs:
    UPSTREAM: env:{prefix}-second:PRIVATE_IP
- Name: {prefix}-second
  Template: wave.yaml
  Inputs:
    UPSTREAM: env:{prefix}-first:PRIVATE_IP
    FAIL: text:yes
- Name: {prefix}-first
  Template: wave.yaml
- Name: {prefix}-also
  Template: wave.yaml
""")
    return path


def test_waves_launch_in_order_and_stop_after_a_failed_wave(cli: Cli, tmp_path: Path) -> None:
    prefix = f"e2e-wave-{uuid.uuid4().hex[:4]}"
    names = {role: f"{prefix}-{role}" for role in ("first", "also", "second", "third")}
    deployment = write_deployment(tmp_path, prefix)
    try:
        code, doc = cli.json("deploy", str(deployment), code=1)
        outcomes = {o["server"]: o for o in doc["data"]["servers"]}
        assert {role: outcomes[name]["status"] for role, name in names.items()} == {
            "first": "succeeded", "also": "succeeded", "second": "failed", "third": "skipped"}
        assert outcomes[names["third"]]["run"] is None and "earlier" in outcomes[names["third"]]["message"]
        assert docker_names(names["third"]) == []  # never launched
        _, listed = cli.json("servers", "list")
        assert names["third"] not in {s["name"] for s in listed["data"]}

        # wave order: both servers of wave 1 had finished booting before wave 2 started
        runs = {r["server"]: r for r in cli.json("runs", "list")[1]["data"]}
        assert set(runs) == {names["first"], names["also"], names["second"]}
        second = cli.json("runs", "show", runs[names["second"]]["id"])[1]["data"]
        for role in ("first", "also"):
            earlier = cli.json("runs", "show", runs[names[role]]["id"])[1]["data"]
            assert earlier["ended"] <= second["started"], role

        # the value passed down the wave: the first server's private address, as the second server saw it
        first = cli.json("servers", "show", names["first"])[1]["data"]
        log = cli.json("runs", "log", runs[names["second"]]["id"], "1")[1]["data"]["text"]
        upstream = re.search(r"^upstream=(\S+)$", log, re.MULTILINE)
        assert upstream and re.fullmatch(r"\d+\.\d+\.\d+\.\d+", upstream[1]), log
        assert upstream[1] in str(first), (upstream[1], first)
        assert "told to fail" in log
    finally:
        cli.run("terminate", *(n for n in names.values() if docker_names(n)))
    assert all(docker_names(n) == [] for n in names.values())
