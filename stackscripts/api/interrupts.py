"""Interrupts during work that has to be undone: the first Ctrl-C stops the work, no later one stops the clean-up.

    with InterruptGuard() as guard:
        try:
            create()                      # Ctrl-C (or SIGTERM) here: KeyboardInterrupt, as usual
        except BaseException:
            with guard.shield():          # more Ctrl-C here are counted, not raised: the destroy runs to its end
                destroy()
            raise                         # then the original failure (a KeyboardInterrupt: exit 130)

Without the guard a second Ctrl-C 0.02 s after the first lands inside the clean-up the first one started and cuts
it short (a loop device, a state folder, a record left `pending`). A signal that arrives only while shielded is
raised as KeyboardInterrupt once the shield ends, so the command still stops (exit 130) after cleaning up.

Signals are delivered to the main thread only: in any other thread (fleet and deploy workers) the guard installs
nothing and a shield only runs its block.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class InterruptGuard:
    """While entered (main thread): the first SIGINT/SIGTERM raises KeyboardInterrupt unless shielded; any
    later one, or one that arrives while shielded, is only counted (`received`)."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.raised = False  # a KeyboardInterrupt for the signals received has been raised
        self._shielded = 0
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)
        if not self.raised and not self._shielded:
            self.raised = True
            raise KeyboardInterrupt

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            for number in SIGNALS:
                try:
                    self._previous[number] = signal.signal(number, self._handle)
                except (ValueError, OSError):  # e.g. an embedding interpreter that owns its signals
                    continue
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()
        if kind is None:
            self._raise_pending()

    @contextmanager
    def shield(self) -> Iterator[None]:
        """Run the block to its end whatever signals arrive; then raise KeyboardInterrupt if one did (and none was
        raised for it yet)."""
        self._shielded += 1
        try:
            yield
        finally:
            self._shielded -= 1
        if not self._shielded:
            self._raise_pending()

    def _raise_pending(self) -> None:
        if self.received and not self.raised:
            self.raised = True
            raise KeyboardInterrupt


__all__ = ["InterruptGuard"]
