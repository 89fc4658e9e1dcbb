"""The transport contract, run against real sshd servers on loopback."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from stackscripts.transport.base import ExecResult, Transport
from tests.support.procs import kill_matching, wait_gone
from tests.support.sshd import SshdServer
from tests.support.waits import wait_until

pytestmark = pytest.mark.timeout(120)  # the sshd fixture requires sshd (tests/support/parts.py)

BundleMaker = Callable[..., Path]


def _marker() -> str:
    """A unique `sleep` argument to find a step's processes by command line."""
    return f"{random.randint(100000, 999999)}.{os.getpid()}"


def _run_dir(result: ExecResult) -> str:
    """The run directory a test run.sh printed first (`pwd`)."""
    first = result.stdout.split(b"\n", 1)[0].decode()
    assert first.startswith("/tmp/stackscripts."), result
    return first


def test_streams_arrive_separately_in_order(
    transport: Transport, sshd: SshdServer, make_bundle: BundleMaker
) -> None:
    bundle = make_bundle("for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; sleep 0.1; done\n")
    chunks: list[tuple[str, bytes, float]] = []
    with transport.open(sshd.host_spec()) as session:
        started = time.monotonic()
        result = session.run_bundle(bundle, on_output=lambda s, b: chunks.append((s, b, time.monotonic())))
        ended = time.monotonic()
    assert result.exit_code == 0 and result.error is None
    assert result.stdout == b"".join(b"out%d\n" % i for i in range(1, 6))
    assert result.stderr == b"".join(b"err%d\n" % i for i in range(1, 6))
    assert b"".join(b for s, b, _ in chunks if s == "stdout") == result.stdout
    assert b"".join(b for s, b, _ in chunks if s == "stderr") == result.stderr
    assert chunks[0][2] - started < (ended - started) / 2  # streamed as it came, not at the end


def test_exit_codes(transport: Transport, sshd: SshdServer, make_bundle: BundleMaker) -> None:
    with transport.open(sshd.host_spec()) as session:
        assert session.run_bundle(make_bundle("exit 0\n")).exit_code == 0
        failed = session.run_bundle(make_bundle("echo nope >&2; exit 3\n"))
        assert (failed.exit_code, failed.stderr, failed.error) == (3, b"nope\n", None)


NASTY = {
    "QUOTES": "it's \"quoted\" 'twice'",
    "SUBST": "$(touch /tmp/pwned) ${HOME} $HOME",
    "TICKS": "`id` \\`",
    "NEWLINES": "line1\nline2\n\n",
    "GLOB": "* ? [a-z]",
    "UNICODE": "grüße ✓ 日本",
    "SPACES": "  lead and trail  ",
    "EQUALS": "a=b=c",
    "EMPTY": "",
}


def test_env_loaded_byte_exact_and_run_dir_removed(
    transport: Transport, sshd: SshdServer, make_bundle: BundleMaker
) -> None:
    names = " ".join(NASTY)
    run_sh = f'pwd; load_env; for n in {names}; do printf "%s\\0" "${{!n}}" >&2; done\n'
    bundle = make_bundle(run_sh, env=NASTY)
    with transport.open(sshd.host_spec()) as session:
        result = session.run_bundle(bundle)
    assert result.exit_code == 0, result
    assert result.stderr.split(b"\0")[:-1] == [v.encode() for v in NASTY.values()]
    assert not os.path.exists(_run_dir(result))


def test_run_dir_private_env_0600_modes_kept(
    transport: Transport, sshd: SshdServer, make_bundle: BundleMaker
) -> None:
    bundle = make_bundle(
        "pwd; stat -c '%a %n' . env script attachments/tool.sh attachments/data.txt\n",
        env={"A": "1"},
        attachments={"tool.sh": (b"#!/bin/sh\n", 0o755), "data.txt": (b"x", 0o640)},
    )
    with transport.open(sshd.host_spec()) as session:
        result = session.run_bundle(bundle)
    assert result.exit_code == 0, result
    modes = result.stdout.decode().splitlines()[1:]
    assert modes == ["700 .", "600 env", "755 script", "755 attachments/tool.sh", "640 attachments/data.txt"]
    assert not os.path.exists(_run_dir(result))


def test_secrets_never_on_a_command_line(
    transport: Transport, sshd: SshdServer, make_bundle: BundleMaker
) -> None:
    secret = f"s3cret-{_marker()}"
    bundle = make_bundle("echo ready; sleep 1; load_env\n", env={"TOKEN": secret})
    seen: list[str] = []

    def scan(stream: str, data: bytes) -> None:
        if b"ready" in data:
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    if secret.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                        seen.append(pid)
                except OSError:
                    pass

    with transport.open(sshd.host_spec()) as session:
        assert session.run_bundle(bundle, on_output=scan).exit_code == 0
    assert seen == []


def test_timeout_kills_the_remote_step(
    transport: Transport, sshd: SshdServer, make_bundle: BundleMaker
) -> None:
    marker = _marker()
    bundle = make_bundle(f"pwd; sleep 1{marker} & sleep 2{marker}; echo never\n")
    with transport.open(sshd.host_spec()) as session:
        started = time.monotonic()
        result = session.run_bundle(bundle, timeout=1)
        elapsed = time.monotonic() - started
        assert result.error == "timed out after 1s"
        assert result.exit_code in (124, 137)
        assert b"never" not in result.stdout
        assert elapsed < 30  # the step sleeps for weeks
        wait_gone(marker, 5)
        assert not os.path.exists(_run_dir(result))
        assert session.run_command("true").exit_code == 0  # the connection is still usable


def test_command_timeout(transport: Transport, sshd: SshdServer) -> None:
    with transport.open(sshd.host_spec()) as session:
        result = session.run_command("sleep 30", timeout=0.5)
    assert (result.exit_code, result.error) == (124, "timed out after 0.5s")


def test_connection_killed_mid_step(transport: Transport, sshd: SshdServer, make_bundle: BundleMaker) -> None:
    marker = _marker()
    bundle = make_bundle(f"pwd; echo ready; sleep 1{marker}; echo never\n")
    ready = threading.Event()

    def on_output(stream: str, data: bytes) -> None:
        if b"ready" in data:
            ready.set()

    with transport.open(sshd.host_spec()) as session:
        def kill_when_ready() -> None:
            if ready.wait(10):
                sshd.kill_sessions()

        killer = threading.Thread(target=kill_when_ready)
        killer.start()
        started = time.monotonic()
        result = session.run_bundle(bundle, on_output=on_output)
        elapsed = time.monotonic() - started
        killer.join()
        assert (result.exit_code, result.error) == (-1, "connection lost")
        assert elapsed < 30  # the step sleeps for weeks
        assert session.run_command("true").error == "connection lost"
    wait_gone(marker, 10)  # the orphaned step was stopped, not left running
    wait_until(lambda: not os.path.exists(_run_dir(result)), 10, "the run directory to be removed")


def test_large_output(transport: Transport, sshd: SshdServer, make_bundle: BundleMaker) -> None:
    with transport.open(sshd.host_spec()) as session:
        result = session.run_bundle(make_bundle("seq 1 200000; seq 1 1000 >&2\n"))
    assert result.exit_code == 0
    assert result.stdout == "".join(f"{i}\n" for i in range(1, 200001)).encode()
    assert result.stderr == "".join(f"{i}\n" for i in range(1, 1001)).encode()


def test_background_process_holding_output_does_not_hang(
    transport: Transport, sshd: SshdServer, make_bundle: BundleMaker
) -> None:
    marker = _marker()
    bundle = make_bundle(f"sleep 3{marker} & echo started\n")
    try:
        with transport.open(sshd.host_spec()) as session:
            started = time.monotonic()
            result = session.run_bundle(bundle, timeout=60)
            assert time.monotonic() - started < 30  # the background sleep lasts weeks
        assert (result.exit_code, result.stdout, result.error) == (0, b"started\n", None)
    finally:
        kill_matching(marker)


def _pgid_line(data: bytes) -> int | None:
    """The process group a test run.sh printed as `pgid N`."""
    for line in data.decode(errors="replace").splitlines():
        if line.startswith("pgid "):
            return int(line.split()[1])
    return None


def test_cancel_stops_the_remote_process_group(
    transport: Transport, sshd: SshdServer, make_bundle: BundleMaker
) -> None:
    marker = _marker()
    # /proc/PID/stat: field 5 is the process group (the 2nd field, "(bash)", holds no space)
    bundle = make_bundle(f'pwd; set -- $(cat /proc/$$/stat); echo "pgid $5"; sleep 30{marker} & sleep 30{marker}\n')
    printed = bytearray()
    ready = threading.Event()

    def on_output(stream: str, data: bytes) -> None:
        printed.extend(data if stream == "stdout" else b"")
        if _pgid_line(bytes(printed)) is not None:
            ready.set()

    try:
        with transport.open(sshd.host_spec()) as session:
            def cancel_later() -> None:
                if ready.wait(10):
                    time.sleep(1)
                    session.cancel()  # from another thread, while run_bundle waits

            canceller = threading.Thread(target=cancel_later)
            canceller.start()
            started = time.monotonic()
            result = session.run_bundle(bundle, on_output=on_output)
            elapsed = time.monotonic() - started
            canceller.join()
            assert ready.is_set(), result
            assert (result.exit_code, result.error) == (143, None), result
            assert 1 <= elapsed < 10
            pgid = _pgid_line(result.stdout)  # the output so far is kept
            assert pgid is not None and pgid > 1
            # no live process left in the group (`kill -0` would see zombies: a PID 1 that does not reap, as in
            # some containers, keeps the killed sleeps as zombies)
            alive = session.run_command(f"ps -eo pid=,pgid=,stat=,args= | awk '$2 == {pgid} && $3 !~ /^Z/'")
            assert (alive.exit_code, alive.stdout) == (0, b""), alive
            wait_gone(marker, 5)
            assert not os.path.exists(_run_dir(result))
            assert session.run_command("true").exit_code == 0  # the connection is still usable
    finally:
        kill_matching(marker)


def test_cancel_with_nothing_running_does_nothing(
    transport: Transport, sshd: SshdServer, make_bundle: BundleMaker
) -> None:
    with transport.open(sshd.host_spec()) as session:
        session.cancel()
        result = session.run_bundle(make_bundle("echo after\n"))
        assert (result.exit_code, result.stdout, result.error) == (0, b"after\n", None)
        session.cancel()
        assert session.run_command("true").exit_code == 0


def test_cancel_while_the_bundle_uploads_does_not_hang(
    transport: Transport, sshd: SshdServer, make_bundle: BundleMaker
) -> None:
    marker = _marker()
    big = os.urandom(16 << 20)  # seconds to upload over paramiko: the cancel comes while it is sent, and waits
    bundle = make_bundle(f"pwd; sleep 300{marker}\n", attachments={"big.bin": (big, 0o644)})
    try:
        with transport.open(sshd.host_spec()) as session:
            timer = threading.Timer(0.2, session.cancel)
            timer.start()
            started = time.monotonic()
            result = session.run_bundle(bundle)
            elapsed = time.monotonic() - started
            timer.join()
            assert (result.exit_code, result.error) == (143, None), result
            assert elapsed < 60  # not the step's 300 s
            wait_gone(marker, 5)
            assert session.run_command("true").exit_code == 0
    finally:
        kill_matching(marker)


def test_cancel_returns_a_running_command(transport: Transport, sshd: SshdServer) -> None:
    marker = _marker()
    try:
        with transport.open(sshd.host_spec()) as session:
            timer = threading.Timer(1.0, session.cancel)
            timer.start()
            started = time.monotonic()
            result = session.run_command(f"sleep 3{marker}")
            elapsed = time.monotonic() - started
            timer.join()
            assert result.exit_code != 0 and elapsed < 10, result
            assert session.run_command("true").exit_code == 0
    finally:
        kill_matching(marker)
