"""A worker: runs queued units (api/queued.py) with this process's controller, transport and credential backends.

Each unit is claimed in the store, run (a boot, a launch, or the resumption of a run its previous worker left), and
ended in the store, which queues the fleet's next units. A heartbeat thread renews the worker's row with its load,
stops the running steps of cancelled fleets, and hands the units of workers that stopped answering to the queue.
`stop()` (SIGTERM) takes no more units and lets each running step finish, then hands its unit back: another worker
resumes the run from the next step (`resumed_from`). Two runs never hold one server: the store's lock sees to it.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import BadInput, RunFailed, StackscriptsError
from ..executor import Cancel
from ..inputs.resolve import Layer
from ..model import RunResult, RunState
from ..queue.unit import WorkUnit
from ..store.base import RunRecord
from ..store.fleets import UnitRecord, WorkerRecord
from .controller import describe
from .queued import DEFAULT_QUEUE, WORKER_EXPIRY, check_queue_name, open_queue, team_store

if TYPE_CHECKING:
    from .controller import Controller

HEARTBEAT = float(os.environ.get("STACKSCRIPTS_WORKER_HEARTBEAT", "5"))  # seconds between a worker's heartbeats
Outcome = tuple[str, str | None, str | None]  # the unit's end state, its run, why
STOPPING = "the worker is stopping"  # the reason of a Cancel that hands a unit back


class Worker:
    """Serves queues until stopped; `concurrency` units at once, each in a thread of its own."""

    def __init__(self, controller: Controller, *, queues: Sequence[str] = (DEFAULT_QUEUE,), concurrency: int = 50,
                 engine: str | None = None, log: Callable[[str], None] = lambda line: None) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise BadInput(f"--concurrency {concurrency} must be at least 1", hint="Give how many units to run at once.")
        self.queues = tuple(check_queue_name(q) for q in queues) or (DEFAULT_QUEUE,)
        self.c = controller
        self.store = team_store(controller)
        self.queue = open_queue(controller, engine)
        self.concurrency = concurrency
        self.id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.log = log
        self._running: dict[tuple[str, str], Cancel] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._done = threading.Event()

    def run(self) -> None:
        """Register, serve until `stop`, and end with every running unit ended or handed back."""
        self.store.register_worker(WorkerRecord(self.id, socket.gethostname(), os.getpid(), self.queues,
                                                self.concurrency))
        beat = threading.Thread(target=self._beat, name="worker-heartbeat", daemon=True)
        beat.start()
        try:
            self.queue.serve(self.handle, queues=self.queues, concurrency=self.concurrency, name=self.id,
                             started=lambda: self.log(f"worker {self.id} serves {', '.join(self.queues)}"))
        finally:
            self._done.set()
            beat.join(timeout=30)
            try:
                self.store.beat_worker(self.id, 0, stopped=True)
            finally:
                self.queue.close()

    def stop(self, now: bool = False) -> None:
        """Take no more units; let each running step finish (now: stop it too), then hand its unit back."""
        self._stopping.set()
        with self._lock:
            running = list(self._running.values())
        for cancel in running:
            cancel.stop(now=now, reason=STOPPING)
        self.queue.stop()

    @property
    def load(self) -> int:
        with self._lock:
            return len(self._running)

    def handle(self, data: Mapping[str, Any]) -> None:
        """One job: claim its unit, run it, record how it ended (never raises: the store has the outcome)."""
        try:
            self._handle(data)
        except Exception as exc:  # noqa: BLE001 (e.g. the store away: the unit's worker goes silent, it is handed on)
            self.log(f"{data.get('server', 'a unit')}: not recorded: {describe(exc)}")

    def _handle(self, data: Mapping[str, Any]) -> None:
        try:
            unit = WorkUnit.from_dict(data)
        except BadInput as exc:  # another release's unit: ended as an error, saying why, not left queued
            fleet, server = str(data.get("fleet", "")), str(data.get("server", ""))
            if self.store.claim_unit(fleet, server, self.id) is not None:
                self.store.finish_unit(fleet, server, self.id, "error", self.queue, message=str(exc))
            self.log(f"{server or 'a unit'}: {exc}")
            return
        claimed = self.store.claim_unit(unit.fleet, unit.server, self.id)
        if claimed is None:
            return
        if self._stopping.is_set():  # taken just as the worker stops: straight back, nothing run
            self.store.hand_back(unit.fleet, unit.server, self.id, self.queue, run_id=claimed.run_id,
                                 message=f"handed back by worker {self.id} (it stopped)")
            return
        key = (unit.fleet, unit.server)
        cancel = Cancel()
        with self._lock:
            self._running[key] = cancel
        self.log(f"{unit.server}: {unit.kind} (fleet {unit.fleet}, attempt {claimed.attempts})")
        try:
            state, run_id, message = self._work(unit, claimed, cancel)
        except Exception as exc:  # noqa: BLE001 (a unit's failure must not stop the worker)
            state, run_id, message = "error", None, describe(exc)
        finally:
            with self._lock:
                self._running.pop(key, None)
        self.log(f"{unit.server}: {state}{f' ({message})' if message else ''}")
        if state == "handed back":
            self.store.hand_back(unit.fleet, unit.server, self.id, self.queue, run_id=run_id,
                                 message=f"handed back by worker {self.id} (it stopped)")
        else:
            self.store.finish_unit(unit.fleet, unit.server, self.id, state, self.queue, run_id=run_id, message=message)

    def _work(self, unit: WorkUnit, claimed: UnitRecord, cancel: Cancel) -> Outcome:
        layers = [Layer.from_raw(source, raw, strict=False) for source, raw in unit.layers]
        try:
            previous = self._previous_run(unit, claimed)
            if previous is not None and previous.state is RunState.SUCCEEDED:
                return "succeeded", previous.id, None
            if previous is not None and previous.state is RunState.FAILED:
                return "failed", previous.id, previous.error or "a step failed"
            if previous is not None:  # interrupted: its worker died or stopped; go on from where it was
                result = self.c.resume(previous.id, cancel=cancel)
            elif unit.kind == "launch":
                result = self._launch(unit, layers, cancel)
            else:
                result = self.c.boot(unit.server, unit.revision, layers=layers, cancel=cancel)
        except RunFailed as exc:
            if exc.result is None:
                return "failed", None, exc.message
            return self._ended(exc.result, cancel, exc.message)
        except StackscriptsError as exc:
            return "error", None, str(exc)
        return "succeeded", result.run_id, None

    def _ended(self, result: RunResult, cancel: Cancel, message: str) -> Outcome:
        if result.state is RunState.CANCELLED and cancel.reason == STOPPING:  # a second SIGTERM: stopped, handed back
            return "handed back", result.run_id, None
        if result.state is RunState.CANCELLED:
            return "cancelled", result.run_id, "cancelled (fleets cancel)" if not self._stopping.is_set() else message
        if result.state is RunState.INTERRUPTED and cancel.requested:
            return "handed back", result.run_id, None
        return "failed", result.run_id, message

    def _launch(self, unit: WorkUnit, layers: list[Layer], cancel: Cancel) -> RunResult:
        from ..revisions.snapshot import TEMPLATE
        from . import pinning
        from .launcher import Launcher

        template = pinning.materialise(self.store, unit.revision) / TEMPLATE  # the revision's own tree
        return Launcher(self.c).launch(template, unit.server, unit.cloud, unit.image, layers=layers,
                                       deployment=unit.deployment, key_name=unit.deployment and f"deployment-{unit.deployment}",
                                       cancel=cancel)

    def _previous_run(self, unit: WorkUnit, claimed: UnitRecord) -> RunRecord | None:
        """The run an earlier attempt of this unit started, once it has ended (a dead worker's run ends when its lease
        expires); None if there was none."""
        if claimed.attempts <= 1 and claimed.run_id is None:
            return None
        while True:
            if claimed.run_id is not None:
                run: RunRecord | None = self.store.get_run(claimed.run_id, output=False)
            else:
                since = (claimed.started or 0) - 5
                run = next((r for r in self.store.list_runs(unit.server, 5) if r.started >= since), None)
            if run is None or run.state is not RunState.RUNNING:
                return run
            if self._stopping.is_set():
                raise StackscriptsError(f"{unit.server}: run {run.id} of a previous worker is still running")
            self.store.mark_interrupted()  # its lease expired: interrupted now
            time.sleep(1.0)

    def _beat(self) -> None:
        while not self._done.wait(HEARTBEAT):
            try:
                self.store.beat_worker(self.id, self.load)
                for key in self.store.stopping_units(self.id):
                    with self._lock:
                        cancel = self._running.get(key)
                    if cancel is not None:
                        cancel.stop(now=True, reason="cancelled")
                for orphan in self.store.requeue_orphans(WORKER_EXPIRY, self.queue):
                    self.log(f"{orphan.server}: handed back to the queue (worker {orphan.worker} stopped answering)")
            except StackscriptsError as exc:
                self.log(f"heartbeat: {exc}")


__all__ = ["HEARTBEAT", "Worker"]
