"""The store interface every backend implements (SQLite now, PostgreSQL later)."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..registry import Registry


@dataclass(frozen=True)
class ServerRecord:
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
    stdout: str = ""
    stderr: str = ""
    output: str = ""  # interleaved


@dataclass(frozen=True)
class RunRecord:
    id: str
    server: str
    phase: str
    state: str
    who: str = ""
    template: str | None = None
    started: float = 0.0
    ended: float | None = None
    inputs: Mapping[str, str] = field(default_factory=dict)  # masked
    steps: tuple[StepRecord, ...] = ()
    resumed_from: str | None = None


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
    def finish_run(self, run_id: str, state: str) -> None:
        """Set the final state and release the server's lock."""

    @abc.abstractmethod
    def start_step(self, run_id: str, index: int, name: str, phase: str, *, sha256: str,
                   inputs: Mapping[str, str]) -> None: ...

    @abc.abstractmethod
    def append_output(self, run_id: str, index: int, stream: str, text: str) -> None:
        """Append masked output; flushed durably at least once a second."""

    @abc.abstractmethod
    def finish_step(self, run_id: str, index: int, exit_code: int, error: str | None) -> None:
        """Commit the step durably before returning."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> RunRecord:
        """A run with its steps; NotFound if unknown (a unique prefix of the id is accepted)."""

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
