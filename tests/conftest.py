"""Shared fixtures: the repository root and small script/template factories."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@pytest.fixture
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def make_script(tmp_path: Path):
    """Write a script with a metadata block into tmp_path/scripts and return its path."""

    def make(name: str, body: str, inputs: str = "{}", attachments: dict[str, str] | None = None,
             shebang: str = "#!/bin/bash") -> Path:
        folder = tmp_path / "scripts"
        (folder / "attachments").mkdir(parents=True, exist_ok=True)
        attach_block = ""
        if attachments:
            attach_block = "# Attachments:\n" + "".join(f"# - {a}\n" for a in attachments)
            for file, content in attachments.items():
                (folder / "attachments" / file).write_text(content)
        if inputs.strip() == "{}":
            inputs_block = "# Inputs: {}\n"
        else:
            inputs_block = "# Inputs:\n" + "".join(f"# {line}\n" for line in inputs.strip("\n").split("\n"))
        text = f"{shebang}\n# ---\n# RightScript Name: {name}\n{inputs_block}{attach_block}# ...\n{body}"
        path = folder / f"{name.lower().replace(' ', '-')}.sh"
        path.write_text(text)
        return path

    return make
