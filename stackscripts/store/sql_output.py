"""Step output of any size: read in pages, followed as it streams (from any machine), and pruned when old.

Output is stored as it streamed, in chunks of at most `sql.CHUNK_MAX` bytes, each with its byte offset in its step's
output (both streams, in arrival order: `chunks.byte_offset`); chunk ids are arrival order. A reader takes a page of
chunks at a time by id (the `chunks_by_step` index), so reading a 100 MB step needs a page in memory, not the step.

Following a step re-reads its new chunks whenever something may have changed: on PostgreSQL when a notification
about its run arrives (LISTEN on a connection of its own: every chunk insert and every step or run end notifies,
store/signals.py) or after a second at most; on SQLite every `POLL` seconds. It ends when the step has ended, and
while it waits it interrupts runs whose controller died, as any command does (as soon as the followed run's lease has
expired), so a step whose controller died ends (interrupted) once its lease has run out.

Pruning removes the chunks of runs that ended before a time and leaves, for each step that had output, one empty
chunk whose byte_offset is the size its output had: `runs log` says the output was pruned, and how much.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from ..errors import NotFound, StackscriptsError
from ..model import RunState
from . import queries
from .base import OutputChunk, PruneResult
from .rows import Row, Tx
from .signals import CHANNEL, concerns, now_sql
from .sql import Listener
from .sql_leases import LeasesSQL

PAGE_ROWS = 32  # chunks a reader holds at once (each at most sql.CHUNK_MAX bytes)
POLL = 0.2  # seconds between reads while following a step on SQLite
WAKE = 1.0  # on PostgreSQL: read again after this long even without a notification
SWEEP = 2.0  # seconds between looks for dead controllers while following (and at once when the run's lease expired)
PRUNE_BATCH = 50  # runs pruned per transaction (short transactions: other controllers keep writing)


def _size(data: Any) -> bytes:
    return data.encode() if isinstance(data, str) else bytes(data)


class OutputSQL(LeasesSQL):
    """Store methods that read, follow and prune step output (see store.base.Store)."""

    def _page(self, run_id: str, index: int, after: int) -> list[Row]:
        with self._tx(write=False) as tx:
            return tx.all("SELECT id, stream, text, byte_offset FROM chunks WHERE run_id = :run_id AND idx = :idx "
                          "AND id > :after ORDER BY id LIMIT :limit",
                          {"run_id": run_id, "idx": index, "after": after, "limit": PAGE_ROWS})

    def _offset_before(self, run_id: str, index: int, seq: int) -> int:
        """The output length up to chunk seq (for chunks stored before offsets were)."""
        with self._tx(write=False) as tx:
            return int(tx.value("SELECT COALESCE(SUM(length(text)), 0) FROM chunks WHERE run_id = :run_id "
                                "AND idx = :idx AND id <= :seq", {"run_id": run_id, "idx": index, "seq": seq}) or 0)

    def read_output(self, run_id: str, index: int, *, after: int = 0) -> Iterator[OutputChunk]:
        self.flush()  # this process's buffered output belongs in the answer
        offset: int | None = 0 if after <= 0 else None
        while True:
            page = self._page(run_id, index, after)
            for row in page:
                data = _size(row["text"])
                if row["byte_offset"] is not None:
                    offset = int(row["byte_offset"])
                elif offset is None:
                    offset = self._offset_before(run_id, index, after)
                after = int(row["id"])
                if data:  # an empty chunk marks pruned output (prune_output)
                    yield OutputChunk(after, offset, row["stream"], data)
                offset += len(data)
            if len(page) < PAGE_ROWS:
                return

    def _step_state(self, run_id: str, index: int) -> tuple[str, bool | None, bool]:
        """The run's state, whether the step has ended (None: no such step yet), whether the run's lease expired."""
        with self._tx(write=False) as tx:
            row = tx.one(f"SELECT runs.state, runs.lease_until, {now_sql(tx.dialect)} AS db_now, steps.idx, "
                         "steps.ended FROM runs LEFT JOIN steps ON steps.run_id = runs.id AND steps.idx = :idx "
                         "WHERE runs.id = :run_id", {"run_id": run_id, "idx": index})
        if row is None:
            raise NotFound(f"unknown run {run_id!r}")
        expired = row["lease_until"] is not None and row["lease_until"] < row["db_now"]
        return str(row["state"]), None if row["idx"] is None else row["ended"] is not None, expired

    def _listen(self) -> Listener | None:
        try:
            return self._link.listen(CHANNEL)
        except self._link.errors as exc:
            raise self._error(self._link.original(exc)) from None

    def follow_output(self, run_id: str, index: int, *, after: int = 0) -> Iterator[OutputChunk]:
        with self._tx(write=False) as tx:
            run_id = str(queries.resolve_run(tx, run_id)["id"])
        listener = self._listen()  # before the first read: nothing written after it is missed
        sweep_at = time.monotonic() + SWEEP
        try:
            while True:
                state, ended, expired = self._step_state(run_id, index)  # first: a step seen ended has all its output
                for chunk in self.read_output(run_id, index, after=after):
                    after = chunk.seq
                    yield chunk
                if ended:
                    return
                if state != RunState.RUNNING.value:
                    if ended is None:
                        raise NotFound(f"run {run_id} ({state}) has no step {index + 1}")
                    return
                if (expired or time.monotonic() >= sweep_at) and not self.read_only:
                    sweep_at = time.monotonic() + SWEEP
                    try:
                        self.mark_interrupted()  # a dead controller's run ends once its lease has expired
                    except StackscriptsError:
                        pass  # busy or away: the next sweep tries again
                self._wait(listener, run_id)
        finally:
            if listener is not None:
                listener.close()

    def _wait(self, listener: Listener | None, run_id: str) -> None:
        if listener is None:
            time.sleep(POLL)
            return
        try:
            listener.wait(WAKE, lambda payload: concerns(payload, run_id))
        except self._link.errors as exc:
            raise self._error(self._link.original(exc)) from None

    def prune_output(self, before: float, *, dry_run: bool = False) -> PruneResult:
        with self._tx(write=False) as tx:
            ended = [str(row["id"]) for row in tx.all(
                "SELECT id FROM runs WHERE ended IS NOT NULL AND ended < :before AND state != :running ORDER BY id",
                {"before": before, "running": RunState.RUNNING.value})]
        runs: set[str] = set()
        steps = chunks = size = 0
        for start in range(0, len(ended), PRUNE_BATCH):
            batch = ended[start:start + PRUNE_BATCH]
            with self._tx(write=not dry_run) as tx:
                found = _prune(tx, batch, dry_run)
            runs.update(str(row["run_id"]) for row in found)
            steps += len(found)
            chunks += sum(int(row["chunks"]) for row in found)
            size += sum(int(row["size"]) for row in found)
        return PruneResult(before, len(runs), steps, chunks, size, dry_run)


def _prune(tx: Tx, run_ids: list[str], dry_run: bool) -> list[Row]:
    """Per step of these runs with output: its chunks and bytes; unless dry_run, removed and marked pruned."""
    params = {f"run{n}": run_id for n, run_id in enumerate(run_ids)}
    within = f"run_id IN ({', '.join(':' + name for name in params)}) AND length(text) > 0"
    found = tx.all(f"SELECT run_id, idx, COUNT(*) AS chunks, SUM(length(text)) AS size FROM chunks WHERE {within} "
                   "GROUP BY run_id, idx ORDER BY run_id, idx", params)
    if found and not dry_run:
        tx.run(f"DELETE FROM chunks WHERE {within}", params)
        tx.run("INSERT INTO chunks (run_id, idx, stream, text, byte_offset) "
               "VALUES (:run_id, :idx, 'stdout', :empty, :size)",
               [{"run_id": row["run_id"], "idx": row["idx"], "empty": b"", "size": int(row["size"])} for row in found])
    return found
