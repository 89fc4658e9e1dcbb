"""Results of `python -m benchmarks`: what was measured, the issue's targets, and the console summary
(docs/performance.md is written by report_md.py from the same Results)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .observe import Memory
from .timing import Sample, fmt_ratio, fmt_s

FLOOR = "raw ssh, ControlMaster"
ONE_CALL = "raw ssh, one call"
FABRIC = "Fabric loop (script)"
CLI = "stackscripts (CLI)"
PYINFRA = "pyinfra"
ANSIBLE = "ansible-core"
API = "stackscripts API, in-process (not comparable to the command lines)"
STEPS = 5
PER_STEP_TARGET_MS = 8.0
MEMORY_TARGET_MIB = 60.0


@dataclass
class FleetRun:
    """One run of a tool on the big fleet."""

    seconds: float | None = None
    memory: Memory | None = None
    starts: tuple[int, int] | None = None  # processes, programs started on the hosts
    error: str | None = None


@dataclass
class Imports:
    """`python -X importtime` of one CLI fleet boot."""

    total_ms: float
    modules: int
    top: list[tuple[float, str]]  # (cumulative ms, module), costliest first
    unwanted: list[str]  # modules of the list below that the run imported (should be none)


@dataclass
class Results:
    cases: dict[int, dict[str, Sample]] = field(default_factory=dict)  # hosts -> tool -> timed runs
    starts: dict[int, dict[str, tuple[int, int] | str]] = field(default_factory=dict)  # (processes, programs) or why not
    memory: dict[str, Memory | str] = field(default_factory=dict)  # tool -> at memory_hosts
    memory_hosts: int = 50
    per_step: dict[str, dict[int, Sample]] = field(default_factory=dict)  # tool -> steps -> 1-host runs
    per_step_starts: dict[str, dict[int, tuple[int, int] | str]] = field(default_factory=dict)
    per_step_programs: dict[str, dict[str, float]] = field(default_factory=dict)  # tool -> program -> per step
    programs: dict[str, dict[str, int]] = field(default_factory=dict)  # tool -> program -> count, 1 host x 5 steps
    fleet: dict[str, FleetRun] = field(default_factory=dict)
    fleet_hosts: int = 0
    cold: list[Sample] = field(default_factory=list)
    imports: Imports | str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    repeat: int = 5
    load: list[tuple[str, tuple[float, float, float]]] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    wall: float = 0.0

    def median(self, hosts: int, tool: str) -> float | None:
        sample = self.cases.get(hosts, {}).get(tool)
        return sample.median if sample else None

    def host_cpu_per_step_ms(self, hosts: int, tool: str) -> float | None:
        sample = self.cases.get(hosts, {}).get(tool)
        cpu = sample.cpu[1] if sample else None
        return None if cpu is None else cpu * 1000 / (hosts * STEPS)

    def per_step_ms(self, tool: str) -> float | None:
        """Marginal wall ms per step on one open connection: (T(50 steps) - T(5 steps)) / 45."""
        by = self.per_step.get(tool, {})
        t5, t50 = (by[5].median if 5 in by else None), (by[50].median if 50 in by else None)
        return None if t5 is None or t50 is None else (t50 - t5) / 45 * 1000

    def per_step_host_cpu_ms(self, tool: str) -> float | None:
        by = self.per_step.get(tool, {})
        c5, c50 = (by[5].cpu[1] if 5 in by else None), (by[50].cpu[1] if 50 in by else None)
        return None if c5 is None or c50 is None else (c50 - c5) / 45 * 1000


def machine() -> dict[str, str]:
    info = {"nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip() or str(os.cpu_count())}
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        mem_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
        info["memory"] = f"{mem_kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        info["memory"] = "?"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        info["cpu"] = platform.processor() or "?"
    info["kernel"] = f"{platform.system()} {platform.release()}"
    info["python"] = f"{platform.python_version()} ({sys.executable})"
    return info


Target = tuple[str, str, bool | None, str]  # (target, measured, met?, by how much)


def _upper(name: str, value: float | None, limit: float | None, shown: str, unit: str = "") -> Target:
    """A `value <= limit` target; by how much, as the difference and the ratio to the limit."""
    if value is None or limit is None or limit <= 0:
        return (name, shown, None, "")
    diff = value - limit
    how = f"{abs(value / limit - 1) * 100:.0f}% {'over' if diff > 0 else 'under'} the limit" + (
        f" ({diff:+.2f}{unit})" if unit != "x" else "")
    return (name, shown, value <= limit, how)


def targets(r: Results) -> list[Target]:
    """Issue 15's targets: every stackscripts figure is the CLI's (a whole process, start-up included)."""
    rows: list[Target] = []
    ms = r.per_step_ms(CLI)
    rows.append(_upper(f"per step on an open connection <= {PER_STEP_TARGET_MS:.0f} ms", ms, PER_STEP_TARGET_MS,
                       "-" if ms is None else f"{ms:.1f} ms", " ms"))
    cli, floor = r.median(1, CLI), r.median(1, FLOOR)
    rows.append(_upper("1 host x 5 steps <= 1.2x raw multiplexed ssh", None if cli is None or not floor else cli / floor,
                       1.2, fmt_ratio(cli, floor) + f" ({fmt_s(cli)} vs {fmt_s(floor)})", "x"))
    for hosts in sorted(h for h in r.cases if h > 1):
        cli, pyinfra, fabric = r.median(hosts, CLI), r.median(hosts, PYINFRA), r.median(hosts, FABRIC)
        rows.append(_upper(f"{hosts} hosts x 5 steps faster than pyinfra", cli, pyinfra,
                           f"{fmt_s(cli)} vs {fmt_s(pyinfra)}", " s"))
        ratio = None if cli is None or not fabric else cli / fabric
        rows.append(_upper(f"{hosts} hosts x 5 steps within 1.2x of the Fabric loop", ratio, 1.2,
                           f"{fmt_ratio(cli, fabric)} ({fmt_s(cli)} vs {fmt_s(fabric)})", "x"))
    for hosts in sorted(h for h in r.cases if h > 1):
        ours, theirs = r.host_cpu_per_step_ms(hosts, CLI), r.host_cpu_per_step_ms(hosts, FABRIC)
        ratio = None if ours is None or not theirs else ours / theirs
        rows.append(_upper(f"{hosts} hosts: host CPU per step <= 1.5x the Fabric loop's", ratio, 1.5,
                           "-" if ratio is None else f"{ratio:.2f}x ({ours:.1f} vs {theirs:.1f} ms)", "x"))
    mem = r.memory.get(CLI)
    mib = mem.largest_mib if isinstance(mem, Memory) else None
    rows.append(_upper(f"controller memory <= {MEMORY_TARGET_MIB:.0f} MiB at {r.memory_hosts} hosts", mib,
                       MEMORY_TARGET_MIB, "-" if mib is None else f"{mib:.1f} MiB (peak RSS)", " MiB"))
    big = r.fleet.get(CLI)
    if big is None:
        rows.append((f"a {r.fleet_hosts or 500}-host x 5-step fleet completes", "not run", None, ""))
    else:
        done = big.error is None and big.seconds is not None
        rows.append((f"a {r.fleet_hosts}-host x 5-step fleet completes",
                     f"{fmt_s(big.seconds)}" if done else f"failed: {big.error}", done, ""))
    return rows


def mark(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "not measured"}[met]


def console(r: Results) -> str:
    out = ["", f"Medians of {r.repeat} runs (seconds), each tool a whole process except the in-process API row:"]
    for hosts, samples in sorted(r.cases.items()):
        out.append(f"  {hosts} host(s): " + ", ".join(f"{t} {fmt_s(s.median)}" + (" [error]" if s.error else "")
                                                     for t, s in samples.items()))
        for tool, sample in samples.items():
            if sample.error:
                out.append(f"    ! {tool}: {sample.error}")
    for tool in r.per_step:
        ms = r.per_step_ms(tool)
        out.append(f"  per step, {tool}: {'-' if ms is None else f'{ms:.1f} ms'}")
    for tool, mem in r.memory.items():
        out.append(f"  memory at {r.memory_hosts} hosts, {tool}: "
                   + (mem if isinstance(mem, str) else f"{mem.largest_mib:.1f} MiB largest, {mem.pss_mib:.1f} MiB PSS"))
    for tool, run in r.fleet.items():
        out.append(f"  {r.fleet_hosts} hosts, {tool}: {fmt_s(run.seconds)}" + (f" error: {run.error}" if run.error else ""))
    out += ["Targets:"] + [f"  [{mark(met):>12}] {name}: {measured} {how}" for name, measured, met, how in targets(r)]
    out.append(f"Wall time of the whole run: {r.wall / 60:.1f} min")
    return "\n".join(out)
