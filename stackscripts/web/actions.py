"""What an operator starts from the dashboard: boot, resume, an operational script, terminate.

A boot goes through the queue when the store is the PostgreSQL team store and a worker is alive (api.queued: any
worker of the team runs it); everything else runs in a thread of the dashboard's process, on its Controller, as the
CLI would. The request waits a moment for the run to appear in the store, so the browser lands on its live page;
an error before the run starts (a busy server, an unknown script, a bad revision) is the answer instead.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..api import queued
from ..api.controller import Controller
from ..errors import BadInput, Conflict, RunFailed, StackscriptsError

log = logging.getLogger("stackscripts.web")

REVISION = re.compile(r"sha256:[0-9a-f]{64}")  # a kept revision, whole; never a path on the dashboard's machine
WAIT = 3.0  # seconds a request waits for its run to appear in the store
MAX_RUNNING = 32  # actions this process runs at once


@dataclass(frozen=True)
class Started:
    """An action as started: what, how (`queue` or `thread`), and where to watch it (a run, or a queued fleet)."""

    what: str
    via: str
    server: str
    run_id: str | None = None
    fleet: str | None = None
    message: str = ""


def check_revision(revision: str) -> str:
    """A kept revision's whole digest; BadInput for anything else (a template path is not taken here)."""
    if not REVISION.fullmatch(revision or ""):
        raise BadInput(f"{revision[:80]!r} is not a kept revision",
                       hint="Give its whole digest, sha256:<64 hex digits> (the Revisions page lists them).")
    return revision


class Actions:
    """Starts actions on one Controller (safe from several threads, one server each)."""

    def __init__(self, controller: Controller, *, wait: float = WAIT) -> None:
        self.c = controller
        self.wait = wait
        self._running: dict[int, str] = {}
        self._lock = threading.Lock()

    def running(self) -> list[str]:
        """What this process runs now, one line each."""
        with self._lock:
            return sorted(self._running.values())

    def queue_ready(self) -> bool:
        """Whether a boot would go through the queue: a team store with an alive worker."""
        try:
            return bool(queued.list_workers(self.c))
        except StackscriptsError:
            return False

    def boot(self, server: str, revision: str | None = None, force: bool = False) -> Started:
        """Boot a server from a kept revision (default: the one it is pinned to); another template's revision only
        with `force` (kept in its history), as `boot --force`."""
        record = self.c.store.get_server(server)
        chosen = check_revision(revision) if revision else record.revision
        if not chosen:
            raise BadInput(f"server {server} is pinned to no revision", hint="Choose a kept revision to boot it from.")
        if self.queue_ready():
            submitted = queued.submit_boot(self.c, [server], chosen, parallel=1, max_errors="0")
            return Started(f"boot {server}", "queue", server, fleet=submitted.fleet.id,
                           message=submitted.warning or f"queued as fleet {submitted.fleet.id}")
        return self._start(f"boot {server}", server, lambda: self.c.boot(server, chosen, force=force))

    def resume(self, run_id: str) -> Started:
        run = self.c.store.get_run(run_id, output=False)
        return self._start(f"resume {run.id}", run.server, lambda: self.c.resume(run.id))

    def run(self, server: str, script: str) -> Started:
        """One Operational script of the server's revision."""
        if not script.strip():
            raise BadInput("name the operational script to run")
        self.c.operational(self.c.store.get_server(server))
        return self._start(f"run {script} on {server}", server, lambda: self.c.run(server, script))

    def terminate(self, server: str) -> Started:
        """Decommission scripts, then destroy the instance (a server added by hand is only marked terminated)."""
        from ..api.launcher import Launcher

        self.c.store.get_server(server)
        return self._start(f"terminate {server}", server, lambda: Launcher(self.c).terminate(server))

    def _latest(self, server: str) -> str | None:
        runs = self.c.store.list_runs(server, 1)
        return runs[0].id if runs else None

    def _start(self, what: str, server: str, action: Callable[[], Any]) -> Started:
        with self._lock:
            if len(self._running) >= MAX_RUNNING:
                raise Conflict(f"the dashboard runs {MAX_RUNNING} actions already", hint="Wait for one to end.")
        before = self._latest(server)
        outcome: dict[str, BaseException] = {}

        def work() -> None:
            key = threading.get_ident()
            with self._lock:
                self._running[key] = what
            try:
                action()
            except RunFailed as exc:  # recorded in the store: its run page says how
                log.info("%s: %s", what, exc.message)
            except BaseException as exc:  # before any run (busy, bad input) or the connection: told to the caller
                outcome["error"] = exc
                log.warning("%s: %s", what, exc)
            finally:
                with self._lock:
                    self._running.pop(key, None)

        thread = threading.Thread(target=work, name=f"action {what}", daemon=True)
        thread.start()
        deadline = time.monotonic() + self.wait
        while time.monotonic() < deadline:
            if self._latest(server) != before or not thread.is_alive():
                break
            time.sleep(0.05)
        latest = self._latest(server)
        if latest != before:  # also an attempt that could not connect: its run says why
            return Started(what, "thread", server, run_id=latest, message=f"{what}: run {latest}")
        error = outcome.get("error")
        if isinstance(error, StackscriptsError):
            raise error
        if error is not None:
            raise StackscriptsError(f"{what} failed: {type(error).__name__}: {error}")
        return Started(what, "thread", server, message=f"{what}: started; its run shows on the server's page")
