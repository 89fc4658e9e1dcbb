"""The RightScript metadata block: find it, parse it strictly, write it back as right_st does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

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


def render(meta: Metadata, marker: str = "#") -> str:
    """Write a metadata block the way right_st does (go-yaml v2 style, inputs in order)."""
    doc: dict[str, Any] = {"RightScript Name": meta.name}
    if meta.description:
        doc["Description"] = meta.description
    if meta.packages:
        doc["Packages"] = " ".join(meta.packages)  # right_st: one string, names separated by spaces
    inputs: dict[str, Any] = {}
    for spec in meta.inputs:
        item: dict[str, Any] = {"Category": spec.category or ""}  # right_st always writes Category
        if spec.description:
            item["Description"] = spec.description
        item["Input Type"] = spec.input_type
        item["Required"] = spec.required
        item["Advanced"] = spec.advanced
        if spec.default is not None:
            item["Default"] = spec.default
        if spec.possible_values:
            item["Possible Values"] = list(spec.possible_values)
        inputs[spec.name] = item
    doc["Inputs"] = inputs
    doc["Attachments"] = list(meta.attachments)
    text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=80,
                     allow_unicode=True, indent=2)
    lines = ["---", *text.rstrip("\n").split("\n"), "..."]
    return "".join(f"{marker} {line}".rstrip() + "\n" for line in lines)


# right_st writes the block with go-yaml v2, whose YAML 1.1 resolver is not PyYAML's: to go-yaml "y", "n" and
# "1e3" are not text (so it quotes them) while "=" and "<<" are (so it writes them plain). A string is written
# plain only when go-yaml would read it back as a string (gopkg.in/yaml.v2 resolve.go and encode.go, v2.4.0).
_STR = "tag:yaml.org,2002:str"
_NOT_STR = "tag:stackscripts,go-yaml:not-a-string"
_GO_WORDS = frozenset("y Y yes Yes YES true True TRUE on On ON n N no No NO false False FALSE off Off OFF "
                      "~ null Null NULL .nan .NaN .NAN .inf .Inf .INF +.inf +.Inf +.INF -.inf -.Inf -.INF".split())
_GO_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_GO_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_GO_TIMESTAMP = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt]\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d{1,9})?"
                           r"(?:Z|[-+]\d{2}:\d{2}))|(?: \d{1,2}:\d{1,2}:\d{1,2}(?:\.\d{1,9})?))?")


def go_yaml_plain_is_str(value: str) -> bool:
    """Would go-yaml v2 read `value`, written plain, back as a string? (its resolve() and isBase60Float)."""
    if value == "" or value in _GO_WORDS:
        return False
    first = value[0]
    if first == ".":
        return not re.fullmatch(r"\.[0-9]+([eE][-+]?[0-9]+)?", value)
    if first not in "+-0123456789":  # go-yaml looks no further: "=", "<<", "yes please"... are text
        return True
    if _GO_BASE60.fullmatch(value):
        return False
    date = _GO_TIMESTAMP.fullmatch(value)
    if date and 1 <= int(date[2]) <= 12 and 1 <= int(date[3]) <= 31:
        return False
    plain = value.replace("_", "")
    return not (_GO_INT.fullmatch(plain) or _GO_FLOAT.fullmatch(plain))


class _Dumper(yaml.SafeDumper):
    """go-yaml v2 style: empty collections inline ({} and []), everything else in block style, text with a line
    break as a literal block, and strings that go-yaml would read back as something else (true, y, 1.0, 1e3,
    null, "") in double quotes, as go-yaml writes them."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        tag: str = super().resolve(kind, value, implicit)
        if kind is yaml.ScalarNode and implicit[0] and isinstance(value, str):
            if go_yaml_plain_is_str(value):
                return _STR
            if tag == _STR:
                return _NOT_STR  # PyYAML would write it plain; go-yaml would not
        return tag

    def represent_str(self, data: str) -> yaml.Node:  # type: ignore[override]
        style = None
        if "\n" in data:
            style = "|"
        elif not go_yaml_plain_is_str(data):
            style = '"'
        return self.represent_scalar(_STR, data, style=style)

    def represent_dict(self, data: Any) -> yaml.Node:  # type: ignore[override]
        node = super().represent_dict(data)
        node.flow_style = not data
        return node

    def represent_list(self, data: Any) -> yaml.Node:  # type: ignore[override]
        node = super().represent_list(data)
        node.flow_style = not data
        return node


_Dumper.add_representer(str, _Dumper.represent_str)
_Dumper.add_representer(dict, _Dumper.represent_dict)
_Dumper.add_representer(list, _Dumper.represent_list)
