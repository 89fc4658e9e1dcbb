"""Lint reads .j2 attachments, leaves login variables alone, and says when a file is a template."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackscripts.catalog import j2
from stackscripts.catalog.lint import Finding, lint_paths
from stackscripts.model import Phase, PlannedStep, Script
from stackscripts.render.bundle import step_env
from tests.unit.helpers import block, line_of

MOTD = "Welcome to {{ STACKSCRIPTS_SERVER }} ({{ STACKSCRIPTS_RUN_ID }}, {{ RS_PACKAGES }})\n" \
       "{% set who = 'ops' %}{% for line in MOTD_LINES.split('\\n') %}{{ line }} {{ who }}\n{% endfor %}" \
       "Owner: {{ OWNER | default('nobody') }}\n"


def lint_with(write, j2_text: str, *inputs: str, body: str = 'cat "$RS_ATTACH_DIR/motd"\n') -> list[Finding]:
    declared = [line for name in inputs for line in (f"  {name}:", "    Input Type: single")]
    path = write("lib/x.sh", block("RightScript Name: X", "Inputs:" if declared else "Inputs: {}", *declared,
                                   "Attachments:", "- motd.j2", body=body))
    write("lib/attachments/motd.j2", j2_text)
    return lint_paths([path], shellcheck=False)


def test_j2_variable_not_declared_is_an_error_at_its_line(write, tmp_path: Path) -> None:
    (finding,) = lint_with(write, MOTD, "MOTD_LINES")
    assert (finding.file, finding.line, finding.code, finding.severity) == (
        str(tmp_path / "lib/attachments/motd.j2"), line_of(MOTD, "OWNER"), "undeclared-input", "error")
    assert finding.message.startswith("OWNER is used in motd.j2 but not declared in the Inputs of ")
    assert "scaffold" in finding.message


def test_inputs_used_only_by_a_j2_are_used(write) -> None:
    assert lint_with(write, MOTD, "MOTD_LINES", "OWNER") == []


def test_runtime_and_login_variables_in_a_j2(write) -> None:
    text = "{{ RS_PACKAGES }}\n{{ RS_ATTACH_DIR }}/x\nhome={{ HOME }}\n"
    found = lint_with(write, text)
    assert [(f.line, f.code) for f in found] == [(2, "j2-variable"), (3, "j2-variable")]
    assert "RS_ATTACH_DIR is not a variable of .j2 attachments" in found[0].message
    assert "read RS_ATTACH_DIR in the script instead" in found[0].message


def test_j2_syntax_error_is_a_finding(write, tmp_path: Path) -> None:
    (finding,) = lint_with(write, "ok\nfine\n{{ X + }}\n")
    assert (finding.file, finding.code, finding.line) == (str(tmp_path / "lib/attachments/motd.j2"), "j2-syntax", 3)
    assert "template syntax error" in finding.message


def test_missing_j2_is_only_the_missing_attachment(write) -> None:
    path = write("lib/y.sh", block("RightScript Name: Y", "Inputs: {}", "Attachments:", "- gone.j2",
                                   body='cat "$RS_ATTACH_DIR/gone"\n'))
    assert [f.code for f in lint_paths([path], shellcheck=False)] == ["missing-attachment"]


def test_listed_without_j2_but_only_the_j2_is_there(write) -> None:
    path = write("lib/y.sh", block("RightScript Name: Y", "Inputs: {}", "Attachments:", "- app.conf",
                                   body='cat "$RS_ATTACH_DIR/app.conf"\n'))
    write("lib/attachments/app.conf.j2", "x\n")
    (finding,) = lint_paths([path], shellcheck=False)
    assert finding.code == "missing-attachment" and "(app.conf.j2 is there: list it by that name)" in finding.message


@pytest.mark.parametrize("name", ["SSH_CONNECTION", "SSH_CLIENT", "HOME", "USER", "PATH", "LOGNAME", "SHELL",
                                  "LC_ALL", "LANG", "XDG_RUNTIME_DIR", "BASH_SOURCE", "SUDO_USER", "_"])
def test_login_variables_are_not_undeclared_inputs(write, name: str) -> None:
    path = write("lib/z.sh", block("RightScript Name: Z", "Inputs: {}", body=f'echo "${{{name}}}"\n'))
    assert lint_paths([path], shellcheck=False) == []


def test_template_yaml_is_said_to_be_a_template(write) -> None:
    template = write("servertemplates/t.yaml", "Name: T\nRightScripts:\n  Boot: []\n")
    deployment = write("deployments/d.yaml", "Name: D\nServers: []\n")
    script = write("lib/ok.sh", block("RightScript Name: Ok", "Inputs: {}"))
    found = lint_paths([template, deployment, script], shellcheck=False)
    assert [(f.file, f.line, f.code) for f in found] == [
        (str(deployment), 2, "not-a-script"), (str(template), 2, "not-a-script")]
    assert found[1].message.startswith("this is a ServerTemplate, not a script, and 'scripts lint' checks scripts")
    assert f"stackscripts templates validate {template}" in found[1].message
    assert "scaffold" not in found[1].message


def test_render_vars_are_what_a_step_is_rendered_with(tmp_path: Path) -> None:
    step = PlannedStep(index=0, phase=Phase.BOOT, script=Script(name="s", path=tmp_path / "s.sh", text=""))
    assert set(step_env(step, {}, server="web1", run_id="r-1")) == set(j2.RENDER_VARS)


def test_a_file_given_twice_is_linted_once(write, tmp_path: Path) -> None:
    path = write("lib/x.sh", block("RightScript Name: X", "Inputs: {}", body='echo "$NOPE"\n'))
    assert len(lint_paths([path, tmp_path / "lib", tmp_path / "lib/../lib/x.sh"], shellcheck=False)) == 1
