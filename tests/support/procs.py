"""Find local processes by command line (this machine hosts the test sshd servers): the one process finder.

Reads /proc directly; tests never shell out to pgrep.
"""

from __future__ import annotations

import os
import subprocess

from .waits import wait_until


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Terminate a server the tests started; kill it when it does not stop within timeout."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def cmdline(pid: int) -> str:
    """A process's command line, arguments separated by spaces ("" once it is gone)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def pids_matching(pattern: str) -> list[int]:
    """Pids of processes (not this one) whose command line contains pattern."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        if pattern in cmdline(int(entry)):
            found.append(int(entry))
    return found


def wait_gone(pattern: str, timeout: float = 10.0) -> None:
    """Wait until no process's command line contains pattern; the failure lists the survivors."""
    try:
        wait_until(lambda: not pids_matching(pattern), timeout, f"processes matching {pattern!r} to end")
    except AssertionError as exc:
        left = {pid: cmdline(pid) for pid in pids_matching(pattern)}
        raise AssertionError(f"{exc}; still running: {left}") from None


def kill_matching(pattern: str, sig: int = 9) -> None:
    """Signal every process whose command line contains pattern (cleanup after a test)."""
    for pid in pids_matching(pattern):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
