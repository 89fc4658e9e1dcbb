"""The SSH transport over Fabric: one connection per server, one round trip per step.

The only module that imports fabric or paramiko (it is loaded lazily through the registry).
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import os
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paramiko
from fabric import Config, Connection
from paramiko.config import SSHConfig

from ..errors import ConnectionFailed, HostKeyMismatch
from .base import ExecResult, HostSpec, OutputCallback, Session, Transport
from .heartbeat import Heartbeat, Keepalive
from .keys import is_reference, private_key_text
from .pump import Command, Outcome, Running, pump
from .remote import (
    KILL_AFTER,
    BundleFiles,
    build_bundle_tar,
    bundle_command,
    command_with_timeout,
    format_seconds,
    read_bundle_dir,
)
from .ssh_connect import address, connect_failure, fingerprint, tune_socket

if TYPE_CHECKING:
    from ..inputs.creds import Credentials

# paramiko logs a dropped connection at ERROR; without this, logging's last-resort handler
# would print it on the user's terminal. Applications that configure logging still see it.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

CLIENT_GRACE = 10.0  # after timeout + KILL_AFTER the client stops waiting for the server
CONNECTION_LOST = "connection lost"


class _TrustOnFirstUse(paramiko.MissingHostKeyPolicy):
    """Missing-host-key policy when no key is recorded: accept; the session exposes the key to record."""

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        return None


class SSHTransport(Transport):
    name = "ssh"

    def __init__(self, *, keepalive: Keepalive | None = None, credentials: Credentials | None = None) -> None:
        self.keepalive = keepalive or Keepalive.from_env()
        self.credentials = credentials  # where cred: keys are fetched (None: the configured backends)

    def open(self, host: HostSpec) -> SSHSession:
        """Connect and authenticate; raise ConnectionFailed or HostKeyMismatch (BadInput: a cred: key not found)."""
        return SSHSession(host, _connect(host, self.keepalive, self.credentials), self.keepalive)


class SSHSession(Session):
    """An open Fabric connection; every step opens one exec channel on it."""

    def __init__(self, host: HostSpec, connection: Connection, keepalive: Keepalive) -> None:
        self.host = host
        self.connection = connection
        self.transport: paramiko.Transport = connection.transport
        key = self.transport.get_remote_server_key()
        self.host_key = f"{key.get_name()} {key.get_base64()}"
        # OpenSSH answers any global request that wants a reply (with a failure for unknown ones)
        self.heartbeat = Heartbeat(lambda: self.transport.global_request("keepalive@openssh.com", wait=True),
                                   self.transport.close, keepalive).start()
        self.running = Running()  # what cancel() stops

    @property
    def connected(self) -> bool:
        return bool(self.transport.is_active()) and not self.heartbeat.dead

    def run_bundle(
        self,
        bundle: BundleFiles | Path,
        *,
        timeout: float | None = None,
        on_output: OutputCallback | None = None,
    ) -> ExecResult:
        with self.running.track(watchdog=True) as tracked:  # the remote script's watchdog stops it when stdin ends
            files = read_bundle_dir(bundle) if isinstance(bundle, (str, Path)) else bundle
            payload = build_bundle_tar(files)
            return self._exec(bundle_command(len(payload), timeout), payload, timeout, on_output, tracked)

    def run_command(self, command: str, *, timeout: float | None = None) -> ExecResult:
        with self.running.track(watchdog=False) as tracked:  # a cancel closes the channel; `timeout` bounds it
            return self._exec(command_with_timeout(command, timeout), None, timeout, None, tracked)

    def cancel(self) -> None:
        self.running.cancel()

    def close(self) -> None:
        self.heartbeat.stop()
        self.connection.close()

    def _exec(self, command: str, stdin: bytes | None, timeout: float | None, on_output: OutputCallback | None,
              tracked: Command) -> ExecResult:
        """One exec channel: send stdin (None: close it at once), stream output, map the ending."""
        if not self.connected:
            return ExecResult(-1, error=CONNECTION_LOST)
        started = time.monotonic()
        deadline = None if timeout is None else started + timeout + KILL_AFTER + CLIENT_GRACE
        try:
            channel = self.transport.open_session(timeout=self.host.connect_timeout)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            if not self.connected:
                return ExecResult(-1, error=CONNECTION_LOST)
            return ExecResult(-1, error=f"cannot open an SSH channel: {exc}")
        try:
            if not tracked.opened(channel):
                return ExecResult(143)  # cancelled before it started: nothing ran (143: as a stopped step)
            channel.exec_command(command)
            if stdin is None:
                channel.shutdown_write()
            outcome = pump(
                channel,
                stdin=stdin or b"",
                deadline=deadline,
                on_output=on_output,
                alive=lambda: self.connected,
                on_sent=tracked.stdin_sent,
            )
        except (paramiko.SSHException, OSError, EOFError):
            outcome = Outcome(None, b"", b"", lost=not self.connected)
        finally:
            channel.close()
        return _result(outcome, timeout, time.monotonic() - started)


def _result(outcome: Outcome, timeout: float | None, elapsed: float) -> ExecResult:
    out, err = outcome.stdout, outcome.stderr
    if outcome.lost:
        return ExecResult(-1, out, err, error=CONNECTION_LOST)
    timed_out = f"timed out after {format_seconds(timeout)}s" if timeout is not None else None
    if outcome.gave_up:
        return ExecResult(124, out, err, error=timed_out)
    if outcome.exit_code is None:
        return ExecResult(-1, out, err, error="the remote command ended without an exit status")
    # `timeout` exits 124 (SIGTERM worked) or 137 (SIGKILL needed) when it stopped the step.
    if timeout is not None and outcome.exit_code in (124, 137) and elapsed >= timeout:
        return ExecResult(outcome.exit_code, out, err, error=timed_out)
    return ExecResult(outcome.exit_code, out, err)


def _connect(host: HostSpec, keepalive: Keepalive, credentials: Credentials | None = None) -> Connection:
    pkey = _load_client_key(host, credentials)
    expected = _recorded_host_key(host)
    try:
        sock = socket.create_connection((host.host, host.port), timeout=host.connect_timeout)
    except OSError as exc:
        raise connect_failure(host, exc) from None
    tune_socket(sock, keepalive)
    kwargs: dict[str, Any] = {
        "sock": sock,
        "timeout": host.connect_timeout,
        "banner_timeout": host.connect_timeout,
        "auth_timeout": host.connect_timeout,
    }
    if pkey is not None:
        kwargs.update(pkey=pkey, allow_agent=False, look_for_keys=False)
    connection = Connection(
        host.host,
        user=host.user,
        port=host.port,
        config=Config(lazy=True, ssh_config=SSHConfig()),  # no ~/.ssh/config surprises
        connect_kwargs=kwargs,
    )
    client: paramiko.SSHClient = connection.client
    if expected is None:
        client.set_missing_host_key_policy(_TrustOnFirstUse())
    else:  # Fabric's default AutoAddPolicy would accept any key: only the recorded one may pass
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.get_host_keys().add(_known_hosts_name(host), expected.get_name(), expected)
    try:
        connection.open()
    except BaseException as exc:
        connection.close()
        sock.close()
        raise _open_failure(host, exc) from None
    return connection


def _open_failure(host: HostSpec, exc: BaseException) -> BaseException:
    """The ConnectionFailed (or HostKeyMismatch) for an exception from the SSH handshake."""
    if isinstance(exc, paramiko.BadHostKeyException):
        return HostKeyMismatch(
            f"the host key of {address(host)} has changed: expected "
            f"{fingerprint(exc.expected_key)} ({exc.expected_key.get_name()}), the host presented "
            f"{fingerprint(exc.key)} ({exc.key.get_name()}). The connection was refused because "
            "someone could be intercepting it.",
            server=host.name,
            hint=f"If the host was rebuilt, run `stackscripts servers forget-key {host.name}` "
            "and connect again.",
        )
    if isinstance(exc, paramiko.AuthenticationException):
        key = f"the key {host.key_path}" if host.key_path else "the default keys and the SSH agent"
        return ConnectionFailed(
            f"authentication failed for {host.user}@{address(host)} with {key}.",
            server=host.name,
            hint=f"Check that the public key is in {host.user}'s authorized_keys on the server.",
        )
    if isinstance(exc, (paramiko.SSHException, EOFError, OSError)):
        return connect_failure(host, exc)
    return exc


def _load_client_key(host: HostSpec, credentials: Credentials | None = None) -> paramiko.PKey | None:
    """The client key: a file, or a `cred:NAME` reference fetched from the credential backends and loaded in
    memory only (never written to disk)."""
    if not host.key_path:
        return None
    try:
        if is_reference(host.key_path):
            return _key_from_text(private_key_text(host.name, host.key_path, credentials))
        return paramiko.PKey.from_path(os.path.expanduser(host.key_path))
    except OSError as exc:
        detail = exc.strerror or str(exc)
    except TypeError:  # cryptography: "Key is password-protected, but password was not provided."
        detail = "it is protected by a passphrase"
    except (paramiko.SSHException, paramiko.pkey.UnknownKeyType, ValueError):
        detail = "not a private key in a format paramiko reads"
    raise ConnectionFailed(
        f"cannot use the private key {host.key_path}: {detail}.",
        server=host.name,
        hint="Check the path (or the credential), and that the key is an unencrypted OpenSSH or PEM private key.",
    )


def _key_from_text(text: str) -> paramiko.PKey:
    """A private key held in memory, of whichever type it is (as PKey.from_path does for a file)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    text = text.strip().replace("\r\n", "\n") + "\n"
    try:
        loaded: object = serialization.load_ssh_private_key(text.encode(), None)
    except ValueError:
        loaded = serialization.load_pem_private_key(text.encode(), None)
    kinds: list[tuple[type, type[paramiko.PKey]]] = [
        (ed25519.Ed25519PrivateKey, paramiko.Ed25519Key), (rsa.RSAPrivateKey, paramiko.RSAKey),
        (ec.EllipticCurvePrivateKey, paramiko.ECDSAKey)]
    for kind, key_class in kinds:
        if isinstance(loaded, kind):
            return key_class.from_private_key(io.StringIO(text))
    raise ValueError("not an RSA, ECDSA or Ed25519 key")


def _recorded_host_key(host: HostSpec) -> paramiko.PKey | None:
    if host.host_key is None:
        return None
    try:
        kind, data = host.host_key.split()[:2]
        return paramiko.PKey.from_type_string(kind, base64.b64decode(data, validate=True))
    except (ValueError, binascii.Error, paramiko.SSHException, paramiko.pkey.UnknownKeyType):
        shown = host.host_key if len(host.host_key) <= 40 else host.host_key[:37] + "..."
        raise ConnectionFailed(
            f"the recorded host key {shown!r} is not a valid public key (expected 'type base64').",
            server=host.name,
            hint=f"Run `stackscripts servers forget-key {host.name}` to record it again "
            "on the next connection.",
        ) from None


def _known_hosts_name(host: HostSpec) -> str:
    return host.host if host.port == 22 else f"[{host.host}]:{host.port}"


def scan_host_key(host: str, port: int = 22, timeout: float = 10.0, *, server: str | None = None) -> str:
    """The host's public key as `type base64`, fetched as ssh-keyscan does: the key exchange only, no login.

    ConnectionFailed (naming `server`) for a host that cannot be reached or speaks no SSH within `timeout`."""
    spec = HostSpec(name=server or "", host=host, port=port, connect_timeout=timeout)
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise connect_failure(spec, exc) from None
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = transport.handshake_timeout = timeout
        transport.start_client(timeout=timeout)  # returns after `timeout` even without a key: checked below
        key = transport.get_remote_server_key() if transport.is_active() else None
    except paramiko.SSHException as exc:
        if str(exc) != "No existing session":  # no key yet: the timeout passed
            raise connect_failure(spec, exc) from None
        key = None
    except (EOFError, OSError) as exc:
        raise connect_failure(spec, exc) from None
    finally:
        transport.close()
        sock.close()
    if key is None:
        raise connect_failure(spec, TimeoutError())
    return f"{key.get_name()} {key.get_base64()}"
