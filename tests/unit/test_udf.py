"""Linode StackScript <UDF .../> tags as a second input dialect."""

from __future__ import annotations

import pytest

from stackscripts.catalog.scripts import load_script
from stackscripts.catalog.udf import parse_udf
from stackscripts.inputs.materialize import masked
from stackscripts.inputs.resolve import Layer, resolve
from tests.unit.helpers import bad_input, line_of

STACKSCRIPT = """\
#!/bin/bash
# Linode StackScript
# <UDF name="DB_PASSWORD" label="Database password" />
# <UDF name="HOSTNAME_LABEL" label="Host name" default="web1" example="web1.example.com" />
# <UDF name="RELEASE" label="Release" oneOf="stable,beta" default="stable" />
# <UDF name="ADDONS" label="Add-ons" manyOf="redis, kafka ,zookeeper" default="redis,kafka" />
# <UDF name="NOTE" label="A &quot;quoted&quot; note" default="" />
echo "$DB_PASSWORD $HOSTNAME_LABEL $RELEASE $ADDONS $NOTE"
"""


@pytest.fixture
def specs():
    return {s.name: s for s in parse_udf(STACKSCRIPT, "linode.sh")}


def test_tags_become_inputs_in_order(specs) -> None:
    assert list(specs) == ["DB_PASSWORD", "HOSTNAME_LABEL", "RELEASE", "ADDONS", "NOTE"]
    assert specs["DB_PASSWORD"].line == line_of(STACKSCRIPT, "DB_PASSWORD")
    assert specs["NOTE"].description == 'A "quoted" note'


def test_no_default_means_required(specs) -> None:
    assert specs["DB_PASSWORD"].required is True
    assert specs["DB_PASSWORD"].default is None
    assert specs["HOSTNAME_LABEL"].required is False
    assert specs["HOSTNAME_LABEL"].default == "text:web1"
    assert specs["NOTE"].required is False
    assert specs["NOTE"].default == "blank"


def test_example_goes_into_the_description(specs) -> None:
    assert specs["HOSTNAME_LABEL"].description == "Host name (example: web1.example.com)"


def test_one_of_and_many_of(specs) -> None:
    assert specs["RELEASE"].input_type == "single"
    assert specs["RELEASE"].possible_values == ("text:stable", "text:beta")
    assert specs["ADDONS"].input_type == "array"
    assert specs["ADDONS"].possible_values == ("text:redis", "text:kafka", "text:zookeeper")
    assert specs["ADDONS"].default == 'array:["text:redis", "text:kafka"]'


def test_password_name_is_a_secret_even_with_a_text_value(write) -> None:
    script = load_script(write("s/linode.sh", STACKSCRIPT))
    assert script.dialect == "udf"
    assert script.name == "linode"
    resolved = resolve([script], [Layer.from_raw("command line", {"DB_PASSWORD": "text:hunter2"})])
    password = resolved["DB_PASSWORD"]
    assert password.value.unparse() == "text:hunter2"
    assert password.secret is True
    assert resolved["HOSTNAME_LABEL"].secret is False
    assert masked(resolved.values())["DB_PASSWORD"] == "********"
    assert resolved["ADDONS"].value.unparse() == 'array:["text:redis", "text:kafka"]'


def test_lowercase_password_name_too() -> None:
    (spec,) = parse_udf('<UDF name="root_Password" label="x" />', "l.sh")
    assert spec.secret_hint is True


def test_unknown_attribute_is_an_error_with_its_line() -> None:
    text = '#!/bin/bash\n\n# <UDF name="A" label="a" />\n# <UDF name="B" lable="b" />\n'
    err = bad_input(lambda: parse_udf(text, "l.sh"))
    assert (err.file, err.line) == ("l.sh", 4)
    assert "unknown attribute 'lable'" in err.message
    assert "label" in err.hint


@pytest.mark.parametrize("text, fragment", [
    ('<UDF label="no name" />', "without a name"),
    ('<UDF name="BAD-NAME" label="x" />', "invalid input name"),
    ('<UDF name="A" label="x" />\n<UDF name="A" label="y" />', "declared twice"),
])
def test_other_tag_errors(text: str, fragment: str) -> None:
    err = bad_input(lambda: parse_udf(text, "l.sh"))
    assert fragment in err.message
    assert err.line == text.count("\n") + 1
