"""The HTML report of real runs, opened in headless Chromium: it renders (a real, non-blank screenshot) and its
DOM holds the timeline bars and the step names; the page needs no network at all."""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from stackscripts.api.controller import Controller
from stackscripts.errors import RunFailed
from stackscripts.reports.html import render_html
from tests.support.parts import require
from tests.support.rightscripts import write_rightscript
from tests.support.sshd import start_sshd

pytestmark = pytest.mark.timeout(300)

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTH, HEIGHT = 1280, 900
STEPS = ("Fetch packages", "Install & configure <app>", "Start service")
BAR_BLUE = (0x3B, 0x82, 0xF6)  # .bar
BAR_RED = (0xDC, 0x26, 0x26)  # .bar.failed


BODIES = (
    'echo "fetching"; sleep 0.4\n',
    'echo "configuring <app> & friends"; sleep 0.6\nif [ -e "$MARK_DIR/fail" ]; then echo "broken" >&2; exit 4; fi\n',
    'echo "started"; sleep 0.2\n',
)


def chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    require(path is not None, "chromium (apt-get install -y chromium)")
    return path  # type: ignore[return-value]


def run_chromium(*args: str) -> subprocess.CompletedProcess[bytes]:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        done = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, timeout=180, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    return done


@dataclass(frozen=True)
class Page:
    path: Path
    html: str


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """Two real boots of one sshd server (the second fails at step 2), rendered from the store."""
    chromium()
    folder = tmp_path_factory.mktemp("html")
    (folder / "marks").mkdir()
    entries = []
    for n, (name, body) in enumerate(zip(STEPS, BODIES, strict=True), 1):
        write_rightscript(folder / "scripts", name, body, file=f"step{n}.sh", inputs={"MARK_DIR": None})
        entries.append(f"  - scripts/step{n}.sh")
    template = folder / "template.yaml"
    template.write_text(f"Name: Browser test\nInputs:\n  MARK_DIR: text:{folder / 'marks'}\nRightScripts:\n  Boot:\n"
                        + "\n".join(entries) + "\n")
    server = start_sshd("web1")
    try:
        with Controller(folder / "audit.db") as c:
            c.add_server("web1", f"{server.user}@{server.host}", server.port, server.key_path)
            ok = c.boot("web1", template)
            (folder / "marks" / "fail").touch()
            with pytest.raises(RunFailed) as failed:
                c.boot("web1", template)
            assert failed.value.result is not None
            runs = [c.get_run(ok.run_id), c.get_run(failed.value.result.run_id)]
            html = render_html(runs, {"web1": c.store.get_server("web1")})
    finally:
        server.close()
    path = folder / "report.html"
    path.write_text(html, "utf-8")
    yield Page(path, html)


def png_pixels(data: bytes) -> tuple[int, int, list[bytes], int]:
    """Decode an 8-bit RGB/RGBA, non-interlaced PNG with the stdlib: (width, height, rows, bytes per pixel)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in chunk {kind!r}"
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    assert header is not None and idat, "no IHDR or IDAT"
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 3 if color == 2 else 4
    raw, stride = zlib.decompress(b"".join(idat)), width * bpp
    assert len(raw) == height * (stride + 1)
    prev, rows = bytearray(stride), []
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=True))
        elif kind == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
        elif kind == 4:
            for i in range(stride):
                a, b, c = (line[i - bpp] if i >= bpp else 0), prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        else:
            assert kind == 0, f"unknown filter {kind}"
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


def count_colors(rows: list[bytes], bpp: int, *colors: tuple[int, int, int]) -> tuple[dict, int]:
    """How many pixels are (nearly) each given color, and how many are not white."""
    found = {color: 0 for color in colors}
    not_white = 0
    for row in rows:
        for x in range(0, len(row), bpp):
            r, g, b = row[x], row[x + 1], row[x + 2]
            if r < 245 or g < 245 or b < 245:
                not_white += 1
            for color in colors:
                if abs(r - color[0]) < 12 and abs(g - color[1]) < 12 and abs(b - color[2]) < 12:
                    found[color] += 1
    return found, not_white


def test_the_page_is_self_contained(page: Page) -> None:
    assert "http://" not in page.html and "https://" not in page.html
    assert "src=" not in page.html and "<link" not in page.html and "@import" not in page.html
    assert "<script" not in page.html  # nothing to run: the page is plain HTML and CSS


def test_screenshot_shows_the_table_and_the_bars(page: Page, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    run_chromium(f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", page.path.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000
    width, height, rows, bpp = png_pixels(shot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    found, not_white = count_colors(rows, bpp, BAR_BLUE, BAR_RED)
    assert not_white > 0.02 * width * height, "the screenshot is (almost) blank"
    assert found[BAR_BLUE] > 5 * 200, "no blue timeline bars"  # 5 ok steps, each bar at least 200 pixels
    assert found[BAR_RED] > 200, "no red bar for the failed step"
    assert len({row for row in rows}) > 50, "too few distinct rows: nothing drawn"


class Bars(HTMLParser):
    """The class and data-step of every timeline bar in a DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.bars: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "bar" in (found.get("class") or "").split():
            self.bars.append((found.get("class") or "", found.get("data-step") or ""))


def test_rendered_dom_has_the_bars_and_the_step_names(page: Page) -> None:
    dom = run_chromium("--dump-dom", page.path.as_uri()).stdout.decode("utf-8")
    parser = Bars()
    parser.feed(dom)
    assert parser.bars == [("bar", STEPS[0]), ("bar", STEPS[1]), ("bar", STEPS[2]),  # the boot that succeeded
                           ("bar", STEPS[0]), ("bar failed", STEPS[1])]  # the one that failed at step 2
    for name in STEPS:
        assert name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in dom
    assert "configuring &lt;app&gt; &amp; friends" in dom and "broken" in dom  # folded output
    assert "<th>Boot time steps</th>" in dom and "TOTAL" in dom and "✗" in dom
