"""A step's output of any size opens at once: the run page reads only its first page (a 10 MB step in well under a
second), the next pages follow by their cursor, and together they are the step's output byte for byte."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stackscripts.api.controller import Controller
from stackscripts.model import RunState
from stackscripts.store.base import ServerRecord
from stackscripts.web.serve import Handle, start
from tests.web.support import envelope, fetch, free_port

pytestmark = pytest.mark.timeout(300)

LINE = "a line of a long build log, 40 bytes ..\n"
CHUNK = LINE * 6400  # 256,000 bytes, as a busy step's output is stored (chunks of up to 256 KiB)


@pytest.fixture
def big(tmp_path: Path) -> Iterator[tuple[Handle, str, str]]:
    c = Controller(tmp_path / "audit.db")
    c.store.put_server(ServerRecord("big1", host="192.0.2.20"))
    run = c.store.start_run("big1", "boot", who="test@here", template=None, inputs={})
    c.store.start_step(run, 0, "Print a lot", "boot", sha256="0" * 64, inputs={})
    for n in range(40):  # 10,240,000 bytes, the last line numbered so that its place is checked
        c.store.append_output(run, 0, "stdout", CHUNK if n < 39 else CHUNK[:-len(LINE)] + "the very last line\n")
    c.store.finish_step(run, 0, 0, None)
    c.store.finish_run(run, RunState.SUCCEEDED)
    handle = start(c, "127.0.0.1", free_port())
    try:
        yield handle, run, CHUNK * 39 + CHUNK[:-len(LINE)] + "the very last line\n"
    finally:
        handle.stop()
        c.close()


def test_a_10_mb_step_opens_in_under_a_second(big: tuple[Handle, str, str]) -> None:
    handle, run, whole = big
    fetch(f"{handle.url}/runs/{run}")  # a first request warms the templates
    worst = 0.0
    for _ in range(3):
        began = time.perf_counter()
        status, _, page = fetch(f"{handle.url}/runs/{run}")
        worst = max(worst, time.perf_counter() - began)
        assert status == 200
    assert worst < 1.0, f"the run page took {worst:.2f} s"
    assert len(page) < 1_000_000 and "Next page of output" in page  # paged, not the 10 MB


def test_the_pages_are_the_whole_output(big: tuple[Handle, str, str]) -> None:
    handle, run, whole = big
    texts, after, more, pages = [], 0, True, 0
    while more:
        code, doc = envelope(f"{handle.url}/api/v1/runs/{run}/steps/1/log?after={after}&limit=1048576")
        assert code == 200
        texts.append(doc["data"]["text"])
        after, more, pages = doc["data"]["next"], doc["data"]["more"], pages + 1
    assert "".join(texts) == whole and pages > 5
    status, _, last = fetch(f"{handle.url}/runs/{run}/steps/1?after={after - 1}")
    assert status == 200 and "the very last line" in last and "end of the output" in last
