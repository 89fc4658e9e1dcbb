"""Build a plan: a template phase with its scripts resolved and each step's inputs resolved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .catalog.library import Catalog
from .catalog.scripts import attachment_line, missing_attachments
from .errors import BadInput
from .inputs.resolve import Layer, resolve
from .model import Phase, Plan, PlannedStep, ResolvedInput, Script, ScriptRef, Template


@dataclass(frozen=True)
class ResolvedTemplate:
    """A template with every script reference resolved to a Script, in phase order."""

    template: Template
    steps: dict[Phase, tuple[tuple[ScriptRef, Script], ...]]

    def scripts(self) -> list[Script]:
        seen: dict[str, Script] = {}
        for phase in Phase:
            for _, script in self.steps.get(phase, ()):
                seen.setdefault(str(script.path), script)
        return list(seen.values())


def resolve_template(template: Template, catalog: Catalog) -> ResolvedTemplate:
    """Find every script; an unknown script or a missing attachment is an error naming the line."""
    base = template.path.parent
    steps: dict[Phase, tuple[tuple[ScriptRef, Script], ...]] = {}
    for phase in Phase:
        resolved = []
        for ref in template.steps(phase):
            script = catalog.resolve(ref.key, base, file=str(template.path), line=ref.line)
            missing = missing_attachments(script)
            if missing:
                raise BadInput(f"script {script.name!r} lists attachment {missing[0]!r}, which does not exist",
                               file=str(script.path), line=attachment_line(script, missing[0]),
                               hint=f"Add {script.attach_dir / missing[0]} or remove it from Attachments.")
            resolved.append((ref, script))
        steps[phase] = tuple(resolved)
    return ResolvedTemplate(template, steps)


def template_layer(template: Template) -> Layer:
    return Layer.from_raw("template", dict(template.inputs), file=str(template.path), lines=template.input_lines)


def resolve_inputs(resolved: ResolvedTemplate, layers: Sequence[Layer] = (),
                   phase: Phase | str | None = Phase.BOOT) -> dict[str, ResolvedInput]:
    """Every input of every phase, the template's own overrides first; Required enforced for `phase`'s
    scripts (all phases when phase is None, none when it is any other non-Phase value)."""
    if phase is None:
        required_for = None
    elif isinstance(phase, Phase):
        required_for = [script for _, script in resolved.steps.get(phase, ())]
    else:
        required_for = []
    return resolve(resolved.scripts(), [template_layer(resolved.template), *layers], required_for)


def build_plan(resolved: ResolvedTemplate, phase: Phase, layers: Sequence[Layer] = (),
               server: str | None = None, only: str | None = None) -> Plan:
    """The steps of one phase; `only` picks one script by name, file stem or ref (operational runs)."""
    entries = resolved.steps.get(phase, ())
    if only is not None:
        entries = tuple(e for e in entries if only in (e[1].name, e[1].path.stem, e[1].path.name, e[0].ref))
        if not entries:
            names = ", ".join(s.path.stem for _, s in resolved.steps.get(phase, ())) or "none"
            raise BadInput(f"template {resolved.template.name!r} has no {phase.value} script {only!r}",
                           file=str(resolved.template.path), hint=f"{phase.value} scripts: {names}.")
    inputs = resolve(resolved.scripts(), [template_layer(resolved.template), *layers], [s for _, s in entries])
    steps = tuple(
        PlannedStep(index=i, phase=phase, script=script,
                    inputs=tuple(inputs[spec.name] for spec in script.inputs),
                    timeout=ref.timeout, retries=ref.retries, stage=ref.stage)
        for i, (ref, script) in enumerate(entries)
    )
    return Plan(template=resolved.template, phase=phase, steps=steps, server=server)
