"""Storing secrets (`put`) in the backends that can: a 0600 file, SSM SecureString, Secrets Manager; env refuses."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from stackscripts.errors import BadInput
from stackscripts.inputs.creds import EnvBackend, FileBackend, SecretsManagerBackend, SSMBackend
from tests.support.cli import cli_env
from tests.support.moto import MotoServer

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA: 'quoted' \"and\" #not-a-comment\n" \
      "-----END OPENSSH PRIVATE KEY-----\n"


@pytest.fixture
def aws_env(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    for key, value in moto_server.env().items():
        monkeypatch.setenv(key, value)
    return moto_server


def test_a_new_credentials_file_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "config" / "stackscripts" / "credentials.yaml"
    assert FileBackend(path).put("stackscripts-key-web1", KEY) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert FileBackend(path).get("stackscripts-key-web1") == KEY  # multi-line, quotes and '#' byte-exact
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_put_keeps_what_the_file_had(tmp_path: Path) -> None:
    path = tmp_path / "credentials.yaml"
    path.write_text("# the team's registry\nREGISTRY_PASSWORD: 's3cret'")  # no newline at the end
    path.chmod(0o600)
    backend = FileBackend(path)
    assert backend.get("REGISTRY_PASSWORD") == "s3cret"
    assert backend.put("API_TOKEN", "t0ken") is True
    assert path.read_text().startswith("# the team's registry\nREGISTRY_PASSWORD: 's3cret'\n")
    fresh = FileBackend(path)
    assert (fresh.get("REGISTRY_PASSWORD"), fresh.get("API_TOKEN")) == ("s3cret", "t0ken")


def test_an_existing_name_is_kept_or_replaced_as_asked(tmp_path: Path) -> None:
    path = tmp_path / "credentials.yaml"
    backend = FileBackend(path)
    backend.put("A", "first")
    backend.put("B", "other")
    assert backend.put("A", "second", replace=False) is False
    assert FileBackend(path).get("A") == "first"
    assert backend.put("A", "second") is True
    fresh = FileBackend(path)
    assert (fresh.get("A"), fresh.get("B")) == ("second", "other")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_file_readable_by_others_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "credentials.yaml"
    path.write_text("A: a\n")
    path.chmod(0o644)
    with pytest.raises(BadInput, match="chmod 600"):
        FileBackend(path).put("B", "b")
    assert path.read_text() == "A: a\n"


def test_processes_putting_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "credentials.yaml"
    code = "import sys; from pathlib import Path; from stackscripts.inputs.creds import FileBackend; " \
           "FileBackend(Path(sys.argv[1])).put(sys.argv[2], 'value of ' + sys.argv[2])"
    children = [subprocess.Popen([sys.executable, "-c", code, str(path), f"K{i}"], env=cli_env(),
                                 stderr=subprocess.PIPE, text=True) for i in range(6)]
    assert [(child.wait(timeout=60), child.stderr.read() if child.stderr else "") for child in children] == \
        [(0, "")] * 6
    backend = FileBackend(path)
    assert [backend.get(f"K{i}") for i in range(6)] == [f"value of K{i}" for i in range(6)]


def test_the_env_backend_cannot_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STACKSCRIPTS_CRED_STACKSCRIPTS_KEY_WEB1", raising=False)
    with pytest.raises(BadInput) as info:
        EnvBackend().put("stackscripts-key-web1", KEY)
    assert info.value.exit_code == 2
    assert "env credential backend cannot store" in str(info.value) and "PRIVATE KEY" not in str(info.value)


def test_ssm_stores_a_secure_string(aws_env: MotoServer) -> None:
    from stackscripts import aws

    backend = SSMBackend()
    assert backend.put("stackscripts-key-put1", KEY) is True
    found = aws.client("ssm").get_parameter(Name="/stackscripts/stackscripts-key-put1", WithDecryption=True)
    assert found["Parameter"]["Type"] == "SecureString" and found["Parameter"]["Value"] == KEY
    assert backend.put("stackscripts-key-put1", "other", replace=False) is False
    assert SSMBackend().get("stackscripts-key-put1") == KEY
    assert backend.put("stackscripts-key-put1", "other") is True
    assert SSMBackend().get("stackscripts-key-put1") == "other"


def test_secrets_manager_creates_then_updates(aws_env: MotoServer) -> None:
    backend = SecretsManagerBackend()
    assert backend.put("stackscripts-key-put2", KEY) is True
    assert SecretsManagerBackend().get("stackscripts-key-put2") == KEY
    assert backend.put("stackscripts-key-put2", "other", replace=False) is False
    assert backend.put("stackscripts-key-put2", "other") is True
    assert SecretsManagerBackend().get("stackscripts-key-put2") == "other"
