"""A simulated transport for the queue's scale benchmark (benchmarks/queue_sim.py): steps that sleep and print, no SSH.

Importing this module registers it as transport "sim" (`Controller(dsn, transport="sim")`). A session never
connects: `run_bundle` prints a few lines through `on_output`, sleeps `STACKSCRIPTS_SIM_STEP_SECONDS` (default 0.2;
a cancel ends the sleep at once, exit 143 as a stopped step) and exits 0; `run_command` exits 0.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

from stackscripts.errors import BadInput
from stackscripts.transport.base import ExecResult, HostSpec, OutputCallback, Session, Transport, transports

STEP_ENV = "STACKSCRIPTS_SIM_STEP_SECONDS"
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFNpbXVsYXRlZCBob3N0IGtleSBmb3IgYmVuY2htYXJrcw=="


def step_seconds() -> float:
    """STACKSCRIPTS_SIM_STEP_SECONDS, else 0.2: how long each simulated step sleeps."""
    raw = os.environ.get(STEP_ENV, "").strip() or "0.2"
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise BadInput(f"{STEP_ENV}={raw!r} is not a number of seconds from 0 to 3600", hint=f"e.g. {STEP_ENV}=0.2")
    return seconds


class SimSession(Session):
    """One simulated host: every step prints, sleeps and succeeds."""

    host_key = HOST_KEY

    def __init__(self, host: HostSpec, seconds: float) -> None:
        self.host = host
        self.seconds = seconds
        self._stop = threading.Event()

    def run_bundle(self, bundle: Mapping[str, tuple[int, bytes]] | Path, *, timeout: float | None = None,
                   on_output: OutputCallback | None = None) -> ExecResult:
        """Print three lines, sleep the step's time (less if cancelled or timed out), print one more line."""
        self._stop.clear()
        size = sum(len(data) for _, data in bundle.values()) if isinstance(bundle, Mapping) else 0
        emit = on_output or (lambda stream, data: None)
        emit("stdout", f"sim: {self.host.name}: step starting ({size} bytes of bundle)\n".encode())
        emit("stdout", b"sim: working\n")
        emit("stderr", b"sim: a line on stderr\n")
        limit = self.seconds if timeout is None else min(self.seconds, timeout)
        if self._stop.wait(limit):
            return ExecResult(143, error="cancelled")
        if timeout is not None and self.seconds > timeout:
            return ExecResult(-1, error=f"timed out after {timeout:g}s")
        emit("stdout", b"sim: step done\n")
        return ExecResult(0)

    def run_command(self, command: str, *, timeout: float | None = None) -> ExecResult:
        return ExecResult(0)

    def cancel(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()


class SimTransport(Transport):
    """Sessions to simulated hosts; nothing is connected to."""

    name = "sim"

    def __init__(self) -> None:
        self.seconds = step_seconds()

    def open(self, host: HostSpec) -> Session:
        return SimSession(host, self.seconds)


transports.register("sim", SimTransport)

__all__ = ["HOST_KEY", "STEP_ENV", "SimSession", "SimTransport", "step_seconds"]
