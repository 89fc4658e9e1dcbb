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
from ..inputs.resolve import Layer, parse_assignments
from ..model import Phase, Plan, ResolvedInput, Script, Template
from ..plan import ResolvedTemplate, build_plan, resolve_inputs, resolve_template
from ..render.bundle import bundle_dirname, step_env, write_bundle
from ..render.cloudinit import render_cloud_init
from ..templates import load_template

__all__ = [
    "catalog", "list_scripts", "show_script", "lint", "scaffold_script", "list_templates", "load_template",
    "validate_template", "unset_required", "template_inputs", "plan", "render_bundles", "render_user_data", "Finding",
]


_NO_PHASE = "none"  # resolve without enforcing Required (see plan.resolve_inputs)


def catalog(libraries: Sequence[str] | None = None) -> Catalog:
    """Libraries given as DIR or NAME=DIR; default $STACKSCRIPTS_LIBRARY, then ./scripts."""
    return Catalog.from_specs(list(libraries or []))


def list_scripts(libraries: Sequence[str] | None = None) -> list[Script]:
    cat = catalog(libraries)
    if not cat.libraries:
        raise BadInput("no script library",
                       hint="Pass --library DIR, set STACKSCRIPTS_LIBRARY, or run from a folder with scripts/.")
    return [lib.load(path) for lib in cat.libraries for path in lib.files()]


def show_script(ref: str, libraries: Sequence[str] | None = None) -> Script:
    return catalog(libraries).resolve(ref)


def lint(paths: Iterable[str | Path], *, shellcheck: bool = True) -> list[Finding]:
    return lint_paths(paths, shellcheck=shellcheck)


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
                      overrides: Sequence[str] = ()) -> ResolvedTemplate:
    """Load, resolve every script and check every value given; raises BadInput naming file and line.

    Required inputs left unset are not errors here (a deployment, server or -i may give them at launch):
    `unset_required` lists them."""
    resolved = resolve_template(load_template(path), catalog(libraries))
    resolve_inputs(resolved, [parse_assignments(overrides)] if overrides else [], phase=_NO_PHASE)
    return resolved


def unset_required(resolved: ResolvedTemplate, overrides: Sequence[str] = ()) -> list[str]:
    """Required Boot inputs that still have no value."""
    inputs = resolve_inputs(resolved, [parse_assignments(overrides)] if overrides else [], phase=_NO_PHASE)
    boot = {spec.name for _, script in resolved.steps.get(Phase.BOOT, ()) for spec in script.inputs}
    return [i.name for i in inputs.values() if i.name in boot and i.spec and i.spec.required and i.value is None]


def template_inputs(path: str | Path, overrides: Sequence[str] = (), libraries: Sequence[str] | None = None,
                    layers: Sequence[Layer] = ()) -> list[ResolvedInput]:
    """Every input with its value and source; required inputs still unset are listed, not refused."""
    resolved = resolve_template(load_template(path), catalog(libraries))
    extra = [*layers, parse_assignments(overrides)] if overrides else list(layers)
    return list(resolve_inputs(resolved, extra, phase=_NO_PHASE).values())


def plan(path: str | Path, phase: Phase | str = Phase.BOOT, overrides: Sequence[str] = (),
         libraries: Sequence[str] | None = None, layers: Sequence[Layer] = (), only: str | None = None) -> Plan:
    phase = phase if isinstance(phase, Phase) else _phase(phase)
    resolved = resolve_template(load_template(path), catalog(libraries))
    extra = [*layers, parse_assignments(overrides)] if overrides else list(layers)
    return build_plan(resolved, phase, extra, only=only)


def _phase(text: str) -> Phase:
    try:
        return Phase.parse(text)
    except ValueError:
        raise BadInput(f"unknown phase {text!r}", hint="Use boot, operational or decommission.") from None


def _envs(the_plan: Plan, include_secrets: bool, creds: Credentials | None) -> dict[int, dict[str, str]]:
    envs = {}
    for step in the_plan.steps:
        inputs = step.inputs if include_secrets else tuple(i for i in step.inputs if not i.secret)
        envs[step.index] = step_env(step, materialize(inputs, creds))
    return envs


def render_bundles(path: str | Path, out_dir: str | Path, phase: Phase | str = Phase.BOOT,
                   overrides: Sequence[str] = (), libraries: Sequence[str] | None = None,
                   include_secrets: bool = False, creds: Credentials | None = None) -> list[Path]:
    """One runnable bundle per step under out_dir (secret inputs only with include_secrets)."""
    the_plan = plan(path, phase, overrides, libraries)
    envs = _envs(the_plan, include_secrets, creds)
    out = Path(out_dir)
    return [write_bundle(step, envs[step.index], out / bundle_dirname(step)) for step in the_plan.steps]


def render_user_data(path: str | Path, overrides: Sequence[str] = (), libraries: Sequence[str] | None = None,
                     include_secrets: bool = False, creds: Credentials | None = None) -> str:
    """The boot sequence as cloud-init user-data."""
    the_plan = plan(path, Phase.BOOT, overrides, libraries)
    if not include_secrets:
        for step in the_plan.steps:
            for item in step.inputs:
                if item.secret and item.value is not None:
                    raise BadInput(
                        f"step {step.name!r} needs secret input {item.name} ({item.value.unparse()}), and user-data "
                        "can be read by anyone with access to the instance's metadata",
                        file=str(the_plan.template.path),
                        hint="Pass --include-secrets to embed it anyway, or give the instance the value another way.")
    return render_cloud_init(the_plan, _envs(the_plan, include_secrets, creds))
