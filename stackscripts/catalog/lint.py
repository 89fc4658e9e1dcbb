"""Lint scripts: metadata errors, shellcheck findings, input and attachment mismatches (body and .j2 attachments)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput
from ..model import Script
from . import j2
from .library import Library
from .scripts import SCRIPT_SUFFIXES, attachment_line, load_script, missing_attachments, not_a_script, read_text, yaml_kind
from .usage import input_candidates, is_environment, is_shell, scan


@dataclass(frozen=True)
class Finding:
    file: str
    line: int | None
    severity: str  # error | warning
    code: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.message} [{self.code}]"


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """The files to lint, in order, each once (a file given and also in a folder given is linted once)."""
    files: dict[Path, Path] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = Library(path).files()
        elif path.exists() or path.is_symlink():  # a dangling or looping link is reported when read
            found = [path]
        else:
            raise BadInput("no such file or folder", file=str(path), hint="Check the path.")
        for file in found:
            files.setdefault(Path(os.path.realpath(file)), file)
    return list(files.values())


def lint_paths(paths: Iterable[str | Path], *, shellcheck: bool = True) -> list[Finding]:
    findings: list[Finding] = []
    scripts: list[Script] = []
    for path in expand(paths):
        try:
            kind = yaml_kind(path, read_text(path))
            if kind is not None:
                findings.append(_finding(not_a_script(path, kind, "'scripts lint' checks scripts"), path, "not-a-script"))
                continue
            script = load_script(path)
        except BadInput as exc:
            findings.append(_finding(exc, path, "metadata"))
            continue
        scripts.append(script)
        findings.extend(lint_script(script))
    if shellcheck:
        findings.extend(run_shellcheck([s for s in scripts if is_shell(s)]))
    return sorted(findings, key=lambda f: (f.file, f.line or 0, f.code))


def _finding(exc: BadInput, path: Path, code: str) -> Finding:
    """A BadInput as an error finding: its file and line, its message and hint without the FILE:LINE prefix."""
    return Finding(exc.file or str(path), exc.line, "error", code, str(exc).split(": ", 1)[-1] if exc.file else str(exc))


def lint_script(script: Script) -> list[Finding]:
    file = str(script.path)
    findings = []
    declared = {spec.name: spec for spec in script.inputs}
    used = input_candidates(script)
    for name, line in used.items():
        if name not in declared:
            findings.append(Finding(file, line, "error", "undeclared-input",
                                    f"{name} is read but not declared in Inputs (run 'stackscripts scripts scaffold {file}')"))
    j2_used, j2_findings = lint_j2(script)
    findings.extend(j2_findings)
    all_used = set(scan(script).used) | j2_used
    for name, spec in declared.items():
        if name not in all_used:
            findings.append(Finding(file, spec.line, "warning", "unused-input", f"input {name} is declared but never used"))
    for name in missing_attachments(script):
        rendered = f" ({name}.j2 is there: list it by that name)" if (script.attach_dir / f"{name}.j2").is_file() else ""
        findings.append(Finding(file, attachment_line(script, name), "error", "missing-attachment",
                                f"attachment {name} is missing (expected {script.attach_dir / name}){rendered}"))
    listed = set(script.attachments) | {a[:-3] for a in script.attachments if a.endswith(".j2")}
    for name, line in scan(script).attachments.items():
        if name not in listed:
            findings.append(Finding(file, line, "error", "unlisted-attachment",
                                    f"$RS_ATTACH_DIR/{name} is used but not listed in Attachments"))
    return findings


def lint_j2(script: Script) -> tuple[set[str], list[Finding]]:
    """The variables the script's .j2 attachments read, and what is wrong with them: syntax errors, inputs the
    script does not declare, and variables that do not exist when attachments are rendered (RS_ATTACH_DIR, HOME...)."""
    file = str(script.path)
    declared = {spec.name for spec in script.inputs}
    used: set[str] = set()
    findings: list[Finding] = []
    for name in script.attachments:
        source = script.attach_dir / name
        if not j2.j2_name(name) or not source.is_file():
            continue
        try:
            template = j2.read(source)
        except BadInput as exc:
            findings.append(_finding(exc, source, "j2-syntax"))
            continue
        for var, line in template.variables.items():
            used.add(var)
            if var in declared or var in j2.RENDER_VARS:
                continue
            if is_environment(var):
                findings.append(Finding(str(source), line, "error", "j2-variable", (
                    f"{var} is not a variable of .j2 attachments: they are rendered before the step runs, with the "
                    f"script's inputs, {', '.join(j2.RENDER_VARS)}; read {var} in the script instead")))
            else:
                findings.append(Finding(str(source), line, "error", "undeclared-input", (
                    f"{var} is used in {name} but not declared in the Inputs of {file} "
                    f"(run 'stackscripts scripts scaffold {file}')")))
    return used, findings


def run_shellcheck(scripts: list[Script]) -> list[Finding]:
    if not scripts:
        return []
    binary = shutil.which("shellcheck")
    if binary is None:
        return [Finding(str(scripts[0].path.parent), None, "warning", "shellcheck-missing",
                        "shellcheck is not installed, so shell findings are not checked (apt-get install shellcheck)")]
    args = [binary, "-x", "-f", "json1", "-e", "SC2154", "-S", "style"]
    for script in scripts:
        args.append(str(script.path))
    proc = subprocess.run(args, capture_output=True, text=True)
    try:
        comments = json.loads(proc.stdout or "{}").get("comments", [])
    except ValueError:
        return [Finding(str(scripts[0].path), None, "warning", "shellcheck", proc.stderr.strip()[:300])]
    return [Finding(c["file"], c["line"], "error" if c["level"] == "error" else "warning", f"SC{c['code']}",
                    c["message"]) for c in comments]


__all__ = ["Finding", "lint_paths", "lint_script", "SCRIPT_SUFFIXES"]
