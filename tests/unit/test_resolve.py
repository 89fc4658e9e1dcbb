"""Input precedence and validation: default < template < deployment < server < command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackscripts.inputs.materialize import materialize
from stackscripts.inputs.resolve import Layer, declared, parse_assignments, resolve
from stackscripts.model import InputSpec, Script
from tests.unit.helpers import bad_input


def script(name: str, *specs: InputSpec) -> Script:
    return Script(name=name, path=Path(f"/lib/{name}.sh"), text="", inputs=specs)


APP = script(
    "app",
    InputSpec("PORT", default="text:80", line=4),
    InputSpec("MODE", possible_values=("text:fast", "text:safe"), line=9),
    InputSpec("HOSTS", input_type="array", possible_values=("text:a", "text:b"), line=12),
    InputSpec("TOKEN", required=True, line=15),
)


def layer(source: str, **values: str) -> Layer:
    lines = {name: n for n, name in enumerate(values, 10)}
    return Layer.from_raw(source, values, file=f"{source}.yaml", lines=lines)


BASE = layer("template", TOKEN="cred:TOKEN")


def test_precedence_with_the_source_of_each_level() -> None:
    layers = [layer("template", PORT="text:81", TOKEN="cred:T"), layer("deployment", PORT="text:82"),
              layer("server", PORT="text:83"), layer("command line", PORT="text:84")]
    for top in range(5):
        got = resolve([APP], layers[:top] if top else [BASE])["PORT"]
        if top == 0:
            assert (got.value.text, got.source) == ("80", "script default (app.sh)")
        else:
            assert got.value.text == f"8{top}"
            assert got.source == ["template", "deployment", "server", "command line"][top - 1]


def test_lower_layers_show_through_where_higher_ones_are_silent() -> None:
    got = resolve([APP], [layer("template", MODE="text:fast", TOKEN="cred:T"), layer("server", PORT="text:9")])
    assert (got["MODE"].source, got["PORT"].source, got["TOKEN"].source) == ("template", "server", "template")


def test_inherit_falls_through() -> None:
    layers = [layer("template", PORT="text:81", TOKEN="cred:T"), layer("deployment", PORT="inherit"),
              layer("command line", PORT="inherit")]
    got = resolve([APP], layers)["PORT"]
    assert (got.value.text, got.source) == ("81", "template")
    only_inherit = resolve([APP], [layer("template", PORT="inherit", TOKEN="cred:T")])["PORT"]
    assert only_inherit.source.startswith("script default")


def test_ignore_means_unset() -> None:
    got = resolve([APP], [BASE, layer("server", PORT="ignore")])
    assert got["PORT"].value.kind == "ignore"
    assert got["PORT"].source == "server"
    without_creds = [v for k, v in got.items() if k != "TOKEN"]
    assert "PORT" not in materialize(without_creds)


def test_unset_optional_input() -> None:
    got = resolve([APP], [BASE])["MODE"]
    assert (got.value, got.source) == (None, "unset")


@pytest.mark.parametrize("value", [None, "blank", "ignore"])
def test_required_is_enforced(value: str | None) -> None:
    layers = [layer("deployment", TOKEN=value)] if value else []
    err = bad_input(lambda: resolve([APP], layers))
    assert "required input TOKEN" in err.message
    assert "-i TOKEN=text:VALUE" in err.hint
    if value is None:  # nothing set it: point at the declaration
        assert (err.file, err.line) == ("/lib/app.sh", 15)
    else:  # the layer that blanked it
        assert (err.file, err.line) == ("deployment.yaml", 10)
        assert value in err.message


def test_required_blanked_on_the_command_line_says_so() -> None:
    err = bad_input(lambda: resolve([APP], [BASE, parse_assignments(["TOKEN=blank"])]))
    assert "is set to blank by -i" in err.message


def test_possible_values() -> None:
    assert resolve([APP], [BASE, layer("server", MODE="text:safe")])["MODE"].value.text == "safe"
    err = bad_input(lambda: resolve([APP], [BASE, layer("server", MODE="text:slow")]))
    assert "input MODE: 'text:slow'" in err.message and "Possible Values" in err.message
    assert (err.file, err.line) == ("server.yaml", 10)
    assert "text:fast, text:safe" in err.hint


def test_possible_values_inside_arrays() -> None:
    ok = resolve([APP], [BASE, layer("server", HOSTS='array:["text:a","text:b"]')])["HOSTS"]
    assert [i.text for i in ok.value.items] == ["a", "b"]
    err = bad_input(lambda: resolve([APP], [BASE, layer("server", HOSTS='array:["text:a","text:c"]')]))
    assert "'text:c'" in err.message


def test_cred_and_env_values_skip_possible_values() -> None:
    got = resolve([APP], [BASE, layer("server", MODE="cred:MODE", HOSTS='array:["env:db1:IP"]')])
    assert got["MODE"].secret is True


def test_array_versus_single() -> None:
    err = bad_input(lambda: resolve([APP], [BASE, layer("server", HOSTS="text:a")]))
    assert "input HOSTS is an array" in err.message
    assert 'array:["text:a"]' in err.hint
    err = bad_input(lambda: resolve([APP], [BASE, layer("server", PORT='array:["text:1"]')]))
    assert "takes a single value" in err.message


def test_strict_layer_naming_an_undeclared_input() -> None:
    err = bad_input(lambda: resolve([APP], [layer("template", TOKEN="cred:T", PROT="text:1")]))
    assert "template sets input PROT, which no script of this template declares" in err.message
    assert (err.file, err.line) == ("template.yaml", 11)
    assert "Did you mean PORT?" in err.hint


def test_lenient_layer_may_name_anything() -> None:
    loose = Layer.from_raw("deployment", {"OTHER": "text:x"}, strict=False)
    assert "OTHER" not in resolve([APP], [BASE, loose])


def test_first_script_declaring_an_input_supplies_its_spec() -> None:
    other = script("other", InputSpec("PORT", default="text:8080"), InputSpec("EXTRA"))
    specs = declared([APP, other])
    assert list(specs) == ["PORT", "MODE", "HOSTS", "TOKEN", "EXTRA"]
    assert specs["PORT"][1] is APP
    assert resolve([APP, other], [BASE])["PORT"].value.text == "80"


def test_default_that_violates_the_spec_points_at_the_script() -> None:
    bad = script("bad", InputSpec("LIST", input_type="array", default="text:x", line=6))
    err = bad_input(lambda: resolve([bad], []))
    assert (err.file, err.line) == ("/lib/bad.sh", 6)


def test_command_line_assignments() -> None:
    parsed = parse_assignments(["PORT=text:a=b", "MODE=text:fast"])
    assert parsed.source == "command line"
    assert parsed.values["PORT"].text == "a=b"
    assert parsed.file is None


@pytest.mark.parametrize("item, fragment", [
    ("PORT", "expected NAME=VALUE"),
    ("=text:x", "expected NAME=VALUE"),
    ("1PORT=text:x", "invalid input name '1PORT'"),
    ("PORT=80", "invalid value '80'"),
    ("PORT=text:", "'text:' with nothing after it"),
])
def test_bad_command_line_assignments(item: str, fragment: str) -> None:
    err = bad_input(lambda: parse_assignments([item]))
    assert fragment in err.message
    assert err.message.startswith("-i")
    assert err.hint
