"""The store interface every backend implements (SQLite embedded, PostgreSQL for a team: store/sql_store.py)."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import RunState
from ..registry import Registry
from .tokens import TokenRecord


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
    revision: str | None = None  # the template revision it is pinned to (boot, upgrade): sha256:...
    team: str = "default"  # whose it is: on PostgreSQL only the team role's members see it (docs/team-store.md)


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
    stage: str | None = None  # its template entry's Stage: the boot-time table's row it is counted in
    pruned: int | None = None  # the bytes of output `runs prune` removed (None: its output is all there)

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
    revision: str | None = None  # the template revision it ran (sha256:...); None for runs before revisions
    team: str = "default"  # its server's team when it started

    def __post_init__(self) -> None:
        if not isinstance(self.state, RunState):  # a backend or a caller that gives the stored text
            object.__setattr__(self, "state", RunState(self.state))


@dataclass(frozen=True)
class OutputChunk:
    """A piece of a step's output as stored: its place in the step's output (both streams in arrival order)."""

    seq: int  # arrival order among all chunks (a reader's cursor: `read_output(after=seq)`)
    offset: int  # its first byte's offset in the step's output (both streams, interleaved as they arrived)
    stream: str  # stdout or stderr
    data: bytes


@dataclass(frozen=True)
class PruneResult:
    """What `prune_output` removed (or, dry_run, would remove)."""

    before: float  # runs that ended before this time
    runs: int  # runs whose output was removed
    steps: int
    chunks: int
    bytes: int
    dry_run: bool = False


@dataclass(frozen=True)
class RevisionRecord:
    """A kept template revision: its digest, the template's Name, who kept it when and why, its canonical manifest."""

    digest: str
    template: str
    created: float = 0.0
    who: str = ""
    message: str = ""
    manifest: bytes = b""  # canonical manifest bytes (revisions.manifest.parse reads them)
    source: str | None = None  # the template file it was made from, on the machine that made it
    team: str = "default"  # the team that kept it first (other teams that kept the same revision see it too)


@dataclass(frozen=True)
class ServerEvent:
    """Something that happened to a server outside a run: an upgrade to another revision."""

    server: str
    at: float
    kind: str  # upgrade, retemplate (a forced boot from another template or revision)
    who: str = ""
    revision: str | None = None
    previous: str | None = None
    message: str = ""


class Store(abc.ABC):
    """Durable record of servers, runs and steps. Masked values only ever reach it."""

    team: str = "default"  # the team its new servers and revisions belong to (open_store sets it)

    # servers
    @abc.abstractmethod
    def put_server(self, server: ServerRecord) -> None:
        """Insert or replace a server record."""

    @abc.abstractmethod
    def get_server(self, name: str) -> ServerRecord:
        """Raise NotFound for an unknown server."""

    @abc.abstractmethod
    def list_servers(self, team: str | None = None) -> list[ServerRecord]:
        """By name; one team's when given (on PostgreSQL, only those of the user's teams are ever seen)."""

    @abc.abstractmethod
    def update_server(self, name: str, **changes: Any) -> ServerRecord: ...

    @abc.abstractmethod
    def delete_server(self, name: str) -> None: ...

    # runs and steps
    @abc.abstractmethod
    def start_run(self, server: str, phase: str, *, who: str, template: str | None,
                  inputs: Mapping[str, str], resumed_from: str | None = None, revision: str | None = None) -> str:
        """Create a running run (of a template revision) and take the server's lock; raise Conflict if it is held."""

    @abc.abstractmethod
    def finish_run(self, run_id: str, state: RunState, error: str | None = None) -> None:
        """Set the final state (and why it failed outside any step) and release the server's lock."""

    @abc.abstractmethod
    def record_attempt(self, server: str, phase: str, *, who: str, template: str | None,
                       inputs: Mapping[str, str], error: str, resumed_from: str | None = None,
                       revision: str | None = None) -> str:
        """Record an attempt that failed before its first step (e.g. the connection failed) as a failed run with
        no steps and this error; takes no lock (nothing ran). Returns its id."""

    @abc.abstractmethod
    def start_step(self, run_id: str, index: int, name: str, phase: str, *, sha256: str,
                   inputs: Mapping[str, str], stage: str | None = None) -> None: ...

    @abc.abstractmethod
    def append_output(self, run_id: str, index: int, stream: str, text: str | bytes) -> None:
        """Append masked output, kept byte-exact; durable before the call returns (retried if the write fails)."""

    @abc.abstractmethod
    def finish_step(self, run_id: str, index: int, exit_code: int, error: str | None) -> None:
        """Commit the step durably before returning."""

    @abc.abstractmethod
    def get_run(self, run_id: str, *, output: bool = True) -> RunRecord:
        """A run with its steps; NotFound if unknown, BadInput if ambiguous (any unique part of the id is accepted).
        output=False: the steps without their output (read it with `read_output`, in pieces)."""

    @abc.abstractmethod
    def list_runs(self, server: str | None = None, limit: int = 50, team: str | None = None) -> list[RunRecord]:
        """Newest first; one server's, or one team's, when given."""

    @abc.abstractmethod
    def last_failed_step(self, run_id: str) -> int | None:
        """Index of the last failed (or interrupted) step of a run, None if no step failed."""

    @abc.abstractmethod
    def mark_interrupted(self) -> list[str]:
        """Interrupt running runs whose controller died (a local pid gone, or a lease expired on any machine),
        freeing their servers; return their ids."""

    # output, read in pieces, followed as it streams, pruned (docs/team-store.md)
    @abc.abstractmethod
    def read_output(self, run_id: str, index: int, *, after: int = 0) -> Iterator[OutputChunk]:
        """A step's output chunks in arrival order, read a page at a time (memory stays bounded whatever its size);
        `after`: the `seq` of the last chunk already read."""

    @abc.abstractmethod
    def follow_output(self, run_id: str, index: int, *, after: int = 0) -> Iterator[OutputChunk]:
        """A step's output as it arrives, from any controller on any machine; ends when the step has ended (waiting
        for it to start while its run runs). NotFound when the run ended without such a step."""

    @abc.abstractmethod
    def prune_output(self, before: float, *, dry_run: bool = False) -> PruneResult:
        """Remove the output of runs that ended before `before` (a time); runs, steps, timings and exit codes
        stay. dry_run: only count."""

    # template revisions and their files' bytes (docs/sharing.md, "Revisions and pinning")
    @abc.abstractmethod
    def put_revision(self, revision: RevisionRecord, blobs: Mapping[str, bytes]) -> bool:
        """Keep a revision and the bytes of its files (sha256 hex -> bytes), all or nothing; False when it was kept
        already (the first record stays). BadInput, and nothing kept, when the manifest is not the digest's or a
        file's bytes are neither given (checked against their sha256) nor kept."""

    @abc.abstractmethod
    def get_revision(self, digest: str) -> RevisionRecord:
        """By digest, or a unique prefix of its hex digits (4 or more); NotFound if unknown, BadInput if ambiguous or
        if the kept manifest no longer hashes to the digest (tampered)."""

    @abc.abstractmethod
    def list_revisions(self, template: str | None = None) -> list[RevisionRecord]:
        """Newest first; one template's (by Name) when given."""

    @abc.abstractmethod
    def get_blob(self, sha256: str) -> bytes:
        """A file's bytes by their sha256 (hex), checked: BadInput when they no longer hash to it, NotFound if absent."""

    @abc.abstractmethod
    def upgrade_server(self, name: str, revision: str, *, who: str, message: str = "",
                       template: str | None = None) -> ServerEvent:
        """Pin a server to another kept revision (and template file, when given) and record the event; Conflict while
        a run holds the server."""

    @abc.abstractmethod
    def record_event(self, event: ServerEvent) -> None:
        """Keep an event of a server (in the server's team); NotFound for an unknown server."""

    @abc.abstractmethod
    def server_events(self, server: str | None = None) -> list[ServerEvent]:
        """Events outside runs, oldest first (one server's when named)."""

    # API tokens of the web dashboard: only each secret's sha256 is kept (store/tokens.py; docs/team-store.md, "Tokens")
    @abc.abstractmethod
    def put_token(self, token: TokenRecord, secret_sha256: str) -> None:
        """Keep a new token; BadInput for a team that is no team of this store, or not yours (PostgreSQL)."""

    @abc.abstractmethod
    def find_token(self, secret_sha256: str) -> TokenRecord | None:
        """The token whose secret hashes to this (revoked and expired too); None if none (or another team's)."""

    @abc.abstractmethod
    def list_tokens(self, team: str | None = None) -> list[TokenRecord]:
        """Newest first, revoked and expired too; one team's when given."""

    @abc.abstractmethod
    def revoke_token(self, token_id: str, at: float) -> tuple[TokenRecord, bool]:
        """Revoke a token by id (NotFound if unknown); False when it was revoked already (the first time stays)."""

    @abc.abstractmethod
    def touch_token(self, token_id: str, at: float, every: float = 60.0) -> bool:
        """Record a use at `at` unless one was recorded less than `every` seconds before; whether it wrote."""

    @abc.abstractmethod
    def has_tokens(self) -> bool:
        """Whether any token was ever made here (revoked and expired ones count) that this user may see."""

    @abc.abstractmethod
    def close(self) -> None: ...


stores: Registry[Store] = Registry("store")
stores.register("sqlite", "stackscripts.store.sqlite:SQLiteStore")
stores.register("postgresql", "stackscripts.store.postgres:PostgresStore")
