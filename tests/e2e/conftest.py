"""End-to-end fixtures: the real CLI against real local instances, on a private audit store."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.providers.conftest import local_base_image  # noqa: F401  (session fixture: the base image)
from tests.support.cli import ROOT, envelope, run_cli, spawn_cli

__all__ = ["ROOT", "Cli", "docker_names"]


@dataclass
class Cli:
    """tests/support/cli.py bound to this test's store and environment (keys dir, credentials)."""

    env: dict[str, str]
    db: Path

    def run(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, "--db", str(self.db), env=self.env, timeout=timeout)

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        return spawn_cli(*args, "--db", str(self.db), env=self.env)

    def json(self, *args: str, code: int | None = None, timeout: float = 900) -> tuple[int, Any]:
        """(exit code, envelope): stdout is exactly one envelope that agrees with the exit code (`code`, when
        given, is the one expected)."""
        done = self.run(*args, "--json", timeout=timeout)
        return done.returncode, envelope(done, done.returncode if code is None else code, quiet_stderr=False)


@pytest.fixture
def cli(tmp_path: Path, local_base_image: str) -> Iterator[Cli]:  # noqa: F811
    yield Cli({"STACKSCRIPTS_KEYS_DIR": str(tmp_path / "keys"),
               "STACKSCRIPTS_CRED_REGISTRY_PASSWORD": "e2e-Registry-s3cret!",
               "STACKSCRIPTS_CRED_MARIADB_ROOT_PASSWORD": "e2e-MariaDB-s3cret!",
               "STACKSCRIPTS_CRED_WRONG_PASSWORD": "e2e-Wrong-pa55word!"}, tmp_path / "audit.db")


def local_template(name: str, script: str) -> str:
    """A one-step Boot template on the local cloud's base image with a 1 GB ephemeral drive as /dev/xvdb."""
    return f"""Name: {name}
RightScripts:
  Boot:
  - {script}
MultiCloudImages:
- Name: Debian 12
  Settings:
  - Cloud: local
    Image: stackscripts/debian:bookworm
    Instance Type: small
    Volumes:
    - {{Name: eph0, Size: 1, Device: /dev/xvdb}}
"""


def docker_names(prefix: str) -> list[str]:
    out = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True).stdout
    return [n for n in out.split() if n.startswith(prefix)]

