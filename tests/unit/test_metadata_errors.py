"""Strict metadata: every malformed block is a BadInput naming the exact file line and what to write."""

from __future__ import annotations

import pytest

from stackscripts.catalog import metadata
from stackscripts.catalog.scripts import load_script
from stackscripts.errors import BadInput
from tests.unit.helpers import bad_input, block, line_of


def parse_error(text: str) -> BadInput:
    return bad_input(lambda: metadata.parse(text, "x.sh"))


def test_unknown_top_key_names_its_exact_line() -> None:
    text = block("RightScript Name: X", "Description: d", "Inputs: {}", "Attachment:", "- a.conf",
                 body="echo\n")
    err = parse_error(text)
    assert (err.file, err.line) == ("x.sh", line_of(text, "Attachment:"))
    assert "unknown metadata key 'Attachment'" in err.message
    assert "Did you mean 'Attachments'?" in err.hint
    assert str(err).startswith(f"x.sh:{err.line}: ")


def test_unknown_input_key_names_its_exact_line() -> None:
    text = block("RightScript Name: X", "Inputs:", "  A:", "    Category: c", "  B:", "    Input Type: single",
                 "    Requried: true")
    err = parse_error(text)
    assert err.line == line_of(text, "Requried")
    assert "input B: unknown key 'Requried'" in err.message
    assert "Did you mean 'Required'?" in err.hint


@pytest.mark.parametrize("marker", ["//", "--"])
def test_lines_are_right_with_other_markers(marker: str) -> None:
    text = "line one\nline two\n" + block("RightScript Name: X", "Inputs: {}", "Bogus: 1", marker=marker,
                                          shebang=None)
    assert parse_error(text).line == line_of(text, "Bogus")


def test_missing_name() -> None:
    err = parse_error(block("Description: d", "Inputs: {}"))
    assert "missing 'RightScript Name'" in err.message
    assert "RightScript Name:" in err.hint


def test_name_that_is_not_text() -> None:
    text = block("RightScript Name: 42", "Inputs: {}")
    err = parse_error(text)
    assert err.line == line_of(text, "RightScript Name")
    assert "must be text" in err.message


def test_missing_inputs_points_at_the_block_end() -> None:
    text = block("RightScript Name: X", "Description: d")
    err = parse_error(text)
    assert "missing 'Inputs'" in err.message
    assert err.line == line_of(text, "# ...")
    assert "Inputs: {}" in err.hint


def test_unterminated_block_points_at_its_start() -> None:
    text = "#!/bin/bash\n# ---\n# RightScript Name: X\n# Inputs: {}\necho hi\n# ...\n"
    err = parse_error(text)
    assert "unterminated" in err.message
    assert err.line == 2
    assert "'# ...'" in err.hint


def test_empty_block() -> None:
    err = parse_error("#!/bin/bash\n# ---\n# ...\n")
    assert "empty" in err.message
    assert err.line == 2


def test_block_that_is_a_list() -> None:
    assert "must be a YAML mapping" in parse_error(block("- RightScript Name: X")).message


def test_duplicate_attachment() -> None:
    text = block("RightScript Name: X", "Inputs: {}", "Attachments:", "- a.conf", "- b.conf", "- a.conf")
    err = parse_error(text)
    assert "duplicate attachment 'a.conf' (first at line 6)" in err.message
    assert err.line == 8


@pytest.mark.parametrize("attachments, fragment", [
    ("Attachments: a.conf", "must be a list of file names"),
    ("Attachments: [conf/a.conf]", "invalid attachment name"),
    ("Attachments: ['..']", "invalid attachment name"),
    ("Attachments: [1]", "invalid attachment name"),
])
def test_bad_attachments(attachments: str, fragment: str) -> None:
    text = block("RightScript Name: X", "Inputs: {}", attachments)
    err = parse_error(text)
    assert fragment in err.message
    assert err.line == line_of(text, "Attachments")


def test_duplicate_key_in_block() -> None:
    text = block("RightScript Name: X", "Inputs: {}", "RightScript Name: Y")
    err = parse_error(text)
    assert "duplicate key 'RightScript Name' (first at line 3)" in err.message
    assert err.line == 5


INPUT_ERRORS = [
    ("Input Type: list", "invalid Input Type 'list'", "Input Type: single"),
    ("Input Type: [single]", "invalid Input Type", "Input Type: array"),
    ("Required: yes please", "Required must be true or false", "Required: true"),
    ("Required: 1", "Required must be true or false", "Required: false"),
    ("Advanced: maybe", "Advanced must be true or false", "Advanced: true"),
    ("Default: foobar", "invalid value 'foobar'", "text:foobar"),
    ('Default: "text:"', "'text:' with nothing after it", "blank"),
    ("Default: 42", "YAML number", "text:42"),
    ("Default: true", "YAML boolean", "text:true"),
    ("Default: wat:x", "unknown value type 'wat'", "text:"),
    ("Possible Values: text:a", "Possible Values must be a list", "Possible Values: ["),
    ("Category: [a]", "Category must be text", "Quote"),
    ("Description: 12", "Description must be text", "Quote"),
]


@pytest.mark.parametrize("line, message, hint", INPUT_ERRORS, ids=[e[0] for e in INPUT_ERRORS])
def test_bad_input_definitions(line: str, message: str, hint: str) -> None:
    text = block("RightScript Name: X", "Inputs:", "  FOO:", f"    {line}")
    err = parse_error(text)
    assert message in err.message
    assert hint in err.hint
    assert err.line == line_of(text, line.split(":")[0] + ":")
    assert err.message.startswith(f"x.sh:{err.line}: input FOO: ")


def test_bad_possible_value_names_its_item_line() -> None:
    text = block("RightScript Name: X", "Inputs:", "  FOO:", "    Possible Values:", "    - text:a", "    - b")
    err = parse_error(text)
    assert "invalid value 'b'" in err.message
    assert err.line == line_of(text, "- b")


def test_unquoted_empty_text_default() -> None:
    text = block("RightScript Name: X", "Inputs:", "  FOO:", "    Default: text:")
    err = parse_error(text)
    assert err.line == line_of(text, "Default")
    assert "'text:' with nothing after it" in err.hint


@pytest.mark.parametrize("lines, message, at", [
    (("Inputs: FOO",), "'Inputs' must be a mapping", "Inputs:"),
    (("Inputs:", "- FOO"), "'Inputs' must be a mapping", "Inputs:"),
    (("Inputs:", "  FOO: text:x"), "input FOO: its definition must be a mapping", "FOO:"),
    (("Inputs:", "  FOO-BAR:"), "invalid input name 'FOO-BAR'", "FOO-BAR"),
    (("Inputs:", "  2FOO:"), "invalid input name '2FOO'", "2FOO"),
    (("Inputs: {}", "Packages: {a: b}"), "'Packages' must be a list", "Packages"),
    (("Inputs: {}", "Description: [a]"), "'Description' must be text", "Description"),
])
def test_bad_structure(lines: tuple[str, ...], message: str, at: str) -> None:
    text = block("RightScript Name: X", *lines)
    err = parse_error(text)
    assert message in err.message
    assert err.line == line_of(text, at)
    assert err.hint


def test_yaml_syntax_error_maps_to_the_file_line() -> None:
    text = block("RightScript Name: X", "Description: a: b", "Inputs: {}")
    err = parse_error(text)
    assert "invalid YAML" in err.message
    assert err.line == line_of(text, "Description")
    assert "quoted" in err.hint


def test_file_level_errors(write) -> None:
    empty = write("s/empty.sh", "")
    err = bad_input(lambda: load_script(empty))
    assert (err.file, err.line) == (str(empty), 1)
    assert "scaffold" in err.hint
    latin = write("s/latin.sh", raw=b"#!/bin/bash\n# caf\xe9\n")
    err = bad_input(lambda: load_script(latin))
    assert err.line == 2
    assert err.message == f"{latin}:2: the script is not UTF-8 text"
    err = bad_input(lambda: load_script(empty.parent / "missing.sh"))
    assert "no such script file" in err.message
    err = bad_input(lambda: load_script(empty.parent))
    assert "folder" in err.message
