"""A running run, live: one follower per run reads the store and fans each piece out to every viewer.

The follower (a thread) reads the run's steps and their new output every `POLL` seconds, in order, and hands each
event to every subscriber's asyncio queue. Output chunks carry the store's `seq` (arrival order over the whole run),
so a viewer names where its page stopped (`after`) and sees every chunk after it exactly once: a viewer that joins a
follower already ahead of it first reads the gap from the store itself. Fifty viewers cost one reader, not fifty.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import StackscriptsError
from ..model import RunState
from ..store.base import RunRecord, StepRecord, Store
from .outview import display

POLL = 0.2  # seconds between reads of a followed run
BACKLOG = 20_000  # events a viewer may fall behind before it is let go (it reconnects and catches up)
PING = 15.0  # seconds between keep-alive comments on a quiet stream
SWEEP = 2.0  # seconds between looks for runs whose controller died (as `runs log --follow` does)


@dataclass(frozen=True)
class Event:
    """What a viewer is told: a step started or ended (`step`), output (`output`, with its seq), the run ended."""

    kind: str
    data: dict[str, Any]
    seq: int | None = None

    def sse(self) -> str:
        """As a server-sent event; output events carry their seq as the id a reconnecting browser sends back."""
        head = f"id: {self.seq}\n" if self.seq is not None else ""
        return f"{head}event: {self.kind}\ndata: {json.dumps(self.data, ensure_ascii=False)}\n\n"


def step_event(step: StepRecord) -> Event:
    state = "running" if step.ended is None else ("ok" if step.exit_code == 0 and not step.error else "failed")
    return Event("step", {"step": step.index, "name": step.name, "state": state, "exit_code": step.exit_code,
                          "error": step.error, "started": step.started, "ended": step.ended})


def run_event(run: RunRecord) -> Event:
    return Event("run", {"state": run.state.value, "error": run.error, "ended": run.ended})


def output_events(store: Store, run_id: str, after: int, upto: int | None = None) -> tuple[list[Event], int]:
    """Every chunk of the run's steps after seq `after` (and not after `upto`), as events; the last seq read."""
    run = store.get_run(run_id, output=False)
    events: list[Event] = []
    last = after
    for step in sorted(run.steps, key=lambda s: s.index):
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        for chunk in store.read_output(run_id, step.index, after=after):
            if upto is not None and chunk.seq > upto:
                break
            events.append(Event("output", {"step": step.index, "text": display(decoder.decode(chunk.data))},
                                chunk.seq))
            last = max(last, chunk.seq)
    return events, last


@dataclass(eq=False)
class Viewer:
    """One browser's stream: its queue, on its event loop."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Event | None] = field(default_factory=asyncio.Queue)
    gone: bool = False

    def put(self, event: Event | None) -> None:
        if self.gone:
            return
        if self.queue.qsize() > BACKLOG:  # a stalled viewer: let it go (the browser reconnects and catches up)
            self.gone = True
            event = None
        self.loop.call_soon_threadsafe(self.queue.put_nowait, event)


class Feed:
    """One run followed by one thread for all its viewers; it stops when the run has ended or nobody watches."""

    def __init__(self, hub: Hub, run_id: str, after: int) -> None:
        self.hub, self.store, self.run_id, self.cursor = hub, hub.store, run_id, after
        self.viewers: set[Viewer] = set()
        self.lock = threading.Lock()
        self._seen: set[int] = set()  # steps whose start was told
        self._decoders: dict[int, codecs.IncrementalDecoder] = {}
        self._drained: set[int] = set()  # steps seen ended, their output all sent
        self._sweep = time.monotonic() + SWEEP
        self.thread = threading.Thread(target=self._follow, name=f"live {run_id}", daemon=True)

    def add(self, viewer: Viewer) -> int:
        """Register a viewer; returns the seq up to which the feed has sent (the viewer reads what it lacks)."""
        with self.lock:
            self.viewers.add(viewer)
            return self.cursor

    def remove(self, viewer: Viewer) -> None:
        with self.lock:
            self.viewers.discard(viewer)

    def _send(self, events: list[Event]) -> None:
        with self.lock:
            for event in events:
                if event.seq is not None:
                    self.cursor = max(self.cursor, event.seq)
                for viewer in self.viewers:
                    viewer.put(event)

    def _follow(self) -> None:
        try:
            while not self.hub.retire(self, only_if_unwatched=True):
                run = self.store.get_run(self.run_id, output=False)
                self._changes(run)
                if run.state is not RunState.RUNNING:
                    self._send([run_event(run)])
                    return
                self._sweep_dead()
                time.sleep(POLL)
        except StackscriptsError as exc:
            self._send([Event("error", {"message": str(exc)})])
        finally:
            self.hub.retire(self)
            with self.lock:
                for viewer in self.viewers:
                    viewer.put(None)

    def _sweep_dead(self) -> None:
        """Now and then, end runs whose controller died (their lease expired), as `runs log --follow` does."""
        if time.monotonic() < self._sweep or getattr(self.store, "read_only", False):
            return
        self._sweep = time.monotonic() + SWEEP
        try:
            self.store.mark_interrupted()
        except StackscriptsError:
            pass  # busy or away: the next sweep tries again

    def _changes(self, run: RunRecord) -> None:
        """Each step not yet drained: its start, its new output, its end (a step seen ended has all its output)."""
        for step in sorted(run.steps, key=lambda s: s.index):
            if step.index in self._drained:
                continue
            events: list[Event] = []
            if step.index not in self._seen:
                self._seen.add(step.index)
                if step.ended is None:
                    events.append(step_event(step))  # started (an ended step's event below says both)
            decoder = self._decoders.setdefault(step.index, codecs.getincrementaldecoder("utf-8")("replace"))
            for chunk in self.store.read_output(self.run_id, step.index, after=self.cursor):
                events.append(Event("output", {"step": step.index, "text": display(decoder.decode(chunk.data))},
                                    chunk.seq))
            if step.ended is not None:
                events.append(step_event(step))
                self._drained.add(step.index)
            self._send(events)


class Hub:
    """The feeds of the runs being watched, by run id."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.feeds: dict[str, Feed] = {}
        self.lock = threading.Lock()

    def retire(self, feed: Feed, *, only_if_unwatched: bool = False) -> bool:
        """Take a feed out (only when nobody watches it, if asked); whether it is out. A viewer joins a feed under
        the same lock, so none joins a feed that is stopping."""
        with self.lock, feed.lock:
            if only_if_unwatched and feed.viewers:
                return False
            if self.feeds.get(feed.run_id) is feed:
                del self.feeds[feed.run_id]
            return True

    def _join(self, run_id: str, after: int, viewer: Viewer) -> tuple[Feed, int]:
        with self.lock:
            feed = self.feeds.get(run_id)
            if feed is None:
                feed = self.feeds[run_id] = Feed(self, run_id, after)
                sent = feed.add(viewer)
                feed.thread.start()
                return feed, sent
            return feed, feed.add(viewer)

    async def stream(self, run_id: str, after: int = 0) -> AsyncIterator[str]:
        """A run's events after seq `after`, as server-sent event text, until the run ends (or the viewer goes)."""
        loop = asyncio.get_running_loop()
        run = await asyncio.to_thread(self.store.get_run, run_id, output=False)
        yield "retry: 1000\n\n" + "".join(step_event(s).sse() for s in sorted(run.steps, key=lambda s: s.index))
        if run.state is not RunState.RUNNING:
            events, _ = await asyncio.to_thread(output_events, self.store, run.id, after)
            yield "".join(e.sse() for e in events) + run_event(run).sse()
            return
        viewer = Viewer(loop)
        feed, sent = self._join(run.id, after, viewer)
        try:
            if sent > after:  # the feed is ahead of this page: read the gap from the store
                gap, after = await asyncio.to_thread(output_events, self.store, run.id, after, sent)
                if gap:
                    yield "".join(e.sse() for e in gap)
            while True:
                try:
                    event = await asyncio.wait_for(viewer.queue.get(), PING)
                except TimeoutError:
                    yield ": ping\n\n"
                    continue
                if event is None:
                    return
                if event.seq is not None:
                    if event.seq <= after:
                        continue
                    after = event.seq
                yield event.sse()
        finally:
            viewer.gone = True
            feed.remove(viewer)
