"""A server name the cloud would refuse is bad input before anything is recorded or made (launch and deploy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackscripts.errors import BadInput
from stackscripts.providers.base import providers
from tests.support.cli import cli_json
from tests.support.rightscripts import write_rightscript

TEMPLATE = """\
Name: Named
RightScripts:
  Boot:
  - hello.sh
MultiCloudImages:
- Name: Debian 12
  Settings:
  - Cloud: local
    Image: stackscripts/debian:bookworm
"""


@pytest.mark.parametrize(("kind", "config", "name", "ok"), [
    ("local", {}, "web-1", True),
    ("local", {}, "web_1", False),  # a host name has no '_'
    ("local", {}, "-web", False),
    ("local", {}, "w" * 64, False),
    ("ec2", {}, "web_1.prod", True),  # a Name tag takes it
    ("ec2", {}, "web 1", False),
    ("libcloud", {"driver": "gce"}, "Web1", False),  # GCE: lower case only
    ("libcloud", {"driver": "gce"}, "web-1", True),
    ("libcloud", {"driver": "digitalocean"}, "Web1", True),
])
def test_each_cloud_checks_names_by_its_own_rule(kind: str, config: dict[str, str], name: str, ok: bool) -> None:
    provider = providers.get(kind)(f"my-{kind}", {"provider": kind, **config})
    if ok:
        provider.check_name(name)
    else:
        with pytest.raises(BadInput, match=f"server name '{name}' is not accepted by cloud 'my-{kind}'"):
            provider.check_name(name)


def test_launch_and_deploy_refuse_a_bad_name_before_recording_anything(tmp_path: Path) -> None:
    write_rightscript(tmp_path, "Hello", "echo hi\n")
    template = tmp_path / "named.yaml"
    template.write_text(TEMPLATE)
    db = str(tmp_path / "audit.db")
    doc = cli_json("launch", str(template), "--name", "web_1", "--db", db, code=2)
    assert "server name 'web_1' is not accepted by cloud 'local'" in doc["error"]["message"]
    deployment = tmp_path / "d.yaml"
    deployment.write_text(f"Name: d\nServers:\n- Name: ok-1\n  Template: {template}\n- Name: bad_2\n"
                          f"  Template: {template}\n")
    doc = cli_json("deploy", str(deployment), "--db", db, code=2)
    assert "bad_2" in doc["error"]["message"] and doc["error"]["line"] == 5 and doc["error"]["file"] == str(deployment)
    assert cli_json("servers", "list", "--db", db)["data"] == []
