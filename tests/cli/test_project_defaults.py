"""The project file's defaults reach the commands: `cloud:` is the cloud `launch` and `deploy` use when no
--cloud is given (a flag still wins)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import cli_json
from tests.support.rightscripts import write_rightscript


def project(tmp_path: Path, cloud: str) -> dict[str, str]:
    write_rightscript(tmp_path / "scripts", "Say Hi", "echo hi\n")
    (tmp_path / "t.yaml").write_text("Name: T\nRightScripts:\n  Boot:\n  - scripts/say-hi.sh\n"
                                     "MultiCloudImages:\n- Name: Debian\n  Settings:\n  - Cloud: local\n"
                                     "    Image: stackscripts/debian:bookworm\n")
    (tmp_path / "stackscripts.yaml").write_text(f"cloud: {cloud}\n")
    return {"HOME": str(tmp_path / "home"), "STACKSCRIPTS_DB": str(tmp_path / "audit.db")}


def test_launch_uses_the_project_files_cloud(tmp_path: Path) -> None:
    env = project(tmp_path, "nowhere")
    refused = cli_json("launch", "t.yaml", "--name", "web1", code=2, env=env, cwd=tmp_path)["error"]
    assert refused["message"].startswith("unknown cloud 'nowhere'")
    deployment = tmp_path / "d.yaml"
    deployment.write_text("Name: D\nServers:\n- Name: web1\n  Template: t.yaml\n")
    refused = cli_json("deploy", str(deployment), code=2, env=env, cwd=tmp_path)["error"]
    assert refused["message"].startswith("unknown cloud 'nowhere'")


def test_a_cloud_flag_wins_over_the_project_file(tmp_path: Path) -> None:
    env = project(tmp_path, "local")
    refused = cli_json("launch", "t.yaml", "--name", "web1", "--cloud", "elsewhere", code=2, env=env,
                       cwd=tmp_path)["error"]
    assert refused["message"].startswith("unknown cloud 'elsewhere'")


def test_the_project_files_store_is_the_default(tmp_path: Path) -> None:
    """`store:` is where every command records when neither --db nor STACKSCRIPTS_DB says otherwise (a relative
    path is the project file's folder's); a --db still wins."""
    (tmp_path / "stackscripts.yaml").write_text("store: state/team.db\n")
    env = {"HOME": str(tmp_path / "home")}
    cli_json("servers", "add", "web1", "--host", "root@10.0.0.5", env=env, cwd=tmp_path)
    assert (tmp_path / "state" / "team.db").is_file()
    assert not (tmp_path / "home" / ".local" / "state" / "stackscripts" / "audit.db").exists()
    (tmp_path / "sub").mkdir()
    listed = cli_json("servers", "list", env=env, cwd=tmp_path / "sub")["data"]  # found walking up
    assert [s["name"] for s in listed] == ["web1"]
    assert cli_json("servers", "list", "--db", str(tmp_path / "other.db"), env=env, cwd=tmp_path)["data"] == []
    status = cli_json("store", "status", env=env, cwd=tmp_path)["data"]
    assert (status["backend"], status["location"]) == ("sqlite", str(tmp_path / "state" / "team.db"))


def test_the_project_files_credential_backends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from stackscripts.inputs.creds import Credentials

    (tmp_path / "stackscripts.yaml").write_text("credential backends: [file]\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STACKSCRIPTS_CRED_BACKENDS", raising=False)
    monkeypatch.delenv("STACKSCRIPTS_PROJECT", raising=False)
    assert [b.name for b in Credentials().backends] == ["file"]
    monkeypatch.setenv("STACKSCRIPTS_CRED_BACKENDS", "env")  # the variable wins
    assert [b.name for b in Credentials().backends] == ["env"]
