"""The RightScript metadata block: every marker, every key, and the interpreter by shebang."""

from __future__ import annotations

import pytest

from stackscripts.catalog import metadata
from stackscripts.catalog.scripts import load_script, shebang_of
from tests.unit.helpers import block, line_of

FULL = (
    "RightScript Name: Install Docker",
    "Description: Installs the Docker engine.",
    "Packages: curl jq",
    "Inputs:",
    "  DOCKER_PACKAGE:",
    "    Category: Docker",
    "    Description: Package that provides the engine.",
    "    Input Type: single",
    "    Required: false",
    "    Advanced: true",
    "    Default: text:docker.io",
    '    Possible Values: ["text:docker.io", "text:docker-ce"]',
    "  DOCKER_USERS:",
    "    Input Type: array",
    "    Required: true",
    '    Default: array:["text:admin","text:deploy"]',
    "    Possible Values:",
    "    - text:admin",
    "    - text:deploy",
    "    - text:ops",
    "Attachments:",
    "- daemon.json",
    "- docker.service.j2",
)


@pytest.mark.parametrize("marker", ["#", "//", "--"])
def test_every_marker_reads_the_same_block(marker: str) -> None:
    text = block(*FULL, marker=marker, shebang=None)
    meta, found = metadata.parse(text, "s")
    assert found.marker == marker
    assert (found.start, found.end) == (1, len(FULL) + 2)
    assert meta.name == "Install Docker"
    assert meta.description == "Installs the Docker engine."
    assert meta.packages == ("curl", "jq")
    assert meta.attachments == ("daemon.json", "docker.service.j2")
    assert [i.name for i in meta.inputs] == ["DOCKER_PACKAGE", "DOCKER_USERS"]


def test_every_input_key() -> None:
    text = block(*FULL)
    meta, _ = metadata.parse(text, "s")
    package, users = meta.inputs
    assert package.category == "Docker"
    assert package.description == "Package that provides the engine."
    assert package.input_type == "single"
    assert package.required is False
    assert package.advanced is True
    assert package.default == "text:docker.io"
    assert package.possible_values == ("text:docker.io", "text:docker-ce")
    assert package.line == line_of(text, "DOCKER_PACKAGE:")
    assert users.input_type == "array"
    assert users.required is True
    assert users.advanced is False
    assert users.category is None
    assert users.default == 'array:["text:admin","text:deploy"]'
    assert users.possible_values == ("text:admin", "text:deploy", "text:ops")


def test_defaults_of_absent_input_keys() -> None:
    meta, _ = metadata.parse(block("RightScript Name: X", "Inputs:", "  FOO:"), "s")
    (foo,) = meta.inputs
    assert (foo.input_type, foo.required, foo.advanced, foo.default, foo.possible_values) == (
        "single", False, False, None, None)


@pytest.mark.parametrize("inputs", ["Inputs: {}", "Inputs:"])
def test_empty_inputs(inputs: str) -> None:
    meta, _ = metadata.parse(block("RightScript Name: Nothing", inputs), "s")
    assert meta.inputs == ()
    assert meta.attachments == ()
    assert meta.packages == ()


def test_packages_as_a_list_too() -> None:
    meta, _ = metadata.parse(block("RightScript Name: X", "Packages: [curl, jq]", "Inputs: {}"), "s")
    assert meta.packages == ("curl", "jq")


def test_flow_attachments_and_empty_list() -> None:
    meta, _ = metadata.parse(block("RightScript Name: X", "Inputs: {}", "Attachments: [a.conf, b.tgz]"), "s")
    assert meta.attachments == ("a.conf", "b.tgz")
    meta, _ = metadata.parse(block("RightScript Name: X", "Inputs: {}", "Attachments: []"), "s")
    assert meta.attachments == ()


def test_every_value_form_is_accepted_as_default() -> None:
    lines = ["RightScript Name: X", "Inputs:"]
    forms = ["text:a b", "cred:DB_PASSWORD", "env:db1:PRIVATE_IP", "blank", "ignore", "inherit"]
    for n, form in enumerate(forms):
        lines += [f"  IN{n}:", f"    Default: {form}"]
    meta, _ = metadata.parse(block(*lines), "s")
    assert [i.default for i in meta.inputs] == forms


def test_no_block_is_none() -> None:
    assert metadata.parse("#!/bin/bash\n# just a comment\necho hi\n", "s") is None
    assert metadata.find_block("", "s") is None


def test_block_after_other_comments_and_indented_markers() -> None:
    text = "#!/bin/bash\n# Copyright 2024\n\n  # ---\n  # RightScript Name: X\n  # Inputs: {}\n  # ...\n"
    meta, found = metadata.parse(text, "s")
    assert meta.name == "X"
    assert (found.start, found.end) == (4, 7)


def test_only_the_first_block_counts() -> None:
    text = block("RightScript Name: First", "Inputs: {}") + block("RightScript Name: Second", "Inputs: {}",
                                                                   shebang=None)
    meta, _ = metadata.parse(text, "s")
    assert meta.name == "First"


def test_crlf_line_endings() -> None:
    text = block("RightScript Name: X", "Inputs:", "  FOO:", "    Default: text:a").replace("\n", "\r\n")
    meta, _ = metadata.parse(text, "s")
    assert meta.inputs[0].default == "text:a"


@pytest.mark.parametrize("shebang, expected", [
    ("#!/bin/bash", "/bin/bash"),
    ("#!/bin/sh -e", "/bin/sh -e"),
    ("#!/usr/bin/env python3", "/usr/bin/env python3"),
    ("#!/usr/bin/env ruby", "/usr/bin/env ruby"),
    ("#! /usr/bin/perl -w", "/usr/bin/perl -w"),
])
def test_interpreter_by_shebang(write, shebang: str, expected: str) -> None:
    path = write("s/x.sh", block("RightScript Name: X", "Inputs: {}", shebang=shebang))
    script = load_script(path)
    assert script.shebang == expected
    assert shebang_of(path.read_text()) == expected


def test_no_shebang_means_none(write) -> None:
    path = write("s/x.sh", block("RightScript Name: X", "Inputs: {}", shebang=None, body="echo hi\n"))
    assert load_script(path).shebang is None
    assert shebang_of("echo hi\n#!/bin/bash\n") is None


def test_load_script_fills_the_script_value(write) -> None:
    path = write("s/x.sh", block(*FULL, body="echo $DOCKER_PACKAGE\n"))
    script = load_script(path, "core")
    assert (script.name, script.library, script.ref, script.dialect) == (
        "Install Docker", "core", "core/Install Docker", "rightscript")
    assert script.attach_dir == path.parent / "attachments"
    assert script.input("DOCKER_USERS").input_type == "array"
    assert script.input("NOPE") is None
    assert len(script.sha256) == 64


def test_script_without_block_or_udf_tags(write) -> None:
    path = write("s/plain.sh", "#!/bin/bash\necho hi\n")
    assert load_script(path, require_metadata=False).dialect == "none"
    assert load_script(path, require_metadata=False).name == "plain"
