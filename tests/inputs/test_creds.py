"""cred: inputs through every backend: environment, a 0600 file, SSM and Secrets Manager on moto."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackscripts.errors import BadInput
from stackscripts.inputs.creds import Credentials, EnvBackend, FileBackend, SecretsManagerBackend, SSMBackend
from tests.support.moto import MotoServer


@pytest.fixture
def aws_env(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    for key, value in moto_server.env().items():
        monkeypatch.setenv(key, value)
    return moto_server


def test_env_backend(monkeypatch) -> None:
    monkeypatch.setenv("STACKSCRIPTS_CRED_DB_PASSWORD", "from env")
    assert Credentials([EnvBackend()]).get("DB_PASSWORD") == "from env"


def test_file_backend_requires_0600(tmp_path: Path) -> None:
    path = tmp_path / "credentials.yaml"
    path.write_text("DB_PASSWORD: 'from file'\n")
    path.chmod(0o644)
    with pytest.raises(BadInput, match="chmod 600"):
        FileBackend(path).get("DB_PASSWORD")
    path.chmod(0o600)
    assert FileBackend(path).get("DB_PASSWORD") == "from file"


def test_missing_credential_names_every_place_looked(tmp_path: Path) -> None:
    creds = Credentials([EnvBackend(), FileBackend(tmp_path / "none.yaml")])
    with pytest.raises(BadInput) as info:
        creds.get("NOPE", input_name="PASSWORD")
    message = str(info.value)
    assert "STACKSCRIPTS_CRED_NOPE" in message and "none.yaml" in message and "PASSWORD" in message


def test_ssm_parameter_store(aws_env) -> None:
    from stackscripts import aws

    aws.client("ssm").put_parameter(Name="/stackscripts/REGISTRY_PASSWORD", Value="ssm secret",
                                    Type="SecureString")
    creds = Credentials([EnvBackend(), SSMBackend()])
    assert creds.get("REGISTRY_PASSWORD") == "ssm secret"
    assert SSMBackend().get("ABSENT") is None


def test_secrets_manager(aws_env) -> None:
    from stackscripts import aws

    aws.client("secretsmanager").create_secret(Name="/stackscripts/API_TOKEN", SecretString="sm secret")
    assert Credentials([SecretsManagerBackend()]).get("API_TOKEN") == "sm secret"
    assert SecretsManagerBackend().get("ABSENT") is None


def test_backends_chosen_by_environment(aws_env, monkeypatch) -> None:
    from stackscripts import aws

    aws.client("ssm").put_parameter(Name="/team/TOKEN", Value="t", Type="SecureString")
    monkeypatch.setenv("STACKSCRIPTS_CRED_BACKENDS", "env,ssm")
    monkeypatch.setenv("STACKSCRIPTS_SSM_PREFIX", "/team/")
    assert Credentials().get("TOKEN") == "t"
