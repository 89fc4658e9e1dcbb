"""Ad-hoc scripts: any RightScript file run once on an operational server, recorded with its own revision.

    result = run_script(controller, "web1", "tools/rotate-logs.sh", inputs=["KEEP=text:7"])

The file is parsed as the catalog parses scripts (its metadata block is optional; bad metadata is BadInput with
the file and line), made into a one-script template revision named `adhoc/<script name>` (its Operational phase
is that script) and kept in the store, so that the run names a revision whose manifest holds the script's bytes,
and `resume` and `runs show` treat it like any operational run. Inputs: the script's defaults, the server's recorded
inputs, then `inputs` (highest).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .. import files
from ..catalog.scripts import attachment_line, load_script, missing_attachments
from ..errors import BadInput
from ..executor import Cancel
from ..inputs.materialize import masked
from ..inputs.resolve import Layer, resolve
from ..model import Phase, RunResult, Script
from ..plan import ResolvedTemplate, build_plan
from ..revisions.snapshot import TEMPLATE, ScriptFiles, Snapshot, Step, build
from ..store.base import RevisionRecord, ServerRecord
from ..templates import load_template
from . import pinning
from .inputs import Inputs, input_layers, recorded_layer

if TYPE_CHECKING:
    from .controller import Controller

__all__ = ["ADHOC_PREFIX", "adhoc_snapshot", "is_script_file", "load_adhoc", "load_revision", "run_script",
           "script_layers"]

ADHOC_PREFIX = "adhoc/"
SCRIPT_ENDINGS = (".sh", ".bash")
DESCRIPTION = "An ad-hoc script, run with 'stackscripts run SERVER FILE'."


def is_script_file(text: str) -> bool:
    """Whether `stackscripts run SERVER SCRIPT` takes SCRIPT as a script file (a path, or a .sh/.bash name, that
    exists) rather than the name of one of the server's Operational scripts."""
    return ("/" in text or text.endswith(SCRIPT_ENDINGS)) and Path(text).is_file()


def load_adhoc(path: str | Path) -> Script:
    """The script file with its metadata checked (optional; its errors name the file and line) and its attachments
    present."""
    script = load_script(Path(path), require_metadata=False)
    if not script.text.strip():
        raise BadInput("the script is empty", file=str(path), line=1, hint="Write the commands it should run.")
    missing = missing_attachments(script)
    if missing:
        raise BadInput(f"script {script.name!r} lists attachment {missing[0]!r}, which does not exist",
                       file=str(script.path), line=attachment_line(script, missing[0]),
                       hint=f"Add {script.attach_dir / missing[0]} or remove it from Attachments.")
    return script


def adhoc_snapshot(script: Script) -> Snapshot:
    """The one-script template revision of a script: the same bytes give the same revision on every machine."""
    attachments = {name: files.read_bytes(script.attach_dir / name, "attachment") for name in script.attachments}
    key = os.path.realpath(script.path)
    template = {"Name": ADHOC_PREFIX + script.name, "Description": DESCRIPTION}
    return build(template, {Phase.OPERATIONAL: [Step(key)]},
                 {key: ScriptFiles(script.path.name, script.text.encode("utf-8"), attachments)})


def keep_adhoc(controller: Controller, script: Script, *, message: str) -> str:
    """Keep the script's revision and its files' bytes in the store (as `pinning.keep` does); its digest."""
    from .controller import who

    snapshot = adhoc_snapshot(script)
    record = RevisionRecord(snapshot.digest, ADHOC_PREFIX + script.name, time.time(), who(), message,
                            snapshot.manifest.canonical, str(script.path.resolve()))
    controller.store.put_revision(record, {e.sha256: snapshot.files[e.path] for e in snapshot.manifest.entries})
    return snapshot.digest


def load_revision(controller: Controller, revision: str) -> ResolvedTemplate:
    """A kept ad-hoc revision resolved inside its tree (as `pinning.load` does; its script may have no metadata)."""
    tree = pinning.materialise(controller.store, revision)
    template = load_template(tree / TEMPLATE)
    steps = {phase: tuple((ref, load_adhoc(tree / ref.key)) for ref in template.steps(phase)) for phase in Phase}
    return ResolvedTemplate(template, steps)


def script_layers(record: ServerRecord, script: Script, inputs: Inputs = ()) -> list[Layer]:
    """The script's input layers on this server: the server's recorded inputs it declares, then `inputs`; resolved
    once against the user's file (BadInput naming it), before anything is kept."""
    declared = {spec.name for spec in script.inputs}
    layers = [recorded_layer({k: v for k, v in record.inputs.items() if k in declared}, "server"),
              *input_layers(inputs)]
    resolve([script], layers)
    return layers


def run_script(controller: Controller, server: str, path: str | Path, inputs: Inputs = (), *,
               cancel: Cancel | None = None) -> RunResult:
    """Run a script file once on an operational server, as an Operational run of its own kept revision; RunFailed
    (with the result) if it fails, Conflict if the server is not operational, BadInput for a bad file or input."""
    from .controller import Controller

    record = Controller.operational(controller.store.get_server(server))
    script = load_adhoc(path)
    layers = script_layers(record, script, inputs)
    revision = keep_adhoc(controller, script, message=f"ad-hoc run on {server}")
    plan = build_plan(load_revision(controller, revision), Phase.OPERATIONAL, layers, server=server)
    view = masked(step_input for step in plan.steps for step_input in step.inputs)
    return controller.execute(record, plan, view, revision=revision, template=str(script.path.resolve()),
                              cancel=cancel)
