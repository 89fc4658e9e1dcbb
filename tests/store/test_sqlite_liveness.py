"""Controller identity: alive, dead, zombie, reused pid, another host."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from stackscripts.store.liveness import Controller, is_alive, process_start


def test_this_process_is_alive() -> None:
    me = Controller.current()
    assert me.pid == os.getpid() and me.host == socket.gethostname()
    assert is_alive(me) is True
    assert "pid" in me.describe() and me.host in me.describe()


def test_another_host_is_unknowable() -> None:
    assert is_alive(Controller("elsewhere.example", os.getpid())) is None


def test_a_reused_pid_or_another_boot_is_dead() -> None:
    me = Controller.current()
    if me.start is None:
        pytest.skip("no /proc on this system")
    assert is_alive(Controller(me.host, me.pid, me.start + 1, me.boot)) is False
    assert is_alive(Controller(me.host, me.pid, me.start, "another-boot")) is False


def test_exited_and_zombie_processes_are_dead() -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        controller = Controller(socket.gethostname(), child.pid, process_start(child.pid))
        assert is_alive(controller) is True
        child.kill()
        if Path(f"/proc/{child.pid}/stat").exists():
            deadline = time.monotonic() + 5
            while Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
                assert time.monotonic() < deadline
                time.sleep(0.01)
            assert is_alive(controller) is False  # a zombie: killed, not reaped yet
    finally:
        child.wait()
    assert is_alive(controller) is False
