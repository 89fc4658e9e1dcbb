"""The transport contract, connecting: host keys, failures, one reused connection, many servers."""

from __future__ import annotations

import random
import socket
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from stackscripts.errors import ConnectionFailed, HostKeyMismatch
from stackscripts.transport.base import ExecResult, Transport
from tests.support.parts import require_binary
from tests.support.sshd import SshdServer

pytestmark = pytest.mark.timeout(120)  # the sshd fixture requires sshd (tests/support/parts.py)

BundleMaker = Callable[..., Path]


def test_connect_and_run_true(transport: Transport, sshd: SshdServer) -> None:
    with transport.open(sshd.host_spec()) as session:
        result = session.run_command("true")
        assert result == ExecResult(0, b"", b"")
        assert session.run_command("exit 7").exit_code == 7


def _fingerprint(pub_line: str, tmp_path: Path) -> str:
    pub = tmp_path / f"key{random.random()}.pub"
    pub.write_text(pub_line + "\n")
    keygen = require_binary("ssh-keygen")
    out = subprocess.run([keygen, "-l", "-f", str(pub)], capture_output=True, text=True, check=True)
    return out.stdout.split()[1]


def test_trust_on_first_use_then_changed_key_refused(
    transport: Transport, sshd: SshdServer, tmp_path: Path
) -> None:
    with transport.open(sshd.host_spec(known_host_key=False)) as session:
        recorded = session.host_key
    assert recorded == sshd.host_key_line and recorded.startswith("ssh-ed25519 AAAA")
    with transport.open(sshd.host_spec(host_key=recorded)) as session:
        assert session.run_command("true").exit_code == 0

    sshd.restart(new_host_key=True)
    with pytest.raises(HostKeyMismatch) as caught:
        transport.open(sshd.host_spec(host_key=recorded))
    message = str(caught.value)
    assert caught.value.server == "web1" and message.startswith("web1: ")
    assert _fingerprint(recorded, tmp_path) in message
    assert _fingerprint(sshd.host_key_line, tmp_path) in message
    assert "stackscripts servers forget-key web1" in message
    assert "\n" not in message and "Traceback" not in message


def test_unreachable_port(transport: Transport, sshd: SshdServer) -> None:
    port = sshd.port
    sshd.kill()
    with pytest.raises(ConnectionFailed) as caught:
        transport.open(sshd.host_spec())
    assert str(caught.value).startswith(f"web1: cannot connect to 127.0.0.1:{port}: connection refused.")
    assert "\n" not in str(caught.value)


def test_wrong_client_key(transport: Transport, sshd: SshdServer, tmp_path: Path) -> None:
    other = tmp_path / "other_key"
    keygen = require_binary("ssh-keygen")
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    with pytest.raises(ConnectionFailed) as caught:
        transport.open(sshd.host_spec(key_path=str(other)))
    assert not isinstance(caught.value, HostKeyMismatch)
    assert str(caught.value).startswith(f"web1: authentication failed for {sshd.user}@127.0.0.1:{sshd.port}")


def test_missing_key_file_and_bad_recorded_key(
    transport: Transport, sshd: SshdServer, tmp_path: Path
) -> None:
    with pytest.raises(ConnectionFailed, match="cannot use the private key .*No such file"):
        transport.open(sshd.host_spec(key_path=str(tmp_path / "nope")))
    locked = tmp_path / "locked_key"
    keygen = require_binary("ssh-keygen")
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "pw", "-f", str(locked)], check=True)
    with pytest.raises(ConnectionFailed, match="protected by a passphrase"):
        transport.open(sshd.host_spec(key_path=str(locked)))
    with pytest.raises(ConnectionFailed, match="recorded host key .* is not a valid public key"):
        transport.open(sshd.host_spec(host_key="ssh-ed25519 not-base64!"))


def test_one_connection_reused_for_50_steps(transport: Transport, sshd: SshdServer, make_bundle: BundleMaker) -> None:
    """One login for 50 steps (how fast a step is on that connection: benchmarks/thresholds.py)."""
    bundle = make_bundle("load_env; test \"$N\" = 1\n", env={"N": "1"})
    with transport.open(sshd.host_spec()) as session:
        connection = getattr(session, "transport", None)
        for _ in range(50):
            assert session.run_bundle(bundle).exit_code == 0
        assert getattr(session, "transport", None) is connection
    logins = sshd.log_path.read_text().count("Accepted publickey")
    assert logins == 1


def test_ssh_socket_tuning(sshd: SshdServer) -> None:
    """Nagle off (else ~40 ms per command) and kernel keepalive on, on the one SSH socket."""
    from stackscripts.transport.ssh import SSHSession, SSHTransport

    with SSHTransport().open(sshd.host_spec()) as session:
        assert isinstance(session, SSHSession)
        sock = session.transport.sock
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1


def test_ten_servers_in_parallel(
    transport: Transport, sshd_factory: Callable[[int], list[SshdServer]], make_bundle: BundleMaker
) -> None:
    servers = sshd_factory(10)
    bundle = make_bundle('load_env; echo "$WHO"\n', env={"WHO": "me"})

    def one(server: SshdServer) -> bytes:
        with transport.open(server.host_spec()) as session:
            return session.run_bundle(bundle).stdout

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert list(pool.map(one, servers)) == [b"me\n"] * 10
    assert len({s.port for s in servers}) == 10
