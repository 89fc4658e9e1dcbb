"""`python -m benchmarks [--quick] [--repeat N] [--hosts 1,20,50] [--fleet 500]`: stackscripts against raw OpenSSH,
the Fabric loop, pyinfra and ansible-core on real sshd hosts, every tool timed as a whole process; writes
docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import coldstart, fleet, peers, report, report_md, stack, startup
from .baselines import fabric_loop, one_call, raw_mux, ssh_version
from .hosts import Hosts, check_clean_shell, cleanup_all, install_signal_handlers, temp_dir
from .measure import Harness, log
from .proccount import available

TOOLS = {  # --tools id -> (label, run(servers, out_dir, steps) -> seconds)
    "raw-mux": (report.FLOOR, raw_mux),
    "raw-one": (report.ONE_CALL, one_call),
    "fabric": (report.FABRIC, fabric_loop),
    "cli": (report.CLI, stack.cli_run),
    "pyinfra": (report.PYINFRA, peers.pyinfra_run),
    "ansible": (report.ANSIBLE, peers.ansible_run),
    "api": (report.API, stack.api_run),
}
PEERS = (report.PYINFRA, report.ANSIBLE)
PER_STEP_TOOLS = (report.CLI, report.FABRIC, report.API)


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--quick", action="store_true", help="2 repeats, 1 and 20 hosts, no big fleet")
    p.add_argument("--repeat", type=int, help="timed runs per case (default 5; 2 with --quick)")
    p.add_argument("--hosts", help="host counts, comma-separated (default 1,20,50; 1,20 with --quick)")
    p.add_argument("--fleet", type=int, help="hosts of the big fleet (default 500; 0 with --quick: skip)")
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
    args.fleet = (0 if args.quick else 500) if args.fleet is None else args.fleet
    if not 0 <= args.fleet <= 2000:
        p.error("--fleet must be 0..2000")
    ids = [t.strip() for t in args.tools.split(",")] if args.tools else list(TOOLS)
    unknown = [t for t in ids if t not in TOOLS]
    if unknown:
        p.error(f"unknown tool(s) {unknown}; choose from {','.join(TOOLS)}")
    args.tools = [TOOLS[t][0] for t in ids]  # labels from here on
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    began = time.monotonic()
    results = report.Results(repeat=args.repeat, load=[("start", os.getloadavg())])
    install_signal_handlers()
    hosts = Hosts()
    try:
        why_not = available()
        runners = {label: run for label, run in TOOLS.values()}
        tools = list(args.tools)
        if any(t in PEERS for t in tools):
            try:
                peers.ensure_venv(log)
            except Exception as exc:  # noqa: BLE001 - the peers are reported missing; the rest runs
                log(f"benchmarks: cannot install the peers: {exc}")
                tools = [t for t in tools if t not in PEERS]
        results.versions = versions(all(t in tools for t in PEERS))
        harness = Harness(results, {t: runners[t] for t in tools}, temp_dir("bm-run-"), why_not)
        log(f"benchmarks: starting {max(args.hosts)} sshd hosts")
        servers = hosts.take(max(args.hosts))
        log(f"benchmarks: clean remote shell checked (one full ssh round trip {check_clean_shell(servers[0]):.2f} s)")
        harness.warm_up(servers[:1])
        results.memory_hosts = 50 if 50 in args.hosts else max(args.hosts)
        for count in args.hosts:
            results.load.append((f"{count} host(s)", os.getloadavg()))
            harness.case(servers[:count], args.repeat, memory=count == results.memory_hosts)
        results.load.append(("per step", os.getloadavg()))
        harness.per_step(servers[0], [t for t in PER_STEP_TOOLS if t in tools], args.repeat)
        if report.CLI in tools:
            log("benchmarks: imports of a fleet boot (python -X importtime)")
            try:
                results.imports = startup.measure(servers[0], harness.scratch, sys.executable)
            except Exception as exc:  # noqa: BLE001
                results.imports = f"{type(exc).__name__}: {exc}"[:400]
        log("benchmarks: cold start")
        results.cold = coldstart.run(cold_commands(all(t in tools for t in PEERS)), args.repeat)
        if args.fleet and report.CLI in tools and report.FABRIC in tools:
            results.load.append((f"{args.fleet} hosts", os.getloadavg()))
            results.fleet_hosts = args.fleet
            results.fleet = fleet.run(hosts, args.fleet, harness.scratch, why_not is None, runners, log)
        results.load.append(("end", os.getloadavg()))
    except KeyboardInterrupt:
        log("benchmarks: interrupted; cleaning up")
        return 130
    finally:
        hosts.close()
        cleanup_all()
    results.wall = time.monotonic() - began
    print(report.console(results))
    if not args.no_write:
        path = Path(__file__).resolve().parents[1] / args.output
        report_md.write(results, path, " ".join(["python -m benchmarks", *argv]))
        log(f"benchmarks: wrote {path}")
    return 0


def cold_commands(with_peers: bool) -> dict[str, list[str]]:
    commands = coldstart.python_floor()
    commands["stackscripts --help"] = [str(stack.console_script()), "--help"]
    if with_peers:
        commands.update(peers.cold_commands())
    return commands


def versions(with_peers: bool) -> dict[str, str]:
    import fabric
    import paramiko

    import stackscripts

    found = {"stackscripts": stackscripts.__version__, "fabric": fabric.__version__, "paramiko": paramiko.__version__,
             "OpenSSH": ssh_version()}
    if with_peers:
        found.update(peers.versions())
    return found


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
