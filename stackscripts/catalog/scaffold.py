"""Infer and write a script's metadata block from its body (inputs, defaults, attachments)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..model import InputSpec, Script
from . import j2, metadata, metadata_writer
from .block_edit import add_entries
from .scripts import not_a_script, read_text, shebang_of, yaml_kind
from .usage import input_candidates, is_environment, scan


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
    """The script's text with a complete metadata block. An existing block keeps every line as written: the new
    inputs and attachments are added as new lines (the whole block is rewritten only if its layout cannot take them)."""
    path = Path(path)
    text = read_text(path)
    kind = yaml_kind(path, text)
    if kind is not None:
        raise not_a_script(path, kind, "scaffold writes a RightScript metadata block into a script")
    parsed = metadata.parse(text, str(path))
    if parsed:
        meta, block = parsed
        marker = block.marker
    else:
        meta = metadata.Metadata(_title(path.stem), None, (), (), ())
        block, marker = None, "//" if path.suffix == ".js" else "#"
    probe = Script(name=meta.name, path=path, text=text, shebang=shebang_of(text))
    usage = scan(probe)
    new_attachments = [_on_disk(probe, a) for a in usage.attachments
                       if a not in meta.attachments and f"{a}.j2" not in meta.attachments]
    declared = {spec.name for spec in meta.inputs}
    new_inputs = []
    for name in [*input_candidates(probe), *_j2_inputs(probe, meta.attachments + tuple(new_attachments))]:
        if name in declared:
            continue
        declared.add(name)
        default = usage.defaults.get(name)
        new_inputs.append(InputSpec(
            name=name, category="Uncategorized", input_type="single", required=default is None,
            default=None if default is None else (f"text:{default}" if default else "blank"),
        ))
    if block is not None and not new_inputs and not new_attachments:
        return ScaffoldResult(path, text, False, (), ())
    added = (tuple(i.name for i in new_inputs), tuple(new_attachments))
    if block is not None:
        edited = add_entries(text, block, new_inputs, new_attachments)
        if edited is not None:
            return ScaffoldResult(path, edited, True, *added)
    meta = replace(meta, inputs=meta.inputs + tuple(new_inputs), attachments=meta.attachments + tuple(new_attachments))
    rendered = metadata_writer.render(meta, marker)
    lines = text.split("\n")
    if block is not None:
        new_lines = lines[: block.start - 1] + rendered.rstrip("\n").split("\n") + lines[block.end:]
    else:
        head = 1 if lines and lines[0].startswith("#!") else 0
        new_lines = lines[:head] + rendered.rstrip("\n").split("\n") + lines[head:]
    return ScaffoldResult(path, "\n".join(new_lines), True, *added)


def _on_disk(script: Script, name: str) -> str:
    """An attachment's name as it is in attachments/: `app.conf.j2` when only that file is there."""
    if not (script.attach_dir / name).exists() and (script.attach_dir / f"{name}.j2").is_file():
        return f"{name}.j2"
    return name


def _j2_inputs(script: Script, attachments: tuple[str, ...]) -> list[str]:
    """Variables the .j2 attachments read that no step is given otherwise: inputs the script must declare."""
    return [name for template in j2.templates_of(script.attach_dir, attachments) for name in template.variables
            if name not in j2.RENDER_VARS and not is_environment(name)]
