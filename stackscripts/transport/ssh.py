"""The SSH transport over Fabric: connecting, authenticating, checking the host key; the open session is
`ssh_session.SSHSession` (one runner channel for all of a server's steps).

The only module that imports fabric or paramiko (it is loaded lazily through the registry).
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import os
import socket
from typing import TYPE_CHECKING, Any

import paramiko
from fabric import Config, Connection
from paramiko.config import SSHConfig

from ..errors import ConnectionFailed, HostKeyMismatch
from .base import HostSpec, Transport
from .heartbeat import Keepalive
from .keys import is_reference, private_key_text
from .ssh_connect import address, connect_failure, fingerprint, tune_socket
from .ssh_session import CONNECTION_LOST, SSHSession

__all__ = ["CONNECTION_LOST", "SSHSession", "SSHTransport", "scan_host_key"]

if TYPE_CHECKING:
    from ..inputs.creds import Credentials

# paramiko logs a dropped connection at ERROR; without this, logging's last-resort handler
# would print it on the user's terminal. Applications that configure logging still see it.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

CHANNEL_ERRORS = (paramiko.SSHException, OSError, EOFError)  # what a channel raises when it cannot go on


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
        return SSHSession(host, _connect(host, self.keepalive, self.credentials), self.keepalive, CHANNEL_ERRORS)


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
