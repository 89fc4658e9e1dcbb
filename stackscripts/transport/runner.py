"""The controller's side of a connection's step runner (`runner.sh`): one channel, every step framed on it.

A step goes to the runner's stdin as a line `step SIZE SECONDS NAME MARK` and SIZE bytes of tar (NAME names
the run directory); the runner answers on both streams with `\\036MARK<` before anything of the step and
`\\036MARK>RC\\n` once the step ended and its directory is gone; the controller confirms with `done`, and
may send `cancel` while the step runs. MARK is 128 random bits picked here for each step.

Why nothing a step prints can forge an outcome: the step writes to the same stdout and stderr as the runner,
so the controller takes for the step's end only a marker holding MARK, and MARK is not in the step's reach
by any ordinary means: it is sent on the runner's stdin (the step gets /dev/null, and the runner's copy of
that stdin is closed for it), kept in the runner's unexported shell variables, written only to the channel
(which the step can write to but not read back), and never put in an environment, a command line or a file.
A marker is one write of under PIPE_BUF bytes, so output of a process the step left behind cannot split one;
a marker seen in an earlier step cannot end a later one (each step has its own MARK); bytes on a stream
before its start marker (a daemon's chatter between steps) are dropped. This guards the outcome against
output (logs, files a step prints, a daemon); a step that sets out to subvert the runner runs as the same
user and could read its memory or kill it, as it could any process of that user.
This module imports no SSH library: it drives any object with paramiko Channel's methods.
"""

from __future__ import annotations

import secrets
import shlex
import threading
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

from .base import OutputCallback
from .pump import CHUNK, POLL, TAIL, ChannelLike, Command, Outcome, send_bounded, wait_readable
from .remote import RUN_DIR_PREFIX, BundleFiles, build_bundle_tar, format_seconds

SCRIPT = resources.files(__package__).joinpath("runner.sh").read_text("utf-8")
SHELL = "/bin/sh"  # the runner's shell, whatever the login shell is (tests also run it under bash)
RS = b"\x1e"  # every marker starts with this byte: a chunk that does not end in it is passed on whole
EXIT_GRACE = 1.0  # seconds to wait for output after the runner's exit status, if it died under a step
PRELUDE = 4096  # bytes kept of what came before a start marker, to explain a runner that failed to start


def runner_command(shell: str = SHELL) -> str:
    """The channel's command: the runner's fixed text, run by `shell` (no user value in it)."""
    return f"exec {shell} -c {shlex.quote(SCRIPT)}"


class StepStream:
    """One stream of one step: drops what precedes the start marker, passes the step's bytes, finds the end."""

    def __init__(self, mark: str) -> None:
        self.start = RS + mark.encode() + b"<"
        self.end = RS + mark.encode() + b">"
        self.started = False
        self.code: int | None = None  # set once the end marker and its exit code arrived
        self.held = b""  # a possible beginning of a marker, or the end marker's unfinished code
        self.prelude = bytearray()

    @property
    def ended(self) -> bool:
        return self.code is not None

    def feed(self, data: bytes) -> bytes:
        """The step's bytes in `data`, held back only where a marker might begin."""
        buf, self.held = self.held + data, b""
        if self.code is not None:
            return b""
        if not self.started:
            at = buf.find(self.start)
            if at < 0:
                keep = _partial(buf, self.start)
                self._dropped(buf[:len(buf) - keep])
                self.held = buf[len(buf) - keep:]
                return b""
            self._dropped(buf[:at])
            self.started, buf = True, buf[at + len(self.start):]
        at = buf.find(self.end)
        if at < 0:
            keep = _partial(buf, self.end)
            self.held = buf[len(buf) - keep:]
            return buf[:len(buf) - keep]
        self._code(buf[at:])
        return buf[:at]

    def _code(self, tail: bytes) -> None:
        line, newline, _ = tail[len(self.end):].partition(b"\n")
        if not newline:
            self.held = tail
        elif line.isdigit():
            self.code = int(line)
        else:
            self.code = -1

    def _dropped(self, data: bytes) -> None:
        self.prelude += data
        del self.prelude[:-PRELUDE]


def _partial(buf: bytes, marker: bytes) -> int:
    """How many bytes at the end of buf could be the beginning of marker (RS occurs only at its start)."""
    at = buf.rfind(RS, max(0, len(buf) - len(marker) + 1))
    return len(buf) - at if at >= 0 and marker.startswith(buf[at:]) else 0


class Runner:
    """The runner on one channel: sends steps, reads their output and outcome, relays a cancel."""

    def __init__(self, channel: Any, alive: Callable[[], bool]) -> None:
        self.channel: ChannelLike = channel
        self.alive = alive
        self._lock = threading.Lock()  # one writer on the runner's stdin at a time
        self._live: str | None = None  # the mark of the step a cancel may stop now

    @property
    def usable(self) -> bool:
        """Whether the runner is still there to take a step."""
        chan = self.channel
        return not (chan.closed or chan.eof_received or chan.exit_status_ready())

    def close(self) -> None:
        """End the channel: the runner sees its stdin end, stops a running step and exits."""
        self.channel.close()

    def run(self, files: BundleFiles, timeout: float | None, on_output: OutputCallback | None, command: Command,
            deadline: float | None) -> Outcome:
        """Send one step and read it to its end; its run directory is /tmp/stackscripts.<random name>."""
        name, mark = secrets.token_hex(8), secrets.token_hex(16)  # neither is a user value
        payload = build_bundle_tar(files, root=RUN_DIR_PREFIX.rsplit("/", 1)[1] + name)
        seconds = "0" if timeout is None else format_seconds(max(timeout, 0.001))  # 0: no limit
        if not command.opened(lambda: self._cancel(mark)):
            return Outcome(143, b"", b"")  # cancelled before it started: nothing ran (as a stopped step)
        frame = f"step {len(payload)} {seconds} {name} {mark}\n".encode() + payload
        streams = {"stdout": StepStream(mark), "stderr": StepStream(mark)}
        sinks = {"stdout": bytearray(), "stderr": bytearray()}
        try:
            with self._lock:
                self._live = mark
                send_bounded(self.channel, frame, deadline)
        except TimeoutError:
            self.close()
            return Outcome(None, b"", b"", gave_up=True)
        except (OSError, EOFError):
            return self._ended(streams, sinks)
        finally:
            command.stdin_sent()
        try:
            outcome = self._read(streams, sinks, on_output, deadline)
        except (OSError, EOFError):
            outcome = Outcome(None, bytes(sinks["stdout"]), bytes(sinks["stderr"]), lost=True)
        finally:
            self._finish(done=all(s.ended for s in streams.values()))
        return outcome

    def _read(self, streams: dict[str, StepStream], sinks: dict[str, bytearray], on_output: OutputCallback | None,
              deadline: float | None) -> Outcome:
        chan = self.channel
        exited: float | None = None  # when the runner's exit status came (its output may still be on the way)
        while True:
            got = self._drain(streams, sinks, on_output)
            if all(s.ended for s in streams.values()):
                return Outcome(streams["stdout"].code, bytes(sinks["stdout"]), bytes(sinks["stderr"]))
            now = time.monotonic()
            if chan.exit_status_ready() and exited is None:
                exited = now
            if chan.closed or chan.eof_received or (exited is not None and now - exited > EXIT_GRACE):
                if self._drain(streams, sinks, on_output):
                    continue
                return self._ended(streams, sinks)
            if not self.alive():
                return Outcome(None, bytes(sinks["stdout"]), bytes(sinks["stderr"]), lost=True)
            if deadline is not None and now >= deadline:
                self.close()
                return Outcome(None, bytes(sinks["stdout"]), bytes(sinks["stderr"]), gave_up=True)
            if not got:
                wait = min(t - now for t in (now + POLL, deadline, exited and exited + EXIT_GRACE) if t)
                wait_readable(chan, max(wait, 0.0))

    def _drain(self, streams: dict[str, StepStream], sinks: dict[str, bytearray],
               on_output: OutputCallback | None) -> bool:
        """Read whatever is buffered on both streams; True if anything came."""
        chan = self.channel
        got = False
        for name, ready, read in (("stdout", chan.recv_ready, chan.recv), ("stderr", chan.recv_stderr_ready,
                                                                            chan.recv_stderr)):
            while ready():
                data = read(CHUNK)
                if not data:
                    break
                got = True
                piece = streams[name].feed(data)
                if not piece:
                    continue
                sink = sinks[name]
                sink += piece
                if on_output is not None:
                    on_output(name, piece)
                    if len(sink) > 2 * TAIL:
                        del sink[:-TAIL]
        return got

    def _ended(self, streams: dict[str, StepStream], sinks: dict[str, bytearray]) -> Outcome:
        """The runner's channel ended before the step's outcome: lost with the connection, or the runner died."""
        out, err = bytes(sinks["stdout"]), bytes(sinks["stderr"])
        if not _still_up(self.alive):
            return Outcome(None, out, err, lost=True)
        said = bytes(streams["stderr"].prelude).decode(errors="replace").strip()
        code = self.channel.recv_exit_status() if self.channel.exit_status_ready() else -1
        error = "the step runner on the server ended unexpectedly" + (f" (exit code {code})" if code >= 0 else "")
        return Outcome(None, out, err, error=error + (f": {said[-300:]}" if said else ""))

    def _cancel(self, mark: str) -> None:
        """Ask the runner to stop the step `mark`, if it is still the running one."""
        with self._lock:
            if self._live == mark:
                self.channel.sendall(b"cancel\n")

    def _finish(self, *, done: bool) -> None:
        """No cancel for this step from now on. Its outcome arrived: tell the runner (its watchdog ends); it did not:
        end the runner (its watchdog would take the next step's frame for lines), the next step starts another."""
        with self._lock:
            self._live = None
            try:
                if done:
                    self.channel.sendall(b"done\n")
                else:
                    self.channel.close()
            except (OSError, EOFError):  # the connection is going: the next step notices
                pass


def _still_up(alive: Callable[[], bool], grace: float = 0.5) -> bool:
    """Whether the connection is still up; a dying transport closes its channels just before it says so."""
    end = time.monotonic() + grace
    while alive():
        if time.monotonic() >= end:
            return True
        time.sleep(0.01)
    return False
