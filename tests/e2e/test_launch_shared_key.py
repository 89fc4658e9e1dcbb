"""A launch with the team's key backend set: the key goes to SSM (on moto), the server records only a cred:
reference, and a colleague with another HOME runs a script on the instance with it."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.support.moto import MotoServer
from tests.support.rightscripts import write_rightscript

from .conftest import Cli, docker_names

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

TEMPLATE = """Name: Shared Key
RightScripts:
  Boot:
  - hello.sh
  Operational:
  - who.sh
MultiCloudImages:
- Name: Debian 12
  Settings:
  - Cloud: local
    Image: stackscripts/debian:bookworm
    Instance Type: small
"""


def home_env(home: Path) -> dict[str, str]:
    home.mkdir()
    return {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_STATE_HOME": str(home / ".local" / "state")}


def test_a_launched_servers_key_is_a_reference_a_colleague_can_use(cli: Cli, tmp_path: Path,
                                                                    moto_server: MotoServer) -> None:
    from stackscripts.inputs.creds import SSMBackend

    name = f"e2e-key-{uuid.uuid4().hex[:6]}"
    write_rightscript(tmp_path, "Hello", 'echo "booted $STACKSCRIPTS_SERVER"\n')
    write_rightscript(tmp_path, "Who", 'echo "colleague ran on $(hostname)"\n')
    template = tmp_path / "shared.yaml"
    template.write_text(TEMPLATE)
    aws = moto_server.env()
    keys = tmp_path / "alice" / ".local" / "state" / "stackscripts" / "keys"
    alice = Cli({**cli.env, **home_env(tmp_path / "alice"), **aws, "STACKSCRIPTS_KEYS_DIR": str(keys),
                 "STACKSCRIPTS_KEY_BACKEND": "ssm"}, cli.db)
    project = tmp_path / "team" / "stackscripts.yaml"
    project.parent.mkdir()
    project.write_text("keys: ssm\n")  # Bob finds the key backend in the team's project file
    bob = Cli({**home_env(tmp_path / "bob"), **aws, "STACKSCRIPTS_PROJECT": str(project)}, cli.db)
    outputs: list[str] = []
    try:
        launched = alice.run("launch", str(template), "--name", name)
        outputs += [launched.stdout, launched.stderr]
        assert launched.returncode == 0, launched.stdout + launched.stderr
        code, shown = bob.json("servers", "show", name)
        assert shown["data"]["key_path"] == f"cred:stackscripts-key-{name}" and shown["data"]["host_key"]
        assert [p.name for p in keys.iterdir()] == [f".{name}.lock"]  # no private key left on Alice's disk

        ran = bob.run("run", name, "Who")
        outputs += [ran.stdout, ran.stderr]
        assert ran.returncode == 0, ran.stdout + ran.stderr
        code, runs = bob.json("runs", "list")
        assert [r["state"] for r in runs["data"]] == ["succeeded", "succeeded"]
        log = bob.run("runs", "log", runs["data"][0]["id"], "1")
        assert "colleague ran on" in log.stdout

        with pytest.MonkeyPatch.context() as patch:
            for variable, value in aws.items():
                patch.setenv(variable, value)
            private = SSMBackend().get(f"stackscripts-key-{name}")
        assert private is not None and "OPENSSH PRIVATE KEY" in private
        body = [line for line in private.splitlines() if len(line) >= 20 and "PRIVATE KEY" not in line]
        stored = b"".join(p.read_bytes() for p in cli.db.parent.glob(cli.db.name + "*"))
        for line in body:
            assert line.encode() not in stored and all(line not in text for text in outputs)
    finally:
        done = alice.run("terminate", name)
        assert done.returncode == 0, done.stdout + done.stderr
    assert docker_names(name) == []
