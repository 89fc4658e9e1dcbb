"""Deployments as the store knows them (its servers' `deployment`): list, show, and terminate one as a whole
(decommission scripts first, every server, dependants before what they reference; then every instance destroyed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import NotFound, RunFailed, StackscriptsError
from ..model import Phase, RunResult, RunState, ServerState
from ..store.base import ServerRecord
from .fleet import FleetResult, ServerOutcome, check_parallel, run_fleet

if TYPE_CHECKING:
    from .controller import Controller
    from .launcher import Launcher


@dataclass(frozen=True)
class DeploymentRecord:
    """One deployment: its servers in launch order (each wave references only earlier waves), and its file."""

    name: str
    servers: tuple[ServerRecord, ...]
    waves: tuple[tuple[str, ...], ...]
    file: str | None = None  # the deployment file its servers were launched from, on the machine that launched them

    @property
    def live(self) -> tuple[ServerRecord, ...]:
        """Servers not terminated."""
        return tuple(s for s in self.servers if s.state != ServerState.TERMINATED.value)

    @property
    def state(self) -> str:
        """terminated when every server is, else the states of its live servers (e.g. `2 operational`)."""
        live = self.live
        if not live:
            return "terminated"
        counts: dict[str, int] = {}
        for server in live:
            counts[server.state] = counts.get(server.state, 0) + 1
        return ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))


def waves(servers: Sequence[ServerRecord]) -> tuple[tuple[str, ...], ...]:
    """Launch order from the references each server recorded at launch; a server whose references are unknown
    (launched by an older release) goes by launch time."""
    names = {s.name for s in servers}
    refs = {s.name: set(s.extra.get("references") or ()) & names for s in servers}
    done: set[str] = set()
    order: list[tuple[str, ...]] = []
    pending = sorted(servers, key=lambda s: (s.created, s.name))
    while pending:
        wave = tuple(s.name for s in pending if refs[s.name] <= done) or (pending[0].name,)  # a cycle: oldest first
        order.append(wave)
        done.update(wave)
        pending = [s for s in pending if s.name not in done]
    return tuple(order)


def list_deployments(c: Controller, team: str | None = None) -> list[DeploymentRecord]:
    """Every deployment with a server in the store (terminated ones too), by name."""
    grouped: dict[str, list[ServerRecord]] = {}
    for server in c.store.list_servers(team):
        if server.deployment:
            grouped.setdefault(server.deployment, []).append(server)
    return [_record(name, servers) for name, servers in sorted(grouped.items())]


def get_deployment(c: Controller, name: str) -> DeploymentRecord:
    """One deployment; NotFound naming the known ones."""
    servers = [s for s in c.store.list_servers() if s.deployment == name]
    if not servers:
        known = sorted({s.deployment for s in c.store.list_servers() if s.deployment})
        raise NotFound(f"unknown deployment {name!r}",
                       hint=f"Deployments: {', '.join(known)}." if known else "No deployment has been deployed yet: "
                       "stackscripts deploy deployments/NAME.yaml.")
    return _record(name, servers)


def _record(name: str, servers: list[ServerRecord]) -> DeploymentRecord:
    files = [str(s.extra["deployment_file"]) for s in servers if s.extra.get("deployment_file")]
    order = waves(servers)
    position = {server: i for i, wave in enumerate(order) for server in wave}
    ordered = tuple(sorted(servers, key=lambda s: (position[s.name], s.name)))
    return DeploymentRecord(name, ordered, order, files[-1] if files else None)


def terminate_deployment(launcher: Launcher, name: str, *, budget: float = 600.0, parallel: int = 10) -> FleetResult:
    """Decommission every live server, dependants first (a wave at a time, its servers in parallel, within
    `budget` seconds each); then destroy every instance. A failed decommission script is recorded and reported
    (status failed) and its server destroyed all the same, as `terminate` does."""
    check_parallel(parallel)
    deployment = get_deployment(launcher.c, name)
    live = {s.name for s in deployment.live}
    decommissioned: dict[str, ServerOutcome] = {}
    for wave in reversed(deployment.waves):
        members = [s for s in wave if s in live]
        if members:
            result = run_fleet(members, lambda s: _decommission(launcher.c, s, budget), parallel=parallel,
                               max_errors=str(len(members)))
            decommissioned.update((o.server, o) for o in result.outcomes)

    def destroy(server: str) -> RunResult:
        launcher.terminate(server, budget)  # decommissioned already: this destroys what its launch made
        first = decommissioned.get(server)
        if first is not None and first.status != "succeeded":
            raise RunFailed(f"{server}: decommission failed ({first.message}); its instance was destroyed",
                            first.result) if first.result else StackscriptsError(first.message or "")
        return first.result if first is not None and first.result else _nothing(server)

    order = [s for wave in reversed(deployment.waves) for s in wave if s in live]
    return run_fleet(order, destroy, parallel=parallel, max_errors=str(len(order)))


def _decommission(c: Controller, server: str, budget: float) -> RunResult:
    record = c.store.get_server(server)
    if not record.host or record.state not in (ServerState.OPERATIONAL.value, ServerState.STRANDED.value):
        return _nothing(server)  # nothing booted there: nothing to decommission
    return c.decommission(server, budget)


def _nothing(server: str) -> RunResult:
    """No decommission run (the server never booted, or it ran already): an empty succeeded result."""
    return RunResult("", server, Phase.DECOMMISSION, RunState.SUCCEEDED)

