"""The big fleet: N real sshd hosts (default 500) on this machine, one watched run of the stackscripts CLI and
of the Fabric loop on all of them, each a whole process: wall time, controller memory, and memory per
connection from the CLI's peak RSS here against its peak at the memory case's host count."""

from __future__ import annotations

import resource
import shutil
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

from tests.support.sshd import SshdServer

from . import workload
from .hosts import Hosts
from .observe import Watch
from .report import CLI, FABRIC, FleetRun
from .timing import timed

TIMEOUT = 900.0  # one run on the big fleet


def raise_file_limit(needed: int) -> str:
    """Lift this process's open-file limit (inherited by the tools) to its hard limit; say what it is."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < needed:
        raise RuntimeError(f"open-file limit {hard} is below the {needed} this fleet needs (ulimit -Hn)")
    return f"open files: {hard}"


def run(hosts: Hosts, count: int, scratch: Path, watch: bool, runners: dict[str, Callable[..., float]],
        log: Callable[[str], None]) -> dict[str, FleetRun]:
    """Start the hosts (kept only for this), run each tool once under a Watch, and check every host's files."""
    results: dict[str, FleetRun] = {}
    log(f"benchmarks: {raise_file_limit(count * 8)}; starting {count} sshd hosts")
    started = time.monotonic()
    servers: list[SshdServer] = hosts.take(count)
    log(f"benchmarks: {count} hosts up in {time.monotonic() - started:.0f} s")
    for tool in (CLI, FABRIC):
        out_dir = scratch / f"fleet-{tool.split()[0]}-{time.monotonic_ns()}" / "out"
        out_dir.mkdir(parents=True)
        run = results[tool] = FleetRun()

        def one(runner: Callable[..., float] = runners[tool], out: Path = out_dir) -> float:
            return runner(servers, out, 5, timeout=TIMEOUT)

        try:
            with Watch([s.pid for s in servers], memory=True) if watch else nullcontext() as watching:
                run.seconds = timed(one)
                starts = watching.starts() if watching is not None else None
            workload.verify(out_dir, [f"web{i}" for i in range(1, count + 1)], 5)
            if watching is not None:
                run.memory = watching.memory
                run.starts = starts if isinstance(starts, tuple) else None
        except Exception as exc:  # noqa: BLE001 - reported, and the target says missed
            run.seconds, run.error = None, f"{type(exc).__name__}: {exc}"[:400]
        finally:
            shutil.rmtree(out_dir.parent, ignore_errors=True)
        log(f"benchmarks: {count} hosts, {tool}: {run.seconds and f'{run.seconds:.1f} s'} {run.error or ''}")
    return results
