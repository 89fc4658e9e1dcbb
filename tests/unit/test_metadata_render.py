"""The writer: parse -> render reproduces right_st's output byte for byte.

The expected bytes never come from stackscripts' own writer: the golden files were written by go-yaml v2 the
way right_st drives it, and three vectors below are right_st's own test expectations (see
tests/golden/rightscripts/SOURCES.md).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from stackscripts.catalog import metadata, metadata_writer
from stackscripts.catalog.scaffold import scaffold
from stackscripts.model import InputSpec
from tests.unit.helpers import GOLDEN

TOOLING = GOLDEN / "tooling"
SPECS: list[dict[str, Any]] = json.loads((TOOLING / "goldens.json").read_text("utf-8"))
RIGHTSCRIPTS = [GOLDEN / "rightscripts" / spec["file"] for spec in SPECS]
SCALARS: list[list[str]] = json.loads((TOOLING / "go_yaml_scalars.json").read_text("utf-8"))


def block_text(text: str, found: metadata.Block) -> str:
    return "".join(line + "\n" for line in text.split("\n")[found.start - 1:found.end])


def spec_metadata(spec: dict[str, Any]) -> metadata.Metadata:
    """goldens.json's plain data as a Metadata value."""
    data = spec["metadata"]
    inputs = tuple(InputSpec(i["name"], category=i["category"], description=i.get("description"),
                             input_type=i["input_type"], required=i["required"], advanced=i["advanced"],
                             default=i.get("default"), possible_values=tuple(i.get("possible_values", ())) or None)
                   for i in data["inputs"])
    return metadata.Metadata(data["name"], data.get("description"), tuple(data.get("packages", "").split()), inputs,
                             tuple(data["attachments"]))


def test_every_golden_file_has_a_source() -> None:
    on_disk = {p.name for p in (GOLDEN / "rightscripts").iterdir() if p.is_file()}
    assert on_disk == {p.name for p in RIGHTSCRIPTS} | {"SOURCES.md"}
    sources = (GOLDEN / "rightscripts" / "SOURCES.md").read_text("utf-8")
    assert all(f"`{p.name}`" in sources for p in RIGHTSCRIPTS)


def test_goldens_cover_every_marker() -> None:
    markers = {metadata.parse(p.read_text("utf-8"), str(p))[1].marker for p in RIGHTSCRIPTS}
    assert markers == {"#", "//", "--"}


@pytest.mark.parametrize("path", RIGHTSCRIPTS, ids=lambda p: p.name)
def test_render_reproduces_the_golden_block(path: Path) -> None:
    text = path.read_text("utf-8")
    meta, found = metadata.parse(text, str(path))
    assert metadata_writer.render(meta, found.marker) == block_text(text, found)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s["file"])
def test_parse_reads_the_metadata_the_golden_was_written_from(spec: dict[str, Any]) -> None:
    path = GOLDEN / "rightscripts" / spec["file"]
    meta, found = metadata.parse(path.read_text("utf-8"), str(path))
    expected = spec_metadata(spec)
    assert (meta.name, meta.description, meta.packages, meta.attachments) == (
        expected.name, expected.description, expected.packages, expected.attachments)
    fields = ("name", "category", "description", "input_type", "required", "advanced", "default", "possible_values")
    assert [tuple(getattr(i, f) for f in fields) for i in meta.inputs] == [
        tuple(getattr(i, f) for f in fields) for i in expected.inputs]
    assert found.marker == spec["marker"]
    assert metadata_writer.render(expected, spec["marker"]) == block_text(path.read_text("utf-8"), found)


@pytest.mark.parametrize("path", RIGHTSCRIPTS, ids=lambda p: p.name)
def test_scaffold_leaves_a_complete_file_byte_identical(path: Path, tmp_path: Path) -> None:
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    (tmp_path / "attachments").mkdir()
    before = copy.read_bytes()
    result = scaffold(copy)
    assert result.changed is False
    assert result.text.encode("utf-8") == before
    assert (result.added_inputs, result.added_attachments) == ((), ())


@pytest.mark.parametrize(("value", "written"), SCALARS, ids=[repr(v) for v, _ in SCALARS])
def test_text_is_quoted_as_go_yaml_quotes_it(value: str, written: str) -> None:
    out = metadata_writer.render(metadata.Metadata("X", value, (), (), ()))
    assert out.split("\n")[2] == f"# Description: {written}"
    again, _ = metadata.parse(out, "again")
    assert again.description == value


# right_st's own test vectors (github.com/rightscale/right_st), which its authors assert against its writer:
# metadata_test.go "With populated metadata" (637 bytes) and "With a different comment string" (71 bytes),
# scaffold_test.go "With a shell script" (708 bytes).
RIGHT_ST_POPULATED = """\
# ---
# RightScript Name: Some RightScript Name
# Description: Some description of stuff
# Inputs:
#   TEXT_INPUT:
#     Category: Uncategorized
#     Description: Some test input
#     Input Type: single
#     Required: true
#     Advanced: false
#     Default: text:foobar
#     Possible Values:
#     - text:foobar
#     - text:barfoo
#   SUPPORTED_VERSIONS:
#     Category: Uncategorized
#     Description: Some array input
#     Input Type: array
#     Required: false
#     Advanced: true
#     Default: array:["text:v1","text:v2"]
# Attachments:
# - attachments/some_attachment.zip
# - attachments/another_attachment.tar.xz
# ...
"""
RIGHT_ST_EMPTY_NAME = '// ---\n// RightScript Name: ""\n// Inputs: {}\n// Attachments: []\n// ...\n'
SCAFFOLDED = "(put your input description here, it can be multiple lines using YAML syntax)"
RIGHT_ST_SCAFFOLD_SHELL = f"""\
# ---
# RightScript Name: Shell
# Description: (put your description here, it can be multiple lines using YAML syntax)
# Inputs:
#   STRING:
#     Category: (put your input category here)
#     Description: {SCAFFOLDED[:-13]}
#       YAML syntax)
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:hello
#   ARRAY:
#     Category: (put your input category here)
#     Description: {SCAFFOLDED[:-13]}
#       YAML syntax)
#     Input Type: array
#     Required: false
#     Advanced: false
#     Default: array:["text:hello","text:world"]
# Attachments:
# - attachment.txt
# ...
"""


def test_right_st_own_test_vectors() -> None:
    populated = metadata.Metadata("Some RightScript Name", "Some description of stuff", (), (
        InputSpec("TEXT_INPUT", category="Uncategorized", description="Some test input", required=True,
                  default="text:foobar", possible_values=("text:foobar", "text:barfoo")),
        InputSpec("SUPPORTED_VERSIONS", category="Uncategorized", description="Some array input", input_type="array",
                  advanced=True, default='array:["text:v1","text:v2"]'),
    ), ("attachments/some_attachment.zip", "attachments/another_attachment.tar.xz"))
    assert metadata_writer.render(populated) == RIGHT_ST_POPULATED and len(RIGHT_ST_POPULATED.encode()) == 637
    assert metadata_writer.render(metadata.Metadata("", None, (), (), ()), "//") == RIGHT_ST_EMPTY_NAME
    assert len(RIGHT_ST_EMPTY_NAME) == 71
    category = "(put your input category here)"
    shell = metadata.Metadata("Shell", "(put your description here, it can be multiple lines using YAML syntax)", (), (
        InputSpec("STRING", category=category, description=SCAFFOLDED, default="text:hello"),
        InputSpec("ARRAY", category=category, description=SCAFFOLDED, input_type="array",
                  default='array:["text:hello","text:world"]'),
    ), ("attachment.txt",))
    assert metadata_writer.render(shell) == RIGHT_ST_SCAFFOLD_SHELL and len(RIGHT_ST_SCAFFOLD_SHELL.encode()) == 708


def test_render_of_empty_collections() -> None:
    meta = metadata.Metadata("Nothing", None, (), (), ())
    assert metadata_writer.render(meta) == "# ---\n# RightScript Name: Nothing\n# Inputs: {}\n# Attachments: []\n# ...\n"


def test_render_then_parse_is_the_same_metadata() -> None:
    path = GOLDEN / "rightscripts" / "install-docker.sh"
    meta, _ = metadata.parse(path.read_text("utf-8"), str(path))
    again, _ = metadata.parse(metadata_writer.render(meta), "again")
    assert [(i.name, i.default, i.possible_values, i.required) for i in again.inputs] == [
        (i.name, i.default, i.possible_values, i.required) for i in meta.inputs]
    assert (again.name, again.description, again.packages, again.attachments) == (
        meta.name, meta.description, meta.packages, meta.attachments)
