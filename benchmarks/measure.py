"""The harness's loops: timed runs (nothing watching, repeats rotated across tools, every run checked), then
one watched run per tool for the process starts on the hosts (and at the memory case, controller memory)."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.sshd import SshdServer

from . import observe, workload
from .hosts import host_cpu, local_cpu
from .observe import Watch
from .report import API, STEPS, Results
from .timing import Sample, bounded

Runner = Callable[[list[SshdServer], Path, int], float]
REAP_WAIT = 0.3  # after a run, for sshd to reap its sessions (their CPU lands in its cutime/cstime)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Harness:
    def __init__(self, results: Results, runners: dict[str, Runner], scratch: Path, why_no_counter: str | None) -> None:
        self.results, self.runners, self.scratch = results, runners, scratch
        self.why_no_counter = why_no_counter  # None: process events can be read here

    def _run(self, tool: str, servers: list[SshdServer], steps: int, sample: Sample | None = None) -> float:
        """One run of tool, checked afterwards (every host's files); records controller and host CPU on sample."""
        work = self.scratch / f"{tool.split()[0].strip('(,')}-{time.monotonic_ns()}"
        out_dir = work / "out"
        out_dir.mkdir(parents=True)
        try:
            local, remote = local_cpu(), host_cpu(servers)
            elapsed = bounded(lambda: self.runners[tool](servers, out_dir, steps))
            workload.verify(out_dir, [f"web{i}" for i in range(1, len(servers) + 1)], steps)
            time.sleep(REAP_WAIT)
            if sample is not None:
                sample.cpu_local.append(local_cpu() - local)
                sample.cpu_hosts.append(host_cpu(servers) - remote)
            return elapsed
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _bind(self, tool: str, servers: list[SshdServer], steps: int, sample: Sample) -> Callable[[], float]:
        return lambda: self._run(tool, servers, steps, sample)

    def warm_up(self, servers: list[SshdServer]) -> None:
        """One untimed run of every tool: fills the bytecode cache and the page cache, and fails early."""
        log("benchmarks: warm-up run of every tool on 1 host")
        for tool in list(self.runners):
            try:
                self._run(tool, servers, STEPS)
            except Exception as exc:  # noqa: BLE001 - the tool's cases report it
                log(f"benchmarks: warm-up of {tool} failed: {exc}")

    def case(self, servers: list[SshdServer], repeat: int, *, memory: bool) -> None:
        count = len(servers)
        samples = self.results.cases.setdefault(count, {})
        tools = list(self.runners)
        for tool in tools:
            samples[tool] = Sample(tool, f"{count} hosts")
        for r in range(repeat):
            order = tools[r % len(tools):] + tools[:r % len(tools)]  # rotate: spread the noise
            for tool in order:
                samples[tool].add(self._bind(tool, servers, STEPS, samples[tool]))
            done = ", ".join(f"{t.split(',')[0]} {samples[t].times[-1]:.2f}" for t in tools if len(samples[t].times) > r)
            log(f"benchmarks: {count} host(s), run {r + 1}/{repeat}: {done} (load {os.getloadavg()[0]:.2f})")
        starts = self.results.starts.setdefault(count, {})
        for tool in tools:
            watched = self._watched(tool, servers, STEPS, memory=memory and tool != API)
            starts[tool] = watched[0]
            if count == 1:
                self.results.programs[tool] = watched[2]
            if memory and tool != API:
                self.results.memory[tool] = watched[1]
        log(f"benchmarks: {count} host(s), process starts on the hosts: "
            + ", ".join(f"{t.split(',')[0]} {v}" for t, v in starts.items()))

    def _watched(self, tool: str, servers: list[SshdServer], steps: int, *,
                 memory: bool) -> tuple[tuple[int, int] | str, observe.Memory | str, dict[str, int]]:
        """One more run under a Watch: (processes, programs) started on the hosts, controller memory, and the
        programs the hosts ran by name."""
        if self.why_no_counter is not None:
            return self.why_no_counter, self.why_no_counter, {}
        try:
            with Watch([s.pid for s in servers], memory=memory) as watch:
                self._run(tool, servers, steps)
                starts, programs = watch.starts(), watch.programs()
        except Exception as exc:  # noqa: BLE001
            why = f"{type(exc).__name__}: {exc}"[:300]
            return why, why, {}
        mem: observe.Memory | str = watch.memory if watch.memory is not None else "not measured"
        return starts, mem, programs

    def per_step(self, server: SshdServer, tools: list[str], repeat: int) -> None:
        """1 host x 5 and x 50 steps: the marginal wall time, host CPU and process starts of a step on one connection."""
        log(f"benchmarks: per step on an open connection (1 host x 5 and x 50 steps): {', '.join(tools)}")
        for tool in tools:
            by = self.results.per_step[tool] = {5: Sample(tool, "1 host x 5 steps"), 50: Sample(tool, "1 host x 50 steps")}
            for _ in range(repeat):
                for steps in (5, 50):
                    by[steps].add(self._bind(tool, [server], steps, by[steps]))
            watched = {steps: self._watched(tool, [server], steps, memory=False) for steps in (5, 50)}
            self.results.per_step_starts[tool] = {steps: w[0] for steps, w in watched.items()}
            self.results.per_step_programs[tool] = {name: (watched[50][2].get(name, 0) - watched[5][2].get(name, 0)) / 45
                                                    for name in watched[50][2]}
