"""Controller identity: alive, dead, zombie, reused pid, another host."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from stackscripts.store.liveness import Controller, is_alive, process_start
from tests.support.parts import require_proc
from tests.support.waits import wait_until


def test_this_process_is_alive() -> None:
    me = Controller.current()
    assert me.pid == os.getpid() and me.host == socket.gethostname()
    assert is_alive(me) is True
    assert "pid" in me.describe() and me.host in me.describe()


def test_another_host_is_unknowable() -> None:
    assert is_alive(Controller("elsewhere.example", os.getpid())) is None


def test_a_reused_pid_or_another_boot_is_dead() -> None:
    require_proc()
    me = Controller.current()
    assert me.start is not None
    assert is_alive(Controller(me.host, me.pid, me.start + 1, me.boot)) is False
    assert is_alive(Controller(me.host, me.pid, me.start, "another-boot")) is False


def test_exited_and_zombie_processes_are_dead() -> None:
    require_proc()  # a zombie is told by its state in /proc
    child = subprocess.Popen(["sleep", "30"])
    try:
        controller = Controller(socket.gethostname(), child.pid, process_start(child.pid))
        assert is_alive(controller) is True
        child.kill()
        state = Path(f"/proc/{child.pid}/stat")
        wait_until(lambda: state.read_text().rpartition(")")[2].split()[0] == "Z", 5, "the child to be a zombie")
        assert is_alive(controller) is False  # a zombie: killed, not reaped yet
    finally:
        child.wait()
    assert is_alive(controller) is False
