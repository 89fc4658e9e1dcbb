"""SIGKILL the controller right after its terminal showed output: the store holds all it showed."""

from __future__ import annotations

import os
import re
import signal
import threading

import pytest

from stackscripts.store.sqlite import SQLiteStore
from tests.runner.fixtures import Bench
from tests.runner.helpers import Step
from tests.support.cli import spawn_cli

pytestmark = pytest.mark.timeout(120)

# 118 lines in quick bursts, a marker, then silence (the controller is killed during the silence)
BURSTS = """\
for n in $(seq 1 118); do echo "line $n of the burst"; [ $((n % 20)) -eq 0 ] && sleep 0.05; done
echo "last line shown"
exec sleep 300
"""


def test_store_holds_everything_the_terminal_showed(bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template([Step("Bursts", BURSTS)])
    bench.controller.close()
    child = spawn_cli("boot", web, "-t", str(template), "--db", str(bench.db))
    shown: list[str] = []
    seen_last = threading.Event()

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            shown.append(line)
            if "last line shown" in line:
                seen_last.set()
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert seen_last.wait(60), "".join(shown)
        os.kill(child.pid, signal.SIGKILL)  # at once: no flush thread gets another chance
    finally:
        child.kill()
        child.wait(10)
    shown_lines = [m.group(0) for line in shown for m in [re.search(r"line \d+ of the burst|last line shown", line)] if m]
    assert len(shown_lines) == 119
    with SQLiteStore(bench.db) as store:
        run = store.list_runs(server=web)[0]
        stored = store.get_run(run.id).steps[0].stdout.splitlines()
    assert stored == shown_lines  # every line shown, in order, nothing more and nothing less
