"""Many servers at once: bounded parallelism and a failure threshold like SSM's MaxErrors."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..errors import BadInput, Conflict, RunFailed, StackscriptsError
from ..model import Phase, RunResult, Script
from ..plan import ResolvedTemplate, build_plan
from . import pinning
from .inputs import Inputs, input_layers, recorded_layer

if TYPE_CHECKING:
    from .controller import Controller

Status = Literal["succeeded", "failed", "error", "skipped"]


@dataclass(frozen=True)
class ServerOutcome:
    """One server of a fleet or deployment: its status, its run's result if it ran, and why not if it did not."""

    server: str
    status: Status
    result: RunResult | None = None
    message: str | None = None

    @property
    def duration(self) -> float:
        if not self.result or not self.result.steps:
            return 0.0
        return self.result.steps[-1].ended - self.result.steps[0].started


@dataclass(frozen=True)
class FleetResult:
    """Every server's outcome, in the order the servers were given."""

    outcomes: tuple[ServerOutcome, ...]

    @property
    def ok(self) -> bool:
        return all(o.status == "succeeded" for o in self.outcomes)

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def error_budget(max_errors: str | int, total: int) -> int:
    """How many failures are tolerated: "3" or "10%" of the fleet (SSM MaxErrors semantics)."""
    text = str(max_errors).strip()
    count = re.fullmatch(r"[0-9]+", text)
    percent = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)%", text)
    if count:
        return int(text)
    if percent and float(percent[1]) <= 100:
        return int(total * float(percent[1]) / 100)
    raise BadInput(f"--max-errors {max_errors!r} is not a number of servers (0 or more) or a percentage from 0% to 100%",
                   hint="Write 5 or 10%.")


def check_parallel(parallel: int) -> int:
    """How many servers at once: a whole number, at least 1."""
    if isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1:
        raise BadInput(f"--parallel {parallel} must be at least 1", hint="Give how many servers to work on at once.")
    return parallel


def run_fleet(servers: Sequence[str], action: Callable[[str], RunResult], *, parallel: int = 20,
              max_errors: str | int = "0") -> FleetResult:
    """Run action on each server; once failures exceed the budget, servers not yet started are skipped."""
    check_parallel(parallel)
    if len(set(servers)) != len(servers):
        raise BadInput("a server is named twice", hint="Name each server once.")
    budget = error_budget(max_errors, len(servers))
    lock = threading.Lock()
    failures = [0]

    def one(server: str) -> ServerOutcome:
        with lock:
            if failures[0] > budget:
                return ServerOutcome(server, "skipped", message="failure threshold reached")
        try:
            return ServerOutcome(server, "succeeded", action(server))
        except RunFailed as exc:
            outcome = ServerOutcome(server, "failed", exc.result, exc.message)
        except StackscriptsError as exc:
            outcome = ServerOutcome(server, "error", None, str(exc))
        with lock:
            failures[0] += 1
        return outcome

    with ThreadPoolExecutor(max_workers=min(parallel, max(1, len(servers))), thread_name_prefix="fleet") as pool:
        outcomes = list(pool.map(one, servers))
    return FleetResult(tuple(outcomes))


def check_boot(controller: Controller, servers: Sequence[str], template: str | Path, inputs: Inputs = ()) -> None:
    """BadInput unless every server exists and the template, its scripts and the inputs are valid.

    They are the same for every server: checked once, a mistake is one error (exit 2), not one per server.
    """
    for server in servers:
        controller.store.get_server(server)
    resolved = pinning.resolve(template, controller.catalog)  # library references at the lock file's digests
    build_plan(resolved, Phase.BOOT, input_layers(inputs))


def fleet_boot(controller: Controller, servers: Sequence[str], template: str | Path, inputs: Inputs = (),
               parallel: int = 20, max_errors: str | int = "0") -> FleetResult:
    """Validate once (bad input fails before any server is touched), then boot every server."""
    check_boot(controller, servers, template, inputs)
    return run_fleet(servers, lambda s: controller.boot(s, template, inputs), parallel=parallel, max_errors=max_errors)


def _check_one(controller: Controller, server: str, script: str | Script, inputs: Inputs,
               templates: dict[str, ResolvedTemplate]) -> None:
    """What Controller.run (or adhoc.run_script, for a script file) checks before it connects: the server is
    operational, the script is in its template revision, every input resolves (credentials and env: references
    found, for a script of the template)."""
    from . import adhoc  # only a script run uses it: a fleet boot does not import it

    record = controller.operational(controller.store.get_server(server))
    if isinstance(script, Script):  # a script file: its inputs from the server's recorded ones it declares
        adhoc.script_layers(record, script, inputs)
        return
    key = record.revision or f"file:{record.template}"
    if key not in templates:
        templates[key] = controller.server_template(record)
    layers = [recorded_layer(record.inputs, "server"), *input_layers(inputs)]
    plan = build_plan(templates[key], Phase.OPERATIONAL, layers, server=server, only=script)
    controller.materialize(plan)


def check_run(controller: Controller, servers: Sequence[str], script: str, inputs: Inputs = ()) -> None:
    """BadInput (exit 2) unless every server can run the script: each one exists, is operational, its template
    revision has the script (or the script is a file, `adhoc.is_script_file`, whose metadata is sound) and the
    inputs resolve. Every server is checked; the problems make one message, each once with the servers it
    concerns."""
    from . import adhoc  # only a script run uses it: a fleet boot does not import it

    if not servers:
        raise BadInput("no server to run on", hint="Name the servers, or select them by deployment or group.")
    if len(set(servers)) != len(servers):
        raise BadInput("a server is named twice", hint="Name each server once.")
    loaded = adhoc.load_adhoc(script) if adhoc.is_script_file(script) else script
    problems: dict[str, list[str]] = {}
    templates: dict[str, ResolvedTemplate] = {}
    for server in servers:
        try:
            _check_one(controller, server, loaded, inputs, templates)
        except (BadInput, Conflict) as exc:
            problems.setdefault(str(exc), []).append(server)
    if problems:
        told = "; ".join(f"{', '.join(names)}: {text}" for text, names in problems.items())
        if len(servers) == 1:
            raise BadInput(told)
        count = sum(map(len, problems.values()))
        raise BadInput(f"{count} of {len(servers)} servers cannot run {script!r}, so none ran it: {told}",
                       hint="Fix them, or leave them out of the selection.")


def fleet_run(controller: Controller, servers: Sequence[str], script: str, inputs: Inputs = (),
              parallel: int = 20, max_errors: str | int = "0") -> FleetResult:
    """Run one Operational script on every server, each run recorded: by name or file stem (as `Controller.run`),
    or a script file (a path, or a .sh name, that exists: as `adhoc.run_script`, its own kept revision).

    Everything is checked first (`check_run`): a mistake is one BadInput before any server is touched."""
    from . import adhoc  # only a script run uses it: a fleet boot does not import it

    check_parallel(parallel)
    error_budget(max_errors, len(servers))
    check_run(controller, servers, script, inputs)
    if adhoc.is_script_file(script):
        return run_fleet(servers, lambda s: adhoc.run_script(controller, s, script, inputs), parallel=parallel,
                         max_errors=max_errors)
    return run_fleet(servers, lambda s: controller.run(s, script, inputs), parallel=parallel, max_errors=max_errors)
