"""A dead peer during a step is detected within the keepalive bound: a frozen sshd, a silent network."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stackscripts.errors import BadInput
from stackscripts.transport.base import ExecResult
from stackscripts.transport.heartbeat import Keepalive
from stackscripts.transport.ssh import CONNECTION_LOST, SSHTransport
from tests.support.parts import require_binary
from tests.support.sshd import SshdServer

BundleMaker = Callable[..., Path]

FAST = Keepalive(interval=1.0, count=2)  # dead after 3 s without an answer


def run_in_thread(session: object, bundle: Path) -> tuple[threading.Thread, list[ExecResult]]:
    results: list[ExecResult] = []
    lines: list[bytes] = []
    started = threading.Event()

    def on_output(stream: str, data: bytes) -> None:
        lines.append(data)
        started.set()

    def target() -> None:
        results.append(session.run_bundle(bundle, on_output=on_output))  # type: ignore[attr-defined]

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    assert started.wait(20), "the step never started"
    return thread, results


def test_frozen_server_is_a_lost_connection(sshd: SshdServer, make_bundle: BundleMaker) -> None:
    """sshd stopped with SIGSTOP: its kernel still acknowledges packets, only the pings go unanswered."""
    bundle = make_bundle("echo started; exec sleep 300\n")
    with SSHTransport(keepalive=FAST).open(sshd.host_spec()) as session:
        thread, results = run_in_thread(session, bundle)
        frozen = [sshd.pid, *sshd.session_pids()]
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        try:
            began = time.monotonic()
            thread.join(60)
            waited = time.monotonic() - began
        finally:
            for pid in frozen:
                os.kill(pid, signal.SIGCONT)
        assert not thread.is_alive(), "the step hung on a frozen server"
        assert results[0].error == CONNECTION_LOST
        assert results[0].exit_code == -1
        assert waited < 30, f"detection took {waited:.0f}s"  # bound: 3 s, plus generous slack
        assert not session.connected


@pytest.fixture
def partition(sshd: SshdServer) -> Iterator[Callable[[], None]]:
    """Call it to drop every packet to and from the sshd's port on loopback; undone afterwards."""
    iptables = require_binary("iptables")
    rules = [["INPUT", "-i", "lo", "-p", "tcp", flag, str(sshd.port), "-j", "DROP"] for flag in ("--dport", "--sport")]
    added: list[list[str]] = []

    def cut() -> None:
        for rule in rules:
            subprocess.run([iptables, "-I", *rule], check=True)
            added.append(rule)

    yield cut
    for rule in added:
        subprocess.run([iptables, "-D", *rule], check=False)


def test_silent_network_is_a_lost_connection(sshd: SshdServer, make_bundle: BundleMaker,
                                             partition: Callable[[], None]) -> None:
    """Packets dropped with no reset (iptables DROP on loopback): no hang, a lost connection."""
    bundle = make_bundle("echo started; exec sleep 300\n")
    with SSHTransport(keepalive=FAST).open(sshd.host_spec()) as session:
        thread, results = run_in_thread(session, bundle)
        partition()
        began = time.monotonic()
        thread.join(60)
        waited = time.monotonic() - began
        assert not thread.is_alive(), "the step hung on a silent network"
        assert results[0].error == CONNECTION_LOST
        assert waited < 30, f"detection took {waited:.0f}s"


def test_quiet_step_on_a_live_server_is_not_lost(sshd: SshdServer, make_bundle: BundleMaker) -> None:
    """Answered pings keep a connection alive through a long silent step."""
    bundle = make_bundle("sleep 5; echo done\n")
    with SSHTransport(keepalive=FAST).open(sshd.host_spec()) as session:
        result = session.run_bundle(bundle)
        assert result.error is None and result.exit_code == 0
        assert result.stdout == b"done\n"


def test_keepalive_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKSCRIPTS_KEEPALIVE_INTERVAL", "5")
    monkeypatch.setenv("STACKSCRIPTS_KEEPALIVE_COUNT", "2")
    assert Keepalive.from_env() == Keepalive(5.0, 2)
    assert Keepalive.from_env().limit == 15.0
    monkeypatch.setenv("STACKSCRIPTS_KEEPALIVE_COUNT", "lots")
    with pytest.raises(BadInput, match="not a number"):
        Keepalive.from_env()
    monkeypatch.setenv("STACKSCRIPTS_KEEPALIVE_COUNT", "0")
    with pytest.raises(BadInput, match="out of range"):
        Keepalive.from_env()
    monkeypatch.delenv("STACKSCRIPTS_KEEPALIVE_INTERVAL")
    monkeypatch.delenv("STACKSCRIPTS_KEEPALIVE_COUNT")
    assert Keepalive.from_env().limit < 60  # the default detects a dead peer in under a minute
