"""`python -m benchmarks.queue_sim [--servers 10000] [--workers 1,2,4,8] [--parallel 1000] [--step-seconds 0.2]`: the
scale simulation of issue 13 (part 7). A fleet of --servers servers x --steps steps goes through the real queue
(Procrastinate) and the real PostgreSQL store, booted by 1, 2, 4 and 8 worker processes whose transport is simulated
(benchmarks/sim_transport.py: each step prints and sleeps, no SSH). Per worker count: units a second, store writes a
second, queue latency, and the CPU of the workers, of PostgreSQL and of the machine (where it saturates); then the
statements one unit costs (benchmarks/queue_sim_profile.py). Each worker count boots the fleet in its own copy of one
prepared database (the servers added with `Controller.add_server`). Writes its section of docs/performance-queue.md.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import hosts as cleanup  # noqa: E402
from benchmarks import queue_probe as probe  # noqa: E402
from benchmarks import sim_transport, workload  # noqa: E402
from benchmarks.store import describe, postgres  # noqa: E402
from benchmarks.store_common import Missing  # noqa: E402
from tests.support.postgres import Server, connect  # noqa: E402

# a copy of every Procrastinate event (deferred, started, succeeded...), which Procrastinate deletes with its job
EVENTS = """CREATE TABLE bench_job_events (job_id bigint, type text, at timestamptz);
CREATE FUNCTION bench_keep_event() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO bench_job_events VALUES (NEW.job_id, NEW.type::text, NEW.at); RETURN NEW; END; $$;
CREATE TRIGGER bench_keep_event AFTER INSERT ON procrastinate_events FOR EACH ROW EXECUTE FUNCTION bench_keep_event();"""
PER_WORKER = 5  # connections a worker holds besides its store pool: Procrastinate's pool (up to 4) and its LISTEN


@dataclass
class Result:
    """One worker count's boot of the whole fleet."""

    workers: int
    concurrency: int
    pool: int
    wall: float = 0.0  # submit_boot called -> the fleet ended (the store's clock)
    submit: float = 0.0
    steady: float = 0.0  # units a second between the 10th and the 90th percentile of units ended
    states: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)  # "state: message" -> units not succeeded
    rows: int = 0  # runs + steps + chunks written
    counters: dict[str, int] = field(default_factory=dict)
    latency: list[float] = field(default_factory=list)  # job deferred -> unit claimed, seconds, each unit
    pickup: list[float] = field(default_factory=list)  # job deferred -> Procrastinate's worker took it
    first: list[float] = field(default_factory=list)  # latency of the first wave (position < --parallel)
    run_time: list[float] = field(default_factory=list)  # each run's started -> ended
    cpu: dict[str, float] = field(default_factory=dict)  # cores: workers, backends, background; machine shares
    lock_waits: list[int] = field(default_factory=list)
    connections: int = 0
    rss: float = 0.0  # the largest worker process's peak resident memory, MiB

    @property
    def units(self) -> int:
        return sum(self.states.values())


def make_base(pg: Server, count: int, work: Path) -> tuple[str, list[str], float]:
    """A database with the store's schema, `count` servers added through the API, the queue's tables and the event
    copy: (its name, the servers' names, seconds spent adding them)."""
    from stackscripts.api.controller import Controller
    from stackscripts.api.queued import open_queue

    name = f"sst_qsim_{os.getpid()}_{secrets.token_hex(3)}"
    with connect(pg) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    def drop() -> None:
        with connect(pg) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    cleanup.on_cleanup(drop)
    names = [f"sim{i:06d}" for i in range(1, count + 1)]
    with Controller(pg.dsn(name), transport="sim") as c:
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: c.add_server(n, "root@127.0.0.1", 22), names))
        adding = time.perf_counter() - started
        open_queue(c).close()
    with connect(pg, name) as conn:
        conn.execute(EVENTS)
    return name, names, adding


def connection_budget(pg: Server) -> int:
    """Connections free for the workers: max_connections less the reserved ones, those in use and 10 to spare."""
    with connect(pg) as conn:
        limit = int(conn.execute("SHOW max_connections").fetchone()[0])
        reserved = int(conn.execute("SHOW superuser_reserved_connections").fetchone()[0])
        used = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'").fetchone()[0]
    return limit - reserved - used - 10


def boot_fleet(pg: Server, db: str, workers: int, args: argparse.Namespace, template: Path, names: list[str],
               work: Path, budget: int) -> Result:
    """Start the workers, queue the fleet, follow it to its end; its figures from the store afterwards."""
    from stackscripts.api.controller import Controller
    from stackscripts.api.queued import submit_boot

    concurrency = math.ceil(args.parallel / workers)
    pool = min(args.pool, max(1, budget // workers - PER_WORKER))
    result = Result(workers, concurrency, pool)
    env = probe.worker_env(pg, {sim_transport.STEP_ENV: str(args.step_seconds), "STACKSCRIPTS_DB_POOL": str(pool)})
    procs = probe.start_workers([probe.sim_worker(pg.dsn(db), concurrency)] * workers, env, work)
    try:
        probe.wait_workers(pg, db, procs)
        before = probe.db_counters(pg, db)
        meter = probe.CpuMeter(pg, db, [p.pid for p in procs])
        meter.start()
        t0, started = time.time(), time.perf_counter()
        with Controller(pg.dsn(db), transport="sim") as c:
            fleet = submit_boot(c, names, template, parallel=args.parallel, max_errors=args.max_errors).fleet
        result.submit = time.perf_counter() - started
        with connect(pg, db) as conn:
            while time.perf_counter() - started < args.timeout:
                time.sleep(1.0)
                meter.sample()
                waits, conns = conn.execute(
                    "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), count(*) FROM pg_stat_activity "
                    "WHERE datname = %s", [db]).fetchone()
                result.lock_waits.append(int(waits))
                result.connections = max(result.connections, int(conns) - 1)
                state, ended = conn.execute("SELECT state, ended FROM fleets WHERE id = %s", [fleet.id]).fetchone()
                if state not in ("running", "cancelling"):
                    break
            else:
                raise RuntimeError(f"the fleet did not end within {args.timeout:.0f} s")
        result.wall = ended - t0
        elapsed = time.perf_counter() - started
        busy, iowait = meter.machine_share()
        result.rss = max(probe.peak_rss(p.pid) for p in procs)
        result.cpu = {"workers": meter.seconds("workers") / elapsed, "backends": meter.seconds("backends") / elapsed,
                      "background": meter.seconds("background") / elapsed, "busy": busy, "iowait": iowait}
    except BaseException:
        probe.stop_workers(procs)
        probe.show_logs(work)
        raise
    probe.stop_workers(procs)
    time.sleep(1.5)  # the workers' backends have exited and reported their counters
    after = probe.db_counters(pg, db)
    result.counters = {k: after[k] - before[k] for k in after}
    try:
        figures(pg, db, fleet.id, args, result)
    except RuntimeError:
        probe.show_logs(work)
        raise
    return result


def figures(pg: Server, db: str, fleet: str, args: argparse.Namespace, result: Result) -> None:
    """Unit states, rows written, each unit's latency and each run's time, from the store (every step checked)."""
    with connect(pg, db) as conn:
        result.states = dict(conn.execute("SELECT state, count(*) FROM fleet_units WHERE fleet_id = %s GROUP BY state",
                                          [fleet]).fetchall())
        runs, steps, bad, chunks = conn.execute(
            "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM steps), (SELECT count(*) FROM steps WHERE "
            "exit_code IS DISTINCT FROM 0) + (SELECT count(*) FROM runs WHERE state <> 'succeeded'), "
            "(SELECT count(*) FROM chunks)").fetchone()
        units = conn.execute(
            "SELECT u.position, u.started - extract(epoch FROM d.at), extract(epoch FROM s.at) - extract(epoch FROM "
            "d.at), u.ended, r.ended - r.started FROM fleet_units u LEFT JOIN runs r ON r.id = u.run_id "
            "LEFT JOIN bench_job_events d ON d.job_id = u.job_id AND d.type = 'deferred' "
            "LEFT JOIN bench_job_events s ON s.job_id = u.job_id AND s.type = 'started' "
            "WHERE u.fleet_id = %s", [fleet]).fetchall()
        result.errors = {f"{r[0]}: {r[1]}": int(r[2]) for r in conn.execute(
            "SELECT state, message, count(*) FROM fleet_units WHERE fleet_id = %s AND state <> 'succeeded' "
            "GROUP BY state, message ORDER BY 3 DESC", [fleet]).fetchall()}
    # a unit in error after its run succeeded (the worker failed around it) is counted and reported, not fatal
    errors = sum(result.errors.values())
    if set(result.states) - {"succeeded", "error"} or len(units) != result.units \
            or not result.units - errors <= runs <= result.units or steps != runs * args.steps or bad:
        raise RuntimeError(f"the fleet did not boot every server once: units {result.states}, {runs} runs, {steps} "
                           f"steps ({bad} steps not exiting 0 or runs not succeeded); {result.errors}")
    result.rows = runs + steps + chunks
    result.latency = [float(u[1]) for u in units if u[1] is not None]
    result.pickup = [float(u[2]) for u in units if u[2] is not None]
    result.first = [float(u[1]) for u in units if u[1] is not None and u[0] < args.parallel]
    result.run_time = [float(u[4]) for u in units if u[4] is not None]
    ended = sorted(float(u[3]) for u in units)
    lo, hi = ended[len(ended) // 10], ended[len(ended) * 9 // 10]
    result.steady = (len(ended) * 9 // 10 - len(ended) // 10) / max(hi - lo, 1e-9)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.queue_sim", description=__doc__.split("\n")[0])
    p.add_argument("--servers", type=int, default=10_000, help="servers in the fleet (default 10000)")
    p.add_argument("--steps", type=int, default=5, help="steps of the template (default 5)")
    p.add_argument("--workers", default="1,2,4,8", help="worker process counts, comma-separated (default 1,2,4,8)")
    p.add_argument("--parallel", type=int, default=1000, help="the fleet's --parallel; each of W workers serves "
                   "parallel/W units at once (default 1000)")
    p.add_argument("--step-seconds", type=float, default=0.2, help="each simulated step's sleep (default 0.2)")
    p.add_argument("--max-errors", default="1%", help="the fleet's --max-errors (default 1%%): units in error are "
                   "reported beside the figures")
    p.add_argument("--pool", type=int, default=8, help="STACKSCRIPTS_DB_POOL of each worker, lowered when the "
                   "workers would pass max_connections (default 8)")
    p.add_argument("--profile-units", type=int, default=200, help="units of the in-process run that counts "
                   "statements per unit (0: none; default 200)")
    p.add_argument("--timeout", type=float, default=3600, help="seconds one worker count may take (default 3600)")
    p.add_argument("--output", default=probe.REPORT, help="report file ('-': print only)")
    args = p.parse_args(argv)
    try:
        args.workers = [int(w) for w in args.workers.split(",")]
    except ValueError:
        p.error("--workers takes counts like 1,2,4,8")
    if min(args.servers, args.steps, args.parallel, args.pool, *args.workers) < 1 or not 0 <= args.step_seconds <= 60:
        p.error("--servers, --steps, --parallel, --pool and each worker count: 1 or more; --step-seconds 0 to 60")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from benchmarks import queue_sim_profile

    command = " ".join(["python -m benchmarks.queue_sim", *(sys.argv[1:] if argv is None else argv)])
    try:
        pg = postgres()
    except Missing as exc:
        print(f"not run: missing {exc}", file=sys.stderr)
        return 2
    cleanup.install_signal_handlers()
    load = [os.getloadavg()[0]]
    results: list[Result] = []
    explained: list[str] = []
    failed: dict[int, str] = {}
    try:
        work = cleanup.temp_dir("bench-qsim-")
        template = workload.write_template(work / "template", work / "out", args.steps)
        print(f"queue_sim: adding {args.servers} servers", file=sys.stderr, flush=True)
        base, names, adding = make_base(pg, args.servers, work)
        budget = connection_budget(pg)
        for workers in args.workers:
            with probe.clone(pg, base) as db:
                try:
                    results.append(boot_fleet(pg, db, workers, args, template, names, work, budget))
                except RuntimeError as exc:  # reported, and the other worker counts still measured
                    failed[workers] = str(exc)[:600]
                    print(f"queue_sim: {workers} worker(s): {exc}", file=sys.stderr, flush=True)
                else:
                    print(f"queue_sim: {workers} worker(s): {results[-1].units / results[-1].wall:.0f} units/s",
                          file=sys.stderr, flush=True)
                if workers == args.workers[-1]:
                    explained = queue_sim_profile.explain(pg, db, args.servers)
        profiled = queue_sim_profile.statements(pg, base, names, template, args) if args.profile_units else []
        load.append(os.getloadavg()[0])
    except KeyboardInterrupt:
        print("queue_sim: interrupted", file=sys.stderr)
        return 130
    finally:
        cleanup.cleanup_all()
    text = queue_sim_profile.report(results, args, command, describe(pg), load, adding, profiled, explained, failed)
    print(text)
    if args.output != "-":
        print(f"queue_sim: wrote {probe.write_section('queue_sim', text, args.output)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
