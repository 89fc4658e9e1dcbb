"""Find local processes by command line (this machine hosts the test sshd servers)."""

from __future__ import annotations

import os


def pids_matching(pattern: str) -> list[int]:
    """Pids of processes (not this one) whose command line contains pattern."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if pattern in cmdline:
            found.append(int(entry))
    return found
