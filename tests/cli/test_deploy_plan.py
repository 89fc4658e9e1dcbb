"""`deploy --plan` and the checks before anything launches, on a store alone (no cloud call is needed to plan a
deployment none of whose servers exists yet): env: references, --replace names, a name taken outside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import cli_json
from tests.support.rightscripts import write_rightscript

TEMPLATE = """\
Name: {name}
RightScripts:
  Boot:
  - {script}
MultiCloudImages:
- Name: Debian 12
  Settings:
  - Cloud: local
    Image: stackscripts/debian:bookworm
"""


@pytest.fixture
def world(tmp_path: Path) -> Path:
    write_rightscript(tmp_path, "Db", "echo db\n", inputs={"DB_NAME": "text:app", "DB_PASSWORD": "cred:DB_PASSWORD"})
    write_rightscript(tmp_path, "Web", "echo web\n", inputs={"DB_HOST": "text:none", "DB": "text:none"})
    (tmp_path / "db.yaml").write_text(TEMPLATE.format(name="Db", script="db.sh"))
    (tmp_path / "web.yaml").write_text(TEMPLATE.format(name="Web", script="web.sh"))
    return tmp_path


def deployment(folder: Path, web_inputs: str, shared: str = "") -> Path:
    path = folder / "d.yaml"
    path.write_text(f"Name: shop\n{shared}Servers:\n- Name: web\n  Template: web.yaml\n  Inputs:\n{web_inputs}"
                    "- Name: db\n  Template: db.yaml\n")
    return path


def plan(path: Path, *args: str, code: int = 0) -> dict:
    return cli_json("deploy", str(path), "--plan", "--db", str(path.parent / "audit.db"), *args, code=code)


def test_a_new_deployment_plans_every_server_in_reference_order(world: Path) -> None:
    path = deployment(world, "    DB_HOST: env:db:PRIVATE_IP\n    DB: env:db:DB_NAME\n")
    doc = plan(path)["data"]
    assert [(p["server"], p["action"], p["wave"]) for p in doc["plan"]] == [("db", "launch", 0), ("web", "launch", 1)]
    assert doc["applied"] is False and doc["servers"] == []


@pytest.mark.parametrize(("inputs", "shared", "line", "expect"), [
    ("    DB: env:db:DB_NAM\n", "", 6, "server db's template 'Db' declares no input DB_NAM"),
    ("    DB: env:db:db_name\n", "", 6, "Did you mean DB_NAME?"),
    ("    DB: text:x\n", "Inputs:\n  DB_HOST: env:db:PRIVAT_IP\n", 3, "Did you mean PRIVATE_IP?"),
])
def test_a_reference_to_a_value_its_server_will_not_have_names_the_line(world: Path, inputs: str, shared: str,
                                                                       line: int, expect: str) -> None:
    path = deployment(world, inputs, shared)
    error = plan(path, code=2)["error"]
    assert expect in error["message"] and error["file"] == str(path) and error["line"] == line, error


def test_references_to_addresses_and_declared_inputs_pass(world: Path) -> None:
    path = deployment(world, "    DB_HOST: env:db:PUBLIC_IP\n    DB: env:db:DB_PASSWORD\n")
    assert {p["action"] for p in plan(path)["data"]["plan"]} == {"launch"}


def test_replace_names_a_server_of_the_deployment(world: Path) -> None:
    path = deployment(world, "    DB: text:x\n")
    error = plan(path, "--replace", "cache", code=2)["error"]
    assert "--replace cache: deployment 'shop' has no such server" in error["message"]


def test_a_name_taken_outside_the_deployment_is_a_conflict_and_nothing_launches(world: Path) -> None:
    db = str(world / "audit.db")
    cli_json("servers", "add", "db", "--host", "root@127.0.0.1", "--db", db)
    path = deployment(world, "    DB: text:x\n")
    changes = {p["server"]: p for p in plan(path)["data"]["plan"]}
    assert changes["db"]["action"] == "conflict" and "no deployment" in changes["db"]["detail"]
    error = cli_json("deploy", str(path), "--db", db, code=2)["error"]
    assert "cannot converge without a decision" in error["message"] and "db: a server of that name" in error["message"]
    assert [s["name"] for s in cli_json("servers", "list", "--db", db)["data"]] == ["db"]
