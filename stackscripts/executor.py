"""Run a plan's steps over an open transport session, emitting events. Never prints."""

from __future__ import annotations

import codecs
import time
from collections import deque
from collections.abc import Mapping

from .errors import ConnectionFailed
from .events import EventBus, RunFinished, RunStarted, StepFinished, StepOutput, StepStarted
from .inputs.materialize import masked
from .masking import SecretSet, StreamMasker
from .model import Plan, PlannedStep, RunResult, RunState, StepResult
from .render.bundle import bundle_files
from .transport.base import Session

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


def retry_pause(failed_attempts: int) -> float:
    """Seconds to wait before the next attempt: 1, 2, 4, ... up to 30 (no tight loop on a failing step)."""
    return float(min(2 ** (failed_attempts - 1), 30))


class Executor:
    """Runs steps in order on one server; stops at the first failure unless told to go on."""

    def __init__(self, session: Session, bus: EventBus, *, server: str, run_id: str,
                 secrets: SecretSet | list[str]) -> None:
        self.session = session
        self.bus = bus
        self.server = server
        self.run_id = run_id
        self.secrets = secrets

    def run(self, plan: Plan, envs: Mapping[int, Mapping[str, str]], *, start: int = 0,
            keep_going: bool = False, budget: float | None = None) -> RunResult:
        steps = [s for s in plan.steps if s.index >= start]
        self.bus.emit(RunStarted(self.run_id, self.server, plan.phase, tuple(s.name for s in steps), start))
        deadline = time.monotonic() + budget if budget else None
        results: list[StepResult] = []
        for step in steps:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                now = time.time()
                result = StepResult(step.index, step.name, -1, now, now, error="skipped: time budget exhausted")
                self.bus.emit(StepStarted(self.run_id, self.server, step.index, step.name, step.script.sha256,
                                          masked(step.inputs), step.phase.value, step.stage))
                self.bus.emit(StepFinished(self.run_id, self.server, result))
            else:
                result = self._run_step(step, envs[step.index], remaining)
            results.append(result)
            if not result.ok and not keep_going:
                break
        ok = len(results) == len(steps) and all(r.ok for r in results)
        run = RunResult(self.run_id, self.server, plan.phase, RunState.SUCCEEDED if ok else RunState.FAILED,
                        tuple(results))
        self.bus.emit(RunFinished(self.run_id, self.server, run))
        return run

    def _run_step(self, step: PlannedStep, env: Mapping[str, str], remaining: float | None) -> StepResult:
        """One step, retried as the template says; recorded as one step whose output holds every attempt."""
        timeout = step.timeout
        if remaining is not None:
            timeout = min(timeout, remaining) if timeout else remaining
        self.bus.emit(StepStarted(self.run_id, self.server, step.index, step.name, step.script.sha256,
                                  masked(step.inputs), step.phase.value, step.stage))
        result = self._attempt(step, env, timeout)
        for attempt in range(2, step.retries + 2):
            if result.ok:
                break
            pause = retry_pause(attempt - 1)
            note = f"stackscripts: attempt {attempt - 1} failed ({result.error or f'exit code {result.exit_code}'}); " \
                   f"retrying in {pause:g}s (attempt {attempt} of {step.retries + 1})\n"
            self.bus.emit(StepOutput(self.run_id, self.server, step.index, "stderr", note))
            time.sleep(pause)
            retry = self._attempt(step, env, timeout)
            result = StepResult(step.index, step.name, retry.exit_code, result.started, retry.ended,
                                result.stdout + retry.stdout, result.stderr + note + retry.stderr, retry.error)
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
            outcome = self.session.run_bundle(bundle_files(step, env), timeout=timeout, on_output=on_output)
            exit_code, error = outcome.exit_code, outcome.error
        except ConnectionFailed as exc:
            exit_code, error = -1, f"connection lost: {exc.message}"
        emit(masker.flush(), final=True)
        return StepResult(step.index, step.name, exit_code, started, time.time(),
                          collected["stdout"].text(), collected["stderr"].text(), error)
