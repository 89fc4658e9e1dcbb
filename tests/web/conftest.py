"""Fixtures of the dashboard's tests: a world of real runs in two teams, tokens, a served dashboard, a browser."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from stackscripts.api import tokens
from tests.support.parts import require
from tests.web.support import ROOT, Served, World

SHOTS = ROOT / "out" / "screenshots"
HOSTILE = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\"><b>bold</b>"


def chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    require(path is not None, "chromium (apt-get install -y chromium)")
    return path  # type: ignore[return-value]


@dataclass
class Teams:
    """A store with runs of two teams (web and ops), and a token of each kind."""

    world: World
    web_ok: str  # team web: a run that succeeded
    web_failed: str  # team web: a run that failed at step 2, whose step 1 printed HOSTILE
    ops_run: str  # team ops
    viewer: str = ""  # team web, viewer
    operator: str = ""  # team web, operator
    ops_operator: str = ""  # team ops, operator

    def make_tokens(self) -> None:
        with self.world.controller() as c:
            self.viewer = tokens.create_token(c, team="web", role="viewer", name="web viewer")[1]
            self.operator = tokens.create_token(c, team="web", role="operator", name="web operator")[1]
            self.ops_operator = tokens.create_token(c, team="ops", role="operator", name="ops operator")[1]


def build_teams(folder: Path) -> Teams:
    world = World(folder)
    world.server("web1", team="web")
    world.server("db1", team="ops")
    steps = [("Install <b>pkg</b>", f"echo '{HOSTILE}'\necho installed\n"), ("Configure", "echo configured\n")]
    ok = world.boot("web1", steps, team="web", operational=[("Restart app", "echo restarted\n")])
    failed = world.boot("web1", [steps[0], ("Configure", "echo broken >&2; exit 3\n")], team="web")
    ops = world.boot("db1", [("Install db", "echo db secret-ish output\n")], team="ops")
    return Teams(world, ok, failed, ops)


@pytest.fixture(scope="module")
def teams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Teams]:
    """Two teams' servers and real runs, and tokens (so every request needs one)."""
    made = build_teams(tmp_path_factory.mktemp("teams"))
    made.make_tokens()
    try:
        yield made
    finally:
        made.world.close()


@pytest.fixture(scope="module")
def site(teams: Teams) -> Iterator[Served]:
    """`stackscripts serve` over the teams' store, on loopback."""
    with Served(teams.world.db) as served:
        yield served
