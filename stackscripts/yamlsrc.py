"""YAML loading that remembers where every key and item came from (file and line)."""

from __future__ import annotations

from typing import Any, Sequence

import yaml
from yaml.constructor import SafeConstructor

from .errors import BadInput

try:  # libyaml is much faster; fall back to the pure-Python composer
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

_scalars = SafeConstructor()


class LDict(dict):
    """A mapping with the file line of itself (.line) and of each key (.lines)."""

    line: int = 0
    lines: dict[str, int]


class LList(list):
    """A sequence with the file line of itself (.line) and of each item (.lines)."""

    line: int = 0
    lines: list[int]


def load(text: str, file: str, line_map: Sequence[int] | None = None) -> Any:
    """Parse YAML text; line_map[i] is the file line of text line i (default: i + 1)."""

    def at(mark_line: int) -> int:
        if line_map is None:
            return mark_line + 1
        return line_map[min(mark_line, len(line_map) - 1)]

    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = at(mark.line) if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise BadInput(
            f"invalid YAML: {problem}",
            file=file,
            line=line,
            hint="Check indentation and quoting; values with ': ' or a leading '[', '{', '*' or '&' need quotes.",
        ) from None
    except yaml.YAMLError as exc:
        raise BadInput(f"invalid YAML: {exc}", file=file) from None
    if node is None:
        return None
    return _convert(node, file, at)


def _convert(node: yaml.Node, file: str, at: Any) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = LDict()
        out.line = at(node.start_mark.line)
        out.lines = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise BadInput("a mapping key must be a plain name", file=file, line=at(key_node.start_mark.line))
            key = str(_scalars.construct_object(key_node))
            if key in out.lines:
                raise BadInput(
                    f"duplicate key {key!r} (first at line {out.lines[key]})",
                    file=file,
                    line=at(key_node.start_mark.line),
                    hint="Keep one of the two.",
                )
            out.lines[key] = at(key_node.start_mark.line)
            out[key] = _convert(value_node, file, at)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = LList()
        items.line = at(node.start_mark.line)
        items.lines = []
        for item in node.value:
            items.lines.append(at(item.start_mark.line))
            items.append(_convert(item, file, at))
        return items
    if node.tag == "tag:yaml.org,2002:timestamp":
        return node.value  # keep dates as written
    return _scalars.construct_object(node)


def line_of(container: Any, key: Any = None) -> int | None:
    """The line of a key (mapping), an index (sequence) or the container itself."""
    if key is None:
        return getattr(container, "line", None)
    if isinstance(container, LDict):
        return container.lines.get(key, container.line)
    if isinstance(container, LList) and isinstance(key, int) and key < len(container.lines):
        return container.lines[key]
    return getattr(container, "line", None)
