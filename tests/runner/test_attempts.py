"""Every attempt leaves a trace: a connection that fails before the first step is a failed run with its reason.

Real sshd servers, a real store, the real CLI: the attempt is a run with state `failed`, no steps and an `error`
that `runs list` and `runs show` show; the CLI still exits 2 with the connection message, and the server's state,
template and inputs are not touched. `servers show` of a server whose launch never got an address says why.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from stackscripts.errors import ConnectionFailed
from stackscripts.model import RunState
from stackscripts.store.base import ServerRecord
from stackscripts.store.liveness import Controller as Process
from stackscripts.store.sqlite import SQLiteStore
from tests.runner.fixtures import Bench
from tests.runner.helpers import numbered_step
from tests.support.cli import cli_json, no_traceback, run_cli
from tests.support.net import free_port

pytestmark = pytest.mark.timeout(120)


def test_a_refused_connection_is_recorded_as_a_failed_attempt(bench: Bench) -> None:
    (web,) = bench.add(1)
    bench.controller.boot(web, bench.template([numbered_step(1)]))
    before = bench.controller.store.get_server(web)
    bench.controller.store.update_server(web, port=free_port())  # nothing listens there
    second = bench.template([numbered_step(1), numbered_step(2)])
    with pytest.raises(ConnectionFailed, match="connection refused") as raised:
        bench.controller.boot(web, second, force=True)  # another template: forced
    attempt, first = bench.controller.runs(web)
    assert first.state is RunState.SUCCEEDED
    assert attempt.state is RunState.FAILED and attempt.steps == () and attempt.phase == "Boot"
    assert attempt.error is not None and "connection refused" in attempt.error
    assert attempt.error == str(raised.value)
    assert attempt.template == str(second.resolve()) and attempt.ended is not None
    assert bench.controller.get_run(attempt.id).error == attempt.error
    after = bench.controller.store.get_server(web)
    assert (after.state, after.template, after.inputs) == (before.state, before.template, before.inputs)
    assert bench.ran(web) == [1]
    bench.controller.store.update_server(web, port=bench.sshd[web].port)  # the server is not locked by it
    assert bench.controller.boot(web, second, force=True).ok


@pytest.mark.parametrize("case", ["closed port", "wrong key"])
def test_the_cli_exits_2_and_the_audit_shows_the_attempt(bench: Bench, case: str) -> None:
    server, other = bench.pool.take(2)
    port, key, expect = server.port, server.key_path, "authentication failed"
    if case == "closed port":
        port, expect = free_port(), "connection refused"
    else:
        key = other.key_path
    bench.controller.add_server("web1", f"{server.user}@{server.host}", port, key)
    bench.controller.close()
    template = bench.template([numbered_step(1)])

    done = run_cli("boot", "web1", "-t", str(template), "--db", str(bench.db))
    assert done.returncode == 2, done.stdout + done.stderr
    no_traceback(done.stdout + done.stderr)
    (line,) = done.stderr.splitlines()
    assert line.startswith("stackscripts: error: ") and expect in line
    assert bench.ran("web1") == []

    (listed,) = cli_json("runs", "list", "--db", str(bench.db))["data"]
    assert (listed["server"], listed["phase"], listed["state"], listed["steps"]) == ("web1", "Boot", "failed", 0)
    assert expect in listed["error"]
    shown = cli_json("runs", "show", listed["id"], "--db", str(bench.db))["data"]
    assert shown["steps"] == [] and expect in shown["error"] and shown["ended"] is not None
    text = run_cli("runs", "show", listed["id"], "--db", str(bench.db))
    assert text.returncode == 0 and f"error: web1: {line.split('web1: ', 1)[1][:40]}" in text.stdout, text.stdout
    record = cli_json("servers", "show", "web1", "--db", str(bench.db))["data"]
    assert record["state"] == "pending"  # an attempt that never connected changes nothing about the server


def test_servers_show_says_honestly_why_a_server_has_no_address(tmp_path: Path) -> None:
    """A launch killed before its instance had an address: not `root@None:22`, but what happened."""
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer runs: the controller of a killed launch
    me = Process.current()
    launches = {
        "killed": {"host": me.host, "pid": gone.pid, "start": None, "boot": me.boot},
        "running": {"host": me.host, "pid": me.pid, "start": me.start, "boot": me.boot},
        "elsewhere": {"host": "other-controller.example", "pid": 1, "start": None, "boot": None},
    }
    db = tmp_path / "audit.db"
    with SQLiteStore(db) as store:
        for name, by in launches.items():
            store.put_server(ServerRecord(name=name, cloud="local", state="pending",
                                          extra={"launching": True, "launch_token": "0" * 16, "launched_by": by}))
        store.put_server(ServerRecord(name="gone", cloud="local", state="terminated", extra={"destroyed": []}))
    expected = {
        "killed": "no address yet (launch interrupted; 'stackscripts terminate killed' destroys what it made)",
        "running": f"no address yet (launch in progress, pid {me.pid})",
        "elsewhere": "no address yet (launched from other-controller.example: in progress there, or interrupted)",
        "gone": "none (terminated)",
    }
    for name, address in expected.items():
        done = run_cli("servers", "show", name, "--db", str(db))
        assert done.returncode == 0, done.stderr
        assert f"  address     {address}\n" in done.stdout and "None" not in done.stdout, done.stdout
    listed = run_cli("servers", "list", "--db", str(db))
    assert listed.returncode == 0 and "None" not in listed.stdout
