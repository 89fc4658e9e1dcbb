"""Results: the console table, the targets from the issue, and docs/performance.md."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .timing import Sample, fmt_ratio, fmt_s

FLOOR = "raw ssh, ControlMaster"
API = "stackscripts (API)"
CLI = "stackscripts (CLI)"
REFERENCE = {  # measured earlier on this machine (from the issue): 1 host, 20 hosts; 5 steps
    FLOOR: (0.44, 3.08), "raw ssh, one call": (0.35, 2.45), "Fabric loop": (0.59, 1.46),
    "pyinfra": (1.49, 2.35), "ansible-core": (2.88, 12.8),
}


@dataclass
class Results:
    cases: dict[int, dict[str, Sample]] = field(default_factory=dict)  # hosts -> tool -> sample
    cold: list[Sample] = field(default_factory=list)
    per_step: dict[str, Sample] = field(default_factory=dict)  # "5" / "50" -> sample of 1-host boots
    memory: dict | None = None
    memory_imports: dict | None = None
    memory_error: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    repeat: int = 5
    load: list[tuple[float, float, float]] = field(default_factory=list)
    started: float = field(default_factory=time.time)


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


def per_step_ms(results: Results) -> tuple[float | None, float | None]:
    """(marginal ms per step = (T50 - T5) / 45, plain T50 / 50) on one open connection."""
    t5, t50 = results.per_step.get("5"), results.per_step.get("50")
    m5, m50 = (t5.median if t5 else None), (t50.median if t50 else None)
    marginal = (m50 - m5) / 45 * 1000 if m5 is not None and m50 is not None else None
    return marginal, (m50 / 50 * 1000 if m50 is not None else None)


def targets(results: Results) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met?) for every target of the issue; None = not measured."""
    rows: list[tuple[str, str, bool | None]] = []
    for hosts, samples in sorted(results.cases.items()):
        api = samples.get(API)
        m = api.median if api else None
        for peer in ("pyinfra", "ansible-core"):
            p = samples[peer].median if peer in samples else None
            rows.append((f"{hosts} host(s): stackscripts faster than {peer}", f"{fmt_s(m)} vs {fmt_s(p)}",
                         None if m is None or p is None else m < p))
        floor = samples[FLOOR].median if FLOOR in samples else None
        if hosts == 1:
            rows.append(("1 host x 5 steps <= 1.3x raw multiplexed ssh", fmt_ratio(m, floor),
                         None if m is None or not floor else m <= 1.3 * floor))
        else:
            fab = samples["Fabric loop"].median if "Fabric loop" in samples else None
            rows.append((f"{hosts} hosts x 5 steps no slower than the Fabric loop", f"{fmt_s(m)} vs {fmt_s(fab)}",
                         None if m is None or fab is None else m <= fab))
    marginal, _ = per_step_ms(results)
    rows.append(("<= 15 ms per step on an open connection", "-" if marginal is None else f"{marginal:.1f} ms",
                 None if marginal is None else marginal <= 15))
    mem = results.memory["maxrss_mib"] if results.memory else None
    rows.append(("<= 60 MiB controller memory at 20 hosts", "-" if mem is None else f"{mem:.1f} MiB",
                 None if mem is None else mem <= 60))
    helps = [s for s in results.cold if s.tool == "stackscripts --help"]
    h = helps[0].median if helps else None
    rows.append(("stackscripts --help <= 0.15 s", fmt_s(h), None if h is None else h <= 0.15))
    return rows


def _mark(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "not measured"}[met]


def case_table(results: Results) -> list[str]:
    hosts = sorted(results.cases)
    tools: list[str] = []
    for h in hosts:
        tools += [t for t in results.cases[h] if t not in tools]
    head = "| Tool | " + " | ".join(f"{h} host{'s' if h > 1 else ''} x 5 steps | vs floor" for h in hosts) + " |"
    lines = [head, "|---" * (1 + 2 * len(hosts)) + "|"]
    for tool in tools:
        cells = []
        for h in hosts:
            s = results.cases[h].get(tool)
            floor = results.cases[h].get(FLOOR)
            if s is None:
                cells += ["-", "-"]
                continue
            spread = s.spread
            text = fmt_s(s.median) + (f" ({spread[0]:.2f}-{spread[1]:.2f})" if spread and len(s.times) > 1 else "")
            if s.error:
                text += " [error]" if s.times else f" error: {s.error[:80]}"
            cells += [text, fmt_ratio(s.median, floor.median if floor else None)]
        lines.append(f"| {tool} | " + " | ".join(cells) + " |")
    return lines


def cpu_table(results: Results) -> list[str]:
    """Median CPU seconds per run: the controller (this process and its reaped children) / the hosts' sshds."""
    hosts = sorted(results.cases)
    tools = [t for t in results.cases[hosts[0]]] if hosts else []
    lines = ["| Tool | " + " | ".join(f"{h} host{'s' if h > 1 else ''}: controller / hosts" for h in hosts) + " |",
             "|---" * (1 + len(hosts)) + "|"]
    for tool in tools:
        cells = []
        for h in hosts:
            local, remote = results.cases[h][tool].cpu if tool in results.cases[h] else (None, None)
            cells.append("-" if local is None else f"{local:.2f} / {remote:.2f} s")
        lines.append(f"| {tool} | " + " | ".join(cells) + " |")
    return lines


def console(results: Results) -> str:
    out = ["", f"Medians (min-max) of {results.repeat} runs; ratio to raw multiplexed ssh (the floor):", ""]
    out += case_table(results)
    out += ["", "CPU seconds per run (median), controller / hosts (sshd and everything the steps ran):", ""]
    out += cpu_table(results)
    marginal, plain = per_step_ms(results)
    out += ["", "Cold start (median):"] + [f"  {s.tool:28} {fmt_s(s.median)}" + (f"  error: {s.error}" if s.error else "")
                                          for s in results.cold]
    if marginal is not None:
        out.append(f"Per step on an open connection: {marginal:.1f} ms marginal ((T50-T5)/45), {plain:.1f} ms (T50/50)")
    if results.memory:
        out.append(f"Controller peak RSS, 20 hosts: {results.memory['maxrss_mib']:.1f} MiB"
                   + (f" (after imports alone: {results.memory_imports['maxrss_mib']:.1f} MiB)"
                      if results.memory_imports else ""))
    elif results.memory_error:
        out.append(f"Controller peak RSS: error: {results.memory_error}")
    errors = [s for by in results.cases.values() for s in by.values() if s.error]
    out += [""] + [f"! {s.tool} / {s.case}: {s.error}" for s in errors]
    out += ["Targets:"] + [f"  [{_mark(met):>12}] {name}: {measured}" for name, measured, met in targets(results)]
    return "\n".join(out)


def markdown(results: Results, command: str) -> str:
    m = machine()
    marginal, plain = per_step_ms(results)
    load = ", ".join("/".join(f"{x:.2f}" for x in triple) for triple in results.load)
    doc = [
        "# Performance", "",
        f"Written by `{command}` on {time.strftime('%Y-%m-%d %H:%M', time.localtime(results.started))}. "
        "Regenerate with `make bench` (or `python -m benchmarks` from the repo root; `--quick` for 2 repeats "
        "on 1 and 20 hosts).", "",
        "**Caveat: timings are noisy.** This machine has few cores and other jobs (test suites) may have run "
        f"at the same time; the 1/5/15-minute load averages at start and end were {load}. "
        "Compare ratios within one run rather than absolute numbers across runs.", "",
        "## Setup", "",
        "- Hosts: one real OpenSSH `sshd` per host on 127.0.0.1 (`tests/support/sshd.py`, `start_many(n)`), each "
        "with its own host key and authorized client key; every tool connects from scratch in every run "
        "(connection set-up is inside the timing).",
        "- **Clean shell start-up:** the hosts log in as the current user (root), whose `~/.bashrc` runs "
        "`pyenv init` (~170 ms per interactive bash). Each sshd sets `SetEnv SHLVL=1`, so the remote bash "
        "(level 2) is non-interactive and does not read `~/.bashrc`; the harness checks before timing that a "
        "remote command sees no `PYENV_ROOT`.",
        "- Workload: 5 steps; each reads an input (`MSG_n`), prints 2 lines to stdout and 2 to stderr, and writes a "
        "file; afterwards every host's files are checked, so a tool that skipped work fails the run.",
        "- stackscripts (API): `Controller` on a fresh SQLite db, `add_server(name, 'USER@127.0.0.1', port, key)` "
        "(untimed), then `api.fleet.fleet_boot(controller, names, template, parallel=N)` (timed). "
        "(CLI): `stackscripts fleet boot NAMES --template T --db DB --quiet --parallel N` as a process, start-up included.",
        "- raw ssh, ControlMaster (the floor): `ssh -MNf -o ControlPersist=60` master per host, then one "
        "`ssh host 'env ... bash -s' < stepN.sh` per step; hosts in parallel threads. One call: all 5 steps in one "
        "`ssh host 'bash -s'` (the physical limit).",
        "- Fabric loop: `fabric.Connection` per host on a socket with `TCP_NODELAY`, each step a `conn.run()`, hosts in threads.",
        "- pyinfra: `server.shell` per step, `-y --parallel N --no-wait`. ansible-core: `ansible.builtin.script` per step, "
        "`pipelining=True`, `ControlMaster=auto ControlPersist=60s`, `forks=N`, `gather_facts: false`, interpreter fixed. "
        "Both from `benchmarks/.venv-peers` (created by the harness); masters are closed after every run.", "",
        "## Machine", "",
    ]
    doc += [f"- {k}: {v}" for k, v in m.items()]
    doc += [f"- {k}: {v}" for k, v in results.versions.items()]
    doc += ["", f"## Results (medians of {results.repeat} runs, min-max in brackets)", ""] + case_table(results)
    doc += ["", "CPU seconds per run (median): the controller (the harness process and the children it reaped; "
            "daemonized ssh ControlMasters are not counted) / the hosts (each sshd's own and its reaped sessions' "
            "CPU: sshd, the remote shells and everything the steps ran). On loopback both share the same cores, "
            "so host-side CPU is wall time too.", ""] + cpu_table(results)
    doc += ["", "## Cold start (median)", "", "| Command | Time |", "|---|---|"]
    doc += [f"| `{s.tool}` | {fmt_s(s.median)}{' error: ' + s.error if s.error else ''} |" for s in results.cold]
    doc += ["", "## stackscripts on one host", ""]
    if marginal is not None:
        doc.append(f"- Per step on an open connection: **{marginal:.1f} ms** marginal, (T(50 steps) - T(5 steps)) / 45; "
                   f"{plain:.1f} ms as T(50 steps) / 50 (connection included).")
    if results.memory:
        doc.append(f"- Controller peak memory, 20 hosts x 5 steps in a child process (`benchmarks/probe.py`, which imports "
                   f"only stackscripts; RSS high-water mark read with `getrusage(RUSAGE_CHILDREN)` by a small launcher "
                   f"that forks it, since a child forked straight from the harness starts at the harness's RSS): "
                   f"**{results.memory['maxrss_mib']:.1f} MiB**"
                   + (f"; importing stackscripts alone: {results.memory_imports['maxrss_mib']:.1f} MiB."
                      if results.memory_imports else "."))
    elif results.memory_error:
        doc.append(f"- Controller peak memory: error: {results.memory_error}")
    doc += ["", "To profile what is timed here: start hosts, write a probe spec (`benchmarks.stack.probe_spec`), then "
            "`py-spy record --idle --format raw -o out.txt -- python -m benchmarks.probe SPEC.json` (all threads, "
            "wall clock); pyinstrument's default mode sees only the main thread, which just waits on the fleet's pool."]
    doc += ["", "## Targets (from the issue)", "", "| Target | Measured | |", "|---|---|---|"]
    doc += [f"| {name} | {measured} | {_mark(met)} |" for name, measured, met in targets(results)]
    doc += ["", (Path(__file__).with_name("analysis.md")).read_text().rstrip()]
    doc += ["", "## Reference numbers measured earlier on this machine (from the issue)", "",
            "| Tool | 1 host x 5 steps | 20 hosts x 5 steps |", "|---|---|---|"]
    doc += [f"| {tool} | {a:.2f} s | {b:.2f} s |" for tool, (a, b) in REFERENCE.items()]
    doc += ["", "Cold start then: `import fabric` 0.39 s, `pyinfra --version` 0.97 s, `ansible --version` 0.85 s.", ""]
    return "\n".join(doc)


def write(results: Results, path: Path, command: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(results, command))
