"""Typed events of a run; the terminal, the audit store and reports subscribe to the same stream."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .model import Phase, RunResult, StepResult


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    server: str
    phase: Phase
    steps: tuple[str, ...]
    first_index: int = 0


@dataclass(frozen=True)
class StepStarted:
    run_id: str
    server: str
    index: int
    name: str
    sha256: str
    inputs: dict[str, str]  # masked
    phase: str = ""
    stage: str | None = None


@dataclass(frozen=True)
class StepOutput:
    run_id: str
    server: str
    index: int
    stream: str  # stdout | stderr
    text: str  # already masked, decoded for display (invalid UTF-8 replaced)
    data: bytes = b""  # the same output as the exact bytes the step wrote (masked): what the store keeps

    @property
    def raw(self) -> bytes:
        return self.data or self.text.encode()


@dataclass(frozen=True)
class StepFinished:
    run_id: str
    server: str
    result: StepResult


@dataclass(frozen=True)
class RunFinished:
    run_id: str
    server: str
    result: RunResult


Event = RunStarted | StepStarted | StepOutput | StepFinished | RunFinished
Subscriber = Callable[[Event], None]


class EventBus:
    """Delivers each event to every subscriber in order. Servers emit from their own threads and
    subscribers guard their own state (the store has its lock), so one server's slow subscriber
    never holds up another server's steps."""

    def __init__(self, subscribers: list[Subscriber] | None = None) -> None:
        self._subscribers = tuple(subscribers or ())

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers = (*self._subscribers, subscriber)

    def emit(self, event: Event) -> None:
        for subscriber in self._subscribers:
            subscriber(event)
