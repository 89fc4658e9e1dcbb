"""docs/performance.md from the Results of one `python -m benchmarks` run (the text after the tables is
benchmarks/analysis.md, written by hand from a run's figures)."""

from __future__ import annotations

import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

from .observe import Memory
from .report import API, CLI, FABRIC, FLOOR, STEPS, Results, machine, mark, targets
from .timing import fmt_ratio, fmt_s

SETUP = """\
- Hosts: one real OpenSSH `sshd` per host on 127.0.0.1 (`tests/support/sshd.py`), each with its own host key and
  authorized client key. Every run of every tool connects from scratch (connection set-up is inside the timing).
  Each sshd sets `SetEnv SHLVL=1`, so the remote bash skips the login user's `~/.bashrc` (here a `pyenv init`);
  the harness checks that before timing.
- Workload: 5 steps; each reads an input (`MSG_n`), prints 2 lines to stdout and 2 to stderr, and writes a file.
  After every run (timed or not) every host's files are checked, so a tool that skipped work fails the run.
- **Every tool is timed as a whole process**, start-up and imports included:
  - stackscripts (CLI): `stackscripts fleet boot web1..webN --template T --db DB --quiet --parallel N` on a fresh
    SQLite store whose server records are made before the clock starts.
  - raw ssh, ControlMaster (the floor): `bash benchmarks/raw_ssh.sh mux`: per host, in parallel, an `ssh -MNf`
    master, then one `ssh host 'env ... bash -s' < stepN.sh` per step. One call: `raw_ssh.sh one`, all 5 steps
    in one `ssh host 'bash -s'`.
  - Fabric loop: `python benchmarks/fabric_loop.py SPEC` (imports nothing from this repository): a
    `fabric.Connection` per host on a socket with `TCP_NODELAY`, each step a `conn.run()`, hosts in threads.
  - pyinfra: `server.shell` per step, `-y --parallel N --no-wait`. ansible-core: `ansible.builtin.script` per
    step, `pipelining=True`, `ControlMaster=auto ControlPersist=60s`, `forks=N`, `gather_facts: false`. Both
    from `benchmarks/.venv-peers` (pinned, made by the harness).
  - The in-process row calls `api.fleet.fleet_boot` inside the harness (no start-up, no imports): it is kept to
    show what the process costs, and is not comparable to the command lines.
- Python's bytecode is cached for every Python tool, as an installed package's is (`PYTHONPYCACHEPREFIX`, even
  where `PYTHONDONTWRITEBYTECODE` is set); an untimed warm-up run of every tool comes first.
- Timed runs are rotated across tools in each repeat; nothing watches them. Then each tool makes one more run
  under watch, untimed:
  - **process starts on the hosts**, exact: the kernel's process events (netlink proc connector, as root) for
    every fork and exec on the machine, followed from each host's sshd by lineage (`benchmarks/proccount.py`):
    sshd's own per-connection processes, the remote shells and everything the steps ran. "Processes" are
    forks, "programs" execs. A lost event would be reported instead of a count.
  - **controller memory** (at the memory case): the command runs under a small launcher that forks it and reads
    the kernel's RSS high-water mark of the largest process it waited for (`getrusage(RUSAGE_CHILDREN)`; a
    forked child starts at its parent's mark, so the launcher's own 7.7 MiB is that figure's floor); and every
    process of the controller side (followed by lineage, so daemonized ssh masters too) is sampled every 50 ms
    for the sum of RSS and of PSS (shared pages divided among their sharers).
- Host CPU: each sshd's own CPU plus its reaped sessions' (`utime+stime+cutime+cstime` from `/proc/PID/stat`,
  10 ms ticks), per run, divided by hosts x steps. Hosts and controller share the same 2 cores, so host CPU is
  wall time too. Controller CPU: the harness and the children it reaped (daemonized ssh masters are not).
"""


def _cell(results: Results, hosts: int, tool: str) -> list[str]:
    s = results.cases[hosts].get(tool)
    if s is None:
        return ["-", "-"]
    text = fmt_s(s.median) + (f" ({s.spread[0]:.2f}-{s.spread[1]:.2f})" if s.spread and len(s.times) > 1 else "")
    if s.error:
        text += " [error]" if s.times else f" error: {s.error[:100]}"
    return [text, fmt_ratio(s.median, results.median(hosts, FLOOR))]


def _tools(results: Results) -> list[str]:
    found: list[str] = []
    for by in results.cases.values():
        found += [t for t in by if t not in found]
    return found


def times(results: Results) -> list[str]:
    hosts = sorted(results.cases)
    lines = ["| Tool | " + " | ".join(f"{h} host{'s' if h > 1 else ''} x 5 steps | vs floor" for h in hosts) + " |",
             "|---" * (1 + 2 * len(hosts)) + "|"]
    for tool in _tools(results):
        lines.append(f"| {tool} | " + " | ".join(c for h in hosts for c in _cell(results, h, tool)) + " |")
    errors = [f"- {s.tool}, {s.case}: {s.error}" for by in results.cases.values() for s in by.values() if s.error]
    return lines + ([""] + errors if errors else [])


def hosts_side(results: Results) -> list[str]:
    hosts = sorted(results.cases)
    lines = ["| Tool | " + " | ".join(f"{h} host{'s' if h > 1 else ''}: host CPU / processes / programs per step"
                                     for h in hosts) + " | controller CPU per run (" + ", ".join(map(str, hosts))
             + " hosts) |", "|---" * (2 + len(hosts)) + "|"]
    for tool in _tools(results):
        cells = []
        for h in hosts:
            cpu = results.host_cpu_per_step_ms(h, tool)
            starts = results.starts.get(h, {}).get(tool)
            per = ("not counted: " + starts[:60]) if isinstance(starts, str) else (
                "-" if starts is None else f"{starts[0] / (h * STEPS):.1f} / {starts[1] / (h * STEPS):.1f}")
            cells.append(f"{'-' if cpu is None else f'{cpu:.1f} ms'} / {per}")
        local = [results.cases[h][tool].cpu[0] if tool in results.cases[h] else None for h in hosts]
        cells.append(" / ".join("-" if c is None else f"{c:.2f}" for c in local) + " s")
        lines.append(f"| {tool} | " + " | ".join(cells) + " |")
    return lines


def memory(results: Results) -> list[str]:
    lines = ["| Tool | largest process (peak RSS) | all its processes: peak RSS / peak PSS (sampled) | processes |",
             "|---|---|---|---|"]
    for tool, mem in results.memory.items():
        if isinstance(mem, Memory):
            lines.append(f"| {tool} | {mem.largest_mib:.1f} MiB | {mem.rss_mib:.1f} / {mem.pss_mib:.1f} MiB | "
                         f"{mem.processes} |")
        else:
            lines.append(f"| {tool} | {mem} | | |")
    return lines


def per_step(results: Results) -> list[str]:
    lines = ["| Tool | 1 host x 5 steps | 1 host x 50 steps | per step (marginal) | host CPU per step | "
             "processes / programs per step on the host |", "|---|---|---|---|---|---|"]
    for tool, by in results.per_step.items():
        ms, cpu = results.per_step_ms(tool), results.per_step_host_cpu_ms(tool)
        starts = results.per_step_starts.get(tool, {})
        s5, s50 = starts.get(5), starts.get(50)
        per = (f"{(s50[0] - s5[0]) / 45:.2f} / {(s50[1] - s5[1]) / 45:.2f}"
               if isinstance(s5, tuple) and isinstance(s50, tuple) else str(s50 or "-")[:80])
        lines.append(f"| {tool} | {fmt_s(by[5].median)} | {fmt_s(by[50].median)} | "
                     f"{'-' if ms is None else f'{ms:.1f} ms'} | {'-' if cpu is None else f'{cpu:.1f} ms'} | {per} |")
    lines += ["", "Programs run on the host per step (the 50-step run's count less the 5-step run's, divided by 45); "
              "and, in brackets, everything a whole 1-host x 5-step run executed there, connection included:", ""]
    for tool, programs in results.per_step_programs.items():
        whole = results.programs.get(tool, {})
        lines.append(f"- {tool}: " + (", ".join(f"`{name}` {n:.2f}" for name, n in sorted(programs.items(), key=lambda x: -x[1])
                                                 if round(n, 2)) or "none")
                     + " (" + ", ".join(f"`{name}` {n}" for name, n in sorted(whole.items(), key=lambda x: -x[1])) + ")")
    return lines


def startup(results: Results) -> list[str]:
    lines = ["| Command | Time |", "|---|---|"]
    lines += [f"| `{s.tool}` | {fmt_s(s.median)}{' error: ' + s.error if s.error else ''} |" for s in results.cold]
    imp = results.imports
    if isinstance(imp, str):
        return lines + ["", f"Imports of a fleet boot: error: {imp}"]
    if imp is not None:
        lines += ["", f"`python -X importtime` of a 1-host `stackscripts fleet boot` (a checked run): {imp.total_ms:.0f} ms "
                  f"importing {imp.modules} modules (importtime's own overhead included). Libraries a fleet boot on "
                  "SQLite does not use (rich, SQLAlchemy, psycopg, boto3, libcloud, docker, procrastinate, jinja2, "
                  f"requests...) imported: **{', '.join(imp.unwanted) or 'none'}**. The costliest top-level imports "
                  "(cumulative):", ""]
        lines += [f"- {ms:.0f} ms `{name}`" for ms, name in imp.top]
    return lines


def _per_step(starts: tuple[int, int] | None, hosts: int) -> str:
    return "-" if starts is None else f"{starts[0] / (hosts * STEPS):.1f} / {starts[1] / (hosts * STEPS):.1f}"


def big_fleet(results: Results) -> list[str]:
    if not results.fleet:
        return ["Not run (`--fleet 0` or `--quick`)."]
    lines = [f"One run each on {results.fleet_hosts} sshd hosts x 5 steps (each host its own sshd on this machine).", "",
             "| Tool | wall | largest process (peak RSS) | all its processes: peak PSS | per connection | "
             "processes / programs per step on the hosts |", "|---|---|---|---|---|---|"]
    for tool, run in results.fleet.items():
        base = results.memory.get(tool)
        if run.error or run.memory is None:
            lines.append(f"| {tool} | {run.error or fmt_s(run.seconds)} | - | - | - | - |")
            continue
        per = ((run.memory.largest_mib - base.largest_mib) / (results.fleet_hosts - results.memory_hosts) * 1024
               if isinstance(base, Memory) and results.fleet_hosts > results.memory_hosts else None)
        lines.append(f"| {tool} | {fmt_s(run.seconds)} | {run.memory.largest_mib:.1f} MiB | {run.memory.pss_mib:.1f} MiB | "
                     + ("-" if per is None else f"{per:.0f} KiB (peak RSS at {results.fleet_hosts} - at "
                        f"{results.memory_hosts} hosts, divided)") + " | "
                     + _per_step(run.starts, results.fleet_hosts) + " |")
    return lines


def markdown(results: Results, command: str) -> str:
    load = "; ".join(f"{label} {'/'.join(f'{x:.2f}' for x in triple)}" for label, triple in results.load)
    doc = ["# Performance", "",
           f"Written by `{command}` on {time.strftime('%Y-%m-%d %H:%M', time.localtime(results.started))} "
           f"({results.wall / 60:.1f} min). Regenerate with `make bench` (or `python -m benchmarks`; `--quick` for 2 "
           "repeats on 1 and 20 hosts without the big fleet).", "",
           "**Timings are noisy.** This machine has 2 cores and other jobs may have run at the same time. The "
           f"1/5/15-minute load averages were: {load}. Compare ratios within one run, not numbers across runs.", "",
           "## Setup", "", SETUP, "## Machine", ""]
    doc += [f"- {k}: {v}" for k, v in machine().items()] + [f"- {k}: {v}" for k, v in results.versions.items()]
    doc += ["", f"## Wall time (medians of {results.repeat} runs, min-max in brackets)", ""] + times(results)
    doc += ["", "## On the hosts", "", "Per step (a run's figure divided by hosts x 5 steps, so the connection's "
            "share is in it): host CPU, and the processes (forks) / programs (execs) started under the hosts' sshds "
            "(one watched run). Last column: the controller's CPU per run (median).", ""] + hosts_side(results)
    doc += ["", f"## Controller memory at {results.memory_hosts} hosts", ""] + memory(results)
    doc += ["", "## Per step on an open connection", "", "One host, the same 5-step and 50-step templates, medians; "
            "per step = (T(50) - T(5)) / 45, so start-up and connecting cancel out.", ""] + per_step(results)
    doc += ["", "## Start-up (medians)", ""] + startup(results)
    doc += ["", "## The big fleet", ""] + big_fleet(results)
    doc += ["", "## Targets (issue 15; stackscripts = the CLI, a whole process)", "",
            "| Target | Measured | | By how much |", "|---|---|---|---|"]
    doc += [f"| {name} | {measured} | {mark(met)} | {how} |" for name, measured, met, how in targets(results)]
    doc += ["", f"The {API} row and {CLI} differ by the process: start-up, imports and opening the store.",
            f"{FABRIC} is the same loop as before, now a process.", ""]
    doc += [Path(__file__).with_name("analysis.md").read_text().rstrip(), ""]
    return "\n".join(doc)


def write(results: Results, path: Path, command: str) -> None:
    """The document; and the run's Results beside the harness (LAST), so the prose can be revised without a rerun."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(results, command))
    LAST.write_bytes(pickle.dumps((results, command)))


LAST = Path(tempfile.gettempdir()) / f"bench-last-results-{os.getuid()}.pickle"


def main(argv: list[str]) -> int:
    """`python -m benchmarks.report_md [OUTPUT]`: rewrite the document from the last run's Results (same figures,
    the current benchmarks/analysis.md)."""
    results, command = pickle.loads(LAST.read_bytes())
    path = Path(__file__).resolve().parents[1] / (argv[0] if argv else "docs/performance.md")
    path.write_text(markdown(results, command))
    print(f"wrote {path} from {LAST}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
