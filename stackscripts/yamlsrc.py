"""YAML loading that remembers where every key and item came from (file and line)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from .errors import BadInput

try:  # libyaml is much faster; fall back to the pure-Python composer
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

_scalars = SafeConstructor()

# Limits that keep a tiny hostile file from costing minutes and gigabytes ("billion laughs":
# nested aliases expand exponentially) or the interpreter's stack (deep nesting).
MAX_CHARS = 1024 * 1024
MAX_VALUES = 100_000  # scalars, mappings and sequences after aliases are expanded
MAX_DEPTH = 64


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

    if len(text) > MAX_CHARS:
        raise BadInput(f"the YAML is {len(text):,} characters, more than the {MAX_CHARS:,} allowed", file=file,
                       hint="Templates, deployments and metadata blocks are small: check that this is the right file.")
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or exc.context or "invalid YAML"
        mark = exc.problem_mark or exc.context_mark
        if "end of stream" in problem and exc.context_mark is not None:
            mark = exc.context_mark  # the end of the file is no place to fix anything: name the opening line
        line = at(mark.line) if mark else None
        raise BadInput(
            f"invalid YAML: {problem}",
            file=file,
            line=line,
            hint=_yaml_hint(exc, text, mark.line if mark else None, at),
        ) from None
    except yaml.YAMLError as exc:
        raise BadInput(f"invalid YAML: {exc}", file=file) from None
    if node is None:
        return None
    return _Converter(file, at).convert(node, 0)


_QUOTE_HINT = "Check indentation and quoting; values with ': ' or a leading '[', '{', '*' or '&' need quotes."


def _yaml_hint(exc: yaml.MarkedYAMLError, text: str, mark_line: int | None, at: Any) -> str:
    """What to write instead, for the YAML mistakes people make most."""
    lines = text.split("\n")
    source = lines[mark_line] if mark_line is not None and mark_line < len(lines) else ""
    problem = exc.problem or ""
    context = exc.context or ""
    opened = at(exc.context_mark.line) if exc.context_mark is not None else None
    if "\t" in source[: len(source) - len(source.lstrip())] or ("cannot start any token" in problem and "\t" in source):
        return "YAML does not allow tabs for indentation: indent with spaces."
    if "flow sequence" in context or "flow mapping" in context:
        bracket = "[" if "sequence" in context else "{"
        closer = "]" if bracket == "[" else "}"
        return f"The '{bracket}' opened at line {opened} is never closed: add '{closer}', or quote the value if it is text."
    if "quoted scalar" in context:
        return f"The quote opened at line {opened} is never closed: add the closing quote."
    if "mapping values are not allowed" in problem:
        if source.rstrip().endswith("text:"):
            return "'text:' with nothing after it is not a value: write blank for an empty value, or text:SOMETHING."
        return "A value that contains ': ' or ends with ':' must be quoted, e.g. Description: \"Note: read me\"."
    if "expected key" in problem or "expected '-' indicator" in problem or "expected <block end>" in problem:
        return ("This line's indentation does not match the lines above it: indent keys of the same mapping "
                "(or items of the same list) by the same number of spaces.")
    if "undefined alias" in problem:
        return "A value starting with '*' is read as a YAML alias: quote it."
    return _QUOTE_HINT


class _Converter:
    """Nodes to LDict/LList/scalars, counting every value made (aliases included) and the depth."""

    def __init__(self, file: str, at: Any) -> None:
        self.file = file
        self.at = at
        self.values = 0

    def _count(self, node: yaml.Node, depth: int) -> None:
        self.values += 1
        if self.values > MAX_VALUES:
            raise BadInput(f"the YAML expands to more than {MAX_VALUES:,} values", file=self.file,
                           line=self.at(node.start_mark.line),
                           hint="Aliases (*name) that repeat anchors (&name) multiply: write the values out.")
        if depth > MAX_DEPTH:
            raise BadInput(f"the YAML nests deeper than {MAX_DEPTH} levels", file=self.file,
                           line=self.at(node.start_mark.line), hint="Flatten the structure.")

    def convert(self, node: yaml.Node, depth: int) -> Any:
        self._count(node, depth)
        file, at = self.file, self.at
        if isinstance(node, yaml.MappingNode):
            out = LDict()
            out.line = at(node.start_mark.line)
            out.lines = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise BadInput("a mapping key must be a plain name", file=file, line=at(key_node.start_mark.line),
                                   hint="Write the key as plain text followed by ': ', e.g. 'Name: My Template'.")
                key = str(key_node.value if key_node.tag in _AS_WRITTEN else _scalars.construct_object(key_node))
                if key in out.lines:
                    raise BadInput(
                        f"duplicate key {key!r} (first at line {out.lines[key]})",
                        file=file,
                        line=at(key_node.start_mark.line),
                        hint="Keep one of the two.",
                    )
                out.lines[key] = at(key_node.start_mark.line)
                out[key] = self.convert(value_node, depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            items = LList()
            items.line = at(node.start_mark.line)
            items.lines = []
            for item in node.value:
                items.lines.append(at(item.start_mark.line))
                items.append(self.convert(item, depth + 1))
            return items
        if node.tag in _AS_WRITTEN:
            return node.value
        return _scalars.construct_object(node)


# Kept as the text written: dates, and the YAML 1.1 words "<<" (merge) and "=" (value) that PyYAML has no
# safe constructor for (go-yaml, which right_st uses, reads both as text).
_AS_WRITTEN = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")


def line_of(container: Any, key: Any = None) -> int | None:
    """The line of a key (mapping), an index (sequence) or the container itself."""
    if key is None:
        return getattr(container, "line", None)
    if isinstance(container, LDict):
        return container.lines.get(key, container.line)
    if isinstance(container, LList) and isinstance(key, int) and key < len(container.lines):
        return container.lines[key]
    return getattr(container, "line", None)
