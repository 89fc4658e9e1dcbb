"""Deploy several servers: launch order follows env:SERVER:NAME references, independent servers in parallel."""

from __future__ import annotations

from pathlib import Path

from ..clouds import default_cloud, load_clouds, provider_for
from ..deployments import DeploymentServer, load_deployment
from ..errors import BadInput
from ..model import Phase, RunResult
from ..plan import build_plan
from . import pinning
from .fleet import FleetResult, ServerOutcome, check_parallel, run_fleet
from .inputs import Inputs, input_layers
from .launcher import Launcher


def deploy(launcher: Launcher, path: str | Path, inputs: Inputs = (), cloud: str | None = None,
           parallel: int = 10, destroy_on_failure: bool = False) -> FleetResult:
    """Validate every server first; then launch wave by wave, stopping after a wave with a failure."""
    check_parallel(parallel)
    cloud = cloud or default_cloud()
    deployment = load_deployment(path)
    extra = input_layers(inputs, strict=False)
    declared: set[str] = set()
    configured = load_clouds()
    for server in deployment.servers:  # bad input fails before any cloud call
        if (server.cloud or cloud) not in configured:
            provider_for(server.cloud or cloud)  # NotFound: names the unknown cloud and the configured ones
        resolved = pinning.resolve(server.template, launcher.c.catalog)  # library references pinned by the lock
        build_plan(resolved, Phase.BOOT, [deployment.layer(), deployment.server_layer(server), *extra])
        declared |= {spec.name for script in resolved.scripts() for spec in script.inputs}
    for name in (extra[0].values if extra else {}):
        if name not in declared:
            raise BadInput(f"-i {name}: no server of deployment {deployment.name!r} declares this input",
                           hint="Check the name; -i applies to every server whose template declares it.")
    outcomes: list[ServerOutcome] = []
    for wave in deployment.waves():
        by_name = {s.name: s for s in wave}

        def launch(name: str, by_name: dict[str, DeploymentServer] = by_name) -> RunResult:
            server = by_name[name]
            return launcher.launch(server.template, name, server.cloud or cloud, server.image,
                                   layers=[deployment.layer(), deployment.server_layer(server), *extra],
                                   deployment=deployment.name, destroy_on_failure=destroy_on_failure,
                                   key_name=f"deployment-{deployment.name}")

        result = run_fleet(list(by_name), launch, parallel=parallel, max_errors=str(len(wave)))
        outcomes.extend(result.outcomes)
        if not result.ok:
            remaining = [s.name for w in deployment.waves() for s in w if s.name not in {o.server for o in outcomes}]
            outcomes.extend(ServerOutcome(n, "skipped", message="an earlier server failed") for n in remaining)
            break
    return FleetResult(tuple(outcomes))

