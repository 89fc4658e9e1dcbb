"""`python -m benchmarks [--quick] [--repeat N] [--hosts 1,20,50]`: stackscripts against raw OpenSSH,
Fabric, pyinfra and ansible-core on real sshd hosts; prints medians and writes docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import baselines, coldstart, peers, report, stack, workload
from .hosts import Hosts, check_clean_shell, cleanup_all, host_cpu, install_signal_handlers, local_cpu, temp_dir
from .timing import Sample, bounded

STEPS = 5
MEMORY_HOSTS = 20
TOOLS: dict[str, tuple[str, Callable]] = {  # --tools id -> (label, run(servers, out_dir, steps) -> seconds)
    "raw-mux": (report.FLOOR, baselines.raw_mux),
    "raw-one": ("raw ssh, one call", baselines.one_call),
    "fabric": ("Fabric loop", baselines.fabric_loop),
    "api": (report.API, stack.api_run),
    "cli": (report.CLI, stack.cli_run),
    "pyinfra": ("pyinfra", peers.pyinfra_run),
    "ansible": ("ansible-core", peers.ansible_run),
}
RUNNERS = dict(TOOLS.values())  # label -> run
PEERS = ("pyinfra", "ansible-core")  # labels


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--quick", action="store_true", help="2 repeats, 1 and 20 hosts only")
    p.add_argument("--repeat", type=int, help="runs per case (default 5; 2 with --quick)")
    p.add_argument("--hosts", help="host counts, comma-separated (default 1,20,50; 1,20 with --quick)")
    p.add_argument("--tools", help="only these tools, comma-separated ids: " + ",".join(TOOLS))
    p.add_argument("--output", default="docs/performance.md", help="report file, relative to the repo root")
    p.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = p.parse_args(argv)
    args.repeat = args.repeat or (2 if args.quick else 5)
    if not 1 <= args.repeat <= 50:
        p.error("--repeat must be 1..50")
    try:
        args.hosts = [int(h) for h in (args.hosts or ("1,20" if args.quick else "1,20,50")).split(",")]
    except ValueError:
        p.error("--hosts takes numbers like 1,20,50")
    if any(not 1 <= h <= 100 for h in args.hosts):
        p.error("--hosts: each count must be 1..100")
    ids = [t.strip() for t in args.tools.split(",")] if args.tools else list(TOOLS)
    unknown = [t for t in ids if t not in TOOLS]
    if unknown:
        p.error(f"unknown tool(s) {unknown}; choose from {','.join(TOOLS)}")
    args.tools = [TOOLS[t][0] for t in ids]  # labels from here on
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def one_run(tool: str, servers: list, scratch: Path, sample: Sample, steps: int = STEPS) -> Callable[[], float]:
    """One timed run of tool on servers, checked afterwards; records controller and host CPU on sample."""

    def run() -> float:
        work = Path(os.path.join(scratch, f"{tool.split()[0].strip('(,')}-{time.monotonic_ns()}"))
        out_dir = work / "out"
        out_dir.mkdir(parents=True)
        try:
            local, remote = local_cpu(), host_cpu(servers)
            elapsed = bounded(lambda: RUNNERS[tool](servers, out_dir, steps))
            workload.verify(out_dir, [f"web{i}" for i in range(1, len(servers) + 1)], steps)
            time.sleep(0.3)  # let sshd reap this run's sessions (their CPU lands in its cutime/cstime)
            sample.cpu_local.append(local_cpu() - local)
            sample.cpu_hosts.append(host_cpu(servers) - remote)
            return elapsed
        finally:
            shutil.rmtree(work, ignore_errors=True)

    return run


def main(argv: list[str]) -> int:
    args = parse(argv)
    results = report.Results(repeat=args.repeat, load=[os.getloadavg()])
    install_signal_handlers()
    hosts = Hosts()
    try:
        peer_error = None
        if any(t in PEERS for t in args.tools):
            try:
                peers.ensure_venv(log)
            except Exception as exc:  # noqa: BLE001 - report the peers as unavailable, run the rest
                peer_error = f"cannot install the peers: {exc}"
                log(f"benchmarks: {peer_error}")
        results.versions = versions(peer_error is None)
        scratch = temp_dir("bm-run-")
        log(f"benchmarks: starting {max(args.hosts + [MEMORY_HOSTS])} sshd hosts")
        servers = hosts.take(max(args.hosts + [MEMORY_HOSTS]))
        log(f"benchmarks: clean remote shell checked (one full ssh round trip {check_clean_shell(servers[0]):.2f} s)")
        for count in args.hosts:
            samples = results.cases.setdefault(count, {})
            for tool in args.tools:
                samples[tool] = Sample(tool, f"{count} hosts")
                if tool in PEERS and peer_error:
                    samples[tool].error = peer_error
            for r in range(args.repeat):
                order = args.tools[r % len(args.tools):] + args.tools[:r % len(args.tools)]  # rotate: spread noise
                for tool in order:
                    samples[tool].add(one_run(tool, servers[:count], scratch, samples[tool]))
                done = ", ".join(f"{t} {samples[t].times[-1]:.2f}" for t in args.tools if len(samples[t].times) > r)
                log(f"benchmarks: {count} host(s), run {r + 1}/{args.repeat}: {done}")
        if report.API in args.tools:
            measure_stackscripts_extras(results, servers, scratch, args.repeat)
        cold = coldstart.python_floor()
        cold["stackscripts --help"] = [str(stack.console_script()), "--help"]
        if peer_error is None and peers.bin_path("ansible").exists() and peers.bin_path("pyinfra").exists():
            cold.update(peers.cold_commands())
        log("benchmarks: cold start")
        results.cold = coldstart.run(cold, args.repeat)
        results.load.append(os.getloadavg())
    except KeyboardInterrupt:
        log("benchmarks: interrupted; cleaning up")
        return 130
    finally:
        hosts.close()
        cleanup_all()
    print(report.console(results))
    if not args.no_write:
        path = Path(__file__).resolve().parents[1] / args.output
        report.write(results, path, " ".join(["python -m benchmarks", *argv]))
        log(f"benchmarks: wrote {path}")
    return 0


def measure_stackscripts_extras(results: report.Results, servers: list, scratch: Path, repeat: int) -> None:
    """Per-step latency on one open connection (1 host x 5 and x 50 steps) and peak memory at 20 hosts."""
    log("benchmarks: per-step latency (1 host x 5 and x 50 steps)")
    for steps in ("5", "50"):
        results.per_step[steps] = Sample(report.API, f"1 host x {steps} steps")
    for _ in range(repeat):
        for steps in ("5", "50"):
            results.per_step[steps].add(_boot_one(servers[0], scratch, int(steps)))
    log(f"benchmarks: controller peak memory ({MEMORY_HOSTS} hosts x {STEPS} steps, child process)")
    try:
        results.memory_imports = stack.peak_rss(servers[:MEMORY_HOSTS], _fresh(scratch), STEPS, import_only=True)
        results.memory = stack.peak_rss(servers[:MEMORY_HOSTS], _fresh(scratch), STEPS)
    except Exception as exc:  # noqa: BLE001
        results.memory_error = str(exc)[:400]


def _fresh(scratch: Path) -> Path:
    out = scratch / f"probe-{time.monotonic_ns()}" / "out"
    out.mkdir(parents=True)
    return out


def _boot_one(server, scratch: Path, steps: int) -> Callable[[], float]:  # type: ignore[no-untyped-def]
    def run() -> float:
        out = _fresh(scratch)
        try:
            elapsed = bounded(lambda: stack.boot_one(server, out, steps))
            workload.verify(out, ["web1"], steps)
            return elapsed
        finally:
            shutil.rmtree(out.parent, ignore_errors=True)

    return run


def versions(with_peers: bool) -> dict[str, str]:
    import fabric
    import paramiko

    import stackscripts

    found = {"stackscripts": stackscripts.__version__, "fabric": fabric.__version__, "paramiko": paramiko.__version__,
             "OpenSSH": baselines.ssh_version()}
    if with_peers:
        found.update(peers.versions())
    return found


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
