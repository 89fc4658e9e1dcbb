"""End-to-end fixtures: the real CLI against real local instances, on a private audit store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.providers.conftest import local_base_image  # noqa: F401  (session fixture: the base image)

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Cli:
    env: dict[str, str]
    db: Path

    def run(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "stackscripts", *args, "--db", str(self.db)], cwd=ROOT,
                              env=self.env, capture_output=True, text=True, timeout=timeout)

    def json(self, *args: str, timeout: float = 900) -> tuple[int, dict]:
        proc = self.run(*args, "--json", timeout=timeout)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc.returncode, json.loads(proc.stdout)


@pytest.fixture
def cli(tmp_path: Path, local_base_image: str) -> Iterator[Cli]:  # noqa: F811
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKSCRIPTS_")}
    env.update({
        "STACKSCRIPTS_KEYS_DIR": str(tmp_path / "keys"),
        "STACKSCRIPTS_CRED_REGISTRY_PASSWORD": "e2e-Registry-s3cret!",
        "STACKSCRIPTS_CRED_MARIADB_ROOT_PASSWORD": "e2e-MariaDB-s3cret!",
        "STACKSCRIPTS_CRED_WRONG_PASSWORD": "e2e-Wrong-pa55word!",
        "COLUMNS": "200",
    })
    yield Cli(env, tmp_path / "audit.db")


def docker_names(prefix: str) -> list[str]:
    out = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True).stdout
    return [n for n in out.split() if n.startswith(prefix)]
