"""The Inputs 2.0 grammar: every form, and every malformed form with its hint."""

from __future__ import annotations

import pytest

from stackscripts.inputs.values import check_name, display, parse_value
from stackscripts.model import InputValue
from tests.unit.helpers import bad_input


def test_text_keeps_everything_after_the_first_colon() -> None:
    value = parse_value("text:a:b c=d ' \" $HOME")
    assert (value.kind, value.text) == ("text", "a:b c=d ' \" $HOME")
    assert value.unparse() == "text:a:b c=d ' \" $HOME"
    assert value.secret is False


def test_cred() -> None:
    value = parse_value("cred:team/db.password-1")
    assert (value.kind, value.text, value.secret) == ("cred", "team/db.password-1", True)


def test_env() -> None:
    value = parse_value("env:db1:PRIVATE_IP")
    assert (value.kind, value.server, value.text) == ("env", "db1", "PRIVATE_IP")
    assert value.unparse() == "env:db1:PRIVATE_IP"


@pytest.mark.parametrize("word", ["blank", "ignore", "inherit"])
def test_bare_words(word: str) -> None:
    assert parse_value(word) == InputValue(kind=word)
    assert parse_value(word).unparse() == word


def test_array_with_nested_items() -> None:
    value = parse_value('array:["text:a","cred:B", "env:web1:PRIVATE_IP", "text:x,y"]')
    assert value.kind == "array"
    assert [i.kind for i in value.items] == ["text", "cred", "env", "text"]
    assert value.items[3].text == "x,y"
    assert value.secret is True  # one secret item makes the array secret
    assert parse_value(value.unparse()) == value


def test_empty_array() -> None:
    assert parse_value("array:[]") == InputValue(kind="array", items=())


def test_display() -> None:
    assert display(None) == "(unset)"
    assert display(parse_value("cred:X")) == "cred:X"


BAD = [
    ("foobar", "invalid value 'foobar'", "text:foobar"),
    ("text:", "'text:' with nothing after it", "Write blank"),
    ("TEXT:a", "unknown value type 'TEXT'", "Use text:"),
    ("secret:a", "unknown value type 'secret'", "cred:"),
    ("cred:", "invalid credential name ''", "cred:NAME"),
    ("cred:a b", "invalid credential name 'a b'", "cred:NAME"),
    ("env:db1", "invalid env reference 'env:db1'", "env:SERVER:NAME"),
    ("env::IP", "invalid env reference", "env:db1:PRIVATE_IP"),
    ("env:db1:", "invalid env reference", "env:SERVER:NAME"),
    ("env:db1:PRIVATE-IP", "invalid env reference", "env:SERVER:NAME"),
    ("array:", "invalid array ''", 'array:["text:a","text:b"]'),
    ('array:["text:a",', "invalid array", "JSON list"),
    ("array:[text:a]", "invalid array", "JSON list"),
    ('array:{"a": 1}', "invalid array", "JSON list"),
    ("array:[1]", "array item 1 is not a string", "Quote every item"),
    ('array:["blank"]', "array item 'blank' is not allowed", "text:, cred: or env:"),
    ('array:["array:[]"]', "is not allowed", "text:, cred: or env:"),
    ('array:["oops"]', "invalid value 'oops'", "text:oops"),
    ("", "invalid value ''", "Start it with a type"),
]


@pytest.mark.parametrize("raw, message, hint", BAD, ids=[b[0] or "empty" for b in BAD])
def test_malformed_values(raw: str, message: str, hint: str) -> None:
    err = bad_input(lambda: parse_value(raw, file="t.yaml", line=7, name="FOO"))
    assert (err.file, err.line) == ("t.yaml", 7)
    assert message in err.message
    assert "input FOO: " in err.message
    assert hint in err.hint


@pytest.mark.parametrize("raw, message, hint", [
    (None, "has no value", "blank"),
    (42, "value 42 is a YAML number", '"text:42"'),
    (1.5, "value 1.5 is a YAML number", '"text:1.5"'),
    (True, "value true is a YAML boolean", '"text:true"'),
    (["text:a"], "YAML list", "array:["),
    ({"text": "a"}, "YAML mapping", "text:VALUE"),
])
def test_values_that_are_not_strings(raw: object, message: str, hint: str) -> None:
    err = bad_input(lambda: parse_value(raw, file="t.yaml", line=3, name="FOO"))
    assert message in err.message
    assert hint in err.hint
    assert "LList" not in str(err) and "LDict" not in str(err)


def test_error_without_a_file_has_no_location() -> None:
    err = bad_input(lambda: parse_value("nope"))
    assert (err.file, err.line) == (None, None)
    assert str(err).startswith("invalid value 'nope'")


@pytest.mark.parametrize("name", ["A", "_x", "DOCKER_PACKAGE2"])
def test_good_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "2A", "A-B", "A B", "A.B", 5, None])
def test_bad_names(name: object) -> None:
    err = bad_input(lambda: check_name(name, file="f", line=2))
    assert "invalid input name" in err.message
    assert "environment variable" in err.hint
