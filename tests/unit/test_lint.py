"""Lint: input and attachment mismatches, metadata errors as findings, shellcheck when installed."""

from __future__ import annotations

from pathlib import Path

from stackscripts.catalog.lint import Finding, lint_paths
from tests.support.parts import require_binary
from tests.unit.helpers import bad_input, block, line_of

SCRIPT = block(
    "RightScript Name: Lint Me", "Inputs:", "  DECLARED_USED:", "    Input Type: single",
    "  DECLARED_UNUSED:", "    Input Type: single", "Attachments:", "- present.conf", "- absent.conf",
    "- page.html.j2",
    body='echo "$DECLARED_USED $UNDECLARED"\ncat "$RS_ATTACH_DIR/present.conf" "$RS_ATTACH_DIR/unlisted.txt"\n'
         'cat "$RS_ATTACH_DIR/page.html"\n',
)


def by_code(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for finding in findings:
        out.setdefault(finding.code, []).append(finding)
    return out


def lint_one(write, text: str = SCRIPT) -> tuple[Path, dict[str, list[Finding]]]:
    path = write("lib/lint-me.sh", text)
    write("lib/attachments/present.conf", "x\n")
    write("lib/attachments/page.html.j2", "{{ DECLARED_USED }}\n")
    return path, by_code(lint_paths([path], shellcheck=False))


def test_undeclared_input(write) -> None:
    path, found = lint_one(write)
    (finding,) = found["undeclared-input"]
    assert (finding.file, finding.line, finding.severity) == (str(path), line_of(SCRIPT, "$UNDECLARED"), "error")
    assert "UNDECLARED is read but not declared" in finding.message
    assert "scaffold" in finding.message


def test_unused_input_is_a_warning(write) -> None:
    _, found = lint_one(write)
    (finding,) = found["unused-input"]
    assert (finding.line, finding.severity) == (line_of(SCRIPT, "DECLARED_UNUSED:"), "warning")
    assert "DECLARED_UNUSED" in finding.message


def test_missing_attachment_names_its_line(write) -> None:
    _, found = lint_one(write)
    (finding,) = found["missing-attachment"]
    assert finding.line == line_of(SCRIPT, "- absent.conf")
    assert "absent.conf is missing" in finding.message


def test_unlisted_attachment(write) -> None:
    _, found = lint_one(write)
    (finding,) = found["unlisted-attachment"]
    assert finding.line == line_of(SCRIPT, "unlisted.txt")
    assert "$RS_ATTACH_DIR/unlisted.txt" in finding.message


def test_j2_attachment_is_listed_by_its_rendered_name(write) -> None:
    _, found = lint_one(write)
    assert not [f for f in found.get("unlisted-attachment", []) if "page.html" in f.message]


def test_nothing_else(write) -> None:
    _, found = lint_one(write)
    assert sorted(found) == ["missing-attachment", "undeclared-input", "unlisted-attachment", "unused-input"]


def test_clean_script_has_no_findings(write) -> None:
    path = write("lib/clean.sh", block("RightScript Name: Clean", "Inputs:", "  NAME:", "    Default: text:x",
                                       body='echo "$NAME"\n'))
    assert lint_paths([path], shellcheck=False) == []


def test_metadata_error_is_a_finding_not_an_exception(write) -> None:
    text = block("RightScript Name: Broken", "Inputs: {}", "Colour: red")
    path = write("lib/broken.sh", text)
    good = write("lib/good.sh", block("RightScript Name: Good", "Inputs: {}"))
    findings = lint_paths([path, good], shellcheck=False)
    (finding,) = findings
    assert (finding.file, finding.line, finding.severity, finding.code) == (
        str(path), line_of(text, "Colour"), "error", "metadata")
    assert finding.message.startswith("unknown metadata key 'Colour'")
    assert str(finding).startswith(f"{path}:{finding.line}: error: unknown metadata key")


def test_folder_is_linted_recursively(write, tmp_path: Path) -> None:
    write("lib/a.sh", block("RightScript Name: A", "Inputs: {}", body="echo $MISSING_A\n"))
    write("lib/sub/b.sh", block("RightScript Name: B", "Inputs: {}", body="echo $MISSING_B\n"))
    findings = lint_paths([tmp_path / "lib"], shellcheck=False)
    assert [f.message.split()[0] for f in findings] == ["MISSING_A", "MISSING_B"]


def test_nonexistent_path(tmp_path: Path) -> None:
    err = bad_input(lambda: lint_paths([tmp_path / "nope.sh"]))
    assert "no such file or folder" in err.message


def test_shellcheck_findings(write) -> None:
    require_binary("shellcheck")
    text = block("RightScript Name: Sloppy", "Inputs:", "  TARGET:", "    Default: text:/tmp",
                 body='cd $TARGET\nfor f in $(ls); do echo $f; done\n')
    path = write("lib/sloppy.sh", text)
    findings = lint_paths([path])
    codes = {f.code for f in findings}
    assert "SC2086" in codes  # unquoted $TARGET
    assert all(f.file == str(path) for f in findings)
    assert any(f.line == line_of(text, "cd $TARGET") for f in findings)
    assert "shellcheck-missing" not in codes


def test_shellcheck_ignores_non_shell_scripts(write) -> None:
    require_binary("shellcheck")
    path = write("lib/p.py", block("RightScript Name: P", "Inputs: {}", shebang="#!/usr/bin/env python3",
                                   body="print('hi')\n"))
    assert lint_paths([path]) == []
