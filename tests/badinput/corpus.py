"""The bad-input corpus: cases from file headers (and sidecar tables), and the real CLI run on them.

A corpus file states what must happen in a comment header near its top:

    # expect-line: 7                       the line the error must name
    # expect: unknown metadata key         a fragment of the message
    # expect-hint: Did you mean            a fragment of what to write instead
    # expect-file: good/hello.sh           (optional) when the error is in another file
    # command: templates render --cloud-init   (optional) instead of the default command

(`//` and `--` work as comment markers too.) Paths are relative to this folder, where the CLI runs.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support import cli as support_cli

HERE = Path(__file__).resolve().parent
CORPUS_DIRS = ("scripts", "templates")
DEFAULT_COMMAND = {"scripts": "scripts show", "templates": "templates validate"}
LIBRARY_COMMANDS = ("scripts show", "templates validate", "templates inputs", "templates render")

_HEADER = re.compile(r"^\s*(?:#|//|--)\s*(expect-line|expect-hint|expect-file|expect|command):\s*(.*?)\s*$")


@dataclass(frozen=True)
class Case:
    id: str
    command: str  # e.g. "templates validate"
    target: str  # the file (or folder) argument, relative to HERE
    line: int | None  # None: the error has no line (a missing file, a command-line value)
    expect: str
    hint: str
    file: str | None = None  # the file the error names; default: target; None with line None: no file
    extra: tuple[str, ...] = ()  # more arguments, e.g. ("-i", "NAME=text:x")
    names_file: bool = True

    @property
    def expected_file(self) -> str | None:
        if not self.names_file:
            return None
        return os.path.normpath(self.file or self.target)

    def argv(self, as_json: bool = False) -> list[str]:
        args = [*self.command.split()[:2], self.target, *self.command.split()[2:], *self.extra]
        if self.command.startswith(LIBRARY_COMMANDS):
            args += ["--library", "good"]  # never the default ./scripts library (that is this corpus)
        return args + (["--json"] if as_json else [])


def header(path: Path) -> dict[str, str]:
    """The expect-* keys of a corpus file (read as Latin-1 so that non-UTF-8 files have headers too)."""
    found: dict[str, str] = {}
    for line in path.read_bytes().decode("latin-1").split("\n")[:8]:
        match = _HEADER.match(line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def corpus_files() -> list[Path]:
    return sorted(p for d in CORPUS_DIRS for p in (HERE / d).iterdir() if p.is_file())


def cases_from_headers() -> list[Case]:
    cases = []
    for path in corpus_files():
        keys = header(path)
        if "expect" not in keys:
            continue
        rel = path.relative_to(HERE).as_posix()
        cases.append(Case(
            id=rel, command=keys.get("command", DEFAULT_COMMAND[path.parent.name]), target=rel,
            line=int(keys["expect-line"]), expect=keys["expect"], hint=keys["expect-hint"],
            file=keys.get("expect-file"),
        ))
    return cases


Run = subprocess.CompletedProcess  # what run_cli returns: args, returncode, stdout, stderr


def run_cli(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """The real CLI, as a user runs it: a fresh process in the corpus folder (tests/support/cli.py)."""
    return support_cli.run_cli(*argv, env=env, cwd=HERE)
