"""Dead-peer detection: a ping that must be answered, like OpenSSH's ServerAliveInterval/CountMax.

TCP alone does not notice a frozen server (its kernel still acknowledges packets) and notices a
silent network only after many minutes of retransmissions. A Heartbeat sends an SSH request that
wants a reply every `interval` seconds; when no reply has come for `interval * count` seconds the
peer is dead, and the transport is closed so that everything waiting on it returns.
This module imports no SSH library: the transport hands it a blocking `ping` and a `close`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import BadInput

INTERVAL_ENV = "STACKSCRIPTS_KEEPALIVE_INTERVAL"
COUNT_ENV = "STACKSCRIPTS_KEEPALIVE_COUNT"


@dataclass(frozen=True)
class Keepalive:
    """Send a ping every `interval` seconds; `count` unanswered intervals mean the peer is dead."""

    interval: float = 10.0
    count: int = 3

    @property
    def limit(self) -> float:
        """Seconds without an answer after which the peer is declared dead (40 s by default)."""
        return self.interval * (self.count + 1)

    @classmethod
    def from_env(cls) -> Keepalive:
        """The defaults, or STACKSCRIPTS_KEEPALIVE_INTERVAL (seconds, 0 = off) and _COUNT."""
        interval, count = cls.interval, cls.count
        raw_interval = os.environ.get(INTERVAL_ENV, "").strip()
        raw_count = os.environ.get(COUNT_ENV, "").strip()
        try:
            if raw_interval:
                interval = float(raw_interval)
            if raw_count:
                count = int(raw_count)
        except ValueError:
            raise BadInput(f"{INTERVAL_ENV}={raw_interval!r} / {COUNT_ENV}={raw_count!r}: not a number",
                           hint="Give the interval in seconds (e.g. 15, 0 turns pings off) and the count "
                                "as a whole number (e.g. 3).") from None
        if not (interval >= 0 and interval <= 3600) or not 1 <= count <= 100:
            raise BadInput(f"{INTERVAL_ENV}={interval:g}, {COUNT_ENV}={count}: out of range",
                           hint="The interval is 0 (off) to 3600 seconds; the count 1 to 100.")
        return cls(interval, count)


class Heartbeat:
    """A daemon thread that pings the peer and closes the connection when answers stop coming."""

    def __init__(self, ping: Callable[[], object], close: Callable[[], None], keepalive: Keepalive) -> None:
        self._ping = ping
        self._close = close
        self.keepalive = keepalive
        self._last_answer = time.monotonic()
        self._stop = threading.Event()
        self._dead = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Heartbeat:
        if self.keepalive.interval > 0:
            self._thread = threading.Thread(target=self._pinger, name="ssh-heartbeat", daemon=True)
            self._thread.start()
            threading.Thread(target=self._watcher, name="ssh-heartbeat-watch", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    @property
    def dead(self) -> bool:
        return self._dead.is_set()

    def _pinger(self) -> None:
        while not self._stop.wait(self.keepalive.interval):
            try:
                self._ping()  # blocks until the reply, or until the connection is closed
            except Exception:
                return  # the connection is gone: the transport itself reports that
            self._last_answer = time.monotonic()

    def _watcher(self) -> None:
        step = min(1.0, self.keepalive.interval / 2)
        while not self._stop.wait(step):
            if time.monotonic() - self._last_answer > self.keepalive.limit:
                self._dead.set()
                self._close()
                return
