"""Helpers for the runner end-to-end tests: templates of real bash steps, the CLI as a subprocess, waits.

Import as `tests.runner.helpers` (the CLI tests in tests/cli use them too).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Step:
    """One RightScript of a test template: a bash body and the inputs it declares."""

    name: str
    body: str
    inputs: Mapping[str, str | None] = field(default_factory=dict)  # name -> default (None: required, no default)
    timeout: float | None = None
    retries: int = 0


def step_text(step: Step) -> str:
    lines = ["#!/bin/bash", "# ---", f"# RightScript Name: {step.name}"]
    if not step.inputs:
        lines.append("# Inputs: {}")
    else:
        lines.append("# Inputs:")
        for name, default in step.inputs.items():
            required = "true" if default is None else "false"
            lines += [f"#   {name}:", "#     Input Type: single", f"#     Required: {required}"]
            if default is not None:
                lines.append(f"#     Default: {default}")
    lines.append("# ...")
    return "\n".join(lines) + "\n" + textwrap.dedent(step.body).lstrip("\n")


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
                stem = step.name.lower().replace(" ", "-")
                if stem not in written:
                    (folder / "scripts" / f"{stem}.sh").write_text(step_text(step))
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


def wait_until(check: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKSCRIPTS_")}
    env.update(PYTHONPATH=path, COLUMNS="200", NO_COLOR="1", TERM="dumb")
    env.update(extra or {})
    return env


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "stackscripts", *args]


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run `python -m stackscripts ARGS` and capture its output (never raises on a non-zero exit)."""
    return subprocess.run(cli_command(*args), cwd=ROOT, env=cli_env(env), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def cli_spawn(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(cli_command(*args), cwd=ROOT, env=cli_env(env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def no_traceback(text: str) -> None:
    assert "Traceback" not in text, text
    assert 'File "' not in text, text


def files_containing(needle: str, root: str = "/tmp") -> list[str]:
    """Files under root whose bytes contain needle (grep -r; files vanishing meanwhile are ignored)."""
    found = subprocess.run(["grep", "-rlsF", "--", needle, root], capture_output=True, text=True)
    return found.stdout.split()
