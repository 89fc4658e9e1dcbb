"""The queue contract: submit units in the caller's transaction, cancel, hand back, serve; and its registry.

A queue engine keeps jobs in the team store's PostgreSQL database, so a fleet's records and its jobs are written in
one transaction: `submit`, `cancel` and `retry` take the store transaction's DBAPI connection. The fleet's state
(which units are queued, running, done; --parallel, --max-errors) is the store's (store/sql_fleets.py); the queue
only carries the units to workers.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..registry import Registry

Handler = Callable[[Mapping[str, Any]], None]  # runs one unit (its JSON mapping), in a thread of the worker


class Queue(abc.ABC):
    """Jobs carrying work units from the machines that submit them to the workers that run them."""

    name = ""
    table_prefix = ""  # the engine's tables in the store's database are named so

    @abc.abstractmethod
    def __init__(self, dsn: str) -> None:
        """An engine on the team store's database, named by its password-free DSN."""

    @abc.abstractmethod
    def prepare(self, connection: Any) -> None:
        """Create the engine's tables in the store's database if they are missing (idempotent, under a lock)."""

    @abc.abstractmethod
    def submit(self, connection: Any, units: Sequence[Mapping[str, Any]], queue: str, lock: Callable[[Mapping[str, Any]],
               str]) -> list[int]:
        """Queue each unit (in the caller's transaction); the job ids, in order. Jobs with the same lock run one at a time."""

    @abc.abstractmethod
    def cancel(self, connection: Any, job_ids: Sequence[int]) -> None:
        """Remove queued jobs; a job being worked on is marked for abortion (its worker stops it)."""

    @abc.abstractmethod
    def retry(self, connection: Any, job_id: int) -> bool:
        """Put a job whose worker died back in the queue, at once; False if it was not being worked on."""

    @abc.abstractmethod
    def status(self, connection: Any, job_ids: Sequence[int]) -> dict[int, str]:
        """Each known job's state as the engine says it (todo, doing, succeeded, failed, cancelled...)."""

    @abc.abstractmethod
    def serve(self, handler: Handler, *, queues: Sequence[str], concurrency: int, name: str,
              started: Callable[[], None] = lambda: None) -> None:
        """Run units from these queues, `concurrency` at once, until `stop`; returns once the running ones ended."""

    @abc.abstractmethod
    def stop(self) -> None:
        """From any thread: take no more units (serve returns when the running ones end)."""

    def close(self) -> None:  # noqa: B027 (most engines hold nothing between calls)
        """Release the engine's connections."""


queues: Registry[Queue] = Registry("queue engine")
queues.register("procrastinate", "stackscripts.queue.procrastinate:ProcrastinateQueue")

__all__ = ["Handler", "Queue", "queues"]
