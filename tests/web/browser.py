"""Playwright driving Debian's Chromium (no browser download) for the dashboard's browser tests; screenshots
saved under out/screenshots/ (CI keeps them) and checked: a real PNG of the viewport's size whose expected
elements were visible inside it when it was taken."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.web.conftest import SHOTS, chromium

WIDTH, HEIGHT = 1280, 900


def launch() -> Iterator[Any]:
    """A headless Chromium (the system's), closed afterwards."""
    from playwright.sync_api import sync_playwright

    path = chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.errors = []  # page errors (an uncaught exception in our script, a CSP violation)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    return page


def shot(page: Any, name: str, *selectors: str, full_page: bool = False, also: Path | None = None) -> Path:
    """Save a screenshot as out/screenshots/NAME.png, after checking each selector's element is visible in it."""
    for selector in selectors:
        element = page.locator(selector).first
        assert element.is_visible(), f"{name}: {selector} is not visible"
        box = element.bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0, f"{name}: {selector} has no size"
        if not full_page:
            assert box["y"] < HEIGHT, f"{name}: {selector} is below the screenshot"
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    data = page.screenshot(path=str(path), full_page=full_page)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, f"{name}: not a real screenshot"
    width, height = struct.unpack(">II", data[16:24])
    assert width == WIDTH and (height == HEIGHT or full_page and height >= HEIGHT), (width, height)
    if also is not None:
        also.write_bytes(data)
    return path
