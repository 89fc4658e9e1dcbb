"""Add inputs and attachments to a metadata block written by hand, changing only the lines added.

A block scalar stays a block scalar, keys keep their order and lists their indentation: the new entries are
written in right_st's style at the indentation the block already uses, and a review shows them alone. A
layout that cannot take new lines (a non-empty flow collection such as `Inputs: {A: {}}`) gives None, and the
caller writes the whole block instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import yaml

from ..errors import BadInput
from ..model import InputSpec
from . import metadata, metadata_writer


@dataclass(frozen=True)
class _Edit:
    after: int  # 0-based file line the new lines go after
    lines: tuple[str, ...]  # YAML text, without the comment marker
    replace: str | None = None  # new YAML text for the line `after` itself (e.g. `Inputs: {}` -> `Inputs:`)


def add_entries(text: str, block: metadata.Block, inputs: Sequence[InputSpec], attachments: Sequence[str]) -> str | None:
    """text with inputs and attachments appended to the block's own lists; None if that cannot be done line by line."""
    parsed = metadata.parse(text, "block")
    if parsed is None:
        return None
    try:
        edits = _edits(block, inputs, attachments)
    except _Unsupported:
        return None
    lines = text.split("\n")
    model = next((line for line in lines[block.start:block.end - 1]  # every new line takes its marker and spacing
                  if (metadata.comment_text(line) or "#").strip()[:1] not in ("", "#")), lines[block.start])
    prefix = model[: len(model) - len(metadata.comment_text(model) or "")]
    eol = "\r" if model.endswith("\r") else ""
    for _, edit in sorted(enumerate(edits), key=lambda item: (item[1].after, item[0]), reverse=True):
        if edit.replace is not None:
            lines[edit.after] = (prefix + edit.replace).rstrip() + eol
        lines[edit.after + 1:edit.after + 1] = [(prefix + line).rstrip() + eol for line in edit.lines]
    result = "\n".join(lines)
    expected = replace(parsed[0], inputs=parsed[0].inputs + tuple(inputs),
                       attachments=parsed[0].attachments + tuple(attachments))
    return result if _same(result, expected) else None


class _Unsupported(Exception):
    """The block's layout cannot take new lines (a non-empty flow collection)."""


def _same(text: str, expected: metadata.Metadata) -> bool:
    """The edited block reads back as exactly the metadata wanted (lines aside)."""
    try:
        parsed = metadata.parse(text, "block")
    except BadInput:
        return False
    if parsed is None:
        return False
    return _strip(parsed[0]) == _strip(expected)


def _strip(meta: metadata.Metadata) -> metadata.Metadata:
    return replace(meta, inputs=tuple(replace(spec, line=None) for spec in meta.inputs))


def _edits(block: metadata.Block, inputs: Sequence[InputSpec], attachments: Sequence[str]) -> list[_Edit]:
    root = yaml.compose(block.yaml_text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode) or not root.value:
        raise _Unsupported
    yaml_lines = block.yaml_text.split("\n")
    nodes = {key.value: (key, value) for key, value in root.value}
    top = root.value[0][0].start_mark.column
    inputs_lines, attachment_lines = _rendered(inputs, attachments)
    edits = []
    if inputs:
        key, value = nodes["Inputs"]  # parse() has already required it
        edits.append(_append(block, yaml_lines, key, value, inputs_lines, _input_indent(value, key)))
    if attachments:
        if "Attachments" in nodes:
            key, value = nodes["Attachments"]
            edits.append(_append(block, yaml_lines, key, value, attachment_lines, _item_indent(value, key, yaml_lines)))
        else:
            last = max(_last_line(value) for _, value in root.value)
            lines = (" " * top + "Attachments:", *_shift(attachment_lines, 0, top, 0))
            edits.append(_Edit(block.start - 1 + last, lines))
    return edits


def _rendered(inputs: Sequence[InputSpec], attachments: Sequence[str]) -> tuple[list[str], list[str]]:
    """right_st's lines for the new entries: inputs (name at 2 spaces) and attachment items (`- name`)."""
    text = metadata_writer.render(metadata.Metadata("x", None, (), tuple(inputs), tuple(attachments)), "#")
    lines = [line[2:] for line in text.rstrip("\n").split("\n")]  # without "# "
    inputs_at = next(i for i, line in enumerate(lines) if line.startswith("Inputs:"))
    attachments_at = next(i for i, line in enumerate(lines) if line.startswith("Attachments:"))
    return lines[inputs_at + 1:attachments_at], lines[attachments_at + 1:-1]


def _append(block: metadata.Block, yaml_lines: list[str], key: yaml.Node, value: yaml.Node, new: list[str],
            indent: tuple[int, int]) -> _Edit:
    """Append new lines (rendered at name 2 / children 4) to the collection under key, re-indented."""
    base, child = indent
    lines = tuple(_shift(new, 2, base, child))
    empty = (isinstance(value, yaml.ScalarNode) and value.tag == "tag:yaml.org,2002:null") or \
        (isinstance(value, yaml.CollectionNode) and not value.value)
    if not empty:
        if getattr(value, "flow_style", False) or not isinstance(value, yaml.CollectionNode):
            raise _Unsupported
        return _Edit(block.start - 1 + _last_line(value), lines)
    key_line = key.start_mark.line
    if value.start_mark.line != key_line or value.start_mark.index == value.end_mark.index:
        return _Edit(block.start - 1 + max(key_line, _last_line(value)), lines)  # `Inputs:` alone: add after it
    return _Edit(block.start - 1 + key_line, lines, replace=yaml_lines[key_line][: value.start_mark.column].rstrip())


def _input_indent(value: yaml.Node, key: yaml.Node) -> tuple[int, int]:
    """(column of input names, offset of their keys) as the block writes them; right_st's 2 and 2 when it has none."""
    if isinstance(value, yaml.MappingNode) and value.value and not value.flow_style:
        base = value.value[0][0].start_mark.column
        for _, spec in value.value:
            if isinstance(spec, yaml.MappingNode) and spec.value and not spec.flow_style:
                return base, spec.value[0][0].start_mark.column - base
        return base, 2
    return key.start_mark.column + 2, 2


def _item_indent(value: yaml.Node, key: yaml.Node, yaml_lines: list[str]) -> tuple[int, int]:
    """Column of the `-` of the list's items as written; right_st's (the key's column) for a new list."""
    if isinstance(value, yaml.SequenceNode) and value.value and not value.flow_style:
        item = value.value[0].start_mark
        return yaml_lines[item.line].rfind("-", 0, item.column), 2
    return key.start_mark.column, 2


def _shift(lines: list[str], at: int, base: int, child: int) -> list[str]:
    """Re-indent rendered lines: `at` spaces become `base`, deeper lines keep their depth under base + child."""
    out = []
    for line in lines:
        depth = len(line) - len(line.lstrip(" "))
        extra = 0 if depth <= at else child + (depth - at - 2)
        out.append(" " * (base + extra) + line.lstrip(" "))
    return out


def _last_line(node: yaml.Node) -> int:
    """The last line (0-based, in the block's YAML) holding the node's text."""
    end = node.end_mark
    return end.line if end.column > 0 else end.line - 1
