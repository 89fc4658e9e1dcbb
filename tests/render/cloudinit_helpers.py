"""Helpers for the cloud-init tests: templates of real steps, write_files as cloud-init does it, the runner.

The host-side tests (tests/render/test_cloudinit_*.py) run the generated runner with real bash in a
temporary folder standing for the instance's disk; tests/e2e/test_cloudinit_real.py runs the same
user-data under the real cloud-init in a local instance.
"""

from __future__ import annotations

import base64
import gzip
import os
import subprocess
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stackscripts.render.cloudinit import ROOT
from tests.support.rightscripts import write_rightscript


@dataclass(frozen=True)
class CiStep:
    """One RightScript of a test template: a bash body, inputs (name -> default), attachments, Timeout, Retries."""

    name: str
    body: str
    inputs: Mapping[str, str | None] = field(default_factory=dict)
    attachments: Mapping[str, bytes | str] = field(default_factory=dict)  # one attachments/ folder for all
    timeout: float | None = None
    retries: int = 0


def write_template(folder: Path, steps: Sequence[CiStep], name: str = "Cloud-init test") -> Path:
    """scripts/*.sh (tests/support/rightscripts.py), their attachments, and template.yaml with them as Boot."""
    entries: list[dict[str, object]] = []
    for step in steps:
        script = write_rightscript(folder / "scripts", step.name, textwrap.dedent(step.body).lstrip("\n"),
                                   inputs=dict(step.inputs), attachments=dict(step.attachments))
        entry: dict[str, object] = {"Script": f"scripts/{script.name}"}
        if step.timeout is not None:
            entry["Timeout"] = step.timeout
        if step.retries:
            entry["Retries"] = step.retries
        entries.append(entry)
    template = folder / "template.yaml"
    template.write_text(yaml.safe_dump({"Name": name, "RightScripts": {"Boot": entries}}, sort_keys=False))
    return template


def document(user_data: bytes | str) -> dict[str, Any]:
    """The #cloud-config document, gunzipped first as cloud-init does."""
    data = user_data.encode() if isinstance(user_data, str) else user_data
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    assert data.startswith(b"#cloud-config\n")
    doc = yaml.safe_load(data)
    assert isinstance(doc, dict)
    return doc


def written_files(user_data: bytes | str) -> dict[str, tuple[int, bytes]]:
    """write_files as cloud-init decodes it: instance path -> (mode, bytes)."""
    files = {}
    for entry in document(user_data)["write_files"]:
        content = entry["content"]
        data = base64.b64decode(content) if entry.get("encoding") == "b64" else content.encode("utf-8")
        files[entry["path"]] = (int(entry["permissions"], 8), data)
    return files


def unpack(user_data: bytes | str, disk: Path) -> Path:
    """Write the files under `disk` (standing for the cloud-init root); returns the runner's path."""
    for path, (mode, data) in written_files(user_data).items():
        assert path.startswith(ROOT + "/"), path
        target = disk / path[len(ROOT) + 1:]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode)
    return disk / "runner.sh"


@dataclass(frozen=True)
class Boot:
    """One run of the runner on the host: its console (stdout), exit code and log folder."""

    code: int
    console: str
    log: Path
    disk: Path

    def state(self) -> str:
        return (self.log / "state").read_text().strip()

    def rows(self) -> list[list[str]]:
        """steps.tsv without its header: [step folder, name, started, ended, exit code]."""
        return [line.split("\t") for line in (self.log / "steps.tsv").read_text().splitlines()[1:]]

    def leftovers(self) -> list[str]:
        """Every file still under the cloud-init root but the runner itself."""
        return sorted(str(p.relative_to(self.disk)) for p in self.disk.rglob("*") if p.is_file()
                      and p.name != "runner.sh")


def boot(user_data: bytes | str, tmp: Path, env: Mapping[str, str] | None = None, timeout: float = 120) -> Boot:
    """Run the user-data's runner with real bash, as root, in tmp/disk; output in tmp/log."""
    disk, log = tmp / "disk", tmp / "log"
    runner = unpack(user_data, disk)
    full = {k: v for k, v in os.environ.items() if not k.startswith(("STACKSCRIPTS_", "AWS_"))}
    full.update({"STACKSCRIPTS_LOG_DIR": str(log), **(env or {})})
    proc = subprocess.run(["bash", str(runner)], env=full, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    assert proc.stderr == "", proc.stderr
    return Boot(proc.returncode, proc.stdout, log, disk)
