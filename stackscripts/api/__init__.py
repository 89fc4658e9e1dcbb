"""The public Python API: what the CLI calls, and what Python users call (see docs/api.md).

    from stackscripts.api import Controller, Cred, RunState

    with Controller("audit.db") as c:
        result = c.boot("web1", "servertemplates/app.yml", inputs={"GREETING": "hello", "DB_PASSWORD": Cred("db")})
        assert result.state is RunState.SUCCEEDED

Every name is imported on first use (`import stackscripts.api` loads no SSH, cloud or CLI library);
type checkers see them through the imports below.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..catalog.lint import Finding
    from ..catalog.scaffold import ScaffoldResult
    from ..errors import BadInput, CloudError, Conflict, ConnectionFailed, HostKeyMismatch, NotFound, RunFailed, StackscriptsError
    from ..events import Event, RunFinished, RunStarted, StepFinished, StepOutput, StepStarted, Subscriber
    from ..inputs.creds import Credentials
    from ..model import (
        InputValue,
        Phase,
        Plan,
        PlannedStep,
        ResolvedInput,
        RunResult,
        RunState,
        Script,
        ServerState,
        StepResult,
        Template,
    )
    from ..plan import ResolvedTemplate
    from ..queue.unit import WorkUnit
    from ..render.cloudinit import UserData
    from ..store.base import RunRecord, ServerRecord, StepRecord, Store
    from ..store.fleets import FleetRecord, UnitRecord, WorkerRecord
    from . import libraries, output, reports, revisions, store
    from .adhoc import run_script
    from .controller import Controller
    from .deploy import Deployed, deploy
    from .deployments import DeploymentRecord, get_deployment, list_deployments, terminate_deployment
    from .design import (
        catalog,
        lint,
        list_scripts,
        list_templates,
        load_template,
        plan,
        render_bundles,
        render_user_data,
        scaffold_script,
        show_script,
        template_inputs,
        unset_required,
        user_data,
        validate_template,
    )
    from .fleet import FleetResult, ServerOutcome, check_run, fleet_boot, fleet_run, run_fleet
    from .inputs import BLANK, IGNORE, INHERIT, Array, Cred, Env, InputArg, Inputs, Text
    from .inventory import import_servers
    from .launcher import Discrepancy, Launcher
    from .queued import (
        Submitted,
        cancel_fleet,
        fleet_status,
        list_fleets,
        list_workers,
        submit_boot,
        submit_deploy,
        submit_launch,
    )
    from .shell import ShellResult, run_ssh, ssh_invocation
    from .snapshots import (
        Diff,
        Drift,
        Revision,
        RevisionRecord,
        ServerEvent,
        commit_template,
        diff_revisions,
        list_revisions,
        show_revision,
        template_drift,
        upgrade_server,
    )
    from .worker import Worker

_HOME: dict[str, tuple[str, ...]] = {
    ".controller": ("Controller",),
    ".launcher": ("Launcher", "Discrepancy"),
    ".fleet": ("fleet_boot", "fleet_run", "check_run", "run_fleet", "FleetResult", "ServerOutcome"),
    ".deploy": ("deploy", "Deployed"),
    ".deployments": ("list_deployments", "get_deployment", "terminate_deployment", "DeploymentRecord"),
    ".adhoc": ("run_script",),
    ".shell": ("run_ssh", "ssh_invocation", "ShellResult"),
    ".inventory": ("import_servers",),
    ".queued": ("submit_boot", "submit_deploy", "submit_launch", "fleet_status", "list_fleets", "cancel_fleet",
                "list_workers", "Submitted"),
    ".worker": ("Worker",),
    "..store.fleets": ("FleetRecord", "UnitRecord", "WorkerRecord"),
    "..queue.unit": ("WorkUnit",),
    ".design": ("catalog", "lint", "list_scripts", "list_templates", "load_template", "plan", "render_bundles",
                "render_user_data", "scaffold_script", "show_script", "template_inputs", "unset_required",
                "user_data", "validate_template"),
    "..render.cloudinit": ("UserData",),
    ".inputs": ("Text", "Cred", "Env", "Array", "BLANK", "IGNORE", "INHERIT", "InputArg", "Inputs"),
    "..model": ("RunResult", "StepResult", "RunState", "Phase", "ServerState", "Plan", "PlannedStep", "Script",
                "Template", "InputValue", "ResolvedInput"),
    "..store.base": ("RunRecord", "StepRecord", "ServerRecord", "Store"),
    "..errors": ("StackscriptsError", "BadInput", "NotFound", "ConnectionFailed", "HostKeyMismatch", "CloudError",
                 "Conflict", "RunFailed"),
    "..events": ("Event", "Subscriber", "RunStarted", "StepStarted", "StepOutput", "StepFinished", "RunFinished"),
    "..catalog.lint": ("Finding",),
    "..catalog.scaffold": ("ScaffoldResult",),
    "..plan": ("ResolvedTemplate",),
    "..inputs.creds": ("Credentials",),
    ".snapshots": ("commit_template", "list_revisions", "show_revision", "diff_revisions", "upgrade_server",
                   "template_drift", "Revision", "RevisionRecord", "ServerEvent", "Drift", "Diff"),
}
_WHERE = {name: module for module, names in _HOME.items() for name in names}

__all__ = [
    "Array", "BLANK", "BadInput", "CloudError", "Conflict", "ConnectionFailed", "Controller", "Cred", "Credentials",
    "Discrepancy", "Env", "Event", "Finding", "FleetResult", "HostKeyMismatch", "IGNORE", "INHERIT", "InputArg",
    "InputValue", "Inputs", "Launcher", "NotFound", "Phase", "Plan", "PlannedStep", "ResolvedInput", "ResolvedTemplate",
    "RunFailed", "RunFinished", "RunRecord", "RunResult", "RunStarted", "RunState", "ScaffoldResult", "Script",
    "ServerOutcome", "ServerRecord", "ServerState", "StackscriptsError", "StepFinished", "StepOutput", "StepRecord",
    "StepResult", "StepStarted", "Store", "Subscriber", "Template", "Text", "UserData", "catalog", "deploy",
    "fleet_boot", "libraries", "lint", "list_scripts", "list_templates", "load_template", "output", "plan",
    "render_bundles",
    "render_user_data", "reports",
    "revisions", "run_fleet", "scaffold_script", "store", "show_script", "template_inputs", "unset_required", "user_data",
    "validate_template",
    # template revisions and pinning (api/snapshots.py)
    "Diff", "Drift", "Revision", "RevisionRecord", "ServerEvent", "commit_template", "diff_revisions", "list_revisions",
    "show_revision", "template_drift", "upgrade_server",
    # queued fleets and workers (api/queued.py, api/worker.py; docs/scaling.md)
    "FleetRecord", "Submitted", "UnitRecord", "WorkUnit", "Worker", "WorkerRecord", "cancel_fleet", "fleet_status",
    "list_fleets", "list_workers", "submit_boot", "submit_deploy", "submit_launch",
    # deployments and servers as a team operates them (api/deploy.py, deployments.py, fleet.py, adhoc.py, shell.py,
    # inventory.py; docs/deployments.md)
    "Deployed", "DeploymentRecord", "ShellResult", "check_run", "fleet_run", "get_deployment", "import_servers",
    "list_deployments", "run_script", "run_ssh", "ssh_invocation", "terminate_deployment",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use, then keep it here."""
    if name in ("reports", "libraries", "output", "revisions", "store"):
        value: Any = import_module(f".{name}", __name__)
    elif name in _WHERE:
        value = getattr(import_module(_WHERE[name], __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
