"""Drive one exec channel (a probe): send its stdin, stream stdout/stderr as they arrive, collect the exit
code; and keep a session's running commands (probes and steps) so that another thread can stop them.

Works on any object with paramiko Channel's methods; this module imports no SSH library.
"""

from __future__ import annotations

import select
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from .base import OutputCallback

CHUNK = 65536
TAIL = 1 << 20  # with an on_output callback, the result keeps only the last MiB of each stream
POLL = 1.0  # seconds between liveness checks while the channel is quiet
LINGER = 2.0  # after the exit status, how long to wait for output still held open by leftovers
LINGER_MAX = 30.0  # ... even while those leftovers keep writing


def wait_readable(source: object, seconds: float) -> None:
    """Until `source` (anything with a fileno(): a paramiko channel) is readable, or `seconds` pass. poll(), not
    select(): select() cannot watch a descriptor above 1023, which a 500-host fleet passes."""
    poller = select.poll()
    poller.register(source, select.POLLIN)  # type: ignore[arg-type]
    poller.poll(seconds * 1000)


class ChannelLike(Protocol):
    closed: bool
    eof_received: bool
    status_event: threading.Event

    def fileno(self) -> int: ...
    def recv(self, nbytes: int) -> bytes: ...
    def recv_stderr(self, nbytes: int) -> bytes: ...
    def recv_ready(self) -> bool: ...
    def recv_stderr_ready(self) -> bool: ...
    def exit_status_ready(self) -> bool: ...
    def recv_exit_status(self) -> int: ...
    def sendall(self, data: bytes) -> None: ...
    def settimeout(self, timeout: float | None) -> None: ...
    def shutdown_write(self) -> None: ...
    def close(self) -> None: ...


@dataclass
class Outcome:
    """How a channel ended: exit_code is None when no exit status arrived."""

    exit_code: int | None
    stdout: bytes
    stderr: bytes
    lost: bool = False  # the connection went away
    gave_up: bool = False  # the deadline passed and the channel was closed
    error: str | None = None  # why it ended otherwise (the step runner died)


def pump(
    channel: Any,
    *,
    stdin: bytes = b"",
    deadline: float | None = None,
    on_output: OutputCallback | None = None,
    alive: Callable[[], bool] = lambda: True,
    on_sent: Callable[[], None] | None = None,
) -> Outcome:
    """Send stdin (without closing it), then read until the channel closes, dies or times out.

    With on_output, every byte goes to the callback and the Outcome holds only a tail (TAIL). on_sent is
    called once stdin is sent (or could not be), before the reading starts: from then on, closing stdin is safe.
    """
    chan: ChannelLike = channel
    out, err = bytearray(), bytearray()
    try:
        if stdin:
            send_bounded(chan, stdin, deadline)
    except TimeoutError:
        chan.close()
        return Outcome(None, b"", b"", gave_up=True)
    except (OSError, EOFError):  # the command may have ended without reading it all
        if not alive():
            return Outcome(None, b"", b"", lost=True)
    if on_sent is not None:
        on_sent()
    linger_until: float | None = None
    exited_at = 0.0
    try:
        while True:
            got = _drain(chan, out, err, on_output)
            if chan.closed or (chan.eof_received and chan.exit_status_ready()):
                _drain(chan, out, err, on_output)
                break
            if not alive():
                return Outcome(None, bytes(out), bytes(err), lost=True)
            now = time.monotonic()
            if chan.exit_status_ready():  # exited, but something it started still holds the output
                if linger_until is None:
                    exited_at = now
                if got or linger_until is None:
                    linger_until = min(now + LINGER, exited_at + LINGER_MAX)
                elif now >= linger_until:
                    break
            if deadline is not None and now >= deadline:
                chan.close()
                return Outcome(None, bytes(out), bytes(err), gave_up=True)
            if not got:
                wait = min(t - now for t in (now + POLL, deadline, linger_until) if t is not None)
                if chan.eof_received:  # no more output: the fd stays readable, wait for the status
                    chan.status_event.wait(max(wait, 0.0))
                else:
                    wait_readable(chan, max(wait, 0.0))
    except (OSError, EOFError):
        return Outcome(None, bytes(out), bytes(err), lost=True)
    # paramiko calls a closed channel's status "ready" and reports -1 when none arrived
    code = chan.recv_exit_status() if chan.exit_status_ready() else -1
    if code < 0:
        return Outcome(None, bytes(out), bytes(err), lost=_died(alive))
    return Outcome(code, bytes(out), bytes(err))


def _died(alive: Callable[[], bool], grace: float = 0.5) -> bool:
    """Whether the connection is gone; a dying transport closes its channels just before it says so."""
    end = time.monotonic() + grace
    while alive():
        if time.monotonic() >= end:
            return False
        time.sleep(0.01)
    return True


def send_bounded(chan: ChannelLike, data: bytes, deadline: float | None) -> None:
    """sendall, bounded by the deadline (the remote may stop reading)."""
    if deadline is not None:
        chan.settimeout(max(deadline - time.monotonic(), 0.001))
    try:
        chan.sendall(data)
    finally:
        chan.settimeout(None)


def _drain(chan: ChannelLike, out: bytearray, err: bytearray, on_output: OutputCallback | None) -> bool:
    """Read whatever is buffered on both streams; True if anything came."""
    got = False
    for ready, read, sink, name in (
        (chan.recv_ready, chan.recv, out, "stdout"),
        (chan.recv_stderr_ready, chan.recv_stderr, err, "stderr"),
    ):
        while ready():
            data = read(CHUNK)
            if not data:
                break
            got = True
            sink += data
            if on_output is not None:
                on_output(name, data)  # the callback has it all; memory stays bounded whatever the step prints
                if len(sink) > 2 * TAIL:
                    del sink[:-TAIL]
    return got


class Command:
    """One command a session runs: how to stop it once started, whether its stdin is sent, whether a cancel came."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._stop: Callable[[], None] | None = None
        self.sent = False
        self.cancelled = False

    def opened(self, stop: Callable[[], None]) -> bool:
        """Record how to stop the command; False when a cancel came first (the command must not start)."""
        with self._lock:
            self._stop = stop
            return not self.cancelled

    def stdin_sent(self) -> None:
        """Stdin is sent: a cancel may end it from now on, and one that came meanwhile does it now."""
        with self._lock:
            self.sent = True
            cancelled = self.cancelled
        if cancelled:
            self.stop()

    def stop(self) -> None:
        """Stop it: a probe's channel is closed, a step's runner is told (callers wait for `sent`: writing while
        its stdin is being sent would interleave)."""
        if self._stop is None:
            return
        try:
            self._stop()
        except (OSError, EOFError):  # the connection is going: the command ends with it
            pass


class Running:
    """The commands a session runs now, so that any thread can cancel them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._commands: set[Command] = set()

    @contextmanager
    def track(self) -> Iterator[Command]:
        """A command, cancellable from entry (before it starts) to exit."""
        command = Command(self._lock)
        with self._lock:
            self._commands.add(command)
        try:
            yield command
        finally:
            with self._lock:
                self._commands.discard(command)

    def cancel(self) -> None:
        """Stop every command running now; one whose stdin is still being sent stops once it is sent."""
        with self._lock:
            for command in self._commands:
                command.cancelled = True
            ready = [command for command in self._commands if command.sent]
        for command in ready:
            command.stop()
