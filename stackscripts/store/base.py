"""The store interface every backend implements (SQLite now, PostgreSQL later)."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import RunState
from ..registry import Registry


@dataclass(frozen=True)
class ServerRecord:
    """A server as the store knows it: address, key, state, template, masked inputs, cloud."""

    name: str
    host: str | None = None
    port: int = 22
    user: str = "root"
    key_path: str | None = None
    host_key: str | None = None
    state: str = "pending"
    template: str | None = None  # template path
    template_sha256: str | None = None
    inputs: Mapping[str, str] = field(default_factory=dict)  # masked, name -> display value
    cloud: str | None = None
    node_id: str | None = None
    deployment: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # provider data (volumes, key pair...)
    created: float = 0.0
    updated: float = 0.0


@dataclass(frozen=True)
class StepRecord:
    """One recorded step: timing, exit code, masked inputs and its output (empty in run listings)."""

    run_id: str
    index: int
    name: str
    phase: str
    sha256: str = ""
    inputs: Mapping[str, str] = field(default_factory=dict)  # masked
    started: float | None = None
    ended: float | None = None
    exit_code: int | None = None
    error: str | None = None
    stdout: str = ""  # each view decoded for display; invalid UTF-8 shows as U+FFFD
    stderr: str = ""
    output: str = ""  # interleaved
    chunks: tuple[tuple[str, bytes], ...] = ()  # (stream, exact bytes) in arrival order, as the step wrote them

    def raw(self, stream: str | None = None) -> bytes:
        """The exact bytes of one stream, or of both interleaved (stream None)."""
        return b"".join(data for name, data in self.chunks if stream is None or name == stream)


@dataclass(frozen=True)
class RunRecord:
    """One recorded run with its steps."""

    id: str
    server: str
    phase: str
    state: RunState
    who: str = ""
    template: str | None = None
    started: float = 0.0
    ended: float | None = None
    inputs: Mapping[str, str] = field(default_factory=dict)  # masked
    steps: tuple[StepRecord, ...] = ()
    resumed_from: str | None = None
    error: str | None = None  # why it failed outside any step (e.g. the connection failed before the first)

    def __post_init__(self) -> None:
        if not isinstance(self.state, RunState):  # a backend or a caller that gives the stored text
            object.__setattr__(self, "state", RunState(self.state))


class Store(abc.ABC):
    """Durable record of servers, runs and steps. Masked values only ever reach it."""

    # servers
    @abc.abstractmethod
    def put_server(self, server: ServerRecord) -> None:
        """Insert or replace a server record."""

    @abc.abstractmethod
    def get_server(self, name: str) -> ServerRecord:
        """Raise NotFound for an unknown server."""

    @abc.abstractmethod
    def list_servers(self) -> list[ServerRecord]: ...

    @abc.abstractmethod
    def update_server(self, name: str, **changes: Any) -> ServerRecord: ...

    @abc.abstractmethod
    def delete_server(self, name: str) -> None: ...

    # runs and steps
    @abc.abstractmethod
    def start_run(self, server: str, phase: str, *, who: str, template: str | None,
                  inputs: Mapping[str, str], resumed_from: str | None = None) -> str:
        """Create a running run and take the server's lock; raise Conflict if it is held."""

    @abc.abstractmethod
    def finish_run(self, run_id: str, state: RunState, error: str | None = None) -> None:
        """Set the final state (and why it failed outside any step) and release the server's lock."""

    @abc.abstractmethod
    def record_attempt(self, server: str, phase: str, *, who: str, template: str | None,
                       inputs: Mapping[str, str], error: str, resumed_from: str | None = None) -> str:
        """Record an attempt that failed before its first step (e.g. the connection failed) as a failed run with
        no steps and this error; takes no lock (nothing ran). Returns its id."""

    @abc.abstractmethod
    def start_step(self, run_id: str, index: int, name: str, phase: str, *, sha256: str,
                   inputs: Mapping[str, str]) -> None: ...

    @abc.abstractmethod
    def append_output(self, run_id: str, index: int, stream: str, text: str | bytes) -> None:
        """Append masked output, kept byte-exact; durable before the call returns (retried if the write fails)."""

    @abc.abstractmethod
    def finish_step(self, run_id: str, index: int, exit_code: int, error: str | None) -> None:
        """Commit the step durably before returning."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> RunRecord:
        """A run with its steps; NotFound if unknown, BadInput if ambiguous (any unique part of the id is accepted)."""

    @abc.abstractmethod
    def list_runs(self, server: str | None = None, limit: int = 50) -> list[RunRecord]: ...

    @abc.abstractmethod
    def last_failed_step(self, run_id: str) -> int | None:
        """Index of the last failed (or interrupted) step of a run, None if no step failed."""

    @abc.abstractmethod
    def mark_interrupted(self) -> list[str]:
        """Interrupt running runs whose controller died, freeing their servers; return their ids."""

    @abc.abstractmethod
    def close(self) -> None: ...


stores: Registry[Store] = Registry("store")
stores.register("sqlite", "stackscripts.store.sqlite:SQLiteStore")
