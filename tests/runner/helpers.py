"""Helpers for the runner end-to-end tests: templates of real bash steps.

Import as `tests.runner.helpers`. The CLI runner and waits live in tests/support (cli.py, waits.py); their
names are re-exported here for older imports.
"""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.cli import ROOT, cli_command, cli_env, no_traceback, spawn_cli
from tests.support.cli import run_cli as cli
from tests.support.rightscripts import rightscript, stem_of, write_rightscript
from tests.support.waits import wait_until

__all__ = ["ROOT", "Step", "TemplateWriter", "cli", "cli_command", "cli_env", "cli_spawn", "files_containing", "five_steps",
           "no_traceback", "numbered_step", "ran", "step_text", "wait_until"]
cli_spawn = spawn_cli


@dataclass(frozen=True)
class Step:
    """One RightScript of a test template: a bash body and the inputs it declares."""

    name: str
    body: str
    inputs: Mapping[str, str | None] = field(default_factory=dict)  # name -> default (None: required, no default)
    timeout: float | None = None
    retries: int = 0
    attachments: Mapping[str, str] = field(default_factory=dict)  # file name -> content (attachments/)


def step_text(step: Step) -> str:
    return rightscript(step.name, textwrap.dedent(step.body).lstrip("\n"), inputs=dict(step.inputs),
                       attachments=list(step.attachments))


# Every numbered step: read an input, print to both streams, write a file, count itself, and fail
# while a marker file fail-N exists in the server's output folder.
NUMBERED = """\
set -eu
d="$OUT_DIR/$STACKSCRIPTS_SERVER"
mkdir -p "$d"
echo {n} >> "$d/ran"
echo "step {n} stdout: $MSG_{n}"
echo "step {n} stderr: $MSG_{n}" >&2
printf '%s\\n' "$MSG_{n}" > "$d/step{n}.txt"
if [ -e "$d/fail-{n}" ]; then echo "step {n}: fail-{n} is there" >&2; exit 7; fi
echo "step {n} done"
"""


def numbered_step(n: int, *, timeout: float | None = None) -> Step:
    return Step(f"Step {n}", NUMBERED.format(n=n), {"OUT_DIR": None, f"MSG_{n}": f"text:message-{n}"},
                timeout=timeout)


def five_steps() -> list[Step]:
    return [numbered_step(n) for n in range(1, 6)]


class TemplateWriter:
    """Writes scripts and a ServerTemplate into a folder; OUT_DIR is set in the template's Inputs."""

    def __init__(self, base: Path, out_dir: Path) -> None:
        self.base = base
        self.out_dir = out_dir
        self.count = 0

    def write(self, boot: Sequence[Step] | None = None, operational: Sequence[Step] = (),
              decommission: Sequence[Step] = (), inputs: dict[str, str] | None = None) -> Path:
        self.count += 1
        boot = five_steps() if boot is None else boot
        folder = self.base / f"t{self.count}"
        (folder / "scripts").mkdir(parents=True)
        needs_out = any("OUT_DIR" in s.inputs for s in [*boot, *operational, *decommission])
        all_inputs = {**({"OUT_DIR": f"text:{self.out_dir}"} if needs_out else {}), **(inputs or {})}
        lines = [f"Name: Test template {self.count}"]
        if all_inputs:
            lines.append("Inputs:")
            lines += [f"  {name}: {value!r}" if "'" not in value else f"  {name}: {value}"
                      for name, value in all_inputs.items()]
        lines.append("RightScripts:")
        written: dict[str, str] = {}
        for phase, steps in (("Boot", boot), ("Operational", operational),
                             ("Decommission", decommission)):
            if not steps:
                continue
            lines.append(f"  {phase}:")
            for step in steps:
                stem = stem_of(step.name)
                if stem not in written:
                    write_rightscript(folder / "scripts", step.name, textwrap.dedent(step.body).lstrip("\n"),
                                      inputs=dict(step.inputs), attachments=dict(step.attachments))
                    written[stem] = step.name
                extra = {"Timeout": step.timeout, "Retries": step.retries or None}
                if any(v is not None for v in extra.values()):
                    lines.append(f"  - Script: scripts/{stem}.sh")
                    lines += [f"    {k}: {v}" for k, v in extra.items() if v is not None]
                else:
                    lines.append(f"  - scripts/{stem}.sh")
        template = folder / "template.yaml"
        template.write_text("\n".join(lines) + "\n")
        return template


def ran(out_dir: Path, server: str) -> list[int]:
    """Which numbered steps ran on a server, in order (one entry per execution)."""
    path = out_dir / server / "ran"
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def files_containing(needle: str, root: str = "/tmp") -> list[str]:
    """Files under root whose bytes contain needle (grep -r; files vanishing meanwhile are ignored)."""
    found = subprocess.run(["grep", "-rlsF", "--", needle, root], capture_output=True, text=True)
    return found.stdout.split()
