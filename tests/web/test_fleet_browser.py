"""A real queued fleet booting, in the browser: six sshd servers booted by two worker processes through the team
store on PostgreSQL, watched from the Fleets page (progress, the step each server is at, failures against
--max-errors) and a unit's run live; another fleet cancelled from the page. The fleet page's screenshot is the
README's (docs/dashboard.png)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.runner.fixtures import SshdPool, sshd_pool  # noqa: F401 - fixture
from tests.runner.helpers import Step
from tests.web.browser import launch, new_page, shot
from tests.web.conftest import chromium
from tests.web.support import ROOT, Served
from tests.workers.conftest import QueueWorld, fresh_queue_world
from tests.workers.helpers import add_servers

pytestmark = pytest.mark.timeout(600)

SERVERS = [f"app{i}" for i in range(1, 7)]
SLOW = ["slow1", "slow2"]
# README's screenshot, rewritten only when asked (STACKSCRIPTS_UPDATE_SCREENSHOT=1): a test run leaves the tree clean
README_SHOT = ROOT / "docs" / "dashboard.png" if os.environ.get("STACKSCRIPTS_UPDATE_SCREENSHOT") else None


@pytest.fixture
def queue_world(tmp_path: Path, sshd_pool: SshdPool) -> Iterator[QueueWorld]:  # noqa: F811 - the fixture above
    with fresh_queue_world(tmp_path, sshd_pool) as made:
        yield made


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium()
    yield from launch()


def steps(seconds: float) -> list[Step]:
    ticks = max(1, int(seconds / 0.3))
    return [Step("Install packages", "echo installing; sleep 0.5; echo installed\n"),
            Step("Configure app", f"for i in $(seq 1 {ticks}); do echo configuring $i; sleep 0.3; done\n"),
            Step("Start service", "echo started; sleep 0.3\n")]


def test_a_fleet_booting_live_and_one_cancelled(queue_world: QueueWorld, browser: Any, tmp_path: Path) -> None:
    world = queue_world
    add_servers(world, [*SERVERS, *SLOW])
    template = world.template(steps(8))
    world.workers(2)
    fleet = world.json("fleet", "boot", "-t", template, *SERVERS, "--queue", "--parallel", "4", "--max-errors", "1")
    fleet_id = fleet["data"]["id"]
    with Served(world.backend.location, logs=tmp_path, env={"PGPASSFILE": str(world.backend.pg.passfile)}) as site:
        page = new_page(browser)
        page.goto(f"{site.url}/fleets")
        page.locator(f'a[href="/fleets/{fleet_id}"]').click()
        page.wait_for_url(f"**/fleets/{fleet_id}")
        for _ in range(60):  # the page as the fleet goes: reloaded until servers are at their steps
            if page.locator("#units .badge", has_text="running").count() >= 3 and "Configure app" in page.inner_text(
                    "#units"):  # the step each running server is at
                break
            page.wait_for_timeout(250)
            page.reload()
        assert page.locator("#units .badge", has_text="running").count() >= 2, page.inner_text("main")
        assert "0 of 1 allowed (--max-errors 1)" in page.inner_text("#failures")
        assert "of 6 done" in page.inner_text("#progress")
        shot(page, "fleet", "#units", ".progress", "#failures", also=README_SHOT)

        running = page.locator("#units tr", has=page.locator(".badge", has_text="running")).first
        running.locator('a[href^="/runs/"]').click()
        page.wait_for_url("**/runs/r-*")
        if page.locator("#live").count():  # still running: its output comes live
            page.locator("details.step pre.out", has_text="configuring").first.wait_for()
            shot(page, "fleet-run-live", "#live", "details.step.current")

        page.goto(f"{site.url}/fleets/{fleet_id}")
        for _ in range(120):
            if "succeeded" in page.inner_text("h1"):
                break
            page.wait_for_timeout(500)
            page.reload()
        assert "6 of 6 done" in page.inner_text("#progress") and "6 succeeded" in page.inner_text("#progress")

        slow = world.json("fleet", "boot", "-t", world.template(steps(30)), *SLOW, "--queue")
        slow_id = slow["data"]["id"]
        page.goto(f"{site.url}/fleets/{slow_id}")
        for _ in range(60):
            if page.locator("#units .badge", has_text="running").count():
                break
            page.wait_for_timeout(250)
            page.reload()
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#cancel").click()
        page.wait_for_url(f"**/fleets/{slow_id}")
        for _ in range(120):
            if "cancelled" in page.inner_text("h1"):
                break
            page.wait_for_timeout(500)
            page.reload()
        assert "cancelled" in page.inner_text("h1")
        shot(page, "fleet-cancelled", "#units")
        assert page.errors == []
