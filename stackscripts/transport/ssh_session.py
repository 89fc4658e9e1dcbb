"""An open SSH connection as a Session: its steps go to one long-lived runner channel, probes get a channel each.

This module imports no SSH library: `transport/ssh.py` hands it a connected Fabric connection (anything with
`transport` and `close`, the transport with paramiko Transport's methods) and the exceptions its channels raise.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .base import ExecResult, HostSpec, OutputCallback, Session
from .heartbeat import Heartbeat, Keepalive
from .pump import Command, Outcome, Running, pump
from .remote import KILL_AFTER, BundleFiles, command_with_timeout, format_seconds, read_bundle_dir
from .runner import SHELL, Runner, runner_command

CLIENT_GRACE = 10.0  # after timeout + KILL_AFTER the client stops waiting for the server
CONNECTION_LOST = "connection lost"


class SSHSession(Session):
    """An open connection: its steps go to one long-lived runner channel; each probe opens a channel."""

    def __init__(self, host: HostSpec, connection: Any, keepalive: Keepalive,
                 errors: tuple[type[BaseException], ...] = (OSError, EOFError), *, shell: str = SHELL) -> None:
        self.host = host
        self.connection = connection
        self.transport: Any = connection.transport
        self.errors = errors  # what a channel raises when the connection cannot go on
        key = self.transport.get_remote_server_key()
        self.host_key = f"{key.get_name()} {key.get_base64()}"
        # OpenSSH answers any global request that wants a reply (with a failure for unknown ones)
        self.heartbeat = Heartbeat(lambda: self.transport.global_request("keepalive@openssh.com", wait=True),
                                   self.transport.close, keepalive).start()
        self.running = Running()  # what cancel() stops
        self.shell = shell  # the runner's shell
        self.runner: Runner | None = None  # started with the first step, again if it ended

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
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive")
        with self.running.track() as tracked:
            files = read_bundle_dir(bundle) if isinstance(bundle, (str, Path)) else bundle
            started = time.monotonic()
            runner = self._runner()
            if isinstance(runner, ExecResult):
                return runner
            outcome = runner.run(files, timeout, on_output, tracked, _deadline(started, timeout))
            return _result(outcome, timeout, time.monotonic() - started)

    def run_command(self, command: str, *, timeout: float | None = None) -> ExecResult:
        return self._exec(command_with_timeout(command, timeout), None, timeout, None)

    def cancel(self) -> None:
        self.running.cancel()

    def __enter__(self) -> SSHSession:
        return self

    def close(self) -> None:
        self.heartbeat.stop()
        if self.runner is not None:
            self.runner.close()
        self.connection.close()

    def _channel(self) -> Any:
        """A new session channel, or the ExecResult saying why there is none."""
        if not self.connected:
            return ExecResult(-1, error=CONNECTION_LOST)
        try:
            return self.transport.open_session(timeout=self.host.connect_timeout)
        except self.errors as exc:
            if not self.connected:
                return ExecResult(-1, error=CONNECTION_LOST)
            return ExecResult(-1, error=f"cannot open an SSH channel: {exc}")

    def _runner(self) -> Runner | ExecResult:
        """The connection's runner, started (again, if the last one ended) on a channel of its own."""
        if self.runner is not None:
            if self.runner.usable and self.connected:
                return self.runner
            self.runner.close()
            self.runner = None
        channel = self._channel()
        if isinstance(channel, ExecResult):
            return channel
        try:
            channel.exec_command(runner_command(self.shell))
        except self.errors as exc:
            channel.close()
            return ExecResult(-1, error=CONNECTION_LOST if not self.connected else f"cannot start the step runner: {exc}")
        self.runner = Runner(channel, lambda: self.connected)
        return self.runner

    def _exec(self, command: str, stdin: bytes | None, timeout: float | None, on_output: OutputCallback | None,
              tracked: Command | None = None) -> ExecResult:
        """One exec channel: send stdin (None: close it at once), stream output, map the ending."""
        if tracked is None:
            with self.running.track() as command_tracked:
                return self._exec(command, stdin, timeout, on_output, command_tracked)
        started = time.monotonic()
        channel = self._channel()
        if isinstance(channel, ExecResult):
            return channel
        try:
            if not tracked.opened(channel.close):
                return ExecResult(143)  # cancelled before it started: nothing ran (143: as a stopped step)
            channel.exec_command(command)
            if stdin is None:
                channel.shutdown_write()
            outcome = pump(channel, stdin=stdin or b"", deadline=_deadline(started, timeout), on_output=on_output,
                           alive=lambda: self.connected, on_sent=tracked.stdin_sent)
        except self.errors:
            outcome = Outcome(None, b"", b"", lost=not self.connected)
        finally:
            channel.close()
        return _result(outcome, timeout, time.monotonic() - started)


def _deadline(started: float, timeout: float | None) -> float | None:
    """When the client stops waiting: the timeout, the grace `timeout` gives the step, and some more."""
    return None if timeout is None else started + timeout + KILL_AFTER + CLIENT_GRACE


def _result(outcome: Outcome, timeout: float | None, elapsed: float) -> ExecResult:
    out, err = outcome.stdout, outcome.stderr
    if outcome.lost:
        return ExecResult(-1, out, err, error=CONNECTION_LOST)
    timed_out = f"timed out after {format_seconds(timeout)}s" if timeout is not None else None
    if outcome.gave_up:
        return ExecResult(124, out, err, error=timed_out)
    if outcome.exit_code is None:
        return ExecResult(-1, out, err, error=outcome.error or "the remote command ended without an exit status")
    # `timeout` exits 124 (SIGTERM worked) or 137 (SIGKILL needed) when it stopped the step.
    if timeout is not None and outcome.exit_code in (124, 137) and elapsed >= timeout:
        return ExecResult(outcome.exit_code, out, err, error=timed_out)
    return ExecResult(outcome.exit_code, out, err)
