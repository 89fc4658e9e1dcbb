"""Hostile output: control sequences are shown, not obeyed; bytes are kept exactly; memory stays bounded."""

from __future__ import annotations

import os
import pty
import select
import subprocess

import pytest

from stackscripts.store.sqlite import SQLiteStore
from tests.runner.fixtures import Bench
from tests.runner.helpers import Step
from tests.support.cli import cli_command, cli_env

pytestmark = pytest.mark.timeout(300)

HOSTILE = r"""
printf 'before\033[2J\033]0;pwned-title\007after\n'
printf 'bytes: \377\376 end\n'
printf '\033[31mred\033[0m\n' >&2
"""
EXACT = b"before\x1b[2J\x1b]0;pwned-title\x07after\nbytes: \xff\xfe end\n"


def on_a_terminal(*args: str) -> bytes:
    """Run the CLI with its stdout and stderr on a pseudo-terminal; everything it wrote."""
    master, slave = pty.openpty()
    child = subprocess.Popen(cli_command(*args), env=cli_env({"TERM": "xterm", "COLUMNS": "200"}),
                             stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        out += data
    child.wait(30)
    os.close(master)
    return out


def test_control_sequences_are_escaped_on_a_terminal_and_kept_exactly(bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template([Step("Hostile", HOSTILE)])
    bench.controller.close()
    live = on_a_terminal("boot", web, "-t", str(template), "--db", str(bench.db))
    assert b"\x1b[2J" not in live and b"\x1b]0;pwned-title" not in live, live
    assert b"before\\x1b[2J\\x1b]0;pwned-title\\x07after" in live
    run_id = SQLiteStore(bench.db).list_runs(server=web)[0].id

    log = on_a_terminal("runs", "log", run_id, "1", "--stdout", "--db", str(bench.db))
    assert b"\x1b[2J" not in log and b"\\x1b[2J" in log
    with subprocess.Popen(cli_command("runs", "log", run_id, "1", "--stdout", "--raw", "--db", str(bench.db)),
                          env=cli_env(), stdout=subprocess.PIPE) as proc:
        exact, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and exact == EXACT  # the record is byte-exact: invalid UTF-8 included
    with SQLiteStore(bench.db) as store:
        step = store.get_run(run_id).steps[0]
    assert step.raw("stdout") == EXACT and step.raw("stderr") == b"\x1b[31mred\x1b[0m\n"
    assert "\ufffd" in step.stdout  # the text view replaces what is not UTF-8; the bytes stay


def test_memory_stays_bounded_whatever_a_step_prints(bench: Bench) -> None:
    """300 MB of output (with a credential in play, so the masker works on every byte)."""
    (web,) = bench.add(1)
    body = "yes 'a line of output that repeats, 64 bytes long.......... ok' | head -c 300000000\n"
    template = bench.template([Step("Flood", body, {"TOKEN": None})], inputs={"TOKEN": "cred:FLOOD_TOKEN"})
    bench.controller.close()
    child = subprocess.Popen(cli_command("boot", web, "-t", str(template), "--db", str(bench.db), "-q"),
                             env=cli_env({"STACKSCRIPTS_CRED_FLOOD_TOKEN": "never-printed-token"}),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    assert child.returncode == 0, child.stderr.read() if child.stderr else ""
    peak_mib = usage.ru_maxrss / 1024
    assert peak_mib < 250, f"the controller peaked at {peak_mib:.0f} MiB for 300 MB of output"
    with SQLiteStore(bench.db) as store:
        run = store.list_runs(server=web)[0]
        stored = store.get_run(run.id).steps[0].raw()
    assert len(stored) == 300_000_000  # and every byte of it is in the store
