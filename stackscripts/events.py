"""Typed events of a run; the terminal, the audit store and reports subscribe to the same stream."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Union

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


@dataclass(frozen=True)
class StepOutput:
    run_id: str
    server: str
    index: int
    stream: str  # stdout | stderr
    text: str  # already masked


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


Event = Union[RunStarted, StepStarted, StepOutput, StepFinished, RunFinished]
Subscriber = Callable[[Event], None]


class EventBus:
    """Delivers each event to every subscriber in order; safe to emit from several threads."""

    def __init__(self, subscribers: list[Subscriber] | None = None) -> None:
        self._subscribers = list(subscribers or [])
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def emit(self, event: Event) -> None:
        with self._lock:
            for subscriber in self._subscribers:
                subscriber(event)
