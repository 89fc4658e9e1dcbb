"""Watching one untimed run of a tool: the processes the hosts' sshds start, and the controller's memory.

The harness times tools in runs that nothing watches; then, for each tool and host count, it makes one
more run under a `Watch` (installed as `current`):

- process starts on the hosts: exact, from `ProcCounter` (kernel process events), following each host's
  sshd tree: sshd's own per-connection processes, the remote shells, and everything the steps run;
- controller memory: a tool's command line runs under a small launcher (`LAUNCHER`) that forks it and
  reads the kernel's RSS high-water mark of the largest process it waited for; the whole controller side
  (every process descended from the launcher, daemonized ssh ControlMasters included) is sampled every
  50 ms for the sum of RSS and of PSS (shared pages divided among the processes sharing them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from .proccount import ProcCounter
from .timing import RUN_TIMEOUT

# Linux starts a forked child's RSS high-water mark at its parent's RSS (and exec keeps it), so a tool
# spawned straight from this large harness would report at least the harness's RSS: a small launcher forks it.
LAUNCHER = """\
import json, os, resource, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status = os.waitpid(pid, 0)
with open(sys.argv[1], "w") as f:
    json.dump({"maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}, f)
sys.exit(os.waitstatus_to_exitcode(status))
"""
SAMPLE_EVERY = 0.05
HOSTS, CONTROLLER = "hosts", "controller"


@dataclass
class Memory:
    largest_mib: float  # kernel high-water mark of the largest single process
    rss_mib: float  # sampled peak of the sum over the controller's processes
    pss_mib: float
    processes: int  # most controller processes alive at once (sampled)


class Watch:
    """One watched run: count process starts under host_pids; measure memory of commands run via run_tool.

    It listens to the kernel's process events only while it is open (a context manager), so the timed runs,
    which no Watch is open for, carry no listener."""

    def __init__(self, host_pids: list[int], *, memory: bool) -> None:
        self.counter = ProcCounter()
        self.memory_wanted = memory
        self.memory: Memory | None = None
        for pid in host_pids:
            self.counter.add_root(pid, HOSTS)

    def __enter__(self) -> Watch:
        global current
        current = self
        return self

    def __exit__(self, *exc: object) -> None:
        global current
        current = None
        self.counter.close()

    def programs(self) -> dict[str, int]:
        """Programs the hosts executed, by name."""
        return dict(self.counter.programs(HOSTS))

    def starts(self) -> tuple[int, int] | str:
        """(processes started, programs executed) on the hosts so far; or why the count is wrong."""
        return self.counter.error or self.counter.counts(HOSTS)

    def run(self, args: list[str], *, cwd: str | None, env: dict[str, str] | None, timeout: float,
            workdir: Path) -> subprocess.CompletedProcess[bytes]:
        if not self.memory_wanted:
            return _run(args, cwd=cwd, env=env, timeout=timeout)
        result_file = workdir / f"launcher-{os.getpid()}-{threading.get_ident()}.json"
        launched = [sys.executable, "-c", LAUNCHER, str(result_file), *args]
        peak = {"rss": 0, "pss": 0, "procs": 0}
        stop = threading.Event()

        def sample(root: int) -> None:
            while not stop.wait(SAMPLE_EVERY):
                pids = [p for p in self.counter.live(CONTROLLER) if p != root]
                rss = pss = 0
                for pid in pids:
                    r, p = _rss_pss_kib(pid)
                    rss, pss = rss + r, pss + p
                peak["rss"], peak["pss"] = max(peak["rss"], rss), max(peak["pss"], pss)
                peak["procs"] = max(peak["procs"], len(pids))

        with subprocess.Popen(launched, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) as proc:
            self.counter.add_root(proc.pid, CONTROLLER)
            sampler = threading.Thread(target=sample, args=(proc.pid,), daemon=True)
            sampler.start()
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise RuntimeError(f"{args[0]} timed out after {timeout:.0f}s") from None
            finally:
                stop.set()
                sampler.join()
        done = subprocess.CompletedProcess(args, proc.returncode, out, err)
        _check(done)
        largest = json.loads(result_file.read_text())["maxrss_kib"]
        result_file.unlink()
        self.memory = Memory(largest / 1024, peak["rss"] / 1024, peak["pss"] / 1024, peak["procs"])
        return done


current: Watch | None = None  # the open Watch, if any


def run_tool(args: list[str], *, cwd: str | None = None, env: dict[str, str] | None = None,
             timeout: float = RUN_TIMEOUT, workdir: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run a tool's command line, checked (RuntimeError with its output's tail); watched if a Watch is current."""
    if current is not None:
        return current.run(args, cwd=cwd, env=env, timeout=timeout, workdir=workdir or Path("/tmp"))
    return _run(args, cwd=cwd, env=env, timeout=timeout)


def _run(args: list[str], *, cwd: str | None, env: dict[str, str] | None,
         timeout: float) -> subprocess.CompletedProcess[bytes]:
    try:
        done = subprocess.run(args, capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout, env=env, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{args[0]} timed out after {timeout:.0f}s") from None
    _check(done)
    return done


def _check(done: subprocess.CompletedProcess[bytes]) -> None:
    if done.returncode != 0:
        tail = (done.stdout[-600:] + b"\n" + done.stderr[-600:]).decode(errors="replace").strip()
        raise RuntimeError(f"{str(done.args[0]).rsplit('/', 1)[-1]} exited {done.returncode}: {tail}")


def _rss_pss_kib(pid: int) -> tuple[int, int]:
    """(Rss, Pss) of a live process in KiB; (0, 0) once it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, pss
