"""docs/api.md cannot rot: its files are written, and every ```python block runs as its own program, in order,
against real sshd servers (only the example addresses and key are replaced by the test servers')."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.providers.conftest import local_base_image  # noqa: F401  (session fixture: Docker and the base image)
from tests.runner.fixtures import SshdPool

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "api.md"
FENCE = re.compile(r"^```(\w+)[ \t]*([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)
EXAMPLE_ADDRESSES = ('"root@203.0.113.7", key="~/.ssh/id_ed25519"', '"root@203.0.113.8", key="~/.ssh/id_ed25519"')


@dataclass(frozen=True)
class Block:
    lang: str
    attrs: dict[str, str]
    text: str
    line: int

    @property
    def where(self) -> str:
        return f"docs/api.md:{self.line}"


def blocks() -> list[Block]:
    source = DOC.read_text()
    found = []
    for match in FENCE.finditer(source):
        attrs = dict(part.partition("=")[::2] for part in match.group(2).split())
        found.append(Block(match.group(1), attrs, match.group(3), source.count("\n", 0, match.start()) + 1))
    return found


def project(folder: Path) -> dict[str, str]:
    """Write the files the page shows into folder; the environment its `bash env` blocks export."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKSCRIPTS_") and k != "PYTHONPATH"}
    env["STACKSCRIPTS_KEYS_DIR"] = str(folder / "keys")
    for block in blocks():
        if "file" in block.attrs:
            path = folder / block.attrs["file"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.text)
        elif block.lang == "bash" and "env" in block.attrs:
            for line in block.text.splitlines():
                name, _, value = line.removeprefix("export ").partition("=")
                env[name] = shlex.split(value)[0]
    return env


def run(block: Block, folder: Path, env: dict[str, str], addresses: dict[str, str], timeout: float) -> str:
    code = block.text
    for example, real in addresses.items():
        code = code.replace(example, real)
    assert "203.0.113." not in code, f"{block.where}: an example address the test does not replace"
    done = subprocess.run([sys.executable, "-c", code], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{block.where} failed:\n{block.text}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    return done.stdout


def test_the_page_has_what_the_test_expects() -> None:
    source = DOC.read_text()
    for example in EXAMPLE_ADDRESSES:
        assert example in source
    python = [b for b in blocks() if b.lang == "python"]
    assert len(python) >= 8 and [b for b in python if b.attrs.get("needs") == "local-cloud"]
    assert {b.attrs["file"] for b in blocks() if "file" in b.attrs} >= {"servertemplates/app.yml", "scripts/hello.sh"}


def test_the_page_lists_every_public_name() -> None:
    import stackscripts.api as api

    listed = DOC.read_text().partition("## Everything public")[2]
    assert set(re.findall(r"`(\w+)`", listed)) == set(api.__all__)


def test_every_example_runs_against_real_servers(tmp_path: Path, sshd_pool: SshdPool) -> None:
    env = project(tmp_path)
    web1, web2 = sshd_pool.take(2)
    addresses = {example: f'"{s.user}@{s.host}", port={s.port}, key="{s.key_path}"'
                 for example, s in zip(EXAMPLE_ADDRESSES, (web1, web2), strict=True)}
    outputs = [run(b, tmp_path, env, addresses, 120) for b in blocks()
               if b.lang == "python" and "needs" not in b.attrs]
    text = "".join(outputs)
    assert "1. Check Disk: exit 0" in text and "web1 │ load:" in text and "web1: Report Status exited 0" in text
    assert "step 1 (Check Disk) exited 1" in text and "Check Disk 1 need 99999999 MB" in text
    assert re.search(r"^web2 succeeded r-", text, re.M) and re.search(r"^r-\S+ Boot failed 1 steps $", text, re.M)
    assert "| Boot time steps |" in text and "s3cret-token" not in text
    assert (tmp_path / "report.html").read_text().startswith("<!doctype html>")


@pytest.mark.e2e
def test_the_cloud_example_runs_on_the_local_cloud(tmp_path: Path, local_base_image: str) -> None:  # noqa: F811
    env = project(tmp_path)
    (example,) = [b for b in blocks() if b.attrs.get("needs") == "local-cloud"]
    try:
        out = run(example, tmp_path, env, {}, 600)
    finally:  # never leave the instance behind, whatever failed
        subprocess.run([sys.executable, "-m", "stackscripts", "terminate", "app1", "--db", "audit.db", "--quiet"],
                       cwd=tmp_path, env=env, capture_output=True, timeout=300)
    assert re.search(r"^operational local \S+ root@127\.0\.0\.1:\d+$", out, re.M), out
