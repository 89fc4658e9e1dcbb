"""Infer and write a script's metadata block from its body (inputs, defaults, attachments)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..model import InputSpec, Script
from . import metadata
from .scripts import read_text, shebang_of
from .usage import input_candidates, scan


@dataclass(frozen=True)
class ScaffoldResult:
    path: Path
    text: str
    changed: bool
    added_inputs: tuple[str, ...]
    added_attachments: tuple[str, ...]


def _title(stem: str) -> str:
    return " ".join(word.capitalize() for word in stem.replace("_", "-").split("-") if word)


def scaffold(path: Path | str) -> ScaffoldResult:
    """The script's text with a complete metadata block; existing entries are kept as written."""
    path = Path(path)
    text = read_text(path)
    parsed = metadata.parse(text, str(path))
    if parsed:
        meta, block = parsed
        marker = block.marker
    else:
        meta = metadata.Metadata(_title(path.stem), None, (), (), ())
        block, marker = None, "//" if path.suffix == ".js" else "#"
    probe = Script(name=meta.name, path=path, text=text, shebang=shebang_of(text))
    usage = scan(probe)
    declared = {spec.name for spec in meta.inputs}
    new_inputs = []
    for name in input_candidates(probe):
        if name in declared:
            continue
        default = usage.defaults.get(name)
        new_inputs.append(InputSpec(
            name=name, category="Uncategorized", input_type="single", required=default is None,
            default=None if default is None else (f"text:{default}" if default else "blank"),
        ))
    new_attachments = [a for a in usage.attachments if a not in meta.attachments and f"{a}.j2" not in meta.attachments]
    if block is not None and not new_inputs and not new_attachments:
        return ScaffoldResult(path, text, False, (), ())
    meta = replace(meta, inputs=meta.inputs + tuple(new_inputs), attachments=meta.attachments + tuple(new_attachments))
    rendered = metadata.render(meta, marker)
    lines = text.split("\n")
    if block is not None:
        new_lines = lines[: block.start - 1] + rendered.rstrip("\n").split("\n") + lines[block.end:]
    else:
        head = 1 if lines and lines[0].startswith("#!") else 0
        new_lines = lines[:head] + rendered.rstrip("\n").split("\n") + lines[head:]
    return ScaffoldResult(path, "\n".join(new_lines), True, tuple(i.name for i in new_inputs), tuple(new_attachments))
