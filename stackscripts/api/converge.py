"""A deployment's desired state (its file: servers, templates at their locked revisions, inputs) against the
store's and the clouds' state: the plan `deploy` prints before it changes anything."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..clouds import default_cloud, load_clouds, provider_for
from ..deployments import Deployment, DeploymentServer, env_servers, load_deployment
from ..errors import BadInput, CloudError, NotFound, StackscriptsError
from ..inputs.materialize import masked
from ..inputs.resolve import Layer
from ..inputs.values import parse_value
from ..model import Phase, RunState, ServerState
from ..plan import ResolvedTemplate, build_plan, resolve_inputs
from ..store.base import ServerRecord
from . import pinning
from .env_refs import check_references
from .inputs import Inputs, input_layers
from .servers import env_lookup

if TYPE_CHECKING:
    from .controller import Controller

Action = Literal["launch", "unchanged", "drift", "replace", "resume", "vanished", "busy", "conflict", "extra"]
BLOCKING = ("vanished", "busy", "conflict")  # apply refuses while one is left: said, never silently re-created
CHANGING = ("launch", "replace", "resume")


@dataclass(frozen=True)
class Change:
    """What converging does to one server, and why."""

    server: str
    action: Action
    detail: str = ""
    wave: int = 0  # launch order: a wave's servers reference only servers of earlier waves
    run: str | None = None  # the failed boot a `resume` continues


@dataclass(frozen=True)
class DeployPlan:
    """Every server of the deployment (and those recorded in it but no longer in its file), in launch order."""

    deployment: str
    path: str
    changes: tuple[Change, ...]

    @property
    def blocked(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action in BLOCKING)

    @property
    def pending(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action in CHANGING)

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action == action)


@dataclass(frozen=True)
class Desired:
    """A loaded, validated deployment and what each of its servers should be."""

    deployment: Deployment
    cloud: str
    layers: Mapping[str, Sequence[Layer]]  # server -> its input layers, lowest first
    revisions: Mapping[str, str]  # server -> the revision its template gives now
    resolved: Mapping[str, ResolvedTemplate]  # server -> its template, library references pinned


def desired(c: Controller, path: str | Path, inputs: Inputs = (), cloud: str | None = None) -> Desired:
    """Load and check the whole deployment before any cloud call: clouds, names, templates, inputs, env: references."""
    cloud = cloud or default_cloud()
    deployment = load_deployment(path)
    extra = input_layers(inputs, strict=False)
    declared: set[str] = set()
    configured = load_clouds()
    layers: dict[str, Sequence[Layer]] = {}
    revisions: dict[str, str] = {}
    resolved_by: dict[str, ResolvedTemplate] = {}
    for server in deployment.servers:
        where = server.cloud or cloud
        if where not in configured:
            provider_for(where)  # NotFound: names the unknown cloud and the configured ones
        _check_name(server, where, deployment)
        made = pinning.make(server.template, c.catalog)  # library references pinned by the lock
        layers[server.name] = [deployment.layer(), deployment.server_layer(server), *extra]
        build_plan(made.resolved, Phase.BOOT, layers[server.name])
        resolved_by[server.name] = made.resolved
        revisions[server.name] = made.digest
        declared |= {spec.name for script in made.resolved.scripts() for spec in script.inputs}
    for name in (extra[0].values if extra else {}):
        if name not in declared:
            raise BadInput(f"-i {name}: no server of deployment {deployment.name!r} declares this input",
                           hint="Check the name; -i applies to every server whose template declares it.")
    check_references(deployment, resolved_by)
    return Desired(deployment, cloud, layers, revisions, resolved_by)


def _check_name(server: DeploymentServer, cloud: str, deployment: Deployment) -> None:
    try:
        provider_for(cloud).check_name(server.name)
    except BadInput as exc:
        raise BadInput(exc.message, file=str(deployment.path), line=server.line, hint=exc.hint) from None


def plan(c: Controller, want: Desired, replace: Collection[str] = ()) -> DeployPlan:
    """Compare each server with its record: launch what is missing, leave operational servers alone (reporting
    drift of revision or inputs), resume a stranded boot, rebuild what `replace` names."""
    deployment = want.deployment
    names = {s.name for s in deployment.servers}
    unknown = sorted(set(replace) - names)
    if unknown:
        raise BadInput(f"--replace {unknown[0]}: deployment {deployment.name!r} has no such server",
                       file=str(deployment.path), hint="Servers: " + ", ".join(sorted(names)) + ".")
    live = _live_nodes(c, deployment, want.cloud)
    changes = []
    rebuilt: set[str] = set()
    shared = env_servers(deployment.inputs)
    for wave, servers in enumerate(deployment.waves()):
        for server in servers:
            change = _compare(c, want, server, live, server.name in replace)
            follows = sorted((server.references() | shared) & rebuilt - {server.name})
            if follows and change.action in ("unchanged", "drift"):
                note = (f"references {', '.join(follows)}, rebuilt by this plan: its env: values will change "
                        f"(--replace {server.name} follows)")
                change = Change(server.name, "drift", note if change.action == "unchanged" else f"{note}; {change.detail}")
            if change.action in ("launch", "replace"):
                rebuilt.add(server.name)
            changes.append(Change(change.server, change.action, change.detail, wave, change.run))
    for record in c.store.list_servers():
        if record.deployment == deployment.name and record.name not in names and \
                record.state != ServerState.TERMINATED.value:
            changes.append(Change(record.name, "extra", "no longer in the deployment file: left running "
                                  f"('stackscripts terminate {record.name}' removes it)", -1))
    return DeployPlan(deployment.name, str(deployment.path), tuple(changes))


def _compare(c: Controller, want: Desired, server: DeploymentServer, live: Mapping[str, set[str] | None],
             replace: bool) -> Change:
    name = server.name
    try:
        record = c.store.get_server(name)
    except NotFound:
        return Change(name, "launch", "not launched yet")
    if record.state == ServerState.TERMINATED.value:
        return Change(name, "launch", "terminated before: launched again")
    if record.deployment != want.deployment.name:
        where = f"deployment {record.deployment!r}" if record.deployment else "no deployment (added or launched alone)"
        return Change(name, "conflict", f"a server of that name exists in {where}")
    nodes = live.get(record.cloud or "")
    gone = f"its instance {record.node_id[:12]} is gone from cloud {record.cloud!r}" if \
        record.node_id and nodes is not None and record.node_id not in nodes else None
    if replace:
        return Change(name, "replace", f"{gone}: launched again" if gone else
                      f"{record.state}: decommissioned, destroyed and launched again")
    if gone:
        return Change(name, "vanished", f"{gone} (deleted outside stackscripts): --replace {name} launches a new one")
    if record.state == ServerState.STRANDED.value:
        failed = _failed_boot(c, name)
        if failed is not None:
            return Change(name, "resume", f"stranded: its boot {failed} resumes from the failed step", run=failed)
        return Change(name, "busy", f"stranded without a failed boot to resume: --replace {name} rebuilds it")
    if record.state != ServerState.OPERATIONAL.value:
        return Change(name, "busy", f"{record.state}: a launch or boot is in progress or was interrupted "
                      f"(see 'stackscripts servers show {name}'); --replace {name} rebuilds it")
    drift = _drift(c, want, server, record)
    return Change(name, "drift", "; ".join(drift)) if drift else Change(name, "unchanged", "operational, up to date")


def _drift(c: Controller, want: Desired, server: DeploymentServer, record: ServerRecord) -> list[str]:
    """How the server differs from what its file says now: revision, inputs (masked as recorded), and the values
    its env: inputs gave its boot against what they give now (a referenced server rebuilt since)."""
    found = []
    revision = want.revisions[server.name]
    if record.revision != revision:
        found.append(f"revision {_short(record.revision)} -> {_short(revision)}")
    now = masked(resolve_inputs(want.resolved[server.name], want.layers[server.name]).values())
    for key in sorted(set(now) | set(record.inputs)):
        if now.get(key, "(unset)") != record.inputs.get(key, "(unset)"):
            found.append(f"input {key}: {record.inputs.get(key, '(unset)')} -> {now.get(key, '(unset)')}")
    found += _moved_references(c, record)
    if found:
        found.append(f"left as it is: --replace {server.name} rebuilds it")
    return found


def _moved_references(c: Controller, record: ServerRecord) -> list[str]:
    """env: inputs whose value now differs from the one the server's last boot received (as its steps recorded
    it: `env:db:PRIVATE_IP -> 10.0.0.5`); masked values are not compared."""
    boot = next((r for r in c.store.list_runs(record.name, 20) if r.phase == Phase.BOOT.value), None)
    if boot is None:
        return []
    received: dict[str, tuple[str, str]] = {}
    for step in c.store.get_run(boot.id, output=False).steps:
        for name, shown in step.inputs.items():
            reference, arrow, value = shown.partition(" -> ")
            if arrow and reference.startswith("env:") and "*" not in value:
                received[name] = (reference, value)
    lookup = env_lookup(c.store, c.creds, [], self_name=record.name)
    moved = []
    for name, (reference, value) in sorted(received.items()):
        item = parse_value(reference, name=name)
        try:
            current = lookup(item.server or "", item.text) if item.kind == "env" else None
        except StackscriptsError:
            current = None
        if current is not None and current != value:
            moved.append(f"input {name}: {reference} gave {value}, now gives {current}")
    return moved


def _failed_boot(c: Controller, server: str) -> str | None:
    boots = [r for r in c.store.list_runs(server, 20) if r.phase == Phase.BOOT.value]
    if boots and boots[0].state in (RunState.FAILED, RunState.INTERRUPTED, RunState.CANCELLED):
        return boots[0].id
    return None


def _live_nodes(c: Controller, deployment: Deployment, cloud: str) -> dict[str, set[str] | None]:
    """cloud -> the node ids it runs now, for each cloud a recorded server of the deployment is on (None: no answer)."""
    clouds = {r.cloud for r in c.store.list_servers() if r.deployment == deployment.name and r.cloud and r.node_id
              and r.state != ServerState.TERMINATED.value}
    found: dict[str, set[str] | None] = {}
    for name in sorted(clouds):
        try:
            found[name] = {i.node_id for i in provider_for(name).list_instances()}
        except (CloudError, NotFound):
            found[name] = None  # unreachable: nothing is called vanished on a guess
    return found


def _short(revision: str | None) -> str:
    return revision.removeprefix("sha256:")[:12] if revision else "-"
