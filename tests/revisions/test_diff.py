"""The diff of two revisions against golden files (tests/golden/diff/): a library, and a template's phases.

Regenerate the goldens after a deliberate change with STACKSCRIPTS_REGEN_GOLDEN=1, and review their diff.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from stackscripts.api.revisions import tree
from stackscripts.model import Phase
from stackscripts.revisions.diff import Diff, Placed, Tree, diff
from stackscripts.revisions.difftext import render, to_json
from stackscripts.templates import load_template

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "diff"


def golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("STACKSCRIPTS_REGEN_GOLDEN"):
        path.write_text(actual)
    assert actual == path.read_text(), f"{path} differs; regenerate with STACKSCRIPTS_REGEN_GOLDEN=1 and review"


def sides() -> tuple[Tree, Tree]:
    return tree(GOLDEN / "library-old"), tree(GOLDEN / "library-new")


def test_library_diff_golden() -> None:
    result = diff(*sides())
    golden("library.txt", render(result))
    golden("library.json", json.dumps(to_json(result), indent=2) + "\n")
    assert [c.name for c in result.changed] == ["Install Docker", "Launch Containers"]
    assert result.added == (("Report Status", "status.sh"),) and result.removed == (("Old Cleanup", "old-cleanup.sh"),)


def with_phases(side: Tree, phases: dict[Phase, list[str]], template: str) -> Tree:
    return Tree(side.manifest, side.scripts, {phase: tuple(paths) for phase, paths in phases.items()},
                load_template(GOLDEN / template))


def test_template_diff_golden() -> None:
    old, new = sides()
    old = with_phases(old, {Phase.BOOT: ["install-docker.sh", "launch.sh", "old-cleanup.sh"],
                            Phase.OPERATIONAL: ["launch.sh"], Phase.DECOMMISSION: ["old-cleanup.sh"]},
                      "template-old.yaml")
    new = with_phases(new, {Phase.BOOT: ["containers/launch.sh", "install-docker.sh", "status.sh"],
                            Phase.OPERATIONAL: ["status.sh", "containers/launch.sh"], Phase.DECOMMISSION: []},
                      "template-new.yaml")
    result = diff(old, new)
    golden("template.txt", render(result))
    golden("template.json", json.dumps(to_json(result), indent=2) + "\n")
    boot = result.phases[0]
    assert boot.phase is Phase.BOOT and boot.moved == (Placed("Launch Containers", 1, 2),)
    assert boot.added == (Placed("Report Status", 3),) and boot.removed == (Placed("Old Cleanup", 3),)
    fields = {f.field: (f.old, f.new) for f in result.template}
    assert fields["input DOCKER_PACKAGE"] == ("text:docker.io", "text:docker-ce")
    assert fields["input MODE"] == ("text:dev", None) and fields["input REGISTRY_HOST"] == (None, "env:registry:PRIVATE_IP")
    assert fields["image Debian 12, cloud ec2 us-east-1: Instance Type"] == ("m5.large", "m5.xlarge")
    assert fields["image Ubuntu 24.04"] == (None, "#2") and "input REGISTRY_PASSWORD" not in fields


def test_the_same_revision_has_no_changes(tmp_path: Path) -> None:
    shutil.copytree(GOLDEN / "library-old", tmp_path / "copy")
    result = diff(tree(GOLDEN / "library-old"), tree(tmp_path / "copy"))
    assert result == Diff(result.old, result.old) and result.empty
    assert render(result) == f"diff {result.old} {result.old}\nno changes\n"


@pytest.mark.parametrize("trailing", [True, False])
def test_a_body_without_a_final_newline(tmp_path: Path, trailing: bool) -> None:
    for name, body in (("a", "echo one\n"), ("b", "echo two" + ("\n" if trailing else ""))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "x.sh").write_text("#!/bin/bash\n# ---\n# RightScript Name: X\n# Inputs: {}\n# ...\n" + body)
    body = diff(tree(tmp_path / "a"), tree(tmp_path / "b")).changed[0].body
    assert ("\\ No newline at end of file" in body) is not trailing
    assert body.startswith("--- a/x.sh\n+++ b/x.sh\n")
