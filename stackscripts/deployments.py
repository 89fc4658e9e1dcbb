"""Deployment YAML: several servers, each from a template, with deployment- and server-level inputs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import files, yamlsrc
from .errors import BadInput
from .inputs.resolve import Layer
from .inputs.values import parse_value

TOP_KEYS = ("Name", "Description", "Inputs", "Servers")
SERVER_KEYS = ("Name", "Template", "Cloud", "Image", "Inputs")


def env_servers(inputs: Mapping[str, str]) -> set[str]:
    """Servers that env:SERVER:NAME values among these inputs point at."""
    refs = set()
    for raw in inputs.values():
        value = parse_value(raw)
        for item in (value.items if value.kind == "array" else (value,)):
            if item.kind == "env" and item.server:
                refs.add(item.server)
    return refs


@dataclass(frozen=True)
class DeploymentServer:
    name: str
    template: Path
    cloud: str | None
    image: str | None
    inputs: Mapping[str, str]
    input_lines: Mapping[str, int | None]
    line: int | None

    def references(self) -> set[str]:
        """Servers this one's inputs point at with env:SERVER:NAME."""
        return env_servers(self.inputs)


@dataclass(frozen=True)
class Deployment:
    name: str
    path: Path
    inputs: Mapping[str, str] = field(default_factory=dict)
    input_lines: Mapping[str, int | None] = field(default_factory=dict)
    servers: tuple[DeploymentServer, ...] = ()

    def layer(self) -> Layer:
        return Layer.from_raw("deployment", dict(self.inputs), file=str(self.path), lines=self.input_lines, strict=False)

    def server_layer(self, server: DeploymentServer) -> Layer:
        return Layer.from_raw("server", dict(server.inputs), file=str(self.path), lines=server.input_lines)

    def waves(self) -> list[list[DeploymentServer]]:
        """Launch order: each wave's servers only reference servers of earlier waves."""
        by_name = {s.name: s for s in self.servers}
        shared = env_servers(self.inputs)  # deployment-level references bind every other server
        done: set[str] = set()
        waves = []
        while len(done) < len(by_name):
            wave = [s for s in self.servers
                    if s.name not in done and (s.references() | (shared - {s.name})) <= done]
            if not wave:
                stuck = [s for s in self.servers if s.name not in done]  # file order: the line of the first
                raise BadInput(f"env: references form a cycle between {', '.join(sorted(s.name for s in stuck))}",
                               file=str(self.path), line=stuck[0].line,
                               hint="A server may only reference servers that can be launched before it.")
            waves.append(wave)
            done.update(s.name for s in wave)
        return waves


def _inputs(raw: Any, file: str, parent: Any, key: str) -> tuple[dict[str, str], dict[str, int | None]]:
    if raw is None:
        return {}, {}
    if not isinstance(raw, dict):
        raise BadInput("'Inputs' must map input names to values", file=file, line=yamlsrc.line_of(parent, key),
                       hint="Write 'Inputs:' then lines like '  NAME: text:value'.")
    lines: dict[str, int | None] = {}
    for name, value in raw.items():
        lines[name] = yamlsrc.line_of(raw, name)
        parse_value(value, file=file, line=lines[name], name=name)
    return dict(raw), lines


def load_deployment(path: Path | str) -> Deployment:
    path = Path(path)
    file = str(path)
    if not path.exists() and not path.is_symlink():
        raise BadInput("no such deployment file", file=file, hint="Check the path (deployments live in deployments/).")
    data = yamlsrc.load(files.read_text(path, "deployment"), file)
    if not isinstance(data, dict):
        raise BadInput("a deployment must be a YAML mapping", file=file, line=1, hint="Start with 'Name:' and 'Servers:'.")
    for key in data:
        if key not in TOP_KEYS:
            raise BadInput(f"deployment: unknown key {key!r}", file=file, line=yamlsrc.line_of(data, key),
                           hint="Allowed keys: " + ", ".join(TOP_KEYS) + ".")
    servers_raw = data.get("Servers")
    if not isinstance(servers_raw, list) or not servers_raw:
        raise BadInput("a deployment needs a list of Servers", file=file, line=yamlsrc.line_of(data, "Servers"),
                       hint="Write 'Servers:' then '- Name: app' / '  Template: ../servertemplates/x.yaml' items.")
    inputs, lines = _inputs(data.get("Inputs"), file, data, "Inputs")
    servers = []
    for index, item in enumerate(servers_raw):
        line = yamlsrc.line_of(servers_raw, index)
        if not isinstance(item, dict) or not isinstance(item.get("Name"), str) or not isinstance(item.get("Template"), str):
            raise BadInput("each server needs a Name and a Template", file=file, line=line,
                           hint="Write '- Name: app' and '  Template: ../servertemplates/docker-all-in-one.yaml'.")
        for key in item:
            if key not in SERVER_KEYS:
                raise BadInput(f"server {item['Name']}: unknown key {key!r}", file=file, line=yamlsrc.line_of(item, key),
                               hint="Allowed keys: " + ", ".join(SERVER_KEYS) + ".")
        server_inputs, server_lines = _inputs(item.get("Inputs"), file, item, "Inputs")
        template = Path(os.path.realpath(path.parent / item["Template"]))  # realpath: a symlink loop must not raise
        servers.append(DeploymentServer(item["Name"], template, item.get("Cloud"),
                                        item.get("Image"), server_inputs, server_lines, line))
    names = [s.name for s in servers]
    first_at: dict[str, int | None] = {}
    for server in servers:
        if server.name in first_at:
            raise BadInput(f"two servers are named {server.name!r} (first at line {first_at[server.name]})", file=file,
                           line=server.line, hint="Give each server a unique Name.")
        first_at[server.name] = server.line
    unknown_shared = env_servers(inputs) - set(names)
    if unknown_shared:
        raise BadInput(f"deployment Inputs reference unknown server {sorted(unknown_shared)[0]!r}", file=file,
                       line=yamlsrc.line_of(data, "Inputs"), hint="Servers: " + ", ".join(names) + ".")
    for server in servers:
        unknown = server.references() - set(names)
        if unknown:
            raise BadInput(f"server {server.name} references unknown server {sorted(unknown)[0]!r}", file=file,
                           line=server.line, hint="Servers: " + ", ".join(names) + ".")
    raw_name = data.get("Name")
    name = raw_name if isinstance(raw_name, str) else path.stem
    return Deployment(name, path, inputs, lines, tuple(servers))
