"""Run a plan's steps over an open transport session, emitting events. Never prints."""

from __future__ import annotations

import codecs
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace

from .errors import ConnectionFailed
from .events import EventBus, RunFinished, RunStarted, StepFinished, StepOutput, StepStarted
from .inputs.materialize import masked
from .masking import SecretSet, StreamMasker, mask_text
from .model import Plan, PlannedStep, RunResult, RunState, StepResult
from .render.bundle import bundle_files
from .transport.base import ExecResult, Session

TAIL_CHARS = 1 << 20


class Tail:
    """The last TAIL_CHARS characters of a stream: a step result's output, however much the step printed
    (the audit store keeps every byte)."""

    def __init__(self, limit: int = TAIL_CHARS) -> None:
        self.limit = limit
        self.parts: deque[str] = deque()
        self.size = 0

    def add(self, text: str) -> None:
        if not text:
            return
        self.parts.append(text)
        self.size += len(text)
        while self.size - len(self.parts[0]) >= self.limit:
            self.size -= len(self.parts.popleft())

    def text(self) -> str:
        joined = "".join(self.parts)
        return joined[-self.limit:] if len(joined) > self.limit else joined


RECANCEL = 0.5  # seconds between repeated cancels of a step that was starting just as a stop came


class Cancel:
    """A request, from any thread, to stop a run: at once (the running step too) or once the running step ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requested = False
        self._now = False
        self._reason = "cancelled"
        self._stopped_now = threading.Event()
        self._watched: list[Session] = []
        self._repeating = False

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for (no further step starts)."""
        with self._lock:
            return self._requested

    @property
    def now(self) -> bool:
        """Whether the running step is to be stopped too."""
        with self._lock:
            return self._now

    @property
    def reason(self) -> str:
        """Why: the first stop's reason, or the first now-stop's once one came (a stopped step's error)."""
        with self._lock:
            return self._reason

    def stop(self, now: bool = True, reason: str = "cancelled") -> None:
        """Start no further step; with now, stop the running step too (its remote process group)."""
        with self._lock:
            if not self._requested or (now and not self._now):
                self._reason = reason
            self._requested = True
            if not now or self._now:
                return
            self._now = True
            self._stopped_now.set()
        self._cancel_watched()

    def sleep(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True (at once) when a now-stop is asked for meanwhile."""
        return self._stopped_now.wait(seconds)

    @contextmanager
    def watch(self, session: Session) -> Iterator[None]:
        """Around one step's run_bundle: a now-stop, even one asked for already, cancels the session."""
        with self._lock:
            self._watched.append(session)
            now = self._now
        try:
            if now:
                self._cancel_watched()
            yield
        finally:
            with self._lock:
                self._watched.remove(session)

    def _cancel_watched(self) -> None:
        """Cancel the watched sessions, and again while one is watched (a cancel just before its command starts is lost)."""
        with self._lock:
            sessions = list(self._watched)
            if self._repeating or not sessions:
                return
            self._repeating = True
        for session in sessions:
            session.cancel()
        threading.Thread(target=self._repeat, name="stackscripts-cancel", daemon=True).start()

    def _repeat(self) -> None:
        """Cancel the watched sessions again until none is left."""
        while True:
            time.sleep(RECANCEL)
            with self._lock:
                sessions = list(self._watched)
                if not sessions:
                    self._repeating = False
                    return
            for session in sessions:
                session.cancel()


def retry_pause(failed_attempts: int) -> float:
    """Seconds to wait before the next attempt: 1, 2, 4, ... up to 30 (no tight loop on a failing step)."""
    return float(min(2 ** (failed_attempts - 1), 30))


class Executor:
    """Runs steps in order on one server; stops at the first failure unless told to go on."""

    def __init__(self, session: Session, bus: EventBus, *, server: str, run_id: str,
                 secrets: SecretSet | list[str], cancel: Cancel | None = None) -> None:
        self.session = session
        self.bus = bus
        self.server = server
        self.run_id = run_id
        self.secrets = secrets
        self.cancel = cancel or Cancel()  # stop() from any thread: the run ends cancelled or interrupted

    def run(self, plan: Plan, envs: Mapping[int, Mapping[str, str]], *, start: int = 0,
            keep_going: bool = False, budget: float | None = None) -> RunResult:
        steps = [s for s in plan.steps if s.index >= start]
        self.bus.emit(RunStarted(self.run_id, self.server, plan.phase, tuple(s.name for s in steps), start))
        deadline = time.monotonic() + budget if budget else None
        results: list[StepResult] = []
        for step in steps:
            if self.cancel.requested:
                break
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                now = time.time()
                result = StepResult(step.index, step.name, -1, now, now, error="skipped: time budget exhausted")
                self.bus.emit(StepStarted(self.run_id, self.server, step.index, step.name, step.script.sha256,
                                          self._shown(step, envs[step.index]), step.phase.value, step.stage))
                self.bus.emit(StepFinished(self.run_id, self.server, result))
            else:
                result = self._run_step(step, envs[step.index], remaining)
            results.append(result)
            if not result.ok and not keep_going:
                break
        run = RunResult(self.run_id, self.server, plan.phase, self._state(results, len(steps)), tuple(results))
        self.bus.emit(RunFinished(self.run_id, self.server, run))
        return run

    def _shown(self, step: PlannedStep, env: Mapping[str, str]) -> dict[str, str]:
        """The step's inputs as recorded: references, and beside each env: one the (masked) value it received."""
        return masked(step.inputs, received=env, hide=lambda text: mask_text(text, self.secrets))

    def _state(self, results: list[StepResult], planned: int) -> RunState:
        """Succeeded if every step ran and passed; else cancelled (now-stop), interrupted (after-step stop) or failed."""
        if len(results) == planned and all(r.ok for r in results):
            return RunState.SUCCEEDED
        if self.cancel.now:
            return RunState.CANCELLED
        if self.cancel.requested and all(r.ok for r in results):
            return RunState.INTERRUPTED
        return RunState.FAILED

    def _run_step(self, step: PlannedStep, env: Mapping[str, str], remaining: float | None) -> StepResult:
        """One step, retried as the template says; recorded as one step whose output holds every attempt."""
        timeout = step.timeout
        if remaining is not None:
            timeout = min(timeout, remaining) if timeout else remaining
        self.bus.emit(StepStarted(self.run_id, self.server, step.index, step.name, step.script.sha256,
                                  self._shown(step, env), step.phase.value, step.stage))
        result = self._attempt(step, env, timeout)
        for attempt in range(2, step.retries + 2):
            if result.ok or self.cancel.now:
                break
            pause = retry_pause(attempt - 1)
            note = f"stackscripts: attempt {attempt - 1} failed ({result.error or f'exit code {result.exit_code}'}); " \
                   f"retrying in {pause:g}s (attempt {attempt} of {step.retries + 1})\n"
            self.bus.emit(StepOutput(self.run_id, self.server, step.index, "stderr", note))
            if self.cancel.sleep(pause):
                break
            retry = self._attempt(step, env, timeout)
            result = StepResult(step.index, step.name, retry.exit_code, result.started, retry.ended,
                                result.stdout + retry.stdout, result.stderr + note + retry.stderr, retry.error)
        if self.cancel.now and not result.ok:  # stopped by the cancel (or failing and then not retried)
            result = replace(result, error=self.cancel.reason)
        self.bus.emit(StepFinished(self.run_id, self.server, result))
        return result

    def _attempt(self, step: PlannedStep, env: Mapping[str, str], timeout: float | None) -> StepResult:
        masker = StreamMasker(self.secrets)
        decoders = {name: codecs.getincrementaldecoder("utf-8")("replace") for name in ("stdout", "stderr")}
        collected = {"stdout": Tail(), "stderr": Tail()}

        def emit(pieces: list[tuple[str, bytes]], final: bool = False) -> None:
            for stream, data in pieces:
                text = decoders[stream].decode(data)
                collected[stream].add(text)
                self.bus.emit(StepOutput(self.run_id, self.server, step.index, stream, text, data))
            if final:
                for stream, decoder in decoders.items():
                    collected[stream].add(decoder.decode(b"", final=True))  # only what the store has already

        def on_output(stream: str, data: bytes) -> None:
            emit(masker.feed(stream, data))

        started = time.time()
        try:  # the bundle stays in memory: input values never touch the controller's disk
            files = bundle_files(step, env)
            with self.cancel.watch(self.session):  # a now-stop that came since the step started: it never runs
                outcome = ExecResult(-1, error=self.cancel.reason) if self.cancel.now else \
                    self.session.run_bundle(files, timeout=timeout, on_output=on_output)
            exit_code, error = outcome.exit_code, outcome.error
        except ConnectionFailed as exc:
            exit_code, error = -1, f"connection lost: {exc.message}"
        emit(masker.flush(), final=True)
        return StepResult(step.index, step.name, exit_code, started, time.time(),
                          collected["stdout"].text(), collected["stderr"].text(), error)
