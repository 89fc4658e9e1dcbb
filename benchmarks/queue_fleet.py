"""`python -m benchmarks.queue_fleet [--rounds 5] [--hosts 20] [--steps 5] [--workers 2]`: a queued fleet beside the
direct one on real sshd hosts (issue 13, "Performance"), processes against processes, in one run: `stackscripts fleet
boot` (the direct fleet: api/fleet.py in that process) and `stackscripts fleet boot --queue --wait` with --workers
`stackscripts worker` processes already serving. Both record to the same PostgreSQL store (a fresh database, sessions
committing synchronously as a server's default). Targets: the queued fleet within 1.2x of the direct one (the median
of each round's ratio) and the queue's overhead per unit at most 50 ms, as (queued wall - direct wall) / units of
each round, and from the store's timestamps (each unit's queue latency and its finishing). Writes its section of
docs/performance-queue.md; exit 1 when a target is missed, 2 when a part is missing (sshd, the PostgreSQL server).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import hosts as cleanup  # noqa: E402
from benchmarks import queue_probe as probe  # noqa: E402
from benchmarks import workload  # noqa: E402
from benchmarks.queue_sim import EVENTS  # noqa: E402
from benchmarks.report import machine  # noqa: E402
from benchmarks.stack import console_script  # noqa: E402
from benchmarks.store import describe, postgres, sshd_servers  # noqa: E402
from benchmarks.store_common import Missing, Row, database  # noqa: E402
from tests.support.postgres import Server, connect  # noqa: E402
from tests.support.sshd import SshdServer  # noqa: E402

RATIO, OVERHEAD = 1.2, 50.0  # queued / direct; ms a unit
PHASES = ("start-up and submit (process start -> fleet recorded)", "first unit claimed (the queue's first wave)",
          "runs (first run started -> last run ended)", "last run ended -> fleet ended in the store",
          "fleet ended -> the process exits (--wait reads the store every second)")
DIRECT = {0: "start-up, validation, connections (process start -> first run started)",
          4: "last run ended -> the process exits"}


def boot(kind: str, dsn: str, names: list[str], steps: int, work: Path, tag: str, env: dict[str, str]
         ) -> tuple[float, float, float, str]:
    """One fleet boot as a process: (wall seconds, its start and end by the clock, the fleet id if queued); every
    host's step files are checked afterwards."""
    out = work / f"out-{tag}"
    template = workload.write_template(work / f"template-{tag}", out, steps)
    argv = [str(console_script()), "fleet", "boot", "--template", str(template), *names, "--parallel",
            str(len(names)), "--db", dsn, "-q", *(["--queue=default", "--wait"] if kind == "queued" else [])]
    t0, started = time.time(), time.perf_counter()
    done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=600)
    wall, t1 = time.perf_counter() - started, time.time()
    if done.returncode != 0:
        raise RuntimeError(f"{kind} fleet exited {done.returncode}: {(done.stdout + done.stderr)[-800:]}")
    workload.verify(out, names, steps)
    shutil.rmtree(out, ignore_errors=True)
    fleet = done.stdout.split()[1] if kind == "queued" else ""
    return wall, t0, t1, fleet


def timeline(pg: Server, db: str, t0: float, t1: float, fleet: str
             ) -> tuple[list[float], list[tuple[float, float]]]:
    """A boot's phases (PHASES; a direct boot has no queue: its first two phases are one, the fourth is 0) and, for a
    queued fleet, each unit's own queue time: its job deferred -> claimed, plus its run ended -> unit ended."""
    with connect(pg, db) as conn:
        first, last, count = conn.execute("SELECT min(started), max(ended), count(*) FROM runs WHERE started >= %s "
                                          "AND started <= %s", [t0, t1]).fetchone()
        if not fleet:
            return [first - t0, 0.0, last - first, 0.0, t1 - last], []
        created, ended = conn.execute("SELECT created, ended FROM fleets WHERE id = %s", [fleet]).fetchone()
        units = conn.execute(
            "SELECT u.started - extract(epoch FROM d.at), u.ended - r.ended, u.started FROM fleet_units u "
            "JOIN runs r ON r.id = u.run_id JOIN bench_job_events d ON d.job_id = u.job_id AND d.type = 'deferred' "
            "WHERE u.fleet_id = %s", [fleet]).fetchall()
    if len(units) != count:
        raise RuntimeError(f"fleet {fleet}: {len(units)} units with their runs and jobs, {count} runs recorded")
    claimed = min(float(u[2]) for u in units)
    return ([created - t0, claimed - created, last - first, ended - last, t1 - ended],
            [(float(u[0]), float(u[1])) for u in units])


def measure(pg: Server, db: str, names: list[str], args: argparse.Namespace, work: Path) -> list[Row]:
    """A warm-up of each (host keys recorded), then --rounds rounds of both, the order swapped every other round."""
    env = probe.worker_env(pg)
    walls: dict[str, list[float]] = {"direct": [], "queued": []}
    phases: dict[str, list[list[float]]] = {"direct": [], "queued": []}
    own: list[tuple[float, float]] = []
    for kind in walls:
        boot(kind, pg.dsn(db), names, args.steps, work, f"warm-{kind}", env)
    for i in range(args.rounds):
        for kind in ("direct", "queued") if i % 2 == 0 else ("queued", "direct"):
            wall, t0, t1, fleet = boot(kind, pg.dsn(db), names, args.steps, work, f"{i}-{kind}", env)
            walls[kind].append(wall)
            spans, per_unit = timeline(pg, db, t0, t1, fleet)
            phases[kind].append(spans)
            own += per_unit
            print(f"queue_fleet: round {i + 1} {kind}: {wall:.2f} s", file=sys.stderr, flush=True)
    units = len(names)
    shape = f"{units} hosts x {args.steps} steps"
    rows = [Row(f"direct fleet: `stackscripts fleet boot` ({shape})", walls["direct"], "s"),
            Row(f"queued fleet: `stackscripts fleet boot --queue --wait`, {args.workers} workers serving ({shape})",
                walls["queued"], "s"),
            Row("queued / direct, each round's pair", [q / d for q, d in zip(walls["queued"], walls["direct"],
                                                                             strict=True)], "x", RATIO),
            Row("queue overhead per unit: (queued wall - direct wall) / units, each round's pair",
                [(q - d) / units * 1000 for q, d in zip(walls["queued"], walls["direct"], strict=True)], "ms",
                OVERHEAD),
            spread(f"queue overhead per unit from the store: job deferred -> claimed, plus run ended -> unit ended "
                   f"(each of {len(own)} units; min-max: p5-p95)", [a + b for a, b in own], OVERHEAD),
            spread("  of which job deferred -> unit claimed by a worker", [a for a, _ in own]),
            spread("  of which run ended -> unit ended (finish_unit)", [b for _, b in own])]
    for n, label in enumerate(PHASES):
        for kind in walls:
            if kind == "direct" and n in (1, 3):
                continue
            what = DIRECT.get(n, label) if kind == "direct" else label
            rows.append(Row(f"{kind}: {what}", [p[n] for p in phases[kind]], "s"))
    return rows


def spread(label: str, seconds: list[float], limit: float | None = None) -> Row:
    """A distribution as a Row in ms: its median, and p5-p95 as the min-max."""
    return Row(label, [v * 1000 for v in probe.percentiles(seconds, (0.05, 0.5, 0.95))] if seconds else [], "ms", limit)


def report(rows: list[Row], args: argparse.Namespace, command: str, setting: str, load: list[float]) -> str:
    m = machine()
    lines = [f"## A queued {args.hosts}-host x {args.steps}-step fleet beside the direct one", "",
             f"Generated by `{command}` on {time.strftime('%Y-%m-%d')}: {m['nproc']} CPUs ({m['cpu']}), "
             f"{m['memory']}, Python {m['python'].split()[0]}, load average {load[0]:.1f} before and {load[-1]:.1f} "
             f"after. Made by `benchmarks/queue_fleet.py`. Medians of {args.rounds} rounds (min-max beside), the order "
             "swapped every other round, after one warm-up of each.", "", setting, "",
             f"- **Hosts**: {args.hosts} real sshd servers on 127.0.0.1 (tests/support/sshd.py), one per server, added "
             f"to the store with their keys; the template's {args.steps} steps each print five lines and write a "
             "file that is checked on every host after every boot.",
             f"- **Direct**: `stackscripts fleet boot --template T web1 ... web{args.hosts} --parallel {args.hosts} "
             "--db DSN -q` (api/fleet.py in that process). **Queued**: the same with `--queue=default --wait`, while "
             f"{args.workers} `stackscripts worker --db DSN --concurrency {args.hosts}` processes serve (started "
             "before the rounds). Each wall is the process's, start to exit.",
             "- **Overhead per unit**: two measures. (a) The issue's formula on the walls, (queued - direct) / units, "
             "each round's pair. (b) From the store's timestamps, each unit's own queue time: its job deferred "
             "(Procrastinate's `deferred` event, copied by a trigger the benchmark adds) to the unit claimed "
             "(`fleet_units.started`), plus its run ended to the unit ended (`finish_unit`, which also queues the "
             "next units); its min-max are that distribution's p5 and p95. The phases below split each wall by the "
             "store's timestamps.", "",
             "| Measure | Median | Min-max | Target | Verdict |", "|---|---|---|---|---|"]
    lines += [probe.cells(*row.cells()) for row in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.queue_fleet", description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=5, help="rounds of both fleets (default 5)")
    p.add_argument("--hosts", type=int, default=20, help="sshd hosts, one server each (default 20)")
    p.add_argument("--steps", type=int, default=5, help="steps of the template (default 5)")
    p.add_argument("--workers", type=int, default=2, help="worker processes serving the queue (default 2)")
    p.add_argument("--output", default=probe.REPORT, help="report file ('-': print only)")
    args = p.parse_args(argv)
    if min(args.rounds, args.hosts, args.steps, args.workers) < 1:
        p.error("--rounds, --hosts, --steps and --workers: 1 or more")
    command = " ".join(["python -m benchmarks.queue_fleet", *(sys.argv[1:] if argv is None else argv)])
    cleanup.install_signal_handlers()
    load = [os.getloadavg()[0]]
    try:
        pg = postgres()
        work = cleanup.temp_dir("bench-qfleet-")
        servers = sshd_servers(args.hosts)
        names = [f"web{i}" for i in range(1, args.hosts + 1)]
        with database(pg, "on") as db:
            prepare(pg, db, names, servers)
            argv_worker = [str(console_script()), "worker", "--db", pg.dsn(db), "--concurrency", str(args.hosts)]
            procs = probe.start_workers([argv_worker] * args.workers, probe.worker_env(pg), work)
            try:
                probe.wait_workers(pg, db, procs)
                rows = measure(pg, db, names, args, work)
            finally:
                probe.stop_workers(procs)
        load.append(os.getloadavg()[0])
    except Missing as exc:
        print(f"not run: missing {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("queue_fleet: interrupted", file=sys.stderr)
        return 130
    finally:
        cleanup.cleanup_all()
    text = report(rows, args, command, describe(pg), load)
    print(text)
    if args.output != "-":
        print(f"queue_fleet: wrote {probe.write_section('queue_fleet', text, args.output)}", file=sys.stderr)
    return 1 if any(row.over for row in rows) else 0


def prepare(pg: Server, db: str, names: list[str], servers: list[SshdServer]) -> None:
    """The store's schema, the servers with their keys, the queue's tables and the copy of the queue's events."""
    from stackscripts.api.controller import Controller
    from stackscripts.api.queued import open_queue

    with Controller(pg.dsn(db)) as c:
        for name, host in zip(names, servers, strict=True):
            c.add_server(name, f"{host.user}@{host.host}", host.port, host.key_path)
        open_queue(c).close()
    with connect(pg, db) as conn:
        conn.execute(EVENTS)


if __name__ == "__main__":
    sys.exit(main())
