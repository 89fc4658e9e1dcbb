"""YAML with lines: every key and item knows its file line; syntax errors name the line and a fix."""

from __future__ import annotations

import pytest

from stackscripts import yamlsrc
from tests.unit.helpers import bad_input

TEXT = """\
Name: T
Inputs:
  A: text:a
  B: text:b
Items:
- one
- {x: 1}
When: 2024-01-02
"""


def test_lines_of_keys_and_items() -> None:
    data = yamlsrc.load(TEXT, "f.yaml")
    assert data.line == 1
    assert yamlsrc.line_of(data, "Inputs") == 2
    assert yamlsrc.line_of(data["Inputs"], "B") == 4
    assert yamlsrc.line_of(data["Items"], 1) == 7
    assert yamlsrc.line_of(data["Items"]) == 6
    assert yamlsrc.line_of(data, "Missing") == 1  # the container's own line
    assert yamlsrc.line_of(data["Items"], 9) == 6
    assert yamlsrc.line_of("plain") is None


def test_dates_stay_text() -> None:
    assert yamlsrc.load(TEXT, "f.yaml")["When"] == "2024-01-02"


def test_line_map_translates_lines() -> None:
    data = yamlsrc.load("a: 1\nb: 2\n", "s.sh", [10, 11, 12])
    assert (data.line, yamlsrc.line_of(data, "b")) == (10, 11)
    assert bad_input(lambda: yamlsrc.load("a: 1\nb: [\n", "s.sh", [20, 21, 22])).line == 22


def test_empty_document_is_none() -> None:
    assert yamlsrc.load("", "f") is None
    assert yamlsrc.load("# comment\n", "f") is None


def test_non_scalar_key() -> None:
    err = bad_input(lambda: yamlsrc.load("? [a]\n: b\n", "f"))
    assert "a mapping key must be a plain name" in err.message
    assert err.hint


@pytest.mark.parametrize("text, line, hint", [
    ("a:\n\tb: 1\n", 2, "tabs"),
    ("a:\n  b: 1\n\t c: 2\n", 3, "tabs"),
    ("a: [1, 2\nb: 3\n", 2, "'[' opened at line 1 is never closed"),
    ("a: {x: 1\n", 2, "'{' opened at line 1"),
    ("a: 'x\n", 1, "quote opened at line 1"),
    ('a: "x\nb: 1\n', 1, "quote opened at line 1"),
    ("a: b: c\n", 1, "must be quoted"),
    ("a: text:\n", 1, "'text:' with nothing after it"),
    ("a:\n  b: 1\n c: 2\n", 3, "indentation"),
    ("a:\n  - b\n  c: d\n", 3, "indentation"),
    ("a: *nope\n", 1, "alias"),
    ("a: 1\na: 2\n", 2, "Keep one"),
])
def test_syntax_errors(text: str, line: int, hint: str) -> None:
    err = bad_input(lambda: yamlsrc.load(text, "f.yaml"))
    assert (err.file, err.line) == ("f.yaml", line)
    assert hint in err.hint
