"""Timing helpers: bounded subprocesses, samples with medians, and the error a failed run leaves."""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

RUN_TIMEOUT = 120.0  # seconds one benchmark run (any tool, any case) may take
CASE_BUDGET = 600.0  # seconds all repeats of one tool on one case may take; later repeats are skipped


@dataclass
class Sample:
    """All timings of one tool on one case (seconds), or why it could not run."""

    tool: str
    case: str
    times: list[float] = field(default_factory=list)
    error: str | None = None
    spent: float = 0.0
    cpu_local: list[float] = field(default_factory=list)  # controller CPU seconds per run
    cpu_hosts: list[float] = field(default_factory=list)  # sshd-side CPU seconds per run

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    @property
    def cpu(self) -> tuple[float | None, float | None]:
        med = statistics.median
        return (med(self.cpu_local) if self.cpu_local else None, med(self.cpu_hosts) if self.cpu_hosts else None)

    @property
    def spread(self) -> tuple[float, float] | None:
        return (min(self.times), max(self.times)) if self.times else None

    def add(self, run: Callable[[], float]) -> None:
        """One more repeat, unless this sample already failed or used its time budget."""
        if self.error is not None or self.spent > CASE_BUDGET:
            return
        started = time.monotonic()
        try:
            self.times.append(run())
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - a tool that fails is reported, not fatal
            self.error = f"{type(exc).__name__}: {exc}".strip()[:400]
        finally:
            self.spent += time.monotonic() - started
        if self.spent > CASE_BUDGET and self.error is None:
            self.error = f"stopped after {len(self.times)} repeats: over the {CASE_BUDGET:.0f}s budget"


PYCACHE = f"/tmp/bench-pycache-{os.getuid()}"


def tool_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every tool's process: bytecode cached (PYTHONPYCACHEPREFIX) as an installed package's
    is, even where PYTHONDONTWRITEBYTECODE is set; a warm-up run of each tool fills the cache before timing."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    env["PYTHONPYCACHEPREFIX"] = PYCACHE
    env.update(extra or {})
    return env


def run_checked(args: list[str], *, timeout: float = RUN_TIMEOUT, input: bytes | None = None,
                env: dict[str, str] | None = None, cwd: str | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run a command; raise RuntimeError with the tail of its output if it fails or times out."""
    try:
        done = subprocess.run(args, input=input, capture_output=True,
                              stdin=None if input is not None else subprocess.DEVNULL,
                              timeout=timeout, env=env, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{args[0]} timed out after {timeout:.0f}s") from None
    if done.returncode != 0:
        tail = (done.stdout[-600:] + b"\n" + done.stderr[-600:]).decode(errors="replace").strip()
        raise RuntimeError(f"{args[0].rsplit('/', 1)[-1]} exited {done.returncode}: {tail}")
    return done


def bounded(action: Callable[[], float], timeout: float = 2 * RUN_TIMEOUT) -> float:
    """Run an in-process benchmark in a daemon thread; give up (RuntimeError) after timeout seconds.

    A run that hangs is left behind (its connections die when the hosts are closed at the end).
    """
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = action()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc

    thread = threading.Thread(target=target, name="benchmark-run", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise RuntimeError(f"run did not finish within {timeout:.0f}s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def fmt_s(value: float | None) -> str:
    return "-" if value is None else (f"{value:.2f} s" if value >= 0.1 else f"{value * 1000:.0f} ms")


def fmt_ratio(value: float | None, floor: float | None) -> str:
    if value is None or not floor:
        return "-"
    return f"{value / floor:.2f}x"
