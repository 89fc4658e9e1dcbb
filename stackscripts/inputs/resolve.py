"""Input precedence: script default < template < deployment < server < command line, with sources."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import BadInput
from ..model import InputSpec, InputValue, ResolvedInput, Script
from .values import check_name, parse_value

SOURCES = ("template", "deployment", "server", "command line")


@dataclass(frozen=True)
class Layer:
    """Values set at one level; strict layers may only name inputs the scripts declare."""

    source: str
    values: Mapping[str, InputValue]
    file: str | None = None
    lines: Mapping[str, int | None] = field(default_factory=dict)
    strict: bool = True

    @classmethod
    def from_raw(cls, source: str, raw: Mapping[str, str], *, file: str | None = None,
                 lines: Mapping[str, int | None] | None = None, strict: bool = True) -> Layer:
        lines = dict(lines or {})
        values = {name: parse_value(v, file=file, line=lines.get(name), name=name) for name, v in raw.items()}
        return cls(source, values, file, lines, strict)


def parse_assignments(items: Iterable[str]) -> Layer:
    """Command-line `-i NAME=text:value` items."""
    raw: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise BadInput(f"-i {item!r}: expected NAME=VALUE", hint="Write -i DOCKER_PACKAGE=text:docker.io.")
        try:
            check_name(name.strip())
        except BadInput as exc:
            raise BadInput(f"-i {item!r}: {exc.message}", hint=exc.hint) from None
        raw[name.strip()] = value
    try:
        return Layer.from_raw("command line", raw)
    except BadInput as exc:
        raise BadInput(f"-i: {exc.message}", hint=exc.hint) from None


def declared(scripts: Sequence[Script]) -> dict[str, tuple[InputSpec, Script]]:
    """Each input once, in first-use order; the first script declaring it supplies its spec."""
    specs: dict[str, tuple[InputSpec, Script]] = {}
    for script in scripts:
        for spec in script.inputs:
            specs.setdefault(spec.name, (spec, script))
    return specs


def resolve(scripts: Sequence[Script], layers: Sequence[Layer],
            required_for: Sequence[Script] | None = None) -> dict[str, ResolvedInput]:
    """The winning value of every declared input, validated against Required and Possible Values.

    Required is enforced for the inputs of `required_for` (default: every script): a boot needs its
    own inputs, not those an operational script will be given when it runs."""
    specs = declared(scripts)
    must = set(declared(required_for)) if required_for is not None else set(specs)
    for layer in layers:
        if not layer.strict:
            continue
        for name in layer.values:
            if name not in specs:
                import difflib

                close = difflib.get_close_matches(name, list(specs), n=1)
                raise BadInput(
                    f"{layer.source} sets input {name}, which no script of this template declares",
                    file=layer.file, line=layer.lines.get(name),
                    hint=(f"Did you mean {close[0]}? " if close else "") + "Declared: " + (", ".join(specs) or "none") + ".",
                )
    resolved: dict[str, ResolvedInput] = {}
    for name, (spec, script) in specs.items():
        value: InputValue | None = None
        source = "unset"
        where: tuple[str | None, int | None] = (str(script.path), spec.line)
        if spec.default is not None:
            value = parse_value(spec.default, file=str(script.path), line=spec.line, name=name)
            source = f"script default ({script.path.name})"
        for layer in layers:
            layer_value = layer.values.get(name)
            if layer_value is None or layer_value.kind == "inherit":
                continue
            value, source, where = layer_value, layer.source, (layer.file, layer.lines.get(name))
        if value is not None and value.kind == "inherit":
            value, source = None, "unset"
        _check(spec, value, where, source, enforce=name in must)
        resolved[name] = ResolvedInput(name=name, value=value, source=source, spec=spec)
    return resolved


def _check(spec: InputSpec, value: InputValue | None, where: tuple[str | None, int | None], source: str,
           *, enforce: bool = True) -> None:
    file, line = where
    # a value without a file came from the command line (or an API caller): say so
    by = "-i" if source == "command line" else source
    origin = f" (set by {by})" if file is None else ""
    missing = value is None or value.kind in ("ignore", "blank")
    if spec.required and missing and (enforce or value is not None):  # an explicit blank/ignore is always wrong
        what = "has no value" if value is None else f"is set to {value.kind}" + (f" by {by}" if file is None else "")
        raise BadInput(
            f"required input {spec.name} {what}" + (" (declared Required here)" if value is None else ""),
            file=file, line=line,
            hint=f"Set it in the template's Inputs, the deployment, or with -i {spec.name}=text:VALUE.",
        )
    if value is None:
        return
    if spec.input_type == "array" and value.kind == "text":
        raise BadInput(f"input {spec.name} is an array, but {value.unparse()!r}{origin} is a single value",
                       file=file, line=line, hint=f'Write array:["text:{value.text}"].')
    if spec.input_type == "single" and value.kind == "array":
        raise BadInput(f"input {spec.name} takes a single value, not an array{origin}", file=file, line=line,
                       hint="Write text:VALUE.")
    if spec.possible_values:
        allowed = set(spec.possible_values)
        items = value.items if value.kind == "array" else (value,)
        for item in items:
            if item.kind == "text" and item.unparse() not in allowed:
                raise BadInput(
                    f"input {spec.name}: {item.unparse()!r}{origin} is not one of its Possible Values",
                    file=file, line=line, hint="Use one of: " + ", ".join(spec.possible_values) + ".",
                )
