"""Connection helpers for the SSH transport that need no SSH library: socket tuning, messages."""

from __future__ import annotations

import base64
import hashlib
import socket
from typing import Protocol

from ..errors import ConnectionFailed
from .base import HostSpec
from .heartbeat import Keepalive


class PublicKey(Protocol):
    def asbytes(self) -> bytes: ...


def fingerprint(key: PublicKey) -> str:
    """OpenSSH's SHA256 fingerprint: "SHA256:" + unpadded base64 of the key blob's digest."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def tune_socket(sock: socket.socket, keepalive: Keepalive) -> None:
    """Send small packets at once and let the kernel notice a peer that vanished.

    TCP_USER_TIMEOUT bounds how long sent data may stay unacknowledged (a silent network):
    without it the kernel retransmits for about 15 minutes before it gives up.
    """
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # else ~40 ms per command
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    if keepalive.interval <= 0:
        return
    idle = max(1, int(keepalive.interval))
    options = (("TCP_KEEPIDLE", idle), ("TCP_KEEPINTVL", idle), ("TCP_KEEPCNT", keepalive.count),
               ("TCP_USER_TIMEOUT", int(keepalive.limit * 1000)))
    for option, value in options:
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


def address(host: HostSpec) -> str:
    return f"[{host.host}]:{host.port}" if ":" in host.host else f"{host.host}:{host.port}"


def connect_failure(host: HostSpec, exc: BaseException) -> ConnectionFailed:
    """A one-paragraph ConnectionFailed for a socket error or a failed SSH handshake."""
    where = f"cannot connect to {address(host)}"
    up = "Check that the host is up and sshd listens on that port."
    if isinstance(exc, ConnectionRefusedError):
        return ConnectionFailed(f"{where}: connection refused.", server=host.name, hint=up)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return ConnectionFailed(
            f"{where}: no answer within {host.connect_timeout:g}s.",
            server=host.name,
            hint="Check the address, the port and any firewall in between.",
        )
    if isinstance(exc, socket.gaierror):
        return ConnectionFailed(
            f"{where}: the host name does not resolve ({exc.strerror}).",
            server=host.name,
            hint="Check the server's address.",
        )
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, EOFError)):
        return ConnectionFailed(
            f"{where}: the server closed the connection during the SSH handshake.", server=host.name, hint=up
        )
    if isinstance(exc, OSError):
        return ConnectionFailed(f"{where}: {exc.strerror or exc}.", server=host.name, hint=up)
    detail = str(exc).strip().rstrip(".") or type(exc).__name__
    return ConnectionFailed(
        f"{where}: the SSH handshake failed ({detail}).",
        server=host.name,
        hint="Check that an SSH server listens on that port.",
    )
