"""Runs and steps: recording, output order, id prefixes, listings, failures (on both backends)."""

from __future__ import annotations

import pytest

from stackscripts.errors import BadInput, Conflict, NotFound
from stackscripts.model import Phase, RunState
from stackscripts.store.base import ServerRecord
from stackscripts.store.sql_store import SQLStore
from tests.store.conftest import Backend


def test_run_with_steps_and_interleaved_output(store: SQLStore, web1: str) -> None:
    run_id = store.start_run(web1, "Boot", who="alice", template="t/aio.yml",
                             inputs={"PASSWORD": "cred:PW (****)"})
    assert run_id.startswith("r-")
    store.start_step(run_id, 0, "Install Docker", "Boot", sha256="a" * 64, inputs={"X": "text:1"},
                     stage="Prep VM environment")
    for piece, stream in [("one\n", "stdout"), ("two\n", "stdout"), ("oops\n", "stderr"),
                          ("three\n", "stdout"), ("warn", "stderr"), (" more\n", "stderr")]:
        store.append_output(run_id, 0, stream, piece)
    store.finish_step(run_id, 0, 0, None)
    store.start_step(run_id, 1, "Format drive", Phase.BOOT, sha256="b" * 64, inputs={})
    store.append_output(run_id, 1, "stderr", "mkfs: no such device\n")
    store.finish_step(run_id, 1, 32, "exit code 32")
    store.finish_run(run_id, RunState.FAILED)

    run = store.get_run(run_id)
    assert (run.server, run.phase, run.state, run.who, run.template) == (
        "web1", "Boot", "failed", "alice", "t/aio.yml")
    assert dict(run.inputs) == {"PASSWORD": "cred:PW (****)"}
    assert run.ended is not None and run.ended >= run.started
    first, second = run.steps
    assert (first.index, first.name, first.phase, first.sha256) == (0, "Install Docker", "Boot",
                                                                     "a" * 64)
    assert dict(first.inputs) == {"X": "text:1"}
    assert (first.stage, second.stage) == ("Prep VM environment", None)
    assert first.stdout == "one\ntwo\nthree\n"
    assert first.stderr == "oops\nwarn more\n"
    assert first.output == "one\ntwo\noops\nthree\nwarn more\n"
    assert (first.exit_code, first.error) == (0, None)
    assert first.started is not None and first.ended is not None
    assert first.ended >= first.started
    assert (second.phase, second.exit_code, second.error) == ("Boot", 32, "exit code 32")
    assert second.output == second.stderr == "mkfs: no such device\n" and second.stdout == ""
    assert store.last_failed_step(run_id) == 1


def test_steps_come_back_in_index_order(store: SQLStore, web1: str) -> None:
    run_id = store.start_run(web1, "Operational", who="", template=None, inputs={})
    for index in (2, 0, 10, 1):
        store.start_step(run_id, index, f"s{index}", "Operational", sha256="", inputs={})
        store.append_output(run_id, index, "stdout", f"out {index}\n")
        store.finish_step(run_id, index, 0, None)
    store.finish_run(run_id, "succeeded")
    steps = store.get_run(run_id).steps
    assert [step.index for step in steps] == [0, 1, 2, 10]
    assert [step.output for step in steps] == [f"out {i}\n" for i in (0, 1, 2, 10)]
    assert store.last_failed_step(run_id) is None


def test_output_reaches_the_store_before_append_returns(store: SQLStore, web1: str, backend: Backend) -> None:
    """What a terminal shows after append_output is already stored (a SIGKILL loses nothing shown)."""
    run_id = store.start_run(web1, "Boot", who="", template=None, inputs={})
    store.start_step(run_id, 0, "long", "Boot", sha256="", inputs={})
    with backend.open() as reader:  # another connection, like another process
        expected = ""
        for n in range(100):
            store.append_output(run_id, 0, "stdout" if n % 3 else "stderr", f"{n};")
            expected += f"{n};"
            assert reader.get_run(run_id).steps[0].output == expected
        assert reader.get_run(run_id).steps[0].ended is None  # still running
    store.finish_step(run_id, 0, 0, None)
    assert backend.count("chunks") == 100


def test_get_run_sees_this_process_buffered_output(store: SQLStore, web1: str) -> None:
    run_id = store.start_run(web1, "Boot", who="", template=None, inputs={})
    store.start_step(run_id, 0, "s", "Boot", sha256="", inputs={})
    store.append_output(run_id, 0, "stdout", "visible at once\n")
    assert store.get_run(run_id).steps[0].stdout == "visible at once\n"


def test_run_id_prefixes(store: SQLStore, web1: str) -> None:
    ids = []
    for _ in range(3):
        run_id = store.start_run(web1, "Boot", who="", template=None, inputs={})
        store.finish_run(run_id, "succeeded")
        ids.append(run_id)
    assert len(set(ids)) == 3
    for run_id in ids:
        assert store.get_run(run_id).id == run_id
        assert store.get_run(run_id[2:]).id == run_id  # "r-" may be left out
        unique = next(n for n in range(2, len(run_id) + 1)
                      if sum(other.startswith(run_id[:n]) for other in ids) == 1)
        assert store.get_run(run_id[:unique]).id == run_id
    with pytest.raises(BadInput, match="ambiguous") as caught:
        store.get_run("r-")
    assert all(run_id in str(caught.value) for run_id in ids)
    with pytest.raises(NotFound, match="unknown run 'r-1999'"):
        store.get_run("r-1999")
    with pytest.raises(BadInput):
        store.get_run("")
    with pytest.raises(NotFound):
        store.last_failed_step("nope")


def test_list_runs_newest_first_with_filter_and_limit(store: SQLStore, web1: str) -> None:
    store.put_server(ServerRecord("db1"))
    made = []
    for server in ["web1", "db1", "web1", "db1", "web1"]:
        run_id = store.start_run(server, "Boot", who="", template=None, inputs={})
        store.start_step(run_id, 0, "s", "Boot", sha256="", inputs={})
        store.append_output(run_id, 0, "stdout", "big output\n")
        store.finish_step(run_id, 0, 0, None)
        store.finish_run(run_id, "succeeded")
        made.append((server, run_id))
    newest_first = [run_id for _, run_id in reversed(made)]
    assert [run.id for run in store.list_runs()] == newest_first
    assert [run.id for run in store.list_runs(limit=2)] == newest_first[:2]
    assert [run.id for run in store.list_runs(limit=None)] == newest_first
    web = store.list_runs(server="web1")
    assert [run.id for run in web] == [r for s, r in reversed(made) if s == "web1"]
    assert [step.name for step in web[0].steps] == ["s"] and web[0].steps[0].output == ""
    store.delete_server("db1")
    assert len(store.list_runs(server="db1")) == 2  # history of a deleted server
    with pytest.raises(NotFound):
        store.list_runs(server="never")


def test_resumed_runs_and_last_failed_step(store: SQLStore, web1: str) -> None:
    first = store.start_run(web1, "Boot", who="", template=None, inputs={})
    for index, code in enumerate([0, 0, 1]):
        store.start_step(first, index, f"s{index}", "Boot", sha256="", inputs={})
        store.finish_step(first, index, code, None if code == 0 else "exit code 1")
    store.finish_run(first, "failed")
    assert store.last_failed_step(first) == 2
    second = store.start_run(web1, "Boot", who="", template=None, inputs={},
                             resumed_from=first[:-1])
    assert store.get_run(second).resumed_from == first
    with pytest.raises(NotFound):
        store.start_run(web1, "Boot", who="", template=None, inputs={}, resumed_from="r-1")


def test_finish_run_closes_unfinished_steps(store: SQLStore, web1: str) -> None:
    run_id = store.start_run(web1, "Boot", who="", template=None, inputs={})
    store.start_step(run_id, 0, "s", "Boot", sha256="", inputs={})
    store.append_output(run_id, 0, "stdout", "partial")
    store.finish_run(run_id, "failed")
    step = store.get_run(run_id).steps[0]
    assert step.ended is not None and step.exit_code is None
    assert step.error == "run ended (failed) before the step finished"
    assert step.output == "partial"
    assert store.last_failed_step(run_id) == 0


def test_misuse_is_reported(store: SQLStore, web1: str) -> None:
    with pytest.raises(NotFound, match="unknown server 'ghost'"):
        store.start_run("ghost", "Boot", who="", template=None, inputs={})
    run_id = store.start_run(web1, "Boot", who="", template=None, inputs={})
    with pytest.raises(Conflict, match="not open"):
        store.append_output(run_id, 0, "stdout", "x")
    store.start_step(run_id, 0, "s", "Boot", sha256="", inputs={})
    with pytest.raises(Conflict, match="already has a step 0"):
        store.start_step(run_id, 0, "s", "Boot", sha256="", inputs={})
    with pytest.raises(BadInput, match="stream"):
        store.append_output(run_id, 0, "stdlog", "x")
    store.append_output(run_id, 0, "stdout", "")  # nothing to do
    store.finish_step(run_id, 0, 0, None)
    with pytest.raises(Conflict, match="already ended"):
        store.finish_step(run_id, 0, 0, None)
    with pytest.raises(Conflict, match="not open"):
        store.append_output(run_id, 0, "stdout", "late")
    with pytest.raises(NotFound, match="no step 7"):
        store.finish_step(run_id, 7, 0, None)
    with pytest.raises(BadInput, match="cannot finish"):
        store.finish_run(run_id, "running")
    with pytest.raises(BadInput, match="cannot finish"):
        store.finish_run(run_id, "done")
    store.finish_run(run_id, "succeeded")
    with pytest.raises(Conflict, match="already ended"):
        store.finish_run(run_id, "failed")
    with pytest.raises(Conflict, match="already ended"):
        store.start_step(run_id, 1, "s", "Boot", sha256="", inputs={})
    with pytest.raises(NotFound):
        store.finish_run("r-nope", "failed")


def test_run_lock_is_released_by_finish_run(store: SQLStore, web1: str, backend: Backend) -> None:
    run_id = store.start_run(web1, "Boot", who="", template=None, inputs={})
    with backend.open() as other:
        with pytest.raises(Conflict) as caught:
            other.start_run(web1, "Operational", who="", template=None, inputs={})
        message = str(caught.value)
        assert message.startswith(f"web1 is busy: run {run_id} (Boot) started at ")
        assert " by pid " in message and "is still running: its lease expires in " in message  # who: "" here
        store.finish_run(run_id, "succeeded")
        other.finish_run(other.start_run(web1, "Operational", who="", template=None,
                                         inputs={}), "succeeded")


def test_output_is_kept_byte_exact(store: SQLStore, web1: str, backend: Backend) -> None:
    """Chunks are bytes (BLOB, BYTEA): NUL, invalid UTF-8 and CR come back as written, in arrival order."""
    pieces = [("stdout", b"\x00\xff\xfe binary\r\n"), ("stderr", "é ünïcode\n".encode()), ("stdout", b"\x80" * 5000)]
    run_id = store.start_run(web1, "Boot", who="", template=None, inputs={})
    store.start_step(run_id, 0, "bytes", "Boot", sha256="", inputs={})
    for stream, data in pieces:
        store.append_output(run_id, 0, stream, data)
    store.finish_step(run_id, 0, 0, None)
    store.finish_run(run_id, "succeeded")
    with backend.open() as reader:
        step = reader.get_run(run_id).steps[0]
    assert step.chunks == tuple(pieces)
    assert step.raw("stdout") == pieces[0][1] + pieces[2][1] and step.raw() == b"".join(d for _, d in pieces)
    assert step.stderr == "é ünïcode\n" and "\ufffd" in step.stdout
    assert [bytes(row[0]) for row in backend.sql("SELECT text FROM chunks ORDER BY id")] == [d for _, d in pieces]
