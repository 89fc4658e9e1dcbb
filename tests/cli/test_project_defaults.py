"""The project file's defaults reach the commands: `cloud:` is the cloud `launch` and `deploy` use when no
--cloud is given (a flag still wins)."""

from __future__ import annotations

from pathlib import Path

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
