"""Workers in the store: each registers, renews its heartbeat with its load (by the database's clock) and ends; the
running units of a worker that went silent are handed back to the queue (or cancelled, if their fleet is)."""

from __future__ import annotations

import json

from .fleets import FleetState, UnitRecord, WorkerRecord
from .signals import now_sql
from .sql_fleets import Enqueuer, FleetsSQL, server_lock, unit_record


class WorkersSQL(FleetsSQL):
    """Store methods for the workers that serve queued fleets."""

    def register_worker(self, worker: WorkerRecord) -> None:
        with self._tx() as tx:
            now = now_sql(tx.dialect)
            tx.run(f"INSERT INTO workers (id, host, pid, queues, concurrency, load, started, heartbeat, team) VALUES "
                   f"(:id, :host, :pid, :queues, :concurrency, 0, {now}, {now}, :team)",
                   {"id": worker.id, "host": worker.host, "pid": worker.pid, "queues": json.dumps(list(worker.queues)),
                    "concurrency": worker.concurrency, "team": self.team})

    def beat_worker(self, worker: str, load: int, *, stopped: bool = False) -> None:
        """Renew a worker's heartbeat with its load (stopped: it has ended)."""
        with self._tx(atomic=False) as tx:
            now = now_sql(tx.dialect)
            tx.run(f"UPDATE workers SET heartbeat = {now}, load = :load"
                   f"{f', stopped = {now}' if stopped else ''} WHERE id = :id", {"id": worker, "load": load})

    def list_workers(self, expiry: float, *, stopped: bool = False) -> list[WorkerRecord]:
        """Workers alive (a heartbeat within expiry seconds), by host and pid; stopped=True: the others too."""
        with self._tx(write=False) as tx:
            rows = tx.all(f"SELECT *, heartbeat > {now_sql(tx.dialect)} - :expiry AND stopped IS NULL AS alive "
                          "FROM workers ORDER BY host, pid", {"expiry": expiry})
        found = [WorkerRecord(r["id"], r["host"], r["pid"], tuple(json.loads(r["queues"])), r["concurrency"], r["load"],
                              r["started"], r["heartbeat"], r["stopped"], bool(r["alive"])) for r in rows]
        return [w for w in found if stopped or w.alive]

    def requeue_orphans(self, expiry: float, queue: Enqueuer) -> list[UnitRecord]:
        """Hand the running units of workers silent for expiry seconds (or stopped) back to the queue."""
        with self._tx() as tx:
            rows = tx.all("SELECT u.* FROM fleet_units u LEFT JOIN workers w ON w.id = u.worker WHERE u.state = 'running' "
                          f"AND (w.id IS NULL OR w.stopped IS NOT NULL OR w.heartbeat < {now_sql(tx.dialect)} - :expiry)"
                          f"{' FOR UPDATE OF u SKIP LOCKED' if tx.dialect == 'postgresql' else ''}", {"expiry": expiry})
            for row in rows:
                fleet = self._fleet_row(tx, row["fleet_id"], lock=False)
                if fleet["state"] != FleetState.RUNNING:  # cancelled meanwhile: not to be resumed
                    self._cancel_unit(tx, fleet, row["server"], worker=row["worker"])
                    continue
                job = row["job_id"]
                if job is None or not queue.retry(tx.connection, job):
                    [job] = queue.submit(tx.connection, [json.loads(row["unit"])], fleet["queue"], server_lock)
                tx.run("UPDATE fleet_units SET state = 'queued', worker = NULL, job_id = :job, message = :message "
                       "WHERE fleet_id = :fleet AND server = :server",
                       {"fleet": row["fleet_id"], "server": row["server"], "job": job,
                        "message": f"worker {row['worker']} stopped answering: handed to another worker"})
        return [unit_record(r) for r in rows]
