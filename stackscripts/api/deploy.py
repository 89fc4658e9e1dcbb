"""Deploy: converge a deployment. The plan first (api/converge.py), then wave by wave in env: reference order,
independent servers in parallel: launch what is missing, resume stranded boots, rebuild what --replace names."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from ..deployments import DeploymentServer, env_servers
from ..errors import BadInput
from ..model import RunResult
from .converge import Change, DeployPlan, Desired, desired, plan
from .fleet import FleetResult, ServerOutcome, check_parallel, run_fleet
from .inputs import Inputs
from .launcher import Launcher


@dataclass(frozen=True)
class Deployed:
    """What `deploy` decided (the plan) and what came of each change (servers left alone have no outcome)."""

    plan: DeployPlan
    result: FleetResult
    applied: bool  # False for --plan

    @property
    def ok(self) -> bool:
        return self.result.ok

    @property
    def changed(self) -> bool:
        return bool(self.result.outcomes)


def deploy(launcher: Launcher, path: str | Path, inputs: Inputs = (), cloud: str | None = None,
           parallel: int = 10, destroy_on_failure: bool = False, *, replace: Collection[str] = (),
           plan_only: bool = False, on_plan: Callable[[DeployPlan], object] | None = None) -> Deployed:
    """Validate every server first; plan (shown to `on_plan` before anything changes); unless plan_only, apply
    it, stopping after a wave with a failure.

    A server recorded in the deployment whose instance is gone, or that is mid-launch, or a name taken outside
    the deployment stops the apply (BadInput naming each) before anything changes."""
    check_parallel(parallel)
    want = desired(launcher.c, path, inputs, cloud)
    steps = plan(launcher.c, want, replace)
    if on_plan is not None:
        on_plan(steps)
    if plan_only:
        return Deployed(steps, FleetResult(()), False)
    if steps.blocked:
        lines = "; ".join(f"{c.server}: {c.detail}" for c in steps.blocked)
        raise BadInput(f"deployment {steps.deployment!r} cannot converge without a decision: {lines}",
                       file=steps.path, hint=f"Nothing was changed. 'stackscripts deploy {steps.path} --plan' shows the "
                                             "whole plan.")
    by_name = {s.name: s for s in want.deployment.servers}
    outcomes: list[ServerOutcome] = []
    waves = sorted({c.wave for c in steps.pending})
    for index, wave in enumerate(waves):
        changes = {c.server: c for c in steps.pending if c.wave == wave}

        def apply(name: str, changes: dict[str, Change] = changes) -> RunResult:
            change = changes[name]
            if change.action == "resume" and change.run:
                return launcher.c.resume(change.run)
            if change.action == "replace":
                launcher.terminate(name)
            return _launch(launcher, want, by_name[name], destroy_on_failure)

        result = run_fleet(list(changes), apply, parallel=parallel, max_errors=str(len(changes)))
        outcomes.extend(result.outcomes)
        if not result.ok:
            later = [c.server for c in steps.pending if c.wave in waves[index + 1:]]
            outcomes.extend(ServerOutcome(n, "skipped", message="a server of an earlier wave failed") for n in later)
            break
    return Deployed(steps, FleetResult(tuple(outcomes)), True)


def _launch(launcher: Launcher, want: Desired, server: DeploymentServer, destroy_on_failure: bool) -> RunResult:
    deployment = want.deployment
    refs = sorted(server.references() | (env_servers(deployment.inputs) - {server.name}))
    return launcher.launch(server.template, server.name, server.cloud or want.cloud, server.image,
                           layers=list(want.layers[server.name]), deployment=deployment.name,
                           destroy_on_failure=destroy_on_failure, key_name=f"deployment-{deployment.name}",
                           labels={"deployment_file": str(deployment.path.resolve()), "references": refs})

