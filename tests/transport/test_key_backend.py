"""Where launch keeps the keys it makes: files in the state dir by default, or the team's key backend."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from stackscripts.errors import BadInput
from stackscripts.inputs.creds import FileBackend, SSMBackend
from stackscripts.project import loads
from stackscripts.transport.keys import key_backend_name, launch_key, private_key_text
from tests.support.moto import MotoServer


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No developer's keys, credentials or project file: all under tmp_path."""
    monkeypatch.setenv("STACKSCRIPTS_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("STACKSCRIPTS_CREDENTIALS", str(tmp_path / "credentials.yaml"))
    (tmp_path / "stackscripts.yaml").write_text("cloud: local\n")
    monkeypatch.setenv("STACKSCRIPTS_PROJECT", str(tmp_path / "stackscripts.yaml"))
    for name in ("STACKSCRIPTS_KEY_BACKEND", "STACKSCRIPTS_CRED_BACKENDS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def public_of(private: str) -> list[str]:
    key = serialization.load_ssh_private_key(private.encode(), None)
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode().split()


def test_without_a_key_backend_the_key_is_a_file_as_before(isolated: Path) -> None:
    key, public = launch_key("web1")
    assert key == str(isolated / "keys" / "web1.key") and Path(key).is_file()
    assert public.startswith("ssh-ed25519 ") and public.endswith(" stackscripts-web1")


def test_with_the_file_backend_only_a_reference_is_recorded(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKSCRIPTS_KEY_BACKEND", "file")
    key, public = launch_key("deployment-shop")
    assert key == "cred:stackscripts-key-deployment-shop"
    stored = FileBackend(isolated / "credentials.yaml").get("stackscripts-key-deployment-shop")
    assert stored is not None and public.split()[:2] == public_of(stored)
    assert [p.name for p in (isolated / "keys").iterdir()] == [".deployment-shop.lock"]  # no key on disk
    assert launch_key("deployment-shop") == (key, public)  # the wave's next server: the same key
    assert private_key_text("web1", key) == stored


def test_a_waves_servers_asking_at_once_share_one_stored_key(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKSCRIPTS_KEY_BACKEND", "file")
    results: list[tuple[str, str]] = []
    barrier = threading.Barrier(6)

    def ask() -> None:
        barrier.wait()
        results.append(launch_key("deployment-wave"))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6 and len(set(results)) == 1


def test_ssm_from_the_project_file(isolated: Path, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in moto_server.env().items():
        monkeypatch.setenv(name, value)
    (isolated / "stackscripts.yaml").write_text("cloud: local\nkeys: ssm\n")
    assert key_backend_name() == "ssm"
    key, public = launch_key("app-from-project")
    assert key == "cred:stackscripts-key-app-from-project"
    stored = SSMBackend().get("stackscripts-key-app-from-project")
    assert stored is not None and public.split()[:2] == public_of(stored)
    assert private_key_text("app1", key) == stored  # found without ssm among the credential backends
    monkeypatch.setenv("STACKSCRIPTS_KEY_BACKEND", "file")  # the variable wins over the project file
    assert key_backend_name() == "file"


def test_the_env_backend_cannot_keep_keys(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKSCRIPTS_KEY_BACKEND", "env")
    with pytest.raises(BadInput, match="env credential backend cannot store"):
        launch_key("web1")
    monkeypatch.setenv("STACKSCRIPTS_KEY_BACKEND", "vault")
    with pytest.raises(BadInput, match="unknown credential backend 'vault'"):
        launch_key("web1")


@pytest.mark.parametrize(("text", "line"), [("cloud: local\nkeys: env\n", 2), ("keys: [ssm]\n", 1),
                                            ("store: x.db\nkeys: 'S S M'\n", 2)])
def test_a_bad_keys_setting_names_the_line(tmp_path: Path, text: str, line: int) -> None:
    with pytest.raises(BadInput) as info:
        loads(text, tmp_path / "stackscripts.yaml")
    assert str(info.value).startswith(f"{tmp_path / 'stackscripts.yaml'}:{line}: 'keys' must name")
    assert loads("keys: secretsmanager\n", tmp_path / "stackscripts.yaml").keys == "secretsmanager"


def test_a_missing_key_names_the_server_and_the_reference(isolated: Path) -> None:
    with pytest.raises(BadInput) as info:
        private_key_text("db1", "cred:stackscripts-key-db1")
    message = str(info.value)
    assert info.value.exit_code == 2
    assert message.startswith("server db1: its SSH key cred:stackscripts-key-db1 was not found")
    assert "$STACKSCRIPTS_CRED_STACKSCRIPTS_KEY_DB1" in message and "credentials.yaml" in message
