"""The Procrastinate engine: jobs in the team store's PostgreSQL database, worked on by `stackscripts worker`.

The only module that imports procrastinate. Deferring, cancelling and retrying run on the store transaction's own
connection (Procrastinate's sync job manager takes one), so a fleet's rows and its jobs commit together. A worker
runs Procrastinate's asyncio worker; each unit runs in a thread of a pool as large as `--concurrency` (a unit spends
its time waiting on SSH). Jobs of one server share a Procrastinate lock: they never run at once.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from procrastinate import App, PsycopgConnector, SyncPsycopgConnector, jobs, sql
from procrastinate.schema import SchemaManager

from .base import Handler, Queue

TASK = "stackscripts.unit"
_SCHEMA_LOCK = 0x5354_4B51  # pg_advisory_xact_lock key: one process creates the engine's tables
HEARTBEAT = 5.0  # seconds between Procrastinate's own worker heartbeats


class ProcrastinateQueue(Queue):
    """Procrastinate on the store's database, named by the store's password-free DSN (libpq finds the password)."""

    name = "procrastinate"
    table_prefix = "procrastinate_"

    def __init__(self, dsn: str, *, application_name: str = "stackscripts-worker") -> None:
        self.dsn = dsn
        self._application = application_name
        self._sync = App(connector=SyncPsycopgConnector())  # never opened: used only with a caller's connection
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Future[Any] | None = None
        self._stopping = False

    def prepare(self, connection: Any) -> None:
        connection.execute("SELECT pg_advisory_xact_lock(%s)", [_SCHEMA_LOCK])  # held to the end of the transaction
        if not _value(connection, "SELECT count(*) FROM pg_type WHERE typname = 'procrastinate_job_status'"):
            connection.execute(SchemaManager.get_schema())

    def submit(self, connection: Any, units: Sequence[Mapping[str, Any]], queue: str,
               lock: Callable[[Mapping[str, Any]], str]) -> list[int]:
        if not units:
            return []
        made = [jobs.Job(id=None, queue=queue, lock=lock(unit), queueing_lock=None, task_name=TASK,
                         task_kwargs={"unit": dict(unit)}) for unit in units]
        deferred = self._sync.job_manager.batch_defer_jobs(made, connection=connection)
        return [int(job.id) for job in deferred if job.id is not None]

    def cancel(self, connection: Any, job_ids: Sequence[int]) -> None:
        for job_id in job_ids:
            self._sync.job_manager.cancel_job_by_id(job_id, abort=False, connection=connection)

    def retry(self, connection: Any, job_id: int) -> bool:
        status = _value(connection, "SELECT status::text FROM procrastinate_jobs WHERE id = %s FOR UPDATE", [job_id])
        if status != "doing":
            return False
        connector = self._sync.connector.get_sync_connector()
        connector.execute_query_one_with_connection(
            connection, query=sql.queries["retry_job"], job_id=job_id, retry_at=datetime.datetime.now(datetime.UTC),
            new_priority=None, new_queue_name=None, new_lock=None)
        return True

    def status(self, connection: Any, job_ids: Sequence[int]) -> dict[int, str]:
        rows = connection.execute("SELECT id, status::text FROM procrastinate_jobs WHERE id = ANY(%s)",
                                  [list(job_ids)]).fetchall()
        return {int(row[0]): str(row[1]) for row in rows}

    def serve(self, handler: Handler, *, queues: Sequence[str], concurrency: int, name: str,
              started: Callable[[], None] = lambda: None) -> None:
        app = App(connector=PsycopgConnector(conninfo=self.dsn, min_size=1, max_size=4,
                                             kwargs={"application_name": self._application}))

        def run_unit(unit: dict[str, Any]) -> None:
            handler(unit)

        app.task(name=TASK)(run_unit)
        logging.getLogger("procrastinate").setLevel(logging.WARNING)

        async def main() -> None:
            loop = asyncio.get_running_loop()
            loop.set_default_executor(ThreadPoolExecutor(max_workers=concurrency + 2, thread_name_prefix="unit"))
            async with app.open_async():
                self._loop = loop
                self._task = asyncio.ensure_future(app.run_worker_async(
                    queues=list(queues), concurrency=concurrency, name=name, install_signal_handlers=False,
                    delete_jobs="successful", update_heartbeat_interval=HEARTBEAT,
                    stalled_worker_timeout=HEARTBEAT * 6, fetch_job_polling_interval=2.0))
                if self._stopping:
                    self._task.cancel()
                started()
                try:
                    await self._task
                except asyncio.CancelledError:
                    pass  # stopped: the worker ended its running units first

        asyncio.run(main())

    def stop(self) -> None:
        if self._stopping:  # a second cancel would cut Procrastinate's graceful shutdown short
            return
        self._stopping = True
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            loop.call_soon_threadsafe(task.cancel)


def _value(connection: Any, query: str, params: Sequence[Any] | None = None) -> Any:
    row = connection.execute(query, params).fetchone()
    return None if row is None else row[0]


__all__ = ["ProcrastinateQueue", "TASK"]
