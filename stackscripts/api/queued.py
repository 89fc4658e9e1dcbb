"""Queued fleets: boot, launch or deploy servers through workers (api/worker.py) instead of this process.

The template is kept as a revision first; each server becomes a `WorkUnit` pinned to it, with the caller's inputs as
written (a `cred:` input stays a reference: the worker's credential backends resolve it). The fleet, its units and
the first jobs are committed in one transaction of the team store (store/sql_fleets.py); progress is read back
from the store, so any machine can watch or cancel a fleet.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BadInput, Conflict
from ..inputs.materialize import masked
from ..inputs.resolve import Layer
from ..model import Phase
from ..plan import ResolvedTemplate, build_plan, resolve_inputs
from ..queue.base import Queue, queues
from ..queue.unit import WorkUnit
from ..store.fleets import FleetRecord, UnitRecord, WorkerRecord
from ..store.sql_store import SQLStore
from . import pinning
from .fleet import check_parallel, error_budget
from .inputs import Inputs, input_layers

if TYPE_CHECKING:
    from .controller import Controller

DEFAULT_QUEUE = "default"
WORKER_EXPIRY = float(os.environ.get("STACKSCRIPTS_WORKER_EXPIRY", "30"))  # seconds without a heartbeat: gone


@dataclass(frozen=True)
class Submitted:
    """A fleet as queued, and a warning when no worker alive serves its queue (its units wait for one)."""

    fleet: FleetRecord
    warning: str | None = None


def team_store(controller: Controller) -> SQLStore:
    """The controller's store, if it can hold queued work (PostgreSQL); BadInput otherwise."""
    store = controller.store
    if not isinstance(store, SQLStore) or getattr(store, "backend", "") != "postgresql":
        raise BadInput(f"queued work needs the team store on PostgreSQL; {getattr(store, 'location', 'this store')} "
                       "is not one", hint="Name a postgresql:// store with --db or STACKSCRIPTS_DB (docs/team-store.md).")
    return store


def open_queue(controller: Controller, engine: str | None = None) -> Queue:
    """The queue engine on the controller's team store, its tables created if missing."""
    store = team_store(controller)
    queue = queues.get(engine or os.environ.get("STACKSCRIPTS_QUEUE_ENGINE", "procrastinate"))(str(store.location))
    store.prepare_queue(queue)
    return queue


def check_queue_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}", name or ""):
        raise BadInput(f"--queue {name!r} is not a queue name", hint="Use letters, digits, '.', '_' and '-'.")
    return name


def served(controller: Controller, queue: str) -> str | None:
    """None when an alive worker serves the queue; a warning when none is alive; BadInput when alive workers serve
    only other queues (a mistyped name would wait forever)."""
    alive = team_store(controller).list_workers(WORKER_EXPIRY)
    if not alive:
        return (f"no worker is alive: the units stay queued until one starts "
                f"(stackscripts worker --queue {queue} --db ...)")
    names = sorted({q for w in alive for q in w.queues})
    if queue not in names:
        raise BadInput(f"no worker serves the queue {queue!r}; the alive workers serve: {', '.join(names)}",
                       hint=f"Pick one of those, or start a worker with 'stackscripts worker --queue {queue}'.")
    return None


def unit_layers(layers: Sequence[Layer]) -> tuple[tuple[str, dict[str, str]], ...]:
    """Layers as a unit carries them: each value as written (`cred:NAME` a reference)."""
    return tuple((layer.source, {name: value.unparse() for name, value in layer.values.items()}) for layer in layers)


def check_no_secret_text(resolved: ResolvedTemplate, layers: Sequence[Layer]) -> None:
    """A secret given as text would travel in the queue: refused (pass it as cred:NAME)."""
    shown = masked(resolve_inputs(resolved, list(layers)).values())
    given = {name for layer in layers for name in layer.values}
    hidden = sorted(name for name, value in shown.items() if value == "********" and name in given)
    if hidden:
        raise BadInput(f"input {hidden[0]} is a secret given as text: queued work never carries a secret",
                       hint=f"Pass it as -i {hidden[0]}=cred:NAME; each worker reads it from its own credential backends.")


def submit_boot(controller: Controller, servers: Sequence[str], template: str | Path, inputs: Inputs = (), *,
                parallel: int = 20, max_errors: str | int = "0", queue: str = DEFAULT_QUEUE) -> Submitted:
    """Queue the Boot phase of every server; returns at once with the fleet (watch it with `fleet_status`)."""
    from .controller import who

    team_store(controller)  # a SQLite store is the first thing to say
    check_queue_name(queue)
    check_parallel(parallel)
    if len(set(servers)) != len(servers) or not servers:
        raise BadInput("name each server once, and at least one", hint="stackscripts fleet boot -t T web1 web2 --queue")
    budget = error_budget(max_errors, len(servers))
    layers = input_layers(inputs)
    for server in servers:
        controller.store.get_server(server)
    warning = served(controller, queue)
    pin = pinning.pin(controller.store, controller.catalog, template, who=who(), message=f"fleet of {len(servers)}",
                      check=lambda resolved: build_plan(resolved, Phase.BOOT, layers))
    check_no_secret_text(pin.resolved, layers)
    fleet_id = new_fleet_id()
    units = [WorkUnit(fleet=fleet_id, server=s, kind="boot", revision=pin.revision, template=pin.source or str(template),
                      layers=unit_layers(layers)) for s in servers]
    return _submit(controller, FleetRecord(fleet_id, "fleet", Phase.BOOT.value, queue, parallel, str(max_errors), budget,
                                           "running", pin.source, pin.revision, who()),
                   [UnitRecord(fleet_id, u.server, i, "pending", u.to_json()) for i, u in enumerate(units)], warning)


def submit_launch(controller: Controller, template: str | Path, name: str, *, cloud: str | None = None,
                  image: str | None = None, inputs: Inputs = (), queue: str = DEFAULT_QUEUE) -> Submitted:
    """Queue one launch: a worker creates the instance on the cloud (its own clouds file) and boots it."""
    from ..clouds import default_cloud
    from .controller import who

    team_store(controller)
    check_queue_name(queue)
    layers = input_layers(inputs)
    warning = served(controller, queue)
    pin = pinning.pin(controller.store, controller.catalog, template, who=who(), message=f"launch {name}",
                      check=lambda resolved: build_plan(resolved, Phase.BOOT, layers))
    check_no_secret_text(pin.resolved, layers)
    fleet_id = new_fleet_id()
    unit = WorkUnit(fleet=fleet_id, server=name, kind="launch", revision=pin.revision, template=pin.source or "",
                    layers=unit_layers(layers), cloud=cloud or default_cloud(), image=image)
    return _submit(controller, FleetRecord(fleet_id, "launch", Phase.BOOT.value, queue, 1, "0", 0, "running",
                                           pin.source, pin.revision, who()),
                   [UnitRecord(fleet_id, name, 0, "pending", unit.to_json())], warning)


def submit_deploy(controller: Controller, path: str | Path, inputs: Inputs = (), *, cloud: str | None = None,
                  parallel: int = 10, queue: str = DEFAULT_QUEUE) -> Submitted:
    """Queue what converging the deployment launches: each missing server a launch unit that waits for the servers
    its env: inputs reference (operational ones are left alone, as `deploy` does)."""
    from ..deployments import env_servers
    from .controller import who
    from .converge import BLOCKING, desired, plan

    team_store(controller)
    check_queue_name(queue)
    check_parallel(parallel)
    want = desired(controller, path, inputs, cloud)  # every server, name, input and env: reference checked first
    steps = plan(controller, want)
    other = [c for c in steps.changes if c.action in (*BLOCKING, "resume", "replace")]
    if other:
        raise Conflict(f"deployment {steps.deployment!r}: " + "; ".join(f"{c.server}: {c.detail}" for c in other),
                       hint="Workers only launch missing servers: converge the others with 'stackscripts deploy' "
                            "without --queue.")
    launching = {c.server for c in steps.pending}
    if not launching:
        raise Conflict(f"deployment {steps.deployment!r} has nothing to launch: every server is operational",
                       hint=f"'stackscripts deploy {path} --plan' shows their drift.")
    deployment = want.deployment
    warning = served(controller, queue)
    fleet_id = new_fleet_id()
    shared = env_servers(deployment.inputs)
    units = []
    for position, server in enumerate(s for s in deployment.servers if s.name in launching):
        layers = list(want.layers[server.name])
        pin = pinning.pin(controller.store, controller.catalog, server.template, who=who(),
                          message=f"deploy {deployment.name}: {server.name}", check=_plan_check(layers))
        check_no_secret_text(pin.resolved, layers)
        unit = WorkUnit(fleet=fleet_id, server=server.name, kind="launch", revision=pin.revision,
                        template=pin.source or str(server.template), layers=unit_layers(layers),
                        cloud=server.cloud or want.cloud, image=server.image, deployment=deployment.name)
        after = tuple(sorted(((server.references() | shared) - {server.name}) & launching))
        units.append(UnitRecord(fleet_id, server.name, position, "pending", unit.to_json(), after))
    count = len(units)  # no failure threshold: a server whose reference failed is skipped, the others go on
    return _submit(controller, FleetRecord(fleet_id, "deploy", Phase.BOOT.value, queue, parallel, str(count), count,
                                           "running", str(deployment.path), None, who()), units, warning)


def _plan_check(layers: list[Layer]) -> Callable[[ResolvedTemplate], object]:
    return lambda resolved: build_plan(resolved, Phase.BOOT, layers)


def _submit(controller: Controller, fleet: FleetRecord, units: list[UnitRecord], warning: str | None) -> Submitted:
    store = team_store(controller)
    queue = open_queue(controller)
    try:
        store.create_fleet(fleet, units, queue)
    finally:
        queue.close()
    return Submitted(store.get_fleet(fleet.id), warning)


def new_fleet_id() -> str:
    return "f" + secrets.token_hex(5)


def fleet_status(controller: Controller, fleet: str) -> FleetRecord:
    """A fleet and each unit's state, run, worker and running step, as the store has them now."""
    return team_store(controller).get_fleet(fleet)


def list_fleets(controller: Controller, limit: int = 50) -> list[FleetRecord]:
    return team_store(controller).list_fleets(limit)


def cancel_fleet(controller: Controller, fleet: str) -> FleetRecord:
    """Cancel the units not started; the workers stop the running steps (recorded as cancelled)."""
    store = team_store(controller)
    store.get_fleet(fleet)  # NotFound before the queue is opened
    queue = open_queue(controller)
    try:
        return store.cancel_fleet(fleet, queue)
    finally:
        queue.close()


def list_workers(controller: Controller, *, stopped: bool = False) -> list[WorkerRecord]:
    """Alive workers (and, stopped=True, the others), with their load and last heartbeat."""
    return team_store(controller).list_workers(WORKER_EXPIRY, stopped=stopped)


__all__ = ["DEFAULT_QUEUE", "Submitted", "cancel_fleet", "fleet_status", "list_fleets", "list_workers", "open_queue",
           "submit_boot", "submit_deploy", "submit_launch"]
