"""Live output: one follower per run fans out to every viewer; a viewer that joins late (its page older than what
the follower has sent) reads the gap from the store; each sees every chunk once, in order, then the run's end."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from stackscripts.api.controller import Controller
from stackscripts.model import RunState
from stackscripts.store.base import ServerRecord
from stackscripts.web.serve import Handle, start
from tests.web.support import Viewer, free_port

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[Controller, Handle]]:  # type: ignore[no-untyped-def]
    c = Controller(tmp_path / "audit.db")
    handle = start(c, "127.0.0.1", free_port())
    try:
        yield c, handle
    finally:
        handle.stop()
        c.close()


def wait(condition, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_every_viewer_sees_every_chunk_once(served: tuple[Controller, Handle]) -> None:
    c, handle = served
    store = c.store
    store.put_server(ServerRecord("sim1", host="192.0.2.10"))
    run = store.start_run("sim1", "boot", who="test@here", template=None, inputs={})
    store.start_step(run, 0, "Ticker", "boot", sha256="0" * 64, inputs={})
    for n in range(1, 6):
        store.append_output(run, 0, "stdout", f"line {n}\n".encode())
    first = Viewer(handle.url, f"/runs/{run}/live?after=0")
    first.start()
    wait(lambda: len(first.output()) >= 5)
    for n in range(6, 11):
        store.append_output(run, 0, "stdout", f"line {n}\n".encode())
    wait(lambda: len(first.output()) >= 10)
    seq_of_3 = first.output()[2][0]
    late = Viewer(handle.url, f"/runs/{run}/live", {"Last-Event-ID": str(seq_of_3)})  # a browser reconnecting
    late.start()
    late.connected.wait(5)
    store.append_output(run, 0, "stderr", "line 11\n")
    store.finish_step(run, 0, 0, None)
    store.start_step(run, 1, "Finish", "boot", sha256="1" * 64, inputs={})
    store.append_output(run, 1, "stdout", "done\n")
    store.finish_step(run, 1, 0, None)
    store.finish_run(run, RunState.SUCCEEDED)
    for viewer in (first, late):
        viewer.join(15)
        assert not viewer.is_alive() and viewer.error is None
        assert viewer.events[-1][1] == "run" and viewer.events[-1][2]["state"] == "succeeded"
        seqs = [seq for seq, _ in viewer.output()]
        assert seqs == sorted(set(seqs)), "a chunk came twice or out of order"
    assert "".join(text for _, text in first.output()) == "".join(f"line {n}\n" for n in range(1, 12)) + "done\n"
    assert "".join(text for _, text in late.output()) == "".join(f"line {n}\n" for n in range(4, 12)) + "done\n"
    steps = [(data["step"], data["state"]) for _, kind, data, _ in first.events if kind == "step"]
    assert steps[0] == (0, "running") and steps[-1] == (1, "ok")  # a step started and ended between reads: "ok"
    assert handle.app.dashboard.hub.feeds == {}  # the follower stopped with the run


def test_an_ended_run_streams_what_follows_the_page_and_ends(served: tuple[Controller, Handle]) -> None:
    c, handle = served
    store = c.store
    store.put_server(ServerRecord("sim2", host="192.0.2.11"))
    run = store.start_run("sim2", "boot", who="test@here", template=None, inputs={})
    store.start_step(run, 0, "Only", "boot", sha256="0" * 64, inputs={})
    store.append_output(run, 0, "stdout", "caf\xc3".encode("latin-1"))  # a character cut across two chunks
    store.append_output(run, 0, "stdout", b"\xa9 \x1b[31mred\x1b[0m\n")
    store.finish_step(run, 0, 3, None)
    store.finish_run(run, RunState.FAILED)
    viewer = Viewer(handle.url, f"/runs/{run}/live?after=0")
    viewer.start()
    viewer.join(10)
    assert viewer.error is None and viewer.events[-1][2]["state"] == "failed"
    assert "".join(text for _, text in viewer.output()) == "café red\n"
