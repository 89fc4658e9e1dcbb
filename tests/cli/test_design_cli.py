"""The design commands (scripts ..., templates ...) as users run them, with --json, on the flagship files."""

from __future__ import annotations

import base64
import json
import re
import shutil
import stat
from pathlib import Path

import pytest
import yaml

from stackscripts import __version__
from tests.support.cli import ROOT, cli_json, no_traceback, run_cli
from tests.support.parts import require_binary

pytestmark = pytest.mark.timeout(300)

FLAGSHIP = "servertemplates/docker-all-in-one.yaml"
APP = ("-i", "APP_API_IMAGE=text:x", "-i", "APP_WORKER_IMAGE=text:registry.local/worker:2")
BOOT = ["Install Docker", "Setup Btrfs Docker Root", "Registry Keys", "Launch Service Containers",
        "Launch Application Containers", "Check Services"]
SECRET = "s3cr3t-registry-Pa55"
CREDS = {"STACKSCRIPTS_CRED_REGISTRY_PASSWORD": SECRET, "STACKSCRIPTS_CRED_MARIADB_ROOT_PASSWORD": "m4r1a-r00t-pw"}


def test_help_and_version() -> None:
    done = run_cli("--help")
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("Usage: stackscripts")
    for command in ("scripts", "templates", "servers", "boot", "run", "resume", "fleet", "runs", "launch", "deploy",
                    "terminate", "clouds", "report"):
        assert re.search(rf"^  {command} ", done.stdout, re.MULTILINE), command
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout == f"stackscripts, version {__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", __version__)
    sub = run_cli("templates", "--help")
    assert sub.returncode == 0 and all(c in sub.stdout for c in ("list", "show", "validate", "inputs", "render"))


def test_scripts_list() -> None:
    doc = cli_json("scripts", "list", "--library", "scripts")
    assert doc["command"] == "scripts list"
    scripts = {s["name"]: s for s in doc["data"]}
    assert len(scripts) == len(list((ROOT / "scripts").glob("*.sh")))
    assert set(BOOT) <= set(scripts)
    docker = scripts["Install Docker"]
    assert docker["file"] == "scripts/install-docker.sh" and docker["dialect"] == "rightscript"
    assert docker["inputs"][0] == "DOCKER_PACKAGE" and "stackscripts-lib.sh" in docker["attachments"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", s["sha256"]) for s in doc["data"])


def test_scripts_show() -> None:
    data = cli_json("scripts", "show", "scripts/install-docker.sh")["data"]
    assert data["name"] == "Install Docker" and data["file"] == "scripts/install-docker.sh"
    assert data["interpreter"] == "/bin/bash" and data["description"]
    package = data["inputs"][0]
    assert package["name"] == "DOCKER_PACKAGE" and package["default"] == "text:docker.io"
    assert package["possible_values"] == ["text:docker.io", "text:docker-ce"] and package["required"] is False
    assert cli_json("scripts", "show", "nope/missing.sh", code=2)["error"]["exit_code"] == 2


def test_scripts_lint_the_flagship_library() -> None:
    fast = cli_json("scripts", "lint", "scripts/", "--no-shellcheck")["data"]
    assert fast["errors"] == 0
    require_binary("shellcheck", "shellcheck (apt-get install -y shellcheck)")
    data = cli_json("scripts", "lint", "scripts/")["data"]
    assert data["errors"] == 0, data["findings"]
    assert all(f["severity"] != "error" for f in data["findings"])


def strip_metadata(source: Path, target: Path) -> str:
    """A copy of a script without its metadata block (the lines from '# ---' to '# ...')."""
    lines = source.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("# ---"))
    end = next(i for i, line in enumerate(lines) if line.startswith("# ...") and i > start)
    text = "".join(lines[:start] + lines[end + 1:])
    target.write_text(text)
    return text


def test_scripts_scaffold(tmp_path: Path) -> None:
    target = tmp_path / "install-docker.sh"
    original = strip_metadata(ROOT / "scripts" / "install-docker.sh", target)
    assert "RightScript Name" not in original

    dry = cli_json("scripts", "scaffold", str(target), "--dry-run")["data"]
    assert dry["changed"] is True and dry["written"] is False
    assert target.read_text() == original  # --dry-run writes nothing
    assert set(dry["added_inputs"]) == {"DOCKER_PACKAGE", "DOCKER_MAX_CONCURRENT_DOWNLOADS", "DOCKER_LOG_MAX_SIZE"}
    assert "stackscripts-lib.sh" in dry["added_attachments"]
    assert dry["text"].startswith("#!/bin/bash\n# ---\n# RightScript Name: ") and dry["text"].endswith(original[12:])
    human = run_cli("scripts", "scaffold", str(target), "--dry-run")
    assert human.returncode == 0 and human.stdout == dry["text"] and target.read_text() == original

    written = cli_json("scripts", "scaffold", str(target))["data"]
    assert written["changed"] is True and written["written"] is True
    assert target.read_text() == dry["text"]
    shown = cli_json("scripts", "show", str(target))["data"]
    assert [i["name"] for i in shown["inputs"]] == dry["added_inputs"]
    assert next(i for i in shown["inputs"] if i["name"] == "DOCKER_PACKAGE")["default"] == "text:docker.io"
    again = cli_json("scripts", "scaffold", str(target))["data"]
    assert again["changed"] is False and again["written"] is False and target.read_text() == dry["text"]


def test_templates_list_and_show() -> None:
    listed = cli_json("templates", "list", "servertemplates")["data"]
    by_name = {t["name"]: t for t in listed}
    assert set(by_name) == {"Docker All-in-One", "Docker Registry", "Packages All-in-One"}
    assert by_name["Docker All-in-One"]["steps"] == {"Boot": 6, "Operational": 5, "Decommission": 2}
    shown = cli_json("templates", "show", FLAGSHIP)["data"]
    assert shown["name"] == "Docker All-in-One" and re.fullmatch(r"[0-9a-f]{64}", shown["sha256"])
    assert [s["name"] for s in shown["phases"]["Boot"]] == BOOT
    assert [s["timeout"] for s in shown["phases"]["Boot"]][3:] == [900, 600, 300]
    assert shown["inputs"] == {"PULL_PARALLEL": "text:true", "CHECK_TIMEOUT": "text:180"}
    assert shown["images"][0]["name"] == "Debian 12"


def test_templates_validate_lists_unset_required() -> None:
    (result,) = cli_json("templates", "validate", FLAGSHIP)["data"]
    assert result["valid"] is True and result["steps"] == 13
    assert result["unset_required"] == ["APP_API_IMAGE", "APP_WORKER_IMAGE"]
    (given,) = cli_json("templates", "validate", FLAGSHIP, *APP)["data"]
    assert given["unset_required"] == []
    every = cli_json("templates", "validate", *sorted(str(p.relative_to(ROOT)) for p in
                                                      (ROOT / "servertemplates").glob("*.yaml")))["data"]
    assert len(every) == 3 and all(r["valid"] for r in every)


def test_templates_inputs_show_value_and_source() -> None:
    data = cli_json("templates", "inputs", FLAGSHIP, *APP, "-i", "MARIADB_ROOT_PASSWORD=cred:OTHER_DB_PW",
                    env=CREDS)["data"]
    inputs = {row["name"]: row for row in data}
    assert (inputs["DOCKER_PACKAGE"]["value"], inputs["DOCKER_PACKAGE"]["source"]) == (
        "text:docker.io", "script default (install-docker.sh)")
    assert (inputs["PULL_PARALLEL"]["value"], inputs["PULL_PARALLEL"]["source"]) == ("text:true", "template")
    assert (inputs["APP_API_IMAGE"]["value"], inputs["APP_API_IMAGE"]["source"]) == ("text:x", "command line")
    assert inputs["APP_API_IMAGE"]["required"] is True
    registry = inputs["REGISTRY_PASSWORD"]  # a cred: default: shown by reference only
    assert (registry["value"], registry["secret"]) == ("cred:REGISTRY_PASSWORD", True)
    assert registry["source"] == "script default (registry-keys.sh)"
    db = inputs["MARIADB_ROOT_PASSWORD"]
    assert (db["value"], db["source"], db["secret"]) == ("cred:OTHER_DB_PW", "command line", True)
    assert inputs["CHECK_ENDPOINTS"]["type"] == "array" and inputs["CHECK_ENDPOINTS"]["value"].startswith("array:[")
    done = run_cli("templates", "inputs", FLAGSHIP, *APP, env=CREDS)  # the human table: no secret either
    assert done.returncode == 0 and SECRET not in done.stdout and "cred:REGISTRY_PASSWORD" in done.stdout
    bad = cli_json("templates", "inputs", FLAGSHIP, *APP, "-i", "NO_SUCH_INPUT=text:1", code=2)
    assert "NO_SUCH_INPUT" in bad["error"]["message"]


def test_templates_render_bundles(tmp_path: Path) -> None:
    out = tmp_path / "bundles"
    data = cli_json("templates", "render", FLAGSHIP, "--phase", "boot", "-o", str(out), *APP, env=CREDS)["data"]
    bundles = [Path(b) for b in data["bundles"]]
    assert [b.name for b in bundles] == ["01-install-docker", "02-setup-btrfs", "03-registry-keys",
                                         "04-launch-containers", "05-launch-app-containers", "06-check-services"]
    for bundle in bundles:
        assert bundle.parent == out and stat.S_IMODE(bundle.stat().st_mode) == 0o700
        assert stat.S_IMODE((bundle / "env").stat().st_mode) == 0o600
        assert (bundle / "run.sh").stat().st_mode & stat.S_IXUSR
        manifest = json.loads((bundle / "manifest.json").read_text())
        assert manifest["name"] == BOOT[bundles.index(bundle)] and manifest["phase"] == "Boot"
        env = dict(item.split("=", 1) for item in (bundle / "env").read_text().split("\0") if item)
        assert SECRET not in (bundle / "env").read_text()  # cred: values are left out unless asked for
        assert "REGISTRY_PASSWORD" not in env
    first = dict(i.split("=", 1) for i in (bundles[0] / "env").read_text().split("\0") if i)
    assert first["DOCKER_PACKAGE"] == "docker.io" and first["RS_PACKAGES"] == "jq"
    apps = (bundles[4] / "env").read_text().split("\0")
    assert "APP_WORKER_IMAGE=registry.local/worker:2" in apps
    assert (bundles[0] / "script").read_bytes() == (ROOT / "scripts" / "install-docker.sh").read_bytes()

    secret_out = tmp_path / "with-secrets"
    cli_json("templates", "render", FLAGSHIP, "-o", str(secret_out), "--include-secrets", *APP, env=CREDS)
    keys = secret_out / "03-registry-keys" / "env"
    assert f"REGISTRY_PASSWORD={SECRET}" in keys.read_text().split("\0")
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    shutil.rmtree(secret_out)


def test_templates_render_cloud_init() -> None:
    refused = cli_json("templates", "render", FLAGSHIP, "--cloud-init", *APP, code=2, env=CREDS)
    assert refused["command"] == "templates render" and refused["data"] is None
    assert refused["error"]["exit_code"] == 2 and "--include-secrets" in refused["error"]["message"]
    assert "REGISTRY_PASSWORD" in refused["error"]["message"] and refused["error"]["file"] == FLAGSHIP
    human = run_cli("templates", "render", FLAGSHIP, "--cloud-init", *APP, env=CREDS)
    assert human.returncode == 2 and human.stdout == "" and "--include-secrets" in human.stderr
    no_traceback(human.stderr)

    data = cli_json("templates", "render", FLAGSHIP, "--cloud-init", "--include-secrets", "--max-size", "0", *APP,
                    env=CREDS)["data"]
    user_data = data["user_data"]
    assert user_data.startswith("#cloud-config\n") and SECRET not in user_data  # embedded, but base64-encoded
    doc = yaml.safe_load(user_data)
    assert set(doc) >= {"write_files", "runcmd"}
    files = {f["path"]: f for f in doc["write_files"]}
    envs = [f for path, f in files.items() if path.endswith("/env")]
    assert len(envs) == 6 and all(f["permissions"] == "0600" for f in envs)
    keys = next(f for path, f in files.items() if path.endswith("03-registry-keys/env"))
    assert f"REGISTRY_PASSWORD={SECRET}".encode() in base64.b64decode(keys["content"]).split(b"\0")
    text = run_cli("templates", "render", FLAGSHIP, "--cloud-init", "--include-secrets", "--max-size", "0", *APP,
                   env=CREDS)
    assert text.returncode == 0

    def without_envs(document: str) -> object:  # env files hold each render's new STACKSCRIPTS_RUN_ID
        loaded = yaml.safe_load(document)
        loaded["write_files"] = [f for f in loaded["write_files"] if not f["path"].endswith("/env")]
        return loaded

    assert without_envs(text.stdout) == without_envs(user_data)
    assert "cloud-init keeps copies under /var/lib/cloud/instance/" in text.stderr  # what --include-secrets means
