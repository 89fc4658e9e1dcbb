"""Write a RightScript metadata block back the way right_st does: go-yaml v2's style and quoting."""

from __future__ import annotations

import re
from typing import Any

import yaml

from .metadata import Metadata


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
