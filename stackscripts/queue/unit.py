"""The unit of work a worker takes from the queue: one server x one phase, self-contained, versioned, no secret in it.

Its plan is pinned to a kept template revision (`sha256:...`, in the store); its inputs are the caller's raw values
(`text:...`, `cred:NAME`, `env:SERVER:NAME`, arrays), layered on the revision's defaults as any boot does: a `cred:`
input stays a reference that the worker resolves with its own credential backends. It travels as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import BadInput

VERSION = 1
KINDS = ("boot", "launch")  # boot an existing server; launch an instance on a cloud, then boot it


@dataclass(frozen=True)
class WorkUnit:
    """One server x one phase of a fleet, as queued."""

    fleet: str
    server: str
    kind: str  # a KINDS entry
    revision: str  # sha256:... of a template revision kept in the store
    template: str = ""  # where the template came from, for the records (a path on the submitting machine)
    inputs: Mapping[str, str] = field(default_factory=dict)  # raw values from the command line (no secret)
    layers: tuple[tuple[str, Mapping[str, str]], ...] = ()  # (source, raw values): a deployment's layers, in order
    cloud: str | None = None  # launch: the cloud, its image
    image: str | None = None
    deployment: str | None = None
    version: int = VERSION

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["layers"] = [[source, dict(values)] for source, values in self.layers]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkUnit:
        """BadInput for a unit of another version or a malformed one (a queue shared with another release)."""
        version = data.get("version")
        if version != VERSION:
            raise BadInput(f"a queued unit of version {version!r}: this stackscripts reads version {VERSION}",
                           hint="Run workers of the same stackscripts release as the machines that queue work.")
        try:
            unit = cls(fleet=str(data["fleet"]), server=str(data["server"]), kind=str(data["kind"]),
                       revision=str(data["revision"]), template=str(data.get("template") or ""),
                       inputs={str(k): str(v) for k, v in dict(data.get("inputs") or {}).items()},
                       layers=tuple((str(s), {str(k): str(v) for k, v in dict(values).items()})
                                    for s, values in data.get("layers") or ()),
                       cloud=data.get("cloud"), image=data.get("image"), deployment=data.get("deployment"))
        except (KeyError, TypeError, ValueError) as exc:
            raise BadInput(f"a queued unit is malformed: {exc}") from None
        if unit.kind not in KINDS or not unit.revision.startswith("sha256:"):
            raise BadInput(f"a queued unit for {unit.server} is malformed: kind {unit.kind!r}, revision {unit.revision!r}")
        return unit

    @classmethod
    def from_json(cls, text: str) -> WorkUnit:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise BadInput(f"a queued unit is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise BadInput("a queued unit is not a JSON object")
        return cls.from_dict(data)


__all__ = ["KINDS", "VERSION", "WorkUnit"]
