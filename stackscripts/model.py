"""Frozen values shared by every layer. No I/O here."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class Phase(str, enum.Enum):
    BOOT = "Boot"
    OPERATIONAL = "Operational"
    DECOMMISSION = "Decommission"

    @classmethod
    def parse(cls, text: str) -> Phase:
        for phase in cls:
            if phase.value.lower() == text.strip().lower():
                return phase
        raise ValueError(text)


class ServerState(str, enum.Enum):
    PENDING = "pending"
    BOOTING = "booting"
    OPERATIONAL = "operational"
    STRANDED = "stranded"
    DECOMMISSIONING = "decommissioning"
    TERMINATED = "terminated"


class RunState(enum.StrEnum):
    """A run's state: one enum in results, store records, reports and exports (the store keeps the text value)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class InputSpec:
    """One declared input of a script."""

    name: str
    category: str | None = None
    description: str | None = None
    input_type: str = "single"  # single | array
    required: bool = False
    advanced: bool = False
    default: str | None = None  # an Inputs 2.0 string, e.g. "text:docker.io"
    possible_values: tuple[str, ...] | None = None
    line: int | None = None
    secret_hint: bool = False  # Linode UDF names containing "password"


@dataclass(frozen=True)
class Script:
    """A RightScript: an executable fragment with its metadata."""

    name: str
    path: Path
    text: str
    inputs: tuple[InputSpec, ...] = ()
    description: str | None = None
    packages: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()
    shebang: str | None = None  # the interpreter line without "#!", None means "bash -e"
    sha256: str = ""
    library: str | None = None
    dialect: str = "rightscript"  # rightscript | udf | none

    @property
    def ref(self) -> str:
        return f"{self.library}/{self.name}" if self.library else self.name

    @property
    def attach_dir(self) -> Path:
        return self.path.parent / "attachments"

    def input(self, name: str) -> InputSpec | None:
        return next((i for i in self.inputs if i.name == name), None)


@dataclass(frozen=True)
class ScriptRef:
    """An entry of a template phase: a path, a library reference, or {Name, Revision[, Publisher]}."""

    ref: str
    line: int | None = None
    revision: str | None = None
    timeout: float | None = None
    retries: int = 0
    publisher: str | None = None  # right_st's Publisher: the namespace of the libraries offering `ref`
    stage: str | None = None  # the boot-time table's row the step is counted in (reports); None: its own row

    @property
    def key(self) -> str:
        """How the step is looked up and locked: its text, or `PUBLISHER/*/NAME[@REVISION]` for right_st's form."""
        if self.publisher is None:
            return self.ref
        return f"{self.publisher}/*/{self.ref}" + (f"@{self.revision}" if self.revision is not None else "")


@dataclass(frozen=True)
class VolumeSpec:
    name: str
    size_gb: int
    device: str | None = None
    ephemeral: bool = True


@dataclass(frozen=True)
class CloudSettings:
    """How one MultiCloud image maps onto one cloud (the `Settings` extension)."""

    cloud: str  # "local" or a libcloud provider name (YAML "Cloud: ec2 us-east-1" -> cloud "ec2", region)
    image: str
    instance_type: str | None = None
    ssh_user: str = "root"
    volumes: tuple[VolumeSpec, ...] = ()
    region: str | None = None


@dataclass(frozen=True)
class MultiCloudImage:
    name: str
    description: str | None = None
    revision: str | None = None
    settings: tuple[CloudSettings, ...] = ()

    def for_cloud(self, cloud: str) -> CloudSettings | None:
        return next((s for s in self.settings if s.cloud == cloud), None)


@dataclass(frozen=True)
class Template:
    """A ServerTemplate as written in YAML (scripts not yet resolved)."""

    name: str
    path: Path
    description: str | None = None
    inputs: Mapping[str, str] = field(default_factory=dict)  # raw Inputs 2.0 overrides
    input_lines: Mapping[str, int | None] = field(default_factory=dict)
    phases: Mapping[Phase, tuple[ScriptRef, ...]] = field(default_factory=dict)
    images: tuple[MultiCloudImage, ...] = ()
    alerts: tuple[Mapping[str, object], ...] = ()
    sha256: str = ""

    def steps(self, phase: Phase) -> tuple[ScriptRef, ...]:
        return tuple(self.phases.get(phase, ()))


@dataclass(frozen=True)
class InputValue:
    """A parsed Inputs 2.0 value."""

    kind: str  # text | cred | env | array | blank | ignore | inherit
    text: str = ""  # text value, credential name, or env input name
    server: str | None = None  # for env:SERVER:NAME
    items: tuple[InputValue, ...] = ()  # for array

    @property
    def secret(self) -> bool:
        return self.kind == "cred" or any(i.secret for i in self.items)

    def unparse(self) -> str:
        if self.kind == "text":
            return f"text:{self.text}"
        if self.kind == "cred":
            return f"cred:{self.text}"
        if self.kind == "env":
            return f"env:{self.server}:{self.text}" if self.server else f"env:{self.text}"
        if self.kind == "array":
            import json

            return "array:" + json.dumps([i.unparse() for i in self.items])
        return self.kind


@dataclass(frozen=True)
class ResolvedInput:
    """An input's winning value and where it came from."""

    name: str
    value: InputValue | None  # None: no value anywhere (allowed only when not required)
    source: str  # "script default (install-docker.sh)", "template", "deployment", "server", "command line"
    spec: InputSpec | None = None

    @property
    def secret(self) -> bool:
        return bool(self.value and self.value.secret) or bool(self.spec and self.spec.secret_hint)


@dataclass(frozen=True)
class PlannedStep:
    """One step of a plan: a script and its resolved inputs."""

    index: int
    phase: Phase
    script: Script
    inputs: tuple[ResolvedInput, ...] = ()
    timeout: float | None = None
    retries: int = 0
    stage: str | None = None  # its template entry's Stage

    @property
    def name(self) -> str:
        return self.script.name


@dataclass(frozen=True)
class Plan:
    """A self-contained unit of work: one template phase with resolved steps."""

    template: Template
    phase: Phase
    steps: tuple[PlannedStep, ...]
    server: str | None = None


@dataclass(frozen=True)
class StepResult:
    """What one step did; immutable like invoke's Result."""

    index: int
    name: str
    exit_code: int
    started: float
    ended: float
    stdout: str = ""
    stderr: str = ""
    error: str | None = None  # "connection lost", "timed out after 30s", ...

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.error is None

    @property
    def duration(self) -> float:
        return self.ended - self.started


@dataclass(frozen=True)
class RunResult:
    """What a run did: its id, server, phase, final state and each step's result."""

    run_id: str
    server: str
    phase: Phase
    state: RunState
    steps: tuple[StepResult, ...] = ()

    @property
    def ok(self) -> bool:
        return self.state is RunState.SUCCEEDED
