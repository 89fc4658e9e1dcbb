"""Fixtures for provider tests: the local cloud (base image built once per session), SSH keys, an SSH probe."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.support.parts import require
from tests.support.waits import wait_until

RUN_LABEL = "stackscripts.test-run"


@dataclass(frozen=True)
class KeyPair:
    private_path: Path
    public: str  # "ssh-ed25519 AAAA... comment"

    def pkey(self) -> paramiko.PKey:
        return paramiko.Ed25519Key.from_private_key_file(str(self.private_path))


@dataclass(frozen=True)
class Ssh:
    """One open SSH connection to an instance."""

    client: paramiko.SSHClient
    host_key: str  # "type base64" as presented by the server

    def run(self, command: str, timeout: float = 120.0) -> tuple[int, str, str]:
        _stdin, stdout, stderr = self.client.exec_command(command, timeout=timeout)
        code = stdout.channel.recv_exit_status()
        return code, stdout.read().decode(errors="replace"), stderr.read().decode(errors="replace")

    def check(self, command: str, timeout: float = 120.0) -> str:
        code, out, err = self.run(command, timeout)
        assert code == 0, f"{command!r} exited {code}\nstdout: {out[-3000:]}\nstderr: {err[-3000:]}"
        return out


def make_key_pair(directory: Path, name: str = "id_ed25519") -> KeyPair:
    key = Ed25519PrivateKey.generate()
    private = directory / name
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    )
    private.chmod(0o600)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return KeyPair(private, public.decode() + " stackscripts-test")


def connect_ssh(port: int, pkey: paramiko.PKey, timeout: float = 30.0, host: str = "127.0.0.1") -> Ssh:
    """Connect as root, retrying until sshd answers or timeout; no host key checking (keys are compared by tests)."""
    errors: list[Exception] = []

    def attempt() -> Ssh | None:
        if not banner(port, host):  # the engine's port proxy accepts before sshd listens
            return None
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        try:
            client.connect(host, port=port, username="root", pkey=pkey, timeout=5, banner_timeout=5,
                           auth_timeout=5, allow_agent=False, look_for_keys=False)  # fmt: skip
            transport = client.get_transport()
            assert transport is not None
            key = transport.get_remote_server_key()
            return Ssh(client, f"{key.get_name()} {key.get_base64()}")
        except paramiko.AuthenticationException:
            client.close()
            raise
        except (paramiko.SSHException, OSError, EOFError) as exc:
            errors.append(exc)
            client.close()
            return None

    try:
        return wait_until(attempt, timeout, f"SSH on {host}:{port}", interval=0.1)
    except AssertionError:
        raise TimeoutError(f"no SSH on {host}:{port} after {timeout}s: {errors[-1] if errors else 'no banner'}") from None


def banner(port: int, host: str = "127.0.0.1") -> bool:
    """True when something on the port speaks SSH (sends an `SSH-` banner)."""
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            return sock.recv(4) == b"SSH-"
    except OSError:
        return False


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def local_base_image() -> str:
    """The local cloud's base image tag, built on first use (~1 minute); missing parts skip (fail under CI)."""
    from stackscripts.providers.local import ensure_base_image, missing_parts

    missing = missing_parts()
    require(not missing, "local cloud: " + "; ".join(missing))
    lines: list[str] = []
    try:
        return ensure_base_image(lines.append)
    except Exception as exc:  # keep the build log in the failure
        raise AssertionError(f"base image build failed: {exc}\n" + "\n".join(lines[-30:])) from exc


@pytest.fixture(scope="session")
def test_run_id() -> str:
    return f"t{os.getpid()}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def local_driver(local_base_image: str, test_run_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A LocalNodeDriver with a private state dir; destroys this session's instances at the end."""
    from stackscripts.providers.local import LocalNodeDriver

    driver = LocalNodeDriver(ex_state_dir=tmp_path_factory.mktemp("local-cloud"))
    yield driver
    driver.ex_destroy_all({RUN_LABEL: test_run_id})


@pytest.fixture(scope="session")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def ssh_connect() -> Callable[..., Ssh]:
    """connect(port, pkey, timeout=30) -> Ssh, retrying until sshd answers."""
    return connect_ssh


@pytest.fixture(scope="session")
def new_key_pair() -> Callable[[Path, str], KeyPair]:
    return make_key_pair


@pytest.fixture(scope="session")
def run_labels(test_run_id: str) -> dict[str, str]:
    """The labels every instance of this test session carries."""
    return {RUN_LABEL: test_run_id}


@pytest.fixture
def launch(local_driver, key_pair: KeyPair, test_run_id: str) -> Iterator[Callable]:
    """launch(suffix, volumes=None, size="small") -> Node; every node launched is destroyed after the test."""
    nodes = []

    def _launch(suffix: str, volumes: list[dict] | None = None, size: str = "small"):
        node = local_driver.create_node(
            f"{test_run_id}-{suffix}", size, None,
            ex_authorized_key=key_pair.public, ex_volumes=volumes, ex_labels={RUN_LABEL: test_run_id},
        )  # fmt: skip
        nodes.append(node)
        return node

    yield _launch
    for node in nodes:
        local_driver.destroy_node(node)
