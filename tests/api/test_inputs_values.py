"""Inputs given as values: {"NAME": "text"} and Text/Cred/Env/Array, beside the `NAME=text:v` strings."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from stackscripts import api
from stackscripts.api import BLANK, IGNORE, INHERIT, Array, BadInput, Cred, Env, InputValue, RunState, Text
from stackscripts.api.inputs import input_layer, input_layers
from tests.runner.fixtures import Bench
from tests.runner.helpers import Step

# Bytes a shell would mangle if a value were ever interpolated into script text.
TRICKY = "it's \"quoted\" $(touch /tmp/pwned) `id` $HOME; echo *\n  second line\ttab \\ back"

ECHO = Step("Echo Inputs", """\
    set -eu
    d="$OUT_DIR/$STACKSCRIPTS_SERVER"
    mkdir -p "$d"
    printf '%s' "$GREETING" > "$d/greeting"
    printf '%s' "$TOKEN" > "$d/token"
    printf '%s' "${LITERAL-unset}" > "$d/literal"
    """, {"OUT_DIR": None, "GREETING": None, "TOKEN": None, "LITERAL": "text:default"})


def test_a_plain_string_is_its_text_never_parsed() -> None:
    layer = input_layer({"A": "hello", "B": "cred:not-a-reference", "C": "text:", "D": TRICKY})
    assert layer is not None and layer.source == "command line" and layer.strict
    assert layer.values == {"A": InputValue("text", "hello"), "B": InputValue("text", "cred:not-a-reference"),
                            "C": InputValue("text", "text:"), "D": InputValue("text", TRICKY)}


def test_typed_values_are_the_inputs_2_0_values() -> None:
    assert Text("v") == InputValue("text", "v")
    assert Cred("db/password") == InputValue("cred", "db/password")
    assert Env("db1", "PRIVATE_IP") == InputValue("env", "PRIVATE_IP", server="db1")
    assert Array("a", Cred("b"), Env("db1", "HOST")).unparse() == 'array:["text:a", "cred:b", "env:db1:HOST"]'
    assert [v.unparse() for v in (BLANK, IGNORE, INHERIT)] == ["blank", "ignore", "inherit"]
    assert Cred("x").secret and Array("a", Cred("b")).secret and not Text("x").secret


def test_the_string_form_still_works_and_means_the_same() -> None:
    as_values = input_layer({"A": "hello world", "B": Cred("tok"), "C": BLANK})
    as_strings = input_layer(["A=text:hello world", "B=cred:tok", "C=blank"])
    assert as_values == as_strings
    assert input_layer({}) is None and input_layer(()) is None and input_layers(None) == []
    assert input_layers({"A": "x"}, strict=False)[0].strict is False


@pytest.mark.parametrize(("make", "message"), [
    (lambda: {"A": ""}, "input A: an empty text value"),
    (lambda: {"A": InputValue("text", "")}, "input A: an empty text value"),
    (lambda: {"A": Text("")}, "an empty text value. Pass BLANK"),
    (lambda: {"A": Cred("no spaces allowed")}, "invalid credential name"),
    (lambda: {"A": InputValue("cred", "no spaces allowed")}, "input A: invalid credential name"),
    (lambda: {"A": Env("", "lower")}, "invalid env reference"),
    (lambda: {"A": Env("db1", "not-a-name")}, "invalid env reference"),
    (lambda: {"A": InputValue("bogus")}, "input A: invalid value 'bogus'"),
    (lambda: {"A": Array("a", BLANK)}, "array item 'blank' is not allowed"),
    (lambda: {"A": 5}, "input A: int 5 is not an input value"),
    (lambda: {"A": None}, "input A: NoneType None is not an input value"),
    (lambda: {"1A": "x"}, "invalid input name '1A'"),
    (lambda: "A=text:x", "is one string"),
    (lambda: ["A"], "expected NAME=VALUE"),
])
def test_bad_values_are_bad_input_naming_the_input(make: Callable[[], object], message: str) -> None:
    with pytest.raises(BadInput) as caught:
        input_layer(make())  # type: ignore[arg-type]  # wrong on purpose
    assert message in str(caught.value)


def test_a_mapping_names_only_declared_inputs(bench: Bench) -> None:
    template = bench.template(boot=[ECHO])
    with pytest.raises(BadInput, match="sets input GREETNG, which no script of this template declares.*"
                                       "Did you mean GREETING"):
        api.plan(template, overrides={"GREETNG": "hi", "TOKEN": "t"})


def test_plans_from_values_and_from_strings_are_equal(bench: Bench) -> None:
    template = bench.template(boot=[ECHO])
    by_values = api.plan(template, overrides={"GREETING": "hi there", "TOKEN": Cred("api-token")})
    by_strings = api.plan(template, overrides=["GREETING=text:hi there", "TOKEN=cred:api-token"])
    assert by_values == by_strings
    step_inputs = {i.name: i for i in by_values.steps[0].inputs}
    assert step_inputs["GREETING"].value == Text("hi there") and step_inputs["GREETING"].source == "command line"
    assert step_inputs["TOKEN"].secret
    shown = {i.name: i.value.unparse() if i.value else None
             for i in api.template_inputs(template, {"LITERAL": IGNORE, "GREETING": Text("hi")})}
    assert shown["LITERAL"] == "ignore" and shown["GREETING"] == "text:hi" and shown["TOKEN"] is None


def test_a_boot_with_values_delivers_them_byte_exact(bench: Bench, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKSCRIPTS_CRED_API_TOKEN", "s3cret-token-value")
    template = bench.template(boot=[ECHO])
    (web1,) = bench.add(1)
    result = bench.controller.boot(web1, template, inputs={"GREETING": TRICKY, "TOKEN": Cred("api-token"),
                                                            "LITERAL": "cred:api-token"})
    assert result.state is RunState.SUCCEEDED
    out = bench.out / web1
    assert (out / "greeting").read_bytes() == TRICKY.encode()
    assert (out / "token").read_text() == "s3cret-token-value"
    assert (out / "literal").read_text() == "cred:api-token"  # a plain string is text, not a reference
    assert not Path("/tmp/pwned").exists()
    recorded = bench.controller.get_run(result.run_id).inputs
    assert recorded["TOKEN"] == "cred:api-token" and recorded["LITERAL"] == "text:cred:api-token"
    with sqlite3.connect(bench.db) as db:  # the secret's value is nowhere in the store
        assert not db.execute("SELECT 1 FROM chunks WHERE text LIKE '%s3cret-token-value%'").fetchall()
        assert "s3cret-token-value" not in str(db.execute("SELECT inputs FROM runs").fetchall())


def test_run_and_resume_take_values_too(bench: Bench) -> None:
    failing = Step("Maybe Fail", """\
        set -eu
        d="$OUT_DIR/$STACKSCRIPTS_SERVER"; mkdir -p "$d"
        printf '%s' "$WORD" >> "$d/words"
        [ "$WORD" != bad ]
        """, {"OUT_DIR": None, "WORD": None})
    template = bench.template(boot=[failing], operational=[failing])
    (web1,) = bench.add(1)
    with pytest.raises(api.RunFailed) as caught:
        bench.controller.boot(web1, template, inputs={"WORD": "bad"})
    assert caught.value.result is not None and caught.value.result.state is RunState.FAILED
    resumed = bench.controller.resume(caught.value.result.run_id, inputs={"WORD": "good"})
    assert resumed.state is RunState.SUCCEEDED
    ran = bench.controller.run(web1, "Maybe Fail", inputs={"WORD": "again"})
    assert ran.ok
    assert (bench.out / web1 / "words").read_text() == "badgoodagain"
