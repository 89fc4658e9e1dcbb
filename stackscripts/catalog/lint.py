"""Lint scripts: metadata errors, shellcheck findings, input and attachment mismatches."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput
from ..model import Script
from .library import Library
from .scripts import SCRIPT_SUFFIXES, attachment_line, load_script, missing_attachments
from .usage import input_candidates, is_shell, scan


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
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(Library(path).files())
        elif path.exists():
            files.append(path)
        else:
            raise BadInput("no such file or folder", file=str(path), hint="Check the path.")
    return files


def lint_paths(paths: Iterable[str | Path], *, shellcheck: bool = True) -> list[Finding]:
    findings: list[Finding] = []
    scripts: list[Script] = []
    for path in expand(paths):
        try:
            script = load_script(path)
        except BadInput as exc:
            findings.append(Finding(exc.file or str(path), exc.line, "error", "metadata", str(exc).split(": ", 1)[-1]
                                    if exc.file else str(exc)))
            continue
        scripts.append(script)
        findings.extend(lint_script(script))
    if shellcheck:
        findings.extend(run_shellcheck([s for s in scripts if is_shell(s)]))
    return sorted(findings, key=lambda f: (f.file, f.line or 0, f.code))


def lint_script(script: Script) -> list[Finding]:
    file = str(script.path)
    findings = []
    declared = {spec.name: spec for spec in script.inputs}
    used = input_candidates(script)
    for name, line in used.items():
        if name not in declared:
            findings.append(Finding(file, line, "error", "undeclared-input",
                                    f"{name} is read but not declared in Inputs (run 'stackscripts scripts scaffold {file}')"))
    all_used = scan(script).used
    for name, spec in declared.items():
        if name not in all_used:
            findings.append(Finding(file, spec.line, "warning", "unused-input", f"input {name} is declared but never used"))
    for name in missing_attachments(script):
        findings.append(Finding(file, attachment_line(script, name), "error", "missing-attachment",
                                f"attachment {name} is missing (expected {script.attach_dir / name})"))
    listed = set(script.attachments) | {a[:-3] for a in script.attachments if a.endswith(".j2")}
    for name, line in scan(script).attachments.items():
        if name not in listed:
            findings.append(Finding(file, line, "error", "unlisted-attachment",
                                    f"$RS_ATTACH_DIR/{name} is used but not listed in Attachments"))
    return findings


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
