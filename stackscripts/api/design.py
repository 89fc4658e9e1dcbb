"""Scripts, templates, inputs and rendering: what a user sees before anything runs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from ..catalog.library import Catalog
from ..catalog.lint import Finding, lint_paths
from ..catalog.scaffold import ScaffoldResult, scaffold
from ..errors import BadInput
from ..inputs.creds import Credentials
from ..inputs.materialize import materialize
from ..inputs.resolve import Layer
from ..model import Phase, Plan, ResolvedInput, Script, Template
from ..plan import ResolvedTemplate, build_plan, resolve_inputs, resolve_template
from ..render.bundle import step_env
from ..render.cloudinit import EC2_USER_DATA_LIMIT, UserData, render_cloud_init
from ..render.cloudinit_secrets import InstanceCreds, SecretPolicy
from ..render.outdir import write_bundles
from ..templates import load_template
from .inputs import Inputs, input_layers

__all__ = [
    "catalog", "list_scripts", "show_script", "lint", "scaffold_script", "list_templates", "load_template",
    "validate_template", "unset_required", "template_inputs", "plan", "render_bundles", "render_user_data",
    "user_data", "UserData", "Finding",
]


_NO_PHASE = "none"  # resolve without enforcing Required (see plan.resolve_inputs)


def catalog(libraries: Sequence[str] | None = None) -> Catalog:
    """Libraries given as DIR or NAME=DIR; default $STACKSCRIPTS_LIBRARY, then ./scripts."""
    return Catalog.from_specs(list(libraries or []))


def _resolved(path: str | Path, libraries: Sequence[str] | None) -> ResolvedTemplate:
    """The template with every script found: paths, local libraries, and library references pinned to revisions
    of the cache (the lock file's when there is one; api.pins)."""
    from .pins import pin_template

    template, cat = load_template(path), catalog(libraries)
    pin_template(cat, template)
    return resolve_template(template, cat)


def list_scripts(libraries: Sequence[str] | None = None) -> list[Script]:
    cat = catalog(libraries)
    if not cat.libraries:
        raise BadInput("no script library",
                       hint="Pass --library DIR, set STACKSCRIPTS_LIBRARY, or run from a folder with scripts/.")
    return [lib.load(path) for lib in cat.libraries for path in lib.files()]


def show_script(ref: str, libraries: Sequence[str] | None = None) -> Script:
    return catalog(libraries).resolve(ref)


def lint(paths: Iterable[str | Path] = (), *, shellcheck: bool = True,
         libraries: Sequence[str] | None = None) -> list[Finding]:
    """Lint files and folders; with no paths, the libraries (given, else $STACKSCRIPTS_LIBRARY, else ./scripts)."""
    targets = list(paths)
    if libraries or not targets:
        targets += [lib.root for lib in catalog(libraries).libraries]
    if not targets:
        raise BadInput("nothing to lint: no paths given and no script library",
                       hint="Name scripts or folders, pass --library DIR, set STACKSCRIPTS_LIBRARY, "
                            "or run from a folder with scripts/.")
    return lint_paths(targets, shellcheck=shellcheck)


def scaffold_script(path: str | Path, *, write: bool = True) -> ScaffoldResult:
    result = scaffold(path)
    if write and result.changed:
        Path(path).write_text(result.text, "utf-8")
    return result


def list_templates(folder: str | Path = "servertemplates") -> list[Template]:
    root = Path(folder)
    if not root.is_dir():
        raise BadInput("no such template folder", file=str(root), hint="Run from the project folder or pass the folder.")
    return [load_template(p) for p in sorted(root.glob("*.y*ml"))]


def validate_template(path: str | Path, libraries: Sequence[str] | None = None,
                      overrides: Inputs = ()) -> ResolvedTemplate:
    """Load, resolve every script and check every value given; raises BadInput naming file and line.

    Required inputs left unset are not errors here (a deployment, server or -i may give them at launch):
    `unset_required` lists them."""
    resolved = _resolved(path, libraries)
    resolve_inputs(resolved, input_layers(overrides), phase=_NO_PHASE)
    return resolved


def unset_required(resolved: ResolvedTemplate, overrides: Inputs = ()) -> list[str]:
    """Required Boot inputs that still have no value."""
    inputs = resolve_inputs(resolved, input_layers(overrides), phase=_NO_PHASE)
    boot = {spec.name for _, script in resolved.steps.get(Phase.BOOT, ()) for spec in script.inputs}
    return [i.name for i in inputs.values() if i.name in boot and i.spec and i.spec.required and i.value is None]


def template_inputs(path: str | Path, overrides: Inputs = (), libraries: Sequence[str] | None = None,
                    layers: Sequence[Layer] = ()) -> list[ResolvedInput]:
    """Every input with its value and source; required inputs still unset are listed, not refused."""
    resolved = _resolved(path, libraries)
    extra = [*layers, *input_layers(overrides)]
    return list(resolve_inputs(resolved, extra, phase=_NO_PHASE).values())


def plan(path: str | Path, phase: Phase | str = Phase.BOOT, overrides: Inputs = (),
         libraries: Sequence[str] | None = None, layers: Sequence[Layer] = (), only: str | None = None) -> Plan:
    phase = phase if isinstance(phase, Phase) else _phase(phase)
    resolved = _resolved(path, libraries)
    extra = [*layers, *input_layers(overrides)]
    return build_plan(resolved, phase, extra, only=only)


def _phase(text: str) -> Phase:
    try:
        return Phase.parse(text)
    except ValueError:
        raise BadInput(f"unknown phase {text!r}", hint="Use boot, operational or decommission.") from None


def _envs(the_plan: Plan, include_secrets: bool, creds: Credentials | None, server: str | None,
          run_id: str | None, policy: SecretPolicy | None = None) -> dict[int, dict[str, str]]:
    """Each step's environment as a run gives it: STACKSCRIPTS_SERVER (default: the template's file stem) and one
    new STACKSCRIPTS_RUN_ID for the whole render, so that `.j2` attachments render as they do in a run."""
    if run_id is None:
        from ..store.rows import new_run_id

        run_id = new_run_id()
    server = server or the_plan.template.path.stem
    envs = {}
    for step in the_plan.steps:
        if policy is not None:
            inputs = policy.embedded(step)
        else:
            inputs = step.inputs if include_secrets else tuple(i for i in step.inputs if not i.secret)
        envs[step.index] = step_env(step, materialize(inputs, creds), server=server, run_id=run_id)
    return envs


def render_bundles(path: str | Path, out_dir: str | Path, phase: Phase | str = Phase.BOOT,
                   overrides: Inputs = (), libraries: Sequence[str] | None = None,
                   include_secrets: bool = False, creds: Credentials | None = None, *, server: str | None = None,
                   run_id: str | None = None) -> list[Path]:
    """One runnable bundle per step under out_dir, written all or nothing (secret inputs only with include_secrets)."""
    the_plan = plan(path, phase, overrides, libraries)
    envs = _envs(the_plan, include_secrets, creds, server, run_id)
    return write_bundles([(step, envs[step.index]) for step in the_plan.steps], out_dir)


def user_data(path: str | Path, overrides: Inputs = (), libraries: Sequence[str] | None = None, *,
              include_secrets: bool = False, creds_on_instance: str | None = None,
              max_size: int | None = EC2_USER_DATA_LIMIT, gzip: bool = False, creds: Credentials | None = None,
              server: str | None = None, run_id: str | None = None) -> UserData:
    """The boot sequence as cloud-init user-data, refused (BadInput) over max_size bytes (EC2's 16384; None: no
    limit). A secret input is refused unless the instance fetches it at boot (creds_on_instance: "ssm" or
    "secretsmanager", for cred: values) or include_secrets embeds it (UserData.notes then says what that means)."""
    the_plan = plan(path, Phase.BOOT, overrides, libraries)
    on_instance = InstanceCreds.named(creds_on_instance) if creds_on_instance else None
    policy = SecretPolicy(include_secrets=include_secrets, on_instance=on_instance)
    policy.check(the_plan)  # before any credential is fetched
    envs = _envs(the_plan, include_secrets, creds, server, run_id, policy)
    return render_cloud_init(the_plan, envs, policy, max_size=max_size, gzip=gzip)


def render_user_data(path: str | Path, overrides: Inputs = (), libraries: Sequence[str] | None = None,
                     include_secrets: bool = False, creds: Credentials | None = None, *, server: str | None = None,
                     run_id: str | None = None) -> str:
    """The boot sequence as cloud-init user-data text, no size limit (user_data() checks it and says more)."""
    return user_data(path, overrides, libraries, include_secrets=include_secrets, max_size=None, creds=creds,
                     server=server, run_id=run_id).text
