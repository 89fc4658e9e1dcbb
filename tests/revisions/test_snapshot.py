"""A template revision as a tree: the same content gives the same revision wherever it lies, and the template in
the tree names its scripts by tree paths, so that it loads from the tree alone."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from stackscripts import yamlsrc
from stackscripts.api.pinning import make
from stackscripts.catalog.library import Catalog
from stackscripts.errors import BadInput
from stackscripts.model import Phase
from stackscripts.plan import resolve_template
from stackscripts.revisions.manifest import scan
from stackscripts.revisions.snapshot import TEMPLATE, ScriptFiles, Snapshot, Step, build, dump
from stackscripts.templates import load_template
from tests.support.rightscripts import write_rightscript

TEMPLATE_TEXT = """\
# a comment that is not part of the revision
Name: Web
Description: |
  Two lines
  of description.
Inputs:
  GREETING: text:Hello
  PORT: text:8080
RightScripts:
  Boot:
  - ../scripts/install.sh
  - Script: ../scripts/configure.sh
    Timeout: 30
    Retries: 2
  Operational:
  - ../scripts/configure.sh
  - ../other/install.sh
  Decommission: []
MultiCloudImages:
- Name: Debian 12
  Settings:
  - Cloud: local
    Image: stackscripts/debian:bookworm
    SSH User: root
"""


def project(root: Path, template_text: str = TEMPLATE_TEXT, body: str = "echo installing\n") -> Path:
    write_rightscript(root / "scripts", "Install", body, inputs={"GREETING": None})
    write_rightscript(root / "scripts", "Configure", 'cp "$RS_ATTACH_DIR/app.conf" /tmp/\n',
                      inputs={"PORT": "text:80"}, attachments={"app.conf": "port=80\n"})
    write_rightscript(root / "other", "Install Other", "echo other\n", inputs={})
    (root / "other" / "install-other.sh").rename(root / "other" / "install.sh")
    (root / "servertemplates").mkdir()
    path = root / "servertemplates" / "web.yaml"
    path.write_text(template_text)
    return path


def materialise(snapshot: Snapshot, root: Path) -> Path:
    for entry in snapshot.manifest.entries:
        (root / entry.path).parent.mkdir(parents=True, exist_ok=True)
        (root / entry.path).write_bytes(snapshot.files[entry.path])
        (root / entry.path).chmod(entry.mode)
    return root


def test_the_same_content_gives_the_same_revision_wherever_it_lies(tmp_path: Path) -> None:
    first = make(project(tmp_path / "a"), Catalog())
    second_path = project(tmp_path / "elsewhere" / "b")
    for script in (tmp_path / "elsewhere" / "b" / "scripts").glob("*.sh"):  # modes and times are not content
        script.chmod(0o600)
        os.utime(script, (0, 0))
    second = make(second_path, Catalog())
    assert first.digest == second.digest and first.digest.startswith("sha256:")
    assert first.snapshot.manifest.canonical == second.snapshot.manifest.canonical
    assert make(second_path, Catalog()).digest == first.digest  # and again: nothing random or time-bound

    # formatting and comments are not content; a changed byte of a script or an attachment is
    second_path.write_text(TEMPLATE_TEXT.replace("# a comment that is not part of the revision\n", "")
                           .replace("  Decommission: []\n", ""))
    assert make(second_path, Catalog()).digest == first.digest
    (tmp_path / "a" / "scripts" / "attachments" / "app.conf").write_text("port=81\n")
    changed = make(tmp_path / "a" / "servertemplates" / "web.yaml", Catalog())
    assert changed.digest != first.digest
    assert {e.path for e in changed.snapshot.manifest.entries if e not in first.snapshot.manifest.entries} == {
        "scripts/configure/attachments/app.conf"}


def test_the_tree_holds_each_script_once_with_its_attachments(tmp_path: Path) -> None:
    made = make(project(tmp_path), Catalog())
    modes = {e.path: f"{e.mode:04o}" for e in made.snapshot.manifest.entries}
    assert modes == {
        "template.yaml": "0644",
        "scripts/install/install.sh": "0755",
        "scripts/configure/configure.sh": "0755",
        "scripts/configure/attachments/app.conf": "0644",
        "scripts/install-2/install.sh": "0755",  # another install.sh: its own folder
    }
    assert made.snapshot.phases == {
        Phase.BOOT: ("scripts/install/install.sh", "scripts/configure/configure.sh"),
        Phase.OPERATIONAL: ("scripts/configure/configure.sh", "scripts/install-2/install.sh"),
    }
    assert made.snapshot.files["scripts/install/install.sh"] == (tmp_path / "scripts" / "install.sh").read_bytes()


def test_the_template_in_the_tree_loads_from_the_tree_alone(tmp_path: Path) -> None:
    source = project(tmp_path / "project")
    made = make(source, Catalog())
    tree = materialise(made.snapshot, tmp_path / "tree")
    assert scan(tree).digest == made.digest
    shutil.rmtree(tmp_path / "project")  # nothing outside the tree is needed

    text = (tree / TEMPLATE).read_text()
    assert "../" not in text and "comment" not in text
    loaded = resolve_template(load_template(tree / TEMPLATE), Catalog())
    original = made.resolved
    assert loaded.template.name == original.template.name == "Web"
    assert loaded.template.description == "Two lines\nof description.\n"
    assert dict(loaded.template.inputs) == dict(original.template.inputs)
    assert loaded.template.images == original.template.images
    for phase in Phase:
        before, after = original.steps[phase], loaded.steps[phase]
        assert [(s.name, s.text, s.sha256, s.inputs) for _, s in after] == [
            (s.name, s.text, s.sha256, s.inputs) for _, s in before]
        assert [(r.timeout, r.retries) for r, _ in after] == [(r.timeout, r.retries) for r, _ in before]
        assert all(s.path.is_relative_to(tree) for _, s in after)
    configure = loaded.steps[Phase.BOOT][1][1]
    assert (configure.attach_dir / "app.conf").read_text() == "port=80\n"


def test_build_is_pure_and_canonical() -> None:
    template = {"Name": "T", "Inputs": {}, "Alerts": [], "RightScripts": {"Boot": ["whatever/was.sh"]}}
    scripts = {"k": ScriptFiles("run.sh", b"#!/bin/sh\necho hi\n", {"b.txt": b"B", "a.txt": b"A"})}
    one = build(template, {Phase.BOOT: [Step("k", timeout=30.0)]}, scripts)
    two = build(dict(reversed(list(template.items()))), {Phase.BOOT: [Step("k", timeout=30)]}, scripts)
    assert one.digest == two.digest
    assert one.files[TEMPLATE] == b"Name: T\nRightScripts:\n  Boot:\n  - Script: scripts/run/run.sh\n    Timeout: 30\n"
    assert build(template, {Phase.BOOT: [Step("k", retries=1)]}, scripts).digest != one.digest
    with pytest.raises(BadInput, match="attachment name"):
        build(template, {Phase.BOOT: [Step("k")]}, {"k": ScriptFiles("run.sh", b"x", {"../up": b""})})


@pytest.mark.parametrize("value", [
    "text:Hello", "yes", "1.0", "", " lead", "trail ", "a: b", "# c", "multi\nline\n", "no newline\nat end",
    "keep\n\n\n", "\x85nel", "\u2028", "\ufeff", "é 😀", "\x7f", "- x", "*a", "2024-01-01", "~", "=", "<<",
    "tab\there", 'quote "q"', "back\\slash", 0, -3, 1.5, 1e-05, float("inf"), True, None, [], {},
])
def test_every_value_reads_back_the_same(value: object) -> None:
    data = {"k": value, "list": [value, {"n": value}], str(value): 1}
    assert yamlsrc.load(dump(data), "t.yaml") == data
