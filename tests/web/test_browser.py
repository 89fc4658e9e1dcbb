"""The dashboard in a real browser (Playwright driving Debian's Chromium) over real runs on real sshd servers: list
servers, open a run, watch a running step's output appear live, compare two runs, diff two revisions, an action
refused to a viewer and run for an operator. Screenshots go to out/screenshots/."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from stackscripts.api import tokens
from tests.web.browser import launch, new_page, shot
from tests.web.conftest import HOSTILE, chromium
from tests.web.support import Served, World, envelope

pytestmark = pytest.mark.timeout(600)

TICKS = 20  # the live step prints a line every 0.2 s


@dataclass
class Site:
    world: World
    served: Served
    ok: str  # web1: a boot that succeeded
    failed: str  # web1: failed at step 2
    other: str  # web2: succeeded

    def url(self, path: str) -> str:
        return self.served.url + path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium()
    yield from launch()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    world = World(tmp_path_factory.mktemp("browser"))
    try:
        world.server("web1")
        world.server("web2")
        steps = [("Install packages", f"echo '{HOSTILE}'\necho installed; sleep 0.3\n"),
                 ("Configure app", "echo configured; sleep 0.2\n"), ("Start service", "echo started\n")]
        template = world.template(steps, name="Web app")
        ok = world.boot("web1", template)
        broken = world.template([steps[0], ("Configure app", "echo 'config error' >&2; exit 3\n"), steps[2]],
                                name="Web app")
        failed = world.boot("web1", broken)
        other = world.boot("web2", template)
        with Served(world.db) as served:
            yield Site(world, served, ok, failed, other)
    finally:
        world.close()


def test_list_servers(browser: Any, site: Site) -> None:
    page = new_page(browser)
    page.goto(site.url("/"))
    assert page.url.endswith("/servers")
    rows = page.locator("table#servers tbody tr")
    assert rows.count() == 2
    web1 = page.locator('tr[data-server="web1"]')
    assert "stranded" in web1.inner_text() and "failed" in web1.inner_text()  # its state, its last run
    assert "operational" in page.locator('tr[data-server="web2"]').inner_text()
    assert page.locator("td.drift").first.inner_text() in ("current", "drifted", "unknown")
    shot(page, "servers", "table#servers", 'tr[data-server="web1"] .badge', "nav a.active")
    assert page.errors == []


def test_open_a_run(browser: Any, site: Site) -> None:
    page = new_page(browser)
    page.goto(site.url("/runs"))
    page.locator(f'tr[data-run="{site.failed}"] a[href="/runs/{site.failed}"]').click()
    page.wait_for_url(f"**/runs/{site.failed}")
    assert "failed" in page.locator("#run-state").inner_text()
    table = page.locator("table.boot-table")
    assert "TOTAL" in table.inner_text() and "Configure app" in table.inner_text()
    assert page.locator("#timeline .bar").count() == 2 and page.locator("#timeline .bar.failed").count() == 1
    assert page.locator("details.step").count() == 2  # it stopped at the failed step
    assert page.locator("#step-1").get_attribute("open") is not None  # the failed step unfolded
    assert page.locator("#step-0").get_attribute("open") is None  # the others folded
    page.locator("#step-0 summary").click()
    assert HOSTILE in page.locator('pre.out[data-step="0"]').inner_text()  # shown as text...
    assert page.evaluate("() => window.__pwned") is None  # ...never run
    assert "config error" in page.locator('pre.out[data-step="1"]').inner_text()
    shot(page, "run", "table.boot-table", "#timeline .bar.failed", "#step-1 pre.out", full_page=True)
    assert page.errors == []


def test_watch_a_running_step_live(browser: Any, site: Site) -> None:
    template = site.world.template([("Prepare", "echo ready\n"),
                                    ("Stream lines", f"for i in $(seq 1 {TICKS}); do echo tick $i; sleep 0.2; done\n"),
                                    ("Finish", "echo done\n")], name="Live")
    booting = threading.Thread(target=site.world.boot, args=("web2", template))
    booting.start()
    try:
        run_id = ""
        deadline = time.monotonic() + 30
        while not run_id and time.monotonic() < deadline:
            runs = envelope(site.url("/api/v1/runs?server=web2&state=running"))[1]["data"]
            run_id = runs[0]["id"] if runs else ""
            time.sleep(0.05)
        assert run_id, "the boot did not start"
        page = new_page(browser)
        page.goto(site.url(f"/runs/{run_id}"))
        out = page.locator('pre.out[data-step="1"]')
        out.filter(has_text="tick 3").wait_for()
        seen_early = time.monotonic()
        state = envelope(site.url(f"/api/v1/runs/{run_id}"))[1]["data"]["state"]
        assert state == "running", "the line was shown only after the run"
        current = page.locator("details.step.current")
        assert current.count() == 1 and "Stream lines" in current.inner_text()
        assert "connected" in page.locator("#live-status").inner_text()
        shot(page, "live", "details.step.current", "#live", 'pre.out[data-step="1"]')
        out.filter(has_text=f"tick {TICKS - 5}").wait_for()
        assert time.monotonic() - seen_early > 1.0, "the lines came at once, not as they were printed"
        page.locator("#live-status", has_text="the run ended: succeeded").wait_for(timeout=30_000)
        text = out.inner_text()
        assert [line for line in text.splitlines() if line.startswith("tick")] == [f"tick {i}"
                                                                                    for i in range(1, TICKS + 1)]
        assert page.errors == []
    finally:
        booting.join(60)


def test_compare_two_runs(browser: Any, site: Site) -> None:
    page = new_page(browser)
    page.goto(site.url("/runs?server=web1"))
    button = page.locator("#compare-form .compare-button")
    assert button.is_disabled()
    page.locator(f'input.pick[value="{site.ok}"]').check()
    page.locator(f'input.pick[value="{site.failed}"]').check()
    assert button.is_enabled()
    button.click()
    page.wait_for_url("**/compare?**")
    header = page.locator("table.boot-table thead").inner_text()
    assert "delta" in header and site.ok in header and site.failed in header
    assert page.locator("table.boot-table tbody tr").count() == 4  # three steps and TOTAL
    assert page.locator("#timeline .lane.run").count() == 2
    shot(page, "compare", "table.boot-table", "#timeline")


def test_diff_two_revisions(browser: Any, site: Site) -> None:
    page = new_page(browser)
    page.goto(site.url("/revisions"))
    rows = page.locator("table#revisions tbody tr")
    assert rows.count() >= 2
    web_app = page.locator("table#revisions tbody tr", has_text="Web app")
    old = web_app.nth(1).get_attribute("data-revision")
    new = web_app.nth(0).get_attribute("data-revision")
    page.locator(f'input[name="old"][value="{old}"]').check()
    page.locator(f'input[name="new"][value="{new}"]').check()
    page.locator("#diff-form button").click()
    page.wait_for_url("**/revisions/diff?**")
    diff = page.locator("#diff")
    assert "Configure app" in diff.inner_text()
    assert page.locator("#diff .l-add").count() > 0 and page.locator("#diff .l-del").count() > 0
    assert "config error" in page.locator("#diff .l-add").all_inner_texts()[-1] + diff.inner_text()
    shot(page, "diff", "#diff .l-add", "#diff .l-del")


def test_an_action_refused_to_a_viewer_and_run_for_an_operator(browser: Any, site: Site, tmp_path: Any) -> None:
    world = World(tmp_path)
    try:
        world.server("app1", team="web")
        world.boot("app1", [("Install", "echo installed\n")], team="web", operational=[("Rotate logs", "echo rotated\n")])
        with world.controller() as c:
            viewer = tokens.create_token(c, team="web", role="viewer", name="alice")[1]
            operator = tokens.create_token(c, team="web", role="operator", name="bob")[1]
        with Served(world.db) as served:
            page = new_page(browser)
            page.goto(served.url + "/servers")
            assert page.locator('input[name="token"]').count() == 1  # signed out: the sign-in form (401)
            page.fill('input[name="token"]', viewer)
            page.locator("form.login button").click()
            page.wait_for_url("**/servers")
            assert "alice · viewer · team web" in page.locator("#principal").inner_text()
            page.goto(served.url + "/servers/app1")
            page.locator("#boot").click()
            refusal = page.locator("#error")
            refusal.wait_for()
            assert "only an operator may act" in refusal.inner_text()
            shot(page, "viewer-refused", "#error")

            page = new_page(browser)
            page.goto(served.url + "/login")
            page.fill('input[name="token"]', operator)
            page.locator("form.login button").click()
            page.goto(served.url + "/servers/app1")
            page.locator("#run-script").click()  # Rotate logs, in a thread of the dashboard
            page.wait_for_url("**/runs/r-*")
            page.locator("#run-state", has_text="succeeded").wait_for(timeout=30_000)
            page.goto(page.url)  # the page as it is drawn once the run has ended
            assert "Operational run: Rotate logs on app1" in page.locator("table.boot-table").inner_text()
            page.locator("#step-0 summary").click()
            assert "rotated" in page.locator('pre.out[data-step="0"]').inner_text()
            shot(page, "operator-ran", "#run-state", "table.boot-table")
    finally:
        world.close()
