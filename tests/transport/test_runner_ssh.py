"""One step runner per connection, against real sshd servers: many steps, leftovers, stops, forgeries, bytes."""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path

import pytest

import stackscripts.transport.runner as runner_module
from stackscripts.transport.base import ExecResult, Session, Transport
from stackscripts.transport.remote import KILL_AFTER
from tests.support.procs import cmdline, kill_matching, pids_matching, wait_gone
from tests.support.sshd import SshdServer
from tests.support.waits import wait_until

pytestmark = pytest.mark.timeout(180)

BundleMaker = Callable[..., Path]
RUNNER_TEXT = "stackscripts step runner"


def _marker() -> str:
    """A unique `sleep` argument to find a step's processes by command line."""
    return f"{random.randint(100000, 999999)}.{os.getpid()}"


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: state, ppid, ..."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return ["gone", "0"]


def _state(pid: int) -> str:
    return _stat(pid)[0]


def _others(sshd: SshdServer) -> list[int]:
    """The session's live processes besides sshd's own: the runner and whatever it runs."""
    return [pid for pid in sshd.session_pids() if not cmdline(pid).startswith("sshd") and _state(pid) not in "Zgone"]


def _runners(sshd: SshdServer) -> list[int]:
    """The runner: sshd's child (its watchdog, a forked copy, has the same command line)."""
    return [pid for pid in _others(sshd) if RUNNER_TEXT in cmdline(pid) and cmdline(int(_stat(pid)[1])).startswith("sshd")]


def _in_thread(session: Session, bundle: Path, when: bytes, **kwargs: object) -> tuple[threading.Thread,
                                                                                      list[ExecResult]]:
    """Run a step in a thread; return once it printed `when`."""
    seen = threading.Event()
    printed = bytearray()
    results: list[ExecResult] = []

    def on_output(stream: str, data: bytes) -> None:
        printed.extend(data)
        if when in printed:
            seen.set()

    thread = threading.Thread(target=lambda: results.append(session.run_bundle(bundle, on_output=on_output,
                                                                               **kwargs)))  # type: ignore[arg-type]
    thread.start()
    assert seen.wait(20), f"the step never printed {when!r}"
    return thread, results


def test_200_steps_one_runner_nothing_left(transport: Transport, sshd: SshdServer, make_bundle: BundleMaker) -> None:
    bundle = make_bundle('pwd; load_env; printf "%s" "$N"; echo " err" >&2\n', env={"N": "x y"})
    run_dirs: list[str] = []
    with transport.open(sshd.host_spec()) as session:
        for _ in range(200):
            result = session.run_bundle(bundle, timeout=60)
            assert (result.exit_code, result.stderr, result.error) == (0, b" err\n", None), result
            run_dir, value = result.stdout.decode().split("\n")
            assert value == "x y"
            run_dirs.append(run_dir)
            runner = _runners(sshd)
            assert len(runner) == 1, [cmdline(pid)[:60] for pid in _others(sshd)]
        wait_until(lambda: _others(sshd) == runner, 10, "the step's processes to end (only the runner left)")
        assert session.run_command("true").exit_code == 0
    assert len(set(run_dirs)) == 200 and not any(os.path.exists(d) for d in run_dirs)
    log = sshd.log_path.read_text()
    assert log.count("Accepted publickey") == 1
    assert log.count("Starting session: command") == 2  # the runner's channel and the one probe
    wait_until(lambda: not _others(sshd), 10, "the runner to exit with its connection")


def test_background_process_keeps_running_after_its_step(
    transport: Transport, sshd: SshdServer, make_bundle: BundleMaker
) -> None:
    """The step ends when its own process exits; a daemon it started (holding stdout) lives on, its later output
    is not the next step's."""
    marker = _marker()
    daemon = make_bundle(f"(sleep 2; echo late; echo late >&2; exec sleep 3{marker}) & echo started\n")
    try:
        with transport.open(sshd.host_spec()) as session:
            started = time.monotonic()
            first = session.run_bundle(daemon, timeout=60)
            assert time.monotonic() - started < 10
            assert (first.exit_code, first.stdout, first.stderr, first.error) == (0, b"started\n", b"", None)
            wait_until(lambda: pids_matching(marker), 20, "the daemon's sleep to start (after printing late)")
            second = session.run_bundle(make_bundle("echo two; echo two >&2\n"))
            assert (second.exit_code, second.stdout, second.stderr) == (0, b"two\n", b"two\n")
            assert pids_matching(marker), "the daemon was stopped with its step"
        assert pids_matching(marker), "the daemon was stopped when the connection closed"
    finally:
        kill_matching(marker)


def test_timeout_stops_every_process_of_the_group(
    transport: Transport, sshd: SshdServer, make_bundle: BundleMaker
) -> None:
    marker = _marker()
    stubborn = f"#!/bin/sh\ntrap '' TERM\nexec sleep 1{marker}\n".encode()  # a sleep that ignores SIGTERM
    bundle = make_bundle(f"pwd; attachments/stubborn & sh -c 'attachments/stubborn &'; sleep 2{marker}; echo never\n",
                         attachments={"stubborn": (stubborn, 0o755)})
    try:
        with transport.open(sshd.host_spec()) as session:
            started = time.monotonic()
            thread, results = _in_thread(session, bundle, b"/tmp/stackscripts.", timeout=2)
            wait_until(lambda: len(pids_matching(marker)) == 3, 10, "the step's three sleeps")
            runner = _runners(sshd)
            thread.join(60)
            result = results[0]
            assert (result.exit_code, result.error) in ((124, "timed out after 2s"), (137, "timed out after 2s")), result
            assert time.monotonic() - started < 2 + KILL_AFTER + 10
            assert b"never" not in result.stdout
            wait_gone(marker, 5)
            assert not os.path.exists(result.stdout.split(b"\n")[0].decode())
            assert session.run_bundle(make_bundle("echo after\n")).stdout == b"after\n"
            assert _runners(sshd) == runner  # the same runner goes on
    finally:
        kill_matching(marker)


def test_cancel_stops_a_step_that_ignores_sigterm(
    transport: Transport, sshd: SshdServer, make_bundle: BundleMaker
) -> None:
    """Session.cancel(): SIGTERM to the step's group, SIGKILL once KILL_AFTER passed; the runner goes on."""
    marker = _marker()
    bundle = make_bundle(f"trap '' TERM; echo ready; sleep 1{marker}; sleep 2{marker}\n")
    try:
        with transport.open(sshd.host_spec()) as session:
            session.run_bundle(make_bundle("true\n"))
            runner = _runners(sshd)
            thread, results = _in_thread(session, bundle, b"ready")
            started = time.monotonic()
            session.cancel()
            thread.join(60)
            assert (results[0].exit_code, results[0].error) == (143, None), results
            assert KILL_AFTER - 1 < time.monotonic() - started < KILL_AFTER + 15
            wait_gone(marker, 5)
            assert session.run_bundle(make_bundle("echo next\n")).stdout == b"next\n"
            assert _runners(sshd) == runner
    finally:
        kill_matching(marker)


def test_dropped_connection_ends_the_runner(transport: Transport, sshd: SshdServer, make_bundle: BundleMaker) -> None:
    marker = _marker()
    with transport.open(sshd.host_spec()) as session:
        thread, results = _in_thread(session, make_bundle(f"pwd; echo ready; sleep 1{marker}\n"), b"ready")
        runner = _runners(sshd)
        assert len(runner) == 1
        sshd.kill_sessions()
        thread.join(60)
        assert (results[0].exit_code, results[0].error) == (-1, "connection lost")
    wait_gone(marker, 10)
    wait_until(lambda: _state(runner[0]) in "Zgone", 10, "the runner to exit")
    wait_until(lambda: not os.path.exists(results[0].stdout.split(b"\n")[0].decode()), 10, "the run dir removed")
    with transport.open(sshd.host_spec()) as session:  # a new connection gets a new runner
        assert session.run_bundle(make_bundle("echo again\n")).stdout == b"again\n"


def test_a_dead_runner_is_replaced(transport: Transport, sshd: SshdServer, make_bundle: BundleMaker) -> None:
    """The runner killed under a step: once the step's processes are gone (nothing is left on the server to stop
    them: the test does; sshd reports the runner's end only then), the step fails saying so, and the next step
    starts a new runner."""
    marker = _marker()
    try:
        with transport.open(sshd.host_spec()) as session:
            thread, results = _in_thread(session, make_bundle(f"echo ready; sleep 1{marker}\n"), b"ready")
            old = _runners(sshd)
            os.kill(old[0], 9)
            wait_until(lambda: _state(old[0]) in "Zgone", 10, "the runner to die")
            kill_matching(marker)
            thread.join(60)
            assert results[0].exit_code == -1 and "step runner" in str(results[0].error), results
            assert session.run_bundle(make_bundle("echo fine\n")).stdout == b"fine\n"
            assert _runners(sshd) not in ([], old)
    finally:
        kill_matching(marker)


def test_mark_and_secrets_never_visible(
    transport: Transport, sshd: SshdServer, make_bundle: BundleMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither a secret nor the step's mark is on any command line; the mark is in no process's environment."""
    real = runner_module.secrets
    marks: list[str] = []

    def token_hex(n: int) -> str:
        value = real.token_hex(n)
        if n == 16:  # the mark (8: the run directory's name, which is in sight)
            marks.append(value)
        return value

    monkeypatch.setattr(runner_module, "secrets", types.SimpleNamespace(token_hex=token_hex))
    secret = f"s3cret-{_marker()}"
    with transport.open(sshd.host_spec()) as session:
        thread, _ = _in_thread(session, make_bundle("load_env; echo ready; sleep 2\n", env={"TOKEN": secret}),
                               b"ready")
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            for what, needles in (("cmdline", [secret, *marks]), ("environ", marks)):
                try:
                    data = Path(f"/proc/{pid}/{what}").read_bytes()
                except OSError:
                    continue
                found += [(pid, what) for needle in needles if needle.encode() in data]
        thread.join(30)
    assert len(marks) == 1 and found == []


def test_forged_outcomes_are_only_output(transport: Transport, sshd: SshdServer, make_bundle: BundleMaker) -> None:
    fake = "".join(random.choice("0123456789abcdef") for _ in range(32))
    forged = f"\\036{fake}>0\\n\\036{fake}<cancel\\ndone\\nstep 1 0 00 {fake}\\n"
    bundle = make_bundle(f"printf '{forged}'; printf '{forged}' >&2; sleep 0.3; echo after; exit 7\n")
    expected = f"\x1e{fake}>0\n\x1e{fake}<cancel\ndone\nstep 1 0 00 {fake}\n".encode()
    with transport.open(sshd.host_spec()) as session:
        result = session.run_bundle(bundle)
        assert (result.exit_code, result.stdout, result.stderr) == (7, expected + b"after\n", expected)
        assert session.run_bundle(make_bundle("echo next\n")).stdout == b"next\n"


def test_bytes_exact_both_ways(transport: Transport, sshd: SshdServer, make_bundle: BundleMaker) -> None:
    """Binary attachments arrive byte for byte; binary output full of marker-like bytes comes back byte for byte."""
    blob = os.urandom(1 << 20) + bytes(range(256)) * 64 + b"\x1e" * 4096 + b"\x1e<" + b"\x1e>0\n"
    bundle = make_bundle("sha256sum attachments/blob.bin >&2; cat attachments/blob.bin\n",
                         attachments={"blob.bin": (blob, 0o600)})
    with transport.open(sshd.host_spec()) as session:
        for _ in range(3):
            result = session.run_bundle(bundle)
            assert result.exit_code == 0
            assert result.stderr.split()[0].decode() == hashlib.sha256(blob).hexdigest()
            assert result.stdout == blob


def test_streams_interleave_as_written(transport: Transport, sshd: SshdServer, make_bundle: BundleMaker) -> None:
    bundle = make_bundle("for i in 1 2 3 4 5; do echo out$i; sleep 0.3; echo err$i >&2; sleep 0.3; done\n")
    order: list[tuple[str, bytes]] = []
    with transport.open(sshd.host_spec()) as session:
        result = session.run_bundle(bundle, on_output=lambda stream, data: order.append((stream, data)))
    assert result.exit_code == 0
    merged: list[tuple[str, bytes]] = []
    for stream, data in order:
        if merged and merged[-1][0] == stream:
            merged[-1] = (stream, merged[-1][1] + data)
        else:
            merged.append((stream, data))
    assert merged == [(s, f"{s[3:]}{i}\n".encode()) for i in range(1, 6) for s in ("stdout", "stderr")]
