"""In-memory buffer of streamed step output, flushed by a background thread about once a second."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

# (run_id, step index, stream, bytes)
Chunk = tuple[str, int, str, bytes]


def coalesce(pending: dict[tuple[str, int], list[tuple[str, bytes]]]) -> list[Chunk]:
    """Join consecutive pieces of the same stream, keeping each step's arrival order."""
    chunks: list[Chunk] = []
    for (run_id, index), pieces in pending.items():
        stream, texts = pieces[0][0], [pieces[0][1]]
        for next_stream, text in pieces[1:]:
            if next_stream != stream:
                chunks.append((run_id, index, stream, b"".join(texts)))
                stream, texts = next_stream, []
            texts.append(text)
        chunks.append((run_id, index, stream, b"".join(texts)))
    return chunks


class OutputBuffer:
    """Collects output cheaply; calls `flush` at most `interval` seconds after the oldest piece.

    `flush` is the owner's callback; it calls `take()` (under its own lock, so that takes and
    writes are serialised and arrival order survives) and `restore()` if the write failed.
    """

    def __init__(self, flush: Callable[[], None], interval: float = 1.0) -> None:
        self._flush = flush
        self._interval = interval
        self._cond = threading.Condition()
        self._pending: dict[tuple[str, int], list[tuple[str, bytes]]] = {}
        self._due: float | None = None  # monotonic deadline of the next flush; None when empty
        self._closed = False
        self._thread: threading.Thread | None = None

    def add(self, run_id: str, index: int, stream: str, text: bytes) -> None:
        with self._cond:
            self._pending.setdefault((run_id, index), []).append((stream, text))
            if self._due is None:
                self._due = time.monotonic() + self._interval
                if self._thread is None and not self._closed:
                    self._thread = threading.Thread(
                        target=self._loop, name="stackscripts-store-flush", daemon=True)
                    self._thread.start()
                self._cond.notify()

    def pending(self) -> bool:
        """Whether anything waits to be written."""
        return bool(self._pending)

    def take(self) -> list[Chunk]:
        """Remove and return everything pending, coalesced, in arrival order per step."""
        with self._cond:
            pending, self._pending, self._due = self._pending, {}, None
        return coalesce(pending) if pending else []

    def restore(self, chunks: Iterable[Chunk]) -> None:
        """Put back chunks whose write failed, ahead of anything added since; retry later."""
        with self._cond:
            merged: dict[tuple[str, int], list[tuple[str, bytes]]] = {}
            for run_id, index, stream, text in chunks:
                merged.setdefault((run_id, index), []).append((stream, text))
            for key, pieces in self._pending.items():
                merged.setdefault(key, []).extend(pieces)
            self._pending = merged
            if merged and self._due is None:
                self._due = time.monotonic() + self._interval
                self._cond.notify()

    def _wait_due(self) -> bool:
        """Block until a flush is due (True) or the buffer is closed (False)."""
        with self._cond:
            while not self._closed:
                if self._due is None:
                    self._cond.wait()
                    continue
                delay = self._due - time.monotonic()
                if delay <= 0:
                    return True
                self._cond.wait(delay)
            return False

    def _loop(self) -> None:
        while self._wait_due():
            try:
                self._flush()
            except Exception:  # the owner restored the chunks; retry at the next deadline
                with self._cond:
                    now = time.monotonic()
                    if self._due is not None and self._due <= now:
                        self._due = now + self._interval

    def close(self) -> None:
        """Stop the background thread; the owner then flushes what is left."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)
