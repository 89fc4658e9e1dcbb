"""Several processes on one SQLite file: the server lock, and runs whose controller was killed (pid liveness, at
once on the controller's own host; across machines, leases: tests/store/test_leases.py)."""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stackscripts.errors import Conflict
from stackscripts.store.base import ServerRecord
from stackscripts.store.sqlite import SQLiteStore
from tests.support.parts import require_proc
from tests.support.store import stored_output
from tests.support.waits import wait_until

Spawn = Callable[[str], "subprocess.Popen[str]"]


@pytest.fixture
def store(db_path: Path) -> Iterator[SQLiteStore]:
    """SQLite only (the spawned children open db_path)."""
    with SQLiteStore(db_path) as opened:
        yield opened


def read_line(child: subprocess.Popen[str]) -> str:
    """The child's next stdout line; fails with its exit code if it died instead."""
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line:
        pytest.fail(f"child exited with {child.wait(timeout=10)} before answering")
    return line.strip()


START_AND_HOLD = """
    run_id = store.start_run("web1", "Boot", who="child", template=None, inputs={})
    store.start_step(run_id, 0, "Install Docker", "Boot", sha256="", inputs={})
    store.append_output(run_id, 0, "stdout", "flushed before the kill\\n")
    store.append_output(run_id, 0, "stderr", "and this warning\\n")
    print(run_id, flush=True)
    time.sleep(120)
"""


def test_a_live_run_in_another_process_holds_the_server(store: SQLiteStore, web1: str,
                                                        spawn: Spawn) -> None:
    child = spawn(START_AND_HOLD)
    run_id = read_line(child)
    assert store.mark_interrupted() == []  # the child is alive
    with pytest.raises(Conflict) as caught:
        store.start_run(web1, "Operational", who="me", template=None, inputs={})
    assert str(caught.value).startswith(f"web1 is busy: run {run_id} (Boot) started at ")
    assert f"by pid {child.pid} on {socket.gethostname()} is still running" in str(caught.value)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    # An already-open store finds the holder dead when it asks for the lock.
    mine = store.start_run(web1, "Operational", who="me", template=None, inputs={})
    assert store.get_run(run_id).state == "interrupted"
    store.finish_run(mine, "succeeded")


def test_sigkilled_run_is_marked_interrupted_on_open(db_path: Path, spawn: Spawn) -> None:
    with SQLiteStore(db_path) as setup:
        setup.put_server(ServerRecord("web1"))
    child = spawn(START_AND_HOLD)
    run_id = read_line(child)
    wait_until(lambda: stored_output(db_path) == "flushed before the kill\nand this warning\n", 10,
               "the child's output to reach the file (flushed about once a second)")
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    with SQLiteStore(db_path) as store:
        run = store.get_run(run_id)
        assert run.state == "interrupted" and run.ended is not None
        (step,) = run.steps
        assert step.error == "interrupted" and step.ended is not None and step.exit_code is None
        assert step.output == "flushed before the kill\nand this warning\n"
        assert step.stderr == "and this warning\n"
        assert store.last_failed_step(run_id) == 0
        assert store.mark_interrupted() == []  # done once, on open
        store.finish_run(store.start_run("web1", "Boot", who="", template=None, inputs={}),
                         "succeeded")


def test_runs_of_other_hosts_are_left_alone(store: SQLiteStore, web1: str,
                                            db_path: Path) -> None:
    run_id = store.start_run(web1, "Boot", who="", template=None, inputs={})
    with sqlite3.connect(db_path) as raw:
        raw.execute("UPDATE runs SET controller_host = 'far.example', controller_pid = 999999")
    with SQLiteStore(db_path) as other:
        assert other.get_run(run_id).state == "running"
        with pytest.raises(Conflict, match="by pid 999999 on far.example is still running"):
            other.start_run(web1, "Boot", who="", template=None, inputs={})


def test_a_reused_pid_does_not_keep_a_run_alive(store: SQLiteStore, web1: str,
                                                db_path: Path) -> None:
    require_proc()  # pid reuse is told by the process start time in /proc
    run_id = store.start_run(web1, "Boot", who="", template=None, inputs={})
    with sqlite3.connect(db_path) as raw:  # our pid, but a process that started at another time
        raw.execute("UPDATE runs SET controller_start = controller_start + 1")
    assert store.mark_interrupted() == [run_id]
    assert store.get_run(run_id).state == "interrupted"
    store.start_run(web1, "Boot", who="", template=None, inputs={})


def test_only_one_of_many_processes_gets_the_lock(store: SQLiteStore, web1: str,
                                                  spawn: Spawn) -> None:
    body = """
        from stackscripts.errors import Conflict
        try:
            run_id = store.start_run("web1", "Boot", who="", template=None, inputs={})
            print("won", run_id, flush=True)
        except Conflict:
            print("busy", flush=True)
        sys.stdin.read()  # stay alive (and hold the lock) until the test lets go
    """
    children = [spawn(body) for _ in range(6)]
    answers = [read_line(child).split()[0] for child in children]
    assert sorted(answers) == ["busy"] * 5 + ["won"]
    for child in children:
        assert child.stdin is not None
        child.stdin.close()
        assert child.wait(timeout=30) == 0
