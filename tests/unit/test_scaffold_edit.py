"""Scaffold on a block written by hand changes only the lines it adds; .j2 attachments, login variables, templates."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from stackscripts.catalog import metadata
from stackscripts.catalog.lint import lint_paths
from stackscripts.catalog.scaffold import scaffold
from tests.unit.helpers import GOLDEN, bad_input, block, line_of


def changes(before: str, after: str) -> tuple[list[str], list[str]]:
    """(lines removed, lines added), as a review shows them."""
    diff = list(difflib.unified_diff(before.split("\n"), after.split("\n"), lineterm="", n=0))
    removed = [d[1:] for d in diff if d.startswith("-") and not d.startswith("---")]
    added = [d[1:] for d in diff if d.startswith("+") and not d.startswith("+++")]
    return removed, added


def meta_of(text: str) -> metadata.Metadata:
    parsed = metadata.parse(text, "x")
    assert parsed is not None
    return parsed[0]


def test_hand_written_block_golden(tmp_path: Path) -> None:
    source = tmp_path / "hand-written.sh"
    shutil.copy(GOLDEN / "scaffold" / "hand-written.sh", source)
    before = source.read_text("utf-8")
    result = scaffold(source)
    assert result.text == (GOLDEN / "scaffold" / "hand-written.expected.sh").read_text("utf-8")
    assert (result.added_inputs, result.added_attachments) == (("TLS_MODE",), ("robots.txt",))
    removed, added = changes(before, result.text)
    assert removed == []  # the block scalar, the key order and the indentation are all kept
    assert added == ["#     TLS_MODE:", "#         Category: Uncategorized", "#         Input Type: single",
                     "#         Required: false", "#         Advanced: false", "#         Default: text:off",
                     "#     - robots.txt"]
    meta = meta_of(result.text)
    assert meta.description == "Writes the nginx site and reloads nginx.\nKeeps the default site out of the way.\n"
    assert [i.name for i in meta.inputs] == ["WEB_PORT", "SITE_NAME", "TLS_MODE"]
    assert meta.attachments == ("site.conf.j2", "robots.txt")


def test_scaffold_again_changes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "hand-written.sh"
    source.write_text((GOLDEN / "scaffold" / "hand-written.expected.sh").read_text("utf-8"), "utf-8")
    again = scaffold(source)
    assert again.changed is False and again.text == source.read_text("utf-8")


@pytest.mark.parametrize(("marker", "name", "shebang", "body"), [
    ("#", "x.sh", "#!/bin/bash", 'echo "$KNOWN $FRESH"\n'),
    ("//", "x.js", "#!/usr/bin/env node", "console.log(process.env.KNOWN, process.env.FRESH);\n"),
])
def test_every_marker_only_adds_lines(write, marker: str, name: str, shebang: str, body: str) -> None:
    text = block("RightScript Name: X", "Description: >", "  Folded by hand,", "  over two lines.", "Inputs:",
                 "  KNOWN: {Input Type: single}", marker=marker, shebang=shebang, body=body)
    result = scaffold(write(f"s/{name}", text))
    removed, added = changes(text, result.text)
    assert removed == []
    assert added[0] == f"{marker}   FRESH:" and added[1] == f"{marker}     Category: Uncategorized"
    assert [i.name for i in meta_of(result.text).inputs] == ["KNOWN", "FRESH"]


def test_empty_inputs_and_attachments_change_one_line_each(write) -> None:
    text = block("RightScript Name: X", "Inputs: {}", "Attachments: []", "Description: Last, by hand.",
                 body='echo "$FRESH"\ncat "$RS_ATTACH_DIR/new.conf"\n')
    result = scaffold(write("s/x.sh", text))
    removed, added = changes(text, result.text)
    assert removed == ["# Inputs: {}", "# Attachments: []"]
    assert added[0] == "# Inputs:" and "# Attachments:" in added and added[-1] == "# - new.conf"
    assert result.text.split("\n")[line_of(result.text, "Description")] == "# ..."  # still last, untouched


def test_missing_attachments_key_is_added_at_the_end(write) -> None:
    text = block("RightScript Name: X", "Inputs:", "  A:", "    Category: c", body='echo "$A"; cat "$RS_ATTACH_DIR/f"\n')
    result = scaffold(write("s/x.sh", text))
    removed, added = changes(text, result.text)
    assert removed == [] and added == ["# Attachments:", "# - f"]


def test_inputs_after_attachments_each_grow_in_place(write) -> None:
    text = block("RightScript Name: X", "Attachments:", "  - a.conf", "Inputs:", "    A:", "        Category: c",
                 body='echo "$A $B"; cat "$RS_ATTACH_DIR/a.conf" "$RS_ATTACH_DIR/b.conf"\n')
    result = scaffold(write("s/x.sh", text))
    lines = result.text.split("\n")
    assert lines[line_of(result.text, "- a.conf")] == "#   - b.conf"
    assert lines[line_of(result.text, "Category: c")] == "#     B:"
    assert changes(text, result.text)[0] == []


def test_crlf_file_keeps_its_line_ends(write) -> None:
    text = block("RightScript Name: X", "Inputs:", "  A:", "    Category: c", body='echo "$A $B"\n')
    path = write("s/x.sh", raw=text.replace("\n", "\r\n").encode())
    result = scaffold(path)
    assert changes(text.replace("\n", "\r\n"), result.text)[0] == []
    assert "#   B:\r\n#     Category: Uncategorized\r\n" in result.text


def test_flow_inputs_fall_back_to_a_whole_block(write) -> None:
    text = block("RightScript Name: X", "Inputs: {A: {Category: c}}", body='echo "$A $B"\n')
    result = scaffold(write("s/x.sh", text))
    assert [i.name for i in meta_of(result.text).inputs] == ["A", "B"]
    assert "#   A:\n#     Category: c\n" in result.text  # written in right_st's style instead


def test_j2_attachment_is_named_as_on_disk(write, tmp_path: Path) -> None:
    path = write("lib/x.sh", '#!/bin/bash\ncp "$RS_ATTACH_DIR/app.conf" "$RS_ATTACH_DIR/plain.txt" /etc/\n')
    write("lib/attachments/app.conf.j2", "port={{ APP_PORT }} on {{ STACKSCRIPTS_SERVER }}\n")
    write("lib/attachments/plain.txt", "x\n")
    result = scaffold(path)
    assert result.added_attachments == ("app.conf.j2", "plain.txt")
    assert result.added_inputs == ("APP_PORT",)  # read by the .j2; STACKSCRIPTS_SERVER is the runtime's
    path.write_text(result.text, "utf-8")
    assert lint_paths([path], shellcheck=False) == []


def test_j2_variables_of_a_listed_attachment_become_inputs(write) -> None:
    path = write("lib/x.sh", block("RightScript Name: X", "Inputs: {}", "Attachments:", "- motd.j2",
                                   body='cat "$RS_ATTACH_DIR/motd"\n'))
    write("lib/attachments/motd.j2", "{{ GREETING }} {% for n in range(2) %}{{ n }}{% endfor %} {{ RS_PACKAGES }}\n")
    assert scaffold(path).added_inputs == ("GREETING",)


def test_login_variables_are_not_inputs(write) -> None:
    path = write("s/x.sh", 'echo "$SSH_CONNECTION $SSH_CLIENT $HOME $USER $PATH $LC_ALL $XDG_RUNTIME_DIR $_ $MINE"\n'
                           'echo "$STACKSCRIPTS_RUN_ID $BASH_VERSION $HISTFILE"\n')
    assert scaffold(path).added_inputs == ("MINE",)


def test_template_yaml_is_refused(write) -> None:
    text = "Name: T\nInputs: {}\nRightScripts:\n  Boot: []\n"
    path = write("servertemplates/t.yaml", text)
    err = bad_input(lambda: scaffold(path))
    assert (err.file, err.line) == (str(path), 3)
    assert "this is a ServerTemplate, not a script" in err.message and "templates validate" in str(err)
    assert path.read_text("utf-8") == text
    deployment = write("deployments/d.yml", "Name: D\nServers:\n- Name: a\n")
    assert "this is a deployment, not a script" in bad_input(lambda: scaffold(deployment)).message


def test_blank_and_comment_lines_in_the_block_are_kept(write) -> None:
    text = block("", "# written by ops", "RightScript Name: X", "Inputs:", "  A:", "    Category: c", "",
                 body='echo "$A $B"\n')
    result = scaffold(write("s/x.sh", text))
    removed, added = changes(text, result.text)
    assert removed == [] and added[0] == "#   B:"
