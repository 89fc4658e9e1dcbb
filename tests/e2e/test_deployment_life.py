"""A deployment's whole life on the local cloud: applied, applied again (nothing changes), drift reported, one
server replaced, an instance deleted behind the tool's back reported (never silently re-created), terminated as a
whole in reverse reference order with nothing left; and a bad env: reference refused before any launch."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.rightscripts import write_rightscript

from .conftest import Cli, docker_names

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

TEMPLATE = """\
Name: {name}
RightScripts:
  Boot:
  - {script}.sh
  Decommission:
  - goodbye.sh
MultiCloudImages:
- Name: Debian 12
  Settings:
  - Cloud: local
    Image: stackscripts/debian:bookworm
    Instance Type: small
    Volumes:
    - {{Name: eph0, Size: 1, Device: /dev/xvdb}}
"""


def write_world(folder: Path, prefix: str, reference: str = "DB_NAME") -> Path:
    """db (wave 1) and web, which reads db's address and database name (wave 2)."""
    write_rightscript(folder, "Db", 'echo "db $DB_NAME ready"\n', inputs={"DB_NAME": "text:app"})
    write_rightscript(folder, "Web", 'echo "web -> $DB_HOST/$DB"\n', inputs={"DB_HOST": "text:none", "DB": "text:none"})
    write_rightscript(folder, "Goodbye", 'date +%s.%N; sleep 0.2\n')
    (folder / "db.yaml").write_text(TEMPLATE.format(name="Db", script="db"))
    (folder / "web.yaml").write_text(TEMPLATE.format(name="Web", script="web"))
    path = folder / "deployment.yaml"
    path.write_text(f"""\
Name: {prefix}
Servers:
- Name: {prefix}-web
  Template: web.yaml
  Inputs:
    DB_HOST: env:{prefix}-db:PRIVATE_IP
    DB: env:{prefix}-db:{reference}
- Name: {prefix}-db
  Template: db.yaml
""")
    return path


def loops_of(name: str) -> list[str]:
    out = subprocess.run(["losetup", "--list", "--noheadings", "--raw", "--output", "NAME,BACK-FILE"],
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if f"/{name}/" in line]


def node(cli: Cli, server: str) -> str:
    return str(cli.json("servers", "show", server)[1]["data"]["node_id"])


def test_a_deployment_from_apply_to_terminate(cli: Cli, tmp_path: Path) -> None:
    prefix = f"e2e-life-{uuid.uuid4().hex[:4]}"
    db, web = f"{prefix}-db", f"{prefix}-web"
    path = write_world(tmp_path, prefix)
    try:
        _, first = cli.json("deploy", str(path))
        assert first["data"]["changed"] and {s["server"]: s["status"] for s in first["data"]["servers"]} == {
            db: "succeeded", web: "succeeded"}
        assert [(p["server"], p["action"], p["wave"]) for p in first["data"]["plan"]] == [(db, "launch", 0),
                                                                                       (web, "launch", 1)]
        # the run records the value each env: input gave the step, beside the reference
        run = next(s["run"]["run_id"] for s in first["data"]["servers"] if s["server"] == web)
        step = cli.json("runs", "show", run)[1]["data"]["steps"][0]
        private_ip = cli.json("servers", "show", db)[1]["data"]["extra"]["private_ip"]
        assert step["inputs"]["DB_HOST"] == f"env:{db}:PRIVATE_IP -> {private_ip}"
        assert step["inputs"]["DB"] == f"env:{db}:DB_NAME -> app"
        nodes = {db: node(cli, db), web: node(cli, web)}
        assert loops_of(db) and loops_of(web)  # each instance's drive: gone after terminate (below)

        # a shell on an instance with its recorded key and host key; a script file across the deployment
        shell = run_cli("ssh", web, "--db", str(cli.db), "--", "hostname", env=cli.env)
        hostname = subprocess.run(["docker", "inspect", "-f", "{{.Config.Hostname}}", web], capture_output=True,
                                  text=True, check=True).stdout.strip()
        assert shell.returncode == 0 and shell.stdout.strip() == hostname, shell.stderr
        probe = tmp_path / "probe.sh"
        probe.write_text("echo probed on $(hostname)\n")
        _, ran = cli.json("fleet", "run", str(probe), "--deployment", prefix)
        assert {o["server"]: o["status"] for o in ran["data"]["servers"]} == {db: "succeeded", web: "succeeded"}

        # applied again: nothing changes, and it says so
        _, again = cli.json("deploy", str(path))
        assert not again["data"]["changed"] and again["data"]["servers"] == []
        assert {p["action"] for p in again["data"]["plan"]} == {"unchanged"}
        assert {db: node(cli, db), web: node(cli, web)} == nodes
        human = cli.run("deploy", str(path))
        assert human.returncode == 0 and "nothing to do: 2 server(s) operational" in human.stdout, human.stdout

        # drift of inputs is reported by --plan, and left alone
        path.write_text(path.read_text().replace("  Template: db.yaml\n", "  Template: db.yaml\n  Inputs:\n"
                                                 "    DB_NAME: text:shop\n"))
        _, planned = cli.json("deploy", str(path), "--plan")
        drift = {p["server"]: p for p in planned["data"]["plan"]}
        assert drift[db]["action"] == "drift" and "input DB_NAME: text:app -> text:shop" in drift[db]["detail"]
        assert not planned["data"]["applied"] and node(cli, db) == nodes[db]

        # one server replaced: a new instance for web, db untouched
        _, replaced = cli.json("deploy", str(path), "--replace", web)
        assert [(s["server"], s["status"]) for s in replaced["data"]["servers"]] == [(web, "succeeded")]
        assert node(cli, web) != nodes[web] and node(cli, db) == nodes[db]
        assert nodes[web] not in subprocess.run(["docker", "ps", "-aq", "--no-trunc"], capture_output=True,
                                                text=True).stdout

        # a plan that rebuilds db says web's env: values will change with it
        _, follow = cli.json("deploy", str(path), "--plan", "--replace", db)
        marked = {p["server"]: p for p in follow["data"]["plan"]}
        assert marked[db]["action"] == "replace" and marked[web]["action"] == "drift"
        assert f"references {db}, rebuilt by this plan" in marked[web]["detail"]

        # deleted behind the tool's back: reported by converge, exit 2, never silently re-created
        subprocess.run(["docker", "rm", "-f", db], capture_output=True, check=True)
        code, refused = cli.json("deploy", str(path), code=2)
        assert db in refused["error"]["message"] and "gone" in refused["error"]["message"]
        assert docker_names(db) == []
        assert cli.json("deploy", str(path), "--plan")[1]["data"]["plan"][0]["action"] == "vanished"
        _, rebuilt = cli.json("deploy", str(path), "--replace", db)  # the way to say "re-create it"
        assert [(s["server"], s["status"]) for s in rebuilt["data"]["servers"]] == [(db, "succeeded")]

        _, listed = cli.json("deployments", "list")
        mine = next(d for d in listed["data"]["deployments"] if d["name"] == prefix)
        assert [s["name"] for s in mine["servers"]] == [db, web] and mine["waves"] == [[db], [web]]

        # terminated as a whole: web's decommission before db's, then nothing left
        _, gone = cli.json("deployments", "terminate", prefix)
        rows = {r["server"]: r for r in gone["data"]["servers"]}
        assert set(rows) == {db, web} and all(r["status"] == "succeeded" for r in rows.values()), rows
        ended = cli.json("runs", "show", rows[web]["decommission"])[1]["data"]["ended"]
        assert ended <= cli.json("runs", "show", rows[db]["decommission"])[1]["data"]["started"]
        assert all(cli.json("servers", "show", n)[1]["data"]["state"] == "terminated" for n in (db, web))
        assert docker_names(prefix) == [] and loops_of(db) == [] and loops_of(web) == []
        _, shown = cli.json("deployments", "show", prefix)
        assert shown["data"]["state"] == "terminated"
    finally:
        if docker_names(prefix):
            cli.run("terminate", *(n for n in (db, web) if docker_names(n)))
    assert docker_names(prefix) == []


def test_a_bad_env_reference_is_refused_before_any_launch(cli: Cli, tmp_path: Path) -> None:
    prefix = f"e2e-ref-{uuid.uuid4().hex[:4]}"
    path = write_world(tmp_path, prefix, reference="DB_NAM")
    code, doc = cli.json("deploy", str(path), code=2)
    error = doc["error"]
    assert "DB_NAM" in error["message"] and "Did you mean DB_NAME" in error["message"]
    assert error["file"] == str(path) and error["line"] == 7
    assert docker_names(prefix) == []
    assert cli.json("servers", "list")[1]["data"] == []
    code, unknown = cli.json("deployments", "show", prefix, code=2)
    assert "unknown deployment" in unknown["error"]["message"]
