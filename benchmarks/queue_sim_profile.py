"""The scale simulation's profile and report (benchmarks/queue_sim.py): the statements one queued unit costs (a small
fleet through a Worker in this process, every psycopg statement traced by thread), EXPLAIN ANALYZE of the statements
a finishing unit runs under its fleet's row lock (at the fleet's size and at 100,000 units), and the markdown."""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks import queue_probe as probe
from benchmarks import sim_transport
from benchmarks.report import machine
from tests.support.postgres import Server, connect

ACTIVE = "('pending', 'queued', 'running')"
FINISHING = {  # what FleetsSQL.finish_unit / _queue_next / _end_if_done run for each unit that ends (store/sql_fleets.py)
    "room under --parallel (count queued + running)":
        "SELECT count(*) FROM fleet_units WHERE fleet_id = %s AND state IN ('queued', 'running')",
    "the next pending units (LIMIT room)":
        "SELECT server, unit, after FROM fleet_units WHERE fleet_id = %s AND state = 'pending' ORDER BY position LIMIT 1",
    "the fleet's end check (count of units pending, queued or running)":
        f"SELECT count(*) FROM fleet_units WHERE fleet_id = %s AND state IN {ACTIVE}",
    "proposed end check: EXISTS over the same states":
        f"SELECT EXISTS (SELECT 1 FROM fleet_units WHERE fleet_id = %s AND state IN {ACTIVE})",
}


@contextmanager
def traced() -> Iterator[list[tuple[str, str, float, float]]]:
    """Every statement psycopg runs in this process meanwhile, sync and async: (thread, SQL, start, seconds)."""
    import psycopg

    seen: list[tuple[str, str, float, float]] = []
    saved = [(cls, name, getattr(cls, name)) for cls in (psycopg.Cursor, psycopg.AsyncCursor)
             for name in ("execute", "executemany")]

    def note(query: Any, started: float) -> None:
        text = query.decode() if isinstance(query, bytes) else query if isinstance(query, str) else repr(query)
        text = " ".join(text.split()) or "(empty: psycopg_pool checks a connection it hands to Procrastinate)"
        seen.append((threading.current_thread().name, text, started, time.perf_counter() - started))

    def wrap(method: Any, is_async: bool) -> Any:
        if is_async:
            async def traced_async(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return await method(self, query, *args, **kwargs)
                finally:
                    note(query, started)
            return traced_async

        def traced_sync(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return method(self, query, *args, **kwargs)
            finally:
                note(query, started)
        return traced_sync

    for cls, name, method in saved:
        setattr(cls, name, wrap(method, cls is psycopg.AsyncCursor))
    try:
        yield seen
    finally:
        for cls, name, method in saved:
            setattr(cls, name, method)


def statements(pg: Server, base: str, names: list[str], template: Path, args: argparse.Namespace) -> list[str]:
    """A fleet of --profile-units servers booted by one Worker in this process, every statement traced: the
    statements and transactions per unit (Procrastinate's included), grouped, and how long a finishing unit holds
    its fleet's row lock (from its `SELECT ... FOR UPDATE` to its COMMIT)."""
    from stackscripts.api.controller import Controller
    from stackscripts.api.queued import fleet_status, submit_boot
    from stackscripts.api.worker import Worker

    units = min(args.profile_units, len(names))
    os.environ[sim_transport.STEP_ENV] = str(args.step_seconds)
    with probe.clone(pg, base) as db, Controller(pg.dsn(db), transport="sim") as c:
        worker = Worker(c, concurrency=units)
        thread = threading.Thread(target=worker.run, name="bench-worker", daemon=True)
        thread.start()
        probe.wait_workers(pg, db, [], count=1)
        with traced() as seen:
            with Controller(pg.dsn(db), transport="sim") as submitter:
                fleet = submit_boot(submitter, names[:units], template, parallel=units).fleet
            started = time.perf_counter()
            while fleet_status(c, fleet.id).state in ("running", "cancelling"):
                time.sleep(0.5)
            wall = time.perf_counter() - started
        worker.stop()
        thread.join(60)
    ours = [s for s in seen if s[0] != "MainThread"]
    groups: dict[str, list[float]] = {}
    for _, sql, _, spent in ours:
        groups.setdefault(sql[:140], []).append(spent)
    commits = len(groups.get("COMMIT", []))
    lines = [f"{units} units x {args.steps} steps, one Worker (concurrency {units}) in this process, {wall:.1f} s: "
             f"{len(ours) / units:.1f} statements and {commits / units:.1f} COMMITs per unit from the worker's "
             f"threads (store and Procrastinate); each statement is one round trip. Costliest first:"]
    for sql, times in sorted(groups.items(), key=lambda kv: -sum(kv[1]))[:14]:
        lines.append(f"  {len(times) / units:5.2f}/unit x {sum(times) / len(times) * 1000:6.2f} ms: {sql}")
    held = lock_holds(ours)
    if held:
        mid = probe.percentiles(held, (0.5,))[0]
        lines.append(f"the fleet's row locked {len(held) / units:.1f} times a unit (claim_unit and finish_unit, FOR "
                     f"UPDATE to COMMIT), median {mid * 1000:.1f} ms each, {sum(held) / units * 1000:.1f} ms a unit in "
                     f"all: one fleet's claims and finishes take turns, so at these hold times one fleet ends at most "
                     f"{units / max(sum(held), 1e-9):,.0f} units/s however many workers it has (the {units} threads "
                     "of this one process share one interpreter, which lengthens the holds)")
    return lines


def lock_holds(seen: list[tuple[str, str, float, float]]) -> list[float]:
    """Seconds from each `SELECT * FROM fleets ... FOR UPDATE` to the COMMIT that follows it in the same thread."""
    open_at: dict[str, float] = {}
    held = []
    for thread, sql, started, spent in seen:
        if sql.startswith("SELECT * FROM fleets WHERE id") and "FOR UPDATE" in sql:
            open_at.setdefault(thread, started)
        elif sql in ("COMMIT", "ROLLBACK") and thread in open_at:
            held.append(started + spent - open_at.pop(thread))
    return held


def explain(pg: Server, db: str, units: int, big: int = 100_000) -> list[str]:
    """EXPLAIN ANALYZE of what each finishing unit runs, on the fleet just booted and on two made-up fleets of `big`
    units inserted in SQL beside it: one just started (1% running, the rest pending), one nearly done (1% running,
    1% pending, the rest succeeded)."""
    lines: list[str] = []
    shapes = {"fearly": (big // 100, big), "flate": (big // 100, big // 50)}  # running below, pending below
    with connect(pg, db) as conn:
        fleet = conn.execute("SELECT id FROM fleets ORDER BY created DESC LIMIT 1").fetchone()[0]
        for fid, (running, pending) in shapes.items():
            conn.execute("INSERT INTO fleets (id, kind, phase, queue, parallel, max_errors, budget, state, created) "
                         "VALUES (%s, 'fleet', 'Boot', 'default', 1000, '0', 0, 'running', 0)", [fid])
            conn.execute("INSERT INTO fleet_units (fleet_id, server, position, state, unit) SELECT %s, 'big' || i, i, "
                         "CASE WHEN i < %s THEN 'running' WHEN i < %s THEN 'pending' ELSE 'succeeded' END, '{}' "
                         "FROM generate_series(0, %s) AS i", [fid, running, pending, big - 1])
        conn.execute("ANALYZE fleet_units")
        for label, fid in ((f"the booted fleet ({units:,} units, all ended)", fleet),
                           (f"a fleet of {big:,} units just started (1% running, 99% pending)", "fearly"),
                           (f"a fleet of {big:,} units nearly done (1% running, 1% pending)", "flate")):
            lines.append(f"{label}:")
            for what, sql in FINISHING.items():
                plan = [r[0] for r in conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", [fid]).fetchall()]
                spent = next((p.split(":", 1)[1].strip() for p in plan if p.startswith("Execution Time")), "?")
                scans = " / ".join(p.strip() for p in plan if "Scan" in p)[:160]
                lines.append(f"  {what}: {spent} ({scans})")
    from stackscripts.store import open_store

    with open_store(pg.dsn(db)) as store:
        for fid, size in ((fleet, units), ("fearly", big)):
            store.get_fleet(fid)
            started = time.perf_counter()
            store.get_fleet(fid)
            lines.append(f"get_fleet of {size:,} units (what `fleet boot --wait` and `fleets show` read, each second "
                         f"while they watch): {(time.perf_counter() - started) * 1000:.0f} ms")
    return lines


def per_unit(r: Any, kind: str) -> float:
    """CPU milliseconds a unit cost `kind` (workers, backends): its cores x the wall / the units."""
    return float(r.cpu[kind] * r.wall / max(r.units, 1) * 1000)


def saturation(results: list[Any], cores: int) -> list[str]:
    """Where it saturates, in words, from the figures above."""
    if not results:
        return []
    rates = [r.units / r.wall for r in results]
    busy = [r.cpu["busy"] for r in results]
    work, pg = (sum(per_unit(r, k) for r in results) / len(results) for k in ("workers", "backends"))
    best = max(range(len(results)), key=lambda i: rates[i])
    return [f"**Where it saturates**: {rates[0]:,.0f} units/s with {results[0].workers} worker(s), {rates[best]:,.0f} "
            f"at best ({results[best].workers} workers, {rates[best] / rates[0] - 1:+.0%}); the machine's {cores} "
            f"cores were {min(busy):.0%}-{max(busy):.0%} busy in these runs. A unit cost the workers {work:.0f} ms "
            f"of CPU and PostgreSQL's backends {pg:.0f} ms (means over the worker counts), so {cores} cores held by "
            f"this benchmark alone would end at most {cores * 1000 / max(work + pg, 1e-9):,.0f} units/s; other work "
            "on the machine takes its share first."]


def fmt(values: list[float], scale: float = 1000.0) -> list[str]:
    return [f"{v * scale:,.0f}" for v in probe.percentiles(values)]


def report(results: list[Any], args: argparse.Namespace, command: str, setting: str, load: list[float],
           adding: float, profiled: list[str], explained: list[str], failed: dict[int, str]) -> str:
    """The simulation's section of docs/performance-queue.md."""
    m = machine()
    ideal = args.parallel / (args.steps * args.step_seconds) if args.step_seconds else float("inf")
    out = [f"## Scale simulation: {args.servers:,} servers x {args.steps} steps through the queue", "",
           f"Generated by `{command}` on {time.strftime('%Y-%m-%d')}: {m['nproc']} CPUs ({m['cpu']}), {m['memory']}, "
           f"Python {m['python'].split()[0]}, load average {load[0]:.1f} before and {load[-1]:.1f} after (other work "
           "on the machine shows as noise). Made by `benchmarks/queue_sim.py`; one run of each worker count.", "",
           setting, "",
           f"- **The fleet**: {args.servers:,} servers, each added with `Controller.add_server(name, 'root@127.0.0.1', "
           f"22)` ({adding:.0f} s for all, 8 threads), booted from a {args.steps}-step template by "
           f"`submit_boot(..., parallel={args.parallel})` in the benchmark's process once every worker serves. The "
           f"transport is simulated (benchmarks/sim_transport.py): each step prints four lines and sleeps "
           f"{args.step_seconds:g} s; everything else (the queue, claims, runs, steps, output, leases, finishing) is "
           f"the product's. If nothing but the steps took time, {args.parallel} units at once would end "
           f"{ideal:,.0f} units/s. Each worker count boots the fleet in its own copy of one prepared database.",
           "- **Workers**: W processes, each `Worker(Controller(dsn, transport='sim'), concurrency=ceil(parallel/W))` "
           "(`python -c`, benchmarks/queue_probe.py), STACKSCRIPTS_DB_POOL as in the table (8, the default, unless W "
           "workers would pass the server's max_connections).",
           "- **Units/s**: units / wall, the wall from the `submit_boot` call to the fleet's end (the store's "
           "`fleets.ended`); *steady*: units ended between the 10th and the 90th percentile of end times / that time. "
           "**Store rows/s**: the runs, steps and output chunks written / wall; **all rows/s**: pg_stat_database's "
           "rows inserted + updated + deleted in the database (the queue's jobs and events, fleet_units, locks, "
           "leases, servers and a copy of each queue event the benchmark keeps) / wall; **commits/s**: its "
           "xact_commit / wall (read-only transactions included).",
           "- **Queue latency**: for each unit, its job deferred (Procrastinate's `deferred` event, committed with "
           "the unit's `queued` state) to the unit claimed by a worker (`fleet_units.started`); *taken*: deferred to "
           "Procrastinate's `started` event (the worker fetched the job). The first wave is the first --parallel "
           "units, all deferred by the submit at once.",
           "- **CPU**: cores busy on average over the wall time, from /proc: the worker processes, the database's "
           "PostgreSQL backends, PostgreSQL's background processes (WAL writer, checkpointer, autovacuum: shared "
           "with anything else on the server) and the whole machine (busy = not idle, not iowait; share of all "
           f"{m['nproc']} cores). Lock waits: the database's backends waiting for a lock, sampled every second. "
           "Worker peak RSS: the largest worker process's VmHWM.", "",
           "| Workers x units each | Pool | Wall | Submit | Units/s | Units/s steady | Run time p50 (ideal "
           f"{args.steps * args.step_seconds:g} s) | Store rows/s | All rows/s | Commits/s |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        c = r.counters
        out.append(probe.cells(f"{r.workers} x {r.concurrency}", r.pool, f"{r.wall:.1f} s", f"{r.submit:.1f} s",
                               f"{r.units / r.wall:,.0f}", f"{r.steady:,.0f}",
                               f"{probe.percentiles(r.run_time, (0.5,))[0]:.2f} s", f"{r.rows / r.wall:,.0f}",
                               f"{(c['inserted'] + c['updated'] + c['deleted']) / r.wall:,.0f}",
                               f"{c['commits'] / r.wall:,.0f}"))
    out += ["", "| Workers | Queue latency p50 / p95 / max (ms) | First wave p50 / p95 / max (ms) | Deferred -> taken "
            "p50 / p95 / max (ms) | Workers CPU | PostgreSQL backends CPU | PostgreSQL background CPU | Machine busy "
            "(iowait) | Lock waits (mean) | Connections (peak) | Worker peak RSS |", "|---" * 11 + "|"]
    for r in results:
        out.append(probe.cells(r.workers, " / ".join(fmt(r.latency)), " / ".join(fmt(r.first)),
                               " / ".join(fmt(r.pickup)), f"{r.cpu['workers']:.2f} cores ({per_unit(r, 'workers'):.0f} "
                               f"ms/unit)", f"{r.cpu['backends']:.2f} cores ({per_unit(r, 'backends'):.0f} ms/unit)",
                               f"{r.cpu['background']:.2f} cores",
                               f"{r.cpu['busy']:.0%} ({r.cpu['iowait']:.0%})",
                               f"{sum(r.lock_waits) / max(len(r.lock_waits), 1):.1f}", r.connections,
                               f"{r.rss:.0f} MiB"))
    errors = [f"{r.workers} worker(s): {n} x {what}" for r in results for what, n in r.errors.items()]
    if failed:
        errors += [f"{workers} worker(s) NOT MEASURED: {why}" for workers, why in failed.items()]
    if errors:
        out += ["", "**Units not succeeded** (every run recorded succeeded, every step exited 0: the worker failed "
                "around them): " + "; ".join(errors) + "."]
    out += ["", *saturation(results, int(m["nproc"]))]
    if profiled:
        out += ["", "### Statements per unit", "", "```text", *profiled, "```"]
    if explained:
        out += ["", "### What a finishing unit runs under its fleet's row lock (EXPLAIN ANALYZE)", "", "```text",
                *explained, "```"]
    return "\n".join(out) + "\n"
