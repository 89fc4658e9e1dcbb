"""Run leases: a controller renews the lease of each of its running runs from a heartbeat thread; a run whose lease
has expired, on any machine, is interrupted by the next command that opens the store or asks for its server.

A run's lease (`runs.lease_until`, by the database's clock: store/signals.py) is taken when the run starts, for
`STACKSCRIPTS_LEASE_SECONDS` (60 s by default), and renewed every third of that by one small UPDATE for all of the
store's running runs, for as long as the store has any. A controller that dies, or loses the database for longer
than a lease, stops renewing; once its lease has expired its run is marked `interrupted` (steps closed, lock
released) exactly as a dead local controller's is at once (its pid is gone: store/liveness.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .liveness import bury, dead_runs, lease_seconds
from .rows import Tx
from .signals import now_sql
from .sql import Link, SQLCore


class Heartbeat:
    """A daemon thread that calls `renew` every `interval` seconds while there are leases to renew."""

    def __init__(self, renew: Callable[[list[str]], object], interval: float) -> None:
        self._renew = renew
        self.interval = interval
        self._runs: set[str] = set()
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def hold(self, run_id: str) -> None:
        with self._cond:
            self._runs.add(run_id)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._loop, name="stackscripts-lease", daemon=True)
                self._thread.start()
            self._cond.notify()

    def release(self, run_id: str) -> None:
        with self._cond:
            self._runs.discard(run_id)

    def held(self) -> list[str]:
        with self._cond:
            return sorted(self._runs)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and not self._runs:
                    self._cond.wait()
                beat = time.monotonic() + self.interval  # a run held meanwhile wakes the wait: sleep on to the beat
                while not self._closed and (left := beat - time.monotonic()) > 0:
                    self._cond.wait(left)
                if self._closed:
                    return
                runs = sorted(self._runs)
            if runs:
                try:
                    self._renew(runs)
                except Exception:  # noqa: S110 (the database away: try again next beat; the lease says how long)
                    pass

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)


class LeasesSQL(SQLCore):
    """Leases of this store's running runs, their heartbeat, and interrupting the runs of dead controllers."""

    def _connect(self, make: Callable[[], Link], location: str, flush_interval: float) -> None:
        super()._connect(make, location, flush_interval)
        self._heartbeat: Heartbeat | None = None

    def _lease(self, tx: Tx, run_id: str) -> None:
        """Take a new run's lease (in the transaction that starts it); renewed from now on while it runs."""
        seconds = lease_seconds()
        tx.run(f"UPDATE runs SET lease_until = {now_sql(tx.dialect)} + :lease WHERE id = :run_id",
               {"lease": seconds, "run_id": run_id})
        if self._heartbeat is None:
            self._heartbeat = Heartbeat(self.renew_leases, seconds / 3)

    def _hold(self, run_id: str) -> None:
        """After the run's start committed: keep renewing its lease."""
        if self._heartbeat is not None:
            self._heartbeat.hold(run_id)

    def _release(self, run_id: str) -> None:
        if self._heartbeat is not None:
            self._heartbeat.release(run_id)

    def renew_leases(self, run_ids: list[str] | None = None) -> int:
        """Extend the leases of these running runs (default: all this store runs) by a lease from now; how many."""
        runs = self._heartbeat.held() if run_ids is None and self._heartbeat is not None else run_ids or []
        if not runs:
            return 0
        marks = ", ".join(f":run{n}" for n in range(len(runs)))
        params: dict[str, object] = {f"run{n}": run_id for n, run_id in enumerate(runs)}
        with self._tx() as tx:
            return tx.run(f"UPDATE runs SET lease_until = {now_sql(tx.dialect)} + :lease "
                          f"WHERE id IN ({marks}) AND state = 'running'", {**params, "lease": lease_seconds()})

    def mark_interrupted(self) -> list[str]:
        """Interrupt running runs whose controller is gone: their lease expired (any machine), or their controller
        on this host exited; return their ids."""
        host = self._controller.host
        with self._tx(write=False) as tx:  # a read first: most opens find nothing to do
            if not dead_runs(tx, host):
                return []
        now = time.time()
        with self._tx() as tx:
            return bury(tx, dead_runs(tx, host), now, host)

    def close(self) -> None:
        heartbeat = getattr(self, "_heartbeat", None)
        if heartbeat is not None:
            heartbeat.close()  # outside the lock: a renewal may be waiting for it
        super().close()
