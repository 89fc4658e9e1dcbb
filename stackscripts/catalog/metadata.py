"""The RightScript metadata block: find it and parse it strictly (metadata_writer writes it back)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import yamlsrc
from ..errors import BadInput
from ..inputs.values import check_name, parse_value
from ..model import InputSpec

_COMMENT = re.compile(r"^\s*(#|//|--)\s?(.*)$")
_START = re.compile(r"^\s*(#|//|--)\s?\s*-{3}\s*$")
_END = re.compile(r"^\s*(#|//|--)\s?\s*\.{3}\s*$")

TOP_KEYS = ("RightScript Name", "Description", "Packages", "Inputs", "Attachments")
INPUT_KEYS = ("Category", "Description", "Input Type", "Required", "Advanced", "Default", "Possible Values")


@dataclass(frozen=True)
class Block:
    """Where a metadata block sits in a file (1-based, inclusive) and its YAML text."""

    start: int
    end: int
    marker: str
    yaml_text: str


@dataclass(frozen=True)
class Metadata:
    name: str
    description: str | None
    packages: tuple[str, ...]
    inputs: tuple[InputSpec, ...]
    attachments: tuple[str, ...]


def comment_text(line: str) -> str | None:
    """The text of a comment line after its marker (#, // or --), None for a line that is not a comment."""
    found = _COMMENT.match(line)
    return found.group(2) if found else None


def find_block(text: str, file: str) -> Block | None:
    """Locate the first metadata block; an unterminated one is an error."""
    lines = text.split("\n")
    start = None
    body: list[str] = []
    marker = "#"
    for number, line in enumerate(lines, 1):
        if start is None:
            found = _START.match(line)
            if found:
                start, marker = number, found.group(1)
                body.append("---")
            continue
        if _END.match(line):
            body.append("...")
            return Block(start, number, marker, "\n".join(body) + "\n")
        comment = _COMMENT.match(line)
        if not comment or comment.group(1) != marker:
            break
        body.append(comment.group(2))
    if start is None:
        return None
    raise BadInput(
        "unterminated RightScript metadata block",
        file=file,
        line=start,
        hint=f"Close the block opened here with a line '{marker} ...' before the first line that is not a '{marker}' comment.",
    )


def parse(text: str, file: str) -> tuple[Metadata, Block] | None:
    """Parse the metadata block of a script's text; None if it has none."""
    block = find_block(text, file)
    if block is None:
        return None
    lines = list(range(block.start, block.end + 1))
    data = yamlsrc.load(block.yaml_text, file, lines)
    return _metadata(data, file, block), block


def _metadata(data: Any, file: str, block: Block) -> Metadata:
    if data is None:
        raise BadInput("the metadata block is empty", file=file, line=block.start,
                       hint=f"Write '{block.marker} RightScript Name: ...' and '{block.marker} Inputs: {{}}' between "
                            f"'{block.marker} ---' and '{block.marker} ...'.")
    if not isinstance(data, dict):
        raise BadInput("the metadata block must be a YAML mapping", file=file, line=block.start,
                       hint=f"Start it with '{block.marker} RightScript Name: ...'.")
    for key in data:
        if key not in TOP_KEYS:
            raise BadInput(f"unknown metadata key {key!r}", file=file, line=yamlsrc.line_of(data, key),
                           hint=_did_you_mean(key, TOP_KEYS))
    name = data.get("RightScript Name")
    if name is not None and not isinstance(name, str):
        raise BadInput("'RightScript Name' must be text", file=file, line=yamlsrc.line_of(data, "RightScript Name"),
                       hint="Quote it, e.g. 'RightScript Name: \"42\"'.")
    if not isinstance(name, str) or not name.strip():
        raise BadInput("missing 'RightScript Name'", file=file,
                       line=yamlsrc.line_of(data, "RightScript Name") if "RightScript Name" in data else block.start,
                       hint="Add '# RightScript Name: Install Docker' to the block.")
    if "Inputs" not in data:
        raise BadInput("missing 'Inputs'", file=file, line=block.end,
                       hint="Add '# Inputs: {}' if the script takes no inputs.")
    description = _optional_str(data, "Description", file)
    packages = data.get("Packages") or []
    if isinstance(packages, str):
        packages = tuple(packages.split())
    elif isinstance(packages, list) and all(isinstance(p, str) for p in packages):
        packages = tuple(packages)
    else:
        raise BadInput("'Packages' must be a list of package names", file=file,
                       line=yamlsrc.line_of(data, "Packages"),
                       hint="Write '# Packages: curl jq' (names separated by spaces).")
    inputs = _inputs(data.get("Inputs"), file, yamlsrc.line_of(data, "Inputs"))
    attachments = _attachments(data.get("Attachments"), file, yamlsrc.line_of(data, "Attachments"))
    return Metadata(name.strip(), description, packages, inputs, attachments)


def _optional_str(data: dict, key: str, file: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise BadInput(f"{key!r} must be text", file=file, line=yamlsrc.line_of(data, key),
                   hint=f"Quote the value of {key}.")


def _inputs(raw: Any, file: str, line: int | None) -> tuple[InputSpec, ...]:
    if raw is None or raw == {}:
        return ()
    if not isinstance(raw, dict):
        raise BadInput("'Inputs' must be a mapping of input names", file=file, line=line,
                       hint="Write '# Inputs:' then '#   NAME:' lines, or '# Inputs: {}'.")
    specs = []
    for name, spec in raw.items():
        key_line = yamlsrc.line_of(raw, name)
        check_name(name, file=file, line=key_line)
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            raise BadInput(f"input {name}: its definition must be a mapping", file=file, line=key_line,
                           hint="Indent 'Category:', 'Description:', 'Input Type:'... under the input name.")
        specs.append(_input(name, spec, file, key_line))
    return tuple(specs)


def _input(name: str, spec: dict, file: str, key_line: int | None) -> InputSpec:
    def line(key: str) -> int | None:
        return yamlsrc.line_of(spec, key)

    for key in spec:
        if key not in INPUT_KEYS:
            raise BadInput(f"input {name}: unknown key {key!r}", file=file, line=line(key),
                           hint=_did_you_mean(key, INPUT_KEYS))
    input_type = spec.get("Input Type", "single")
    if input_type not in ("single", "array"):
        raise BadInput(f"input {name}: invalid Input Type {input_type!r}", file=file, line=line("Input Type"),
                       hint="Write 'Input Type: single' or 'Input Type: array'.")
    for flag in ("Required", "Advanced"):
        if flag in spec and not isinstance(spec[flag], bool):
            raise BadInput(f"input {name}: {flag} must be true or false", file=file, line=line(flag),
                           hint=f"Write '{flag}: true' or '{flag}: false'.")
    default = spec.get("Default")
    if default is not None:
        parse_value(default, file=file, line=line("Default"), name=name)
    possible = spec.get("Possible Values")
    if possible is not None:
        if not isinstance(possible, list):
            raise BadInput(f"input {name}: Possible Values must be a list", file=file, line=line("Possible Values"),
                           hint='Write \'Possible Values: ["text:a", "text:b"]\'.')
        for index, value in enumerate(possible):
            parse_value(value, file=file, line=yamlsrc.line_of(possible, index), name=name)
        possible = tuple(possible)
    for key in ("Category", "Description"):
        if key in spec and spec[key] is not None and not isinstance(spec[key], str):
            raise BadInput(f"input {name}: {key} must be text", file=file, line=line(key), hint="Quote it.")
    return InputSpec(
        name=name,
        category=spec.get("Category"),
        description=spec.get("Description"),
        input_type=input_type,
        required=bool(spec.get("Required", False)),
        advanced=bool(spec.get("Advanced", False)),
        default=default,
        possible_values=possible,
        line=key_line,
    )


def _attachments(raw: Any, file: str, line: int | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise BadInput("'Attachments' must be a list of file names", file=file, line=line,
                       hint="Write '# Attachments:' then '# - file.conf' lines, or '# Attachments: []'.")
    seen: dict[str, int | None] = {}
    for index, name in enumerate(raw):
        item_line = yamlsrc.line_of(raw, index)
        if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
            raise BadInput(f"invalid attachment name {name!r}", file=file, line=item_line,
                           hint="Name a file in the attachments/ folder beside the script, without a path.")
        if name in seen:
            raise BadInput(f"duplicate attachment {name!r} (first at line {seen[name]})", file=file,
                           line=item_line, hint="List each attachment once.")
        seen[name] = item_line
    return tuple(raw)


def _did_you_mean(key: str, known: tuple[str, ...]) -> str:
    import difflib

    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.5)
    prefix = f"Did you mean {close[0]!r}? " if close else ""
    return prefix + "Allowed keys: " + ", ".join(known) + "."
