"""Many executor threads sharing one store, on both backends: correct and ordered (how fast:
benchmarks/thresholds.py). And SQLite output that waits out another process's write lock."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from stackscripts.errors import StackscriptsError
from stackscripts.store.base import ServerRecord
from stackscripts.store.sql_store import SQLStore
from stackscripts.store.sqlite import SQLiteStore
from tests.store.conftest import Backend
from tests.support.waits import wait_until

THREADS, STEPS, APPENDS = 50, 5, 20


def _piece(server: int, step: int, n: int) -> tuple[str, str]:
    return ("stderr" if n % 4 == 3 else "stdout"), f"[{server}.{step}.{n}]"


def fleet(store: SQLStore) -> dict[str, str]:
    """Run THREADS servers in parallel, each STEPS steps of APPENDS pieces of output; return each run id."""
    for number in range(THREADS):
        store.put_server(ServerRecord(f"s{number:02d}"))
    runs: dict[str, str] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def work(number: int) -> None:
        try:
            server = f"s{number:02d}"
            barrier.wait()
            run_id = store.start_run(server, "Boot", who="", template=None, inputs={})
            runs[server] = run_id
            for step in range(STEPS):
                store.start_step(run_id, step, f"step {step}", "Boot", sha256="", inputs={})
                for n in range(APPENDS):
                    store.append_output(run_id, step, *_piece(number, step, n))
                store.finish_step(run_id, step, 0, None)
            store.finish_run(run_id, "succeeded")
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return runs


@pytest.mark.parametrize("flush_interval", [1.0, 0.002])
def test_fifty_threads_record_everything_in_order(backend: Backend, flush_interval: float) -> None:
    with backend.open(flush_interval=flush_interval) as store:
        runs = fleet(store)
    with backend.open() as store:
        assert len(store.list_runs(limit=0)) == THREADS
        for server, run_id in runs.items():
            number = int(server[1:])
            run = store.get_run(run_id)
            assert run.state == "succeeded" and len(run.steps) == STEPS
            for step in run.steps:
                pieces = [_piece(number, step.index, n) for n in range(APPENDS)]
                assert step.output == "".join(text for _, text in pieces)
                assert step.stdout == "".join(t for s, t in pieces if s == "stdout")
                assert step.stderr == "".join(t for s, t in pieces if s == "stderr")


def test_threads_racing_for_one_server_get_one_lock(store: SQLStore) -> None:
    store.put_server(ServerRecord("web1"))
    won: list[str] = []
    lost: list[str] = []
    barrier = threading.Barrier(20)

    def attempt() -> None:
        barrier.wait()
        try:
            won.append(store.start_run("web1", "Boot", who="", template=None, inputs={}))
        except Exception as exc:
            lost.append(str(exc))

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(lost) == 19
    assert all(message.startswith(f"web1 is busy: run {won[0]} ") for message in lost)


def test_output_survives_a_write_blocked_by_another_process(db_path: Path) -> None:
    with SQLiteStore(db_path, busy_timeout=0.2, flush_interval=0.05) as store:
        store.put_server(ServerRecord("web1"))
        run_id = store.start_run("web1", "Boot", who="", template=None, inputs={})
        store.start_step(run_id, 0, "s", "Boot", sha256="", inputs={})
        failed: list[Exception] = []
        flush = store._buffer._flush  # count the background flushes that fail

        def counted() -> None:
            try:
                flush()
            except Exception as exc:
                failed.append(exc)
                raise

        store._buffer._flush = counted
        blocker = sqlite3.connect(db_path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # holds the write lock: background flushes fail
        for n in range(5):
            store.append_output(run_id, 0, "stdout", f"{n} ")
            wait_until(lambda n=n: len(failed) > n, 10, "a background flush to fail on the locked file")
        with pytest.raises(StackscriptsError, match="locked"):
            store.finish_step(run_id, 0, 0, None)
        blocker.execute("ROLLBACK")
        blocker.close()
        store.append_output(run_id, 0, "stderr", "end")
        store.finish_step(run_id, 0, 0, None)
        step = store.get_run(run_id).steps[0]
        assert step.output == "0 1 2 3 4 end" and step.exit_code == 0
