"""`boot` on a server that freezes mid-step: the CLI ends, the step says "connection lost", the server is stranded."""

from __future__ import annotations

import contextlib
import os
import signal

import pytest

from stackscripts.store.sqlite import SQLiteStore
from tests.runner.fixtures import Bench
from tests.runner.helpers import cli_spawn, numbered_step, wait_until
from tests.runner.test_failures import sleeper, unique_seconds

pytestmark = pytest.mark.timeout(120)


def test_frozen_server_strands_the_boot_within_the_keepalive_bound(bench: Bench) -> None:
    server = bench.pool.fresh("frozen")  # this test stops its sshd: not a shared one
    web = bench.add_one("web1", server)
    template = bench.template([numbered_step(1), sleeper(unique_seconds()), numbered_step(3)])
    bench.controller.close()
    child = cli_spawn("boot", web, "-t", str(template), "--db", str(bench.db),
                      env={"STACKSCRIPTS_KEEPALIVE_INTERVAL": "1", "STACKSCRIPTS_KEEPALIVE_COUNT": "2"})
    frozen: list[int] = []
    try:
        wait_until(lambda: (bench.out / web / "sleeping").exists() or child.poll() is not None, 30,
                   "the step to start sleeping")
        frozen = [server.pid, *server.session_pids()]
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):  # a session that ended meanwhile
                os.kill(pid, signal.SIGSTOP)
        out, err = child.communicate(timeout=60)  # never a hang: the keepalive bound here is 3 s
    finally:
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        if child.poll() is None:
            child.kill()
    assert child.returncode == 1, out + err
    assert "connection lost" in err and "Traceback" not in err
    with SQLiteStore(bench.db) as store:
        run = store.list_runs(server=web)[0]
        assert run.state == "failed"
        assert run.steps[1].error == "connection lost"
        assert store.get_server(web).state == "stranded"
