"""Plans: a template's scripts resolved in phase order, each step with its resolved inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackscripts.catalog.library import Catalog
from stackscripts.inputs.resolve import Layer
from stackscripts.model import Phase
from stackscripts.plan import build_plan, resolve_inputs, resolve_template
from stackscripts.templates import load_template
from tests.unit.helpers import bad_input, block, line_of

TEMPLATE = """\
Name: Web
Inputs:
  GREETING: text:hi
RightScripts:
  Boot:
  - ../scripts/hello.sh
  - Script: ../scripts/world.sh
    Timeout: 30
    Retries: 1
  Operational:
  - ../scripts/world.sh
"""


@pytest.fixture
def template(write, tmp_path: Path):
    write("scripts/hello.sh", block("RightScript Name: Hello", "Inputs:", "  GREETING:", "    Required: true",
                                    "Attachments:", "- motd", body='echo "$GREETING"\n'))
    write("scripts/attachments/motd", "hi\n")
    write("scripts/world.sh", block("RightScript Name: World", "Inputs:", "  GREETING:", "  WHO:",
                                    "    Default: text:world"))
    return load_template(write("servertemplates/web.yaml", TEMPLATE))


def test_resolve_template_in_phase_order(template) -> None:
    resolved = resolve_template(template, Catalog())
    assert [s.name for _, s in resolved.steps[Phase.BOOT]] == ["Hello", "World"]
    assert [s.name for _, s in resolved.steps[Phase.OPERATIONAL]] == ["World"]
    assert resolved.steps[Phase.DECOMMISSION] == ()
    assert [s.name for s in resolved.scripts()] == ["Hello", "World"]


def test_plan_steps_carry_their_inputs_timeout_and_retries(template) -> None:
    resolved = resolve_template(template, Catalog())
    plan = build_plan(resolved, Phase.BOOT, [Layer.from_raw("command line", {"WHO": "text:you"})], server="web1")
    hello, world = plan.steps
    assert [i.name for i in hello.inputs] == ["GREETING"]
    assert [(i.name, i.value.text, i.source) for i in world.inputs] == [
        ("GREETING", "hi", "template"), ("WHO", "you", "command line")]
    assert (world.timeout, world.retries, world.index) == (30.0, 1, 1)
    assert (plan.server, plan.phase) == ("web1", Phase.BOOT)
    assert resolve_inputs(resolved)["WHO"].source == "script default (world.sh)"


def test_only_picks_one_script(template) -> None:
    resolved = resolve_template(template, Catalog())
    assert [s.name for s in build_plan(resolved, Phase.BOOT, only="world").steps] == ["World"]
    err = bad_input(lambda: build_plan(resolved, Phase.OPERATIONAL, only="Hello"))
    assert "has no Operational script 'Hello'" in err.message
    assert "world" in err.hint


def test_unknown_script_names_the_template_line(write, template) -> None:
    text = TEMPLATE.replace("../scripts/hello.sh", "../scripts/nope.sh")
    broken = load_template(write("servertemplates/broken.yaml", text))
    err = bad_input(lambda: resolve_template(broken, Catalog()))
    assert (err.file, err.line) == (str(broken.path), line_of(text, "nope.sh"))
    assert "unknown script '../scripts/nope.sh'" in err.message


def test_missing_attachment_names_the_script_line(template, tmp_path: Path) -> None:
    (tmp_path / "scripts" / "attachments" / "motd").unlink()
    err = bad_input(lambda: resolve_template(template, Catalog()))
    hello = tmp_path / "scripts" / "hello.sh"
    assert err.file == str(template.path.parent / "../scripts/hello.sh")
    assert err.line == line_of(hello.read_text(), "- motd")
    assert "lists attachment 'motd', which does not exist" in err.message
    assert "attachments/motd" in err.hint
