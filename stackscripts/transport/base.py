"""The transport contract: open a session to a host, run step bundles on it."""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..registry import Registry

# on_output(stream, data): stream is "stdout" or "stderr"; data is a raw chunk as it arrives.
OutputCallback = Callable[[str, bytes], None]


@dataclass(frozen=True)
class HostSpec:
    """Where and how to reach a server."""

    name: str
    host: str
    port: int = 22
    user: str = "root"
    key_path: str | None = None
    host_key: str | None = None  # "ssh-ed25519 AAAA..." recorded on first use; None = trust on first use
    connect_timeout: float = 15.0


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    stdout: bytes = b""
    stderr: bytes = b""
    error: str | None = None  # "connection lost", "timed out after 30s"


class Session(abc.ABC):
    """An open connection to one host, reused for all its steps. Not thread-safe, except `cancel`."""

    host_key: str  # the key the host presented, "type base64"

    @abc.abstractmethod
    def run_bundle(
        self,
        bundle: Mapping[str, tuple[int, bytes]] | Path,
        *,
        timeout: float | None = None,
        on_output: OutputCallback | None = None,
    ) -> ExecResult:
        """Upload a bundle (relative path -> (mode, bytes), or a folder written by `templates render -o`)
        into a fresh 0700 run directory, run its run.sh, and remove the directory."""

    @abc.abstractmethod
    def run_command(self, command: str, *, timeout: float | None = None) -> ExecResult:
        """Run a fixed command (no user values in it); for probes like `true`."""

    def cancel(self) -> None:
        """Stop the command running now, from any thread: its remote process group is stopped; the call running it returns."""
        self.close()

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Transport(abc.ABC):
    name: str = ""

    @abc.abstractmethod
    def open(self, host: HostSpec) -> Session:
        """Connect; raise ConnectionFailed or HostKeyMismatch."""


transports: Registry[Transport] = Registry("transport")
transports.register("ssh", "stackscripts.transport.ssh:SSHTransport")
