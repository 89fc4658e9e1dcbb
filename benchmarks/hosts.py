"""Benchmark hosts: real sshd servers on loopback (tests/support/sshd.py), and cleanup that always runs.

Every host is its own sshd with its own host key and authorized client key, logged into as the
current user. tests/support/sshd.py sets `SetEnv SHLVL=1` in each sshd_config, so the remote
bash (whose level becomes 2) skips ~/.bashrc: commands run in a clean, non-interactive bash with
no `pyenv init`. `check_clean_shell` proves that before any timing.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.procs import pids_matching
from tests.support.sshd import SshdServer, start_many  # importable: benchmarks/__init__.py adds the repo root

_cleanups: list[Callable[[], None]] = []


def on_cleanup(action: Callable[[], None]) -> Callable[[], None]:
    """Register an action for `cleanup_all` (runs in reverse order, errors ignored)."""
    _cleanups.append(action)
    return action


def forget_cleanup(action: Callable[[], None]) -> None:
    if action in _cleanups:
        _cleanups.remove(action)


def cleanup_all() -> None:
    while _cleanups:
        action = _cleanups.pop()
        try:
            action()
        except BaseException:  # noqa: BLE001 - cleanup must reach every action, even after Ctrl-C
            pass


def install_signal_handlers() -> None:
    """SIGTERM/SIGHUP behave like Ctrl-C, so the `finally` that cleans up runs."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)


def temp_dir(prefix: str) -> Path:
    """A temp dir removed by cleanup_all; short, under /tmp (ControlPath sockets have a 108-byte limit)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    on_cleanup(lambda: shutil.rmtree(path, ignore_errors=True))
    return path


class Hosts:
    """A pool of sshd hosts started once; each case takes the first n."""

    def __init__(self) -> None:
        self.servers: list[SshdServer] = []

    def take(self, count: int) -> list[SshdServer]:
        missing = count - len(self.servers)
        if missing > 0:
            try:
                started = start_many(missing, prefix=f"bench{len(self.servers)}-")
            except BaseException as exc:  # pytest's Skipped when sshd is missing is a BaseException
                if isinstance(exc, KeyboardInterrupt):
                    raise
                raise RuntimeError(f"cannot start sshd hosts: {exc}") from None
            for server in started:
                on_cleanup(server.close)
            self.servers.extend(started)
        for server in self.servers[:count]:
            if not server.running():
                server.restart()
        return self.servers[:count]

    def close(self) -> None:
        for server in self.servers:
            server.close()
            forget_cleanup(server.close)
        self.servers.clear()


def names(servers: list[SshdServer]) -> list[str]:
    """Benchmark host names web1..webN (the server names every tool uses)."""
    return [f"web{i}" for i in range(1, len(servers) + 1)]


def ssh_args(server: SshdServer, *extra: str) -> list[str]:
    """An OpenSSH client command line for server: its key only, no config files, no prompts."""
    return [
        "ssh", "-F", "/dev/null", "-i", server.key_path, "-p", str(server.port),
        "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
        *extra, f"{server.user}@{server.host}",
    ]


def check_clean_shell(server: SshdServer) -> float:
    """Fail unless a remote command runs without ~/.bashrc (no pyenv); return one full ssh round trip."""
    started = time.perf_counter()
    out = subprocess.run(ssh_args(server) + ['echo "shlvl=$SHLVL pyenv=${PYENV_ROOT:-none}"'],
                         capture_output=True, text=True, timeout=30)
    elapsed = time.perf_counter() - started
    if out.returncode != 0 or "pyenv=none" not in out.stdout:
        raise RuntimeError(f"remote shell is not clean (expected no PYENV_ROOT): {out.stdout!r} {out.stderr!r}")
    return elapsed


def kill_pids_mentioning(text: str) -> None:
    """SIGKILL processes whose command line contains text (our own ControlMaster processes, by pid)."""
    for pid in pids_matching(text):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def close_masters(control_dir: Path) -> None:
    """Stop every ControlMaster whose socket is in control_dir (ssh -O exit), then any left over."""
    for sock in control_dir.glob("*"):
        if sock.is_socket():
            subprocess.run(["ssh", "-F", "/dev/null", "-o", f"ControlPath={sock}", "-O", "exit", "x"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
    kill_pids_mentioning(str(control_dir))


_TICK = os.sysconf("SC_CLK_TCK")


def host_cpu(servers: list[SshdServer]) -> float:
    """CPU seconds used so far by the hosts' side: each sshd plus its reaped sessions and commands."""
    total = 0
    for server in servers:
        try:
            with open(f"/proc/{server.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / _TICK


def local_cpu() -> float:
    """CPU seconds of this process and its reaped children (daemonized ssh ControlMasters are not counted)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
