"""The writer: parse -> render reproduces right_st's output byte for byte (golden files)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stackscripts.catalog import metadata
from stackscripts.catalog.scaffold import scaffold
from stackscripts.model import InputSpec
from tests.unit.helpers import GOLDEN

RIGHTSCRIPTS = sorted(p for p in (GOLDEN / "rightscripts").iterdir() if p.is_file())


def block_text(text: str, found: metadata.Block) -> str:
    return "".join(line + "\n" for line in text.split("\n")[found.start - 1:found.end])


def test_goldens_cover_every_marker() -> None:
    markers = {metadata.parse(p.read_text("utf-8"), str(p))[1].marker for p in RIGHTSCRIPTS}
    assert markers == {"#", "//", "--"}


@pytest.mark.parametrize("path", RIGHTSCRIPTS, ids=lambda p: p.name)
def test_render_reproduces_the_golden_block(path: Path) -> None:
    text = path.read_text("utf-8")
    meta, found = metadata.parse(text, str(path))
    assert metadata.render(meta, found.marker) == block_text(text, found)


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


def test_render_of_empty_collections() -> None:
    meta = metadata.Metadata("Nothing", None, (), (), ())
    assert metadata.render(meta) == "# ---\n# RightScript Name: Nothing\n# Inputs: {}\n# Attachments: []\n# ...\n"


def test_render_key_order_and_right_st_scalars() -> None:
    spec = InputSpec("A", description="on", input_type="array", required=True, advanced=True,
                     default='array:["text:x"]', possible_values=("text:x", "text:y"))
    meta = metadata.Metadata("Name", "1.0", ("curl", "jq"), (spec,), ("a.conf",))
    assert metadata.render(meta, "//") == (
        "// ---\n"
        "// RightScript Name: Name\n"
        '// Description: "1.0"\n'
        "// Packages: curl jq\n"
        "// Inputs:\n"
        "//   A:\n"
        '//     Category: ""\n'
        '//     Description: "on"\n'
        "//     Input Type: array\n"
        "//     Required: true\n"
        "//     Advanced: true\n"
        '//     Default: array:["text:x"]\n'
        "//     Possible Values:\n"
        "//     - text:x\n"
        "//     - text:y\n"
        "// Attachments:\n"
        "// - a.conf\n"
        "// ...\n"
    )


def test_long_description_folds_at_80_columns() -> None:
    words = " ".join(["word"] * 40)
    out = metadata.render(metadata.Metadata("X", words, (), (), ()))
    lines = [line[2:] for line in out.splitlines() if "word" in line]
    assert len(lines) > 1
    for line in lines[:-1]:  # libyaml breaks at the first space past column 80
        assert len(line) > 80 and len(line.rsplit(" ", 1)[0]) <= 80
    assert all(line.startswith("  word") for line in lines[1:])


def test_render_then_parse_is_the_same_metadata() -> None:
    path = GOLDEN / "rightscripts" / "install-docker.sh"
    meta, _ = metadata.parse(path.read_text("utf-8"), str(path))
    again, _ = metadata.parse(metadata.render(meta), "again")
    assert [(i.name, i.default, i.possible_values, i.required) for i in again.inputs] == [
        (i.name, i.default, i.possible_values, i.required) for i in meta.inputs]
    assert (again.name, again.description, again.packages, again.attachments) == (
        meta.name, meta.description, meta.packages, meta.attachments)
