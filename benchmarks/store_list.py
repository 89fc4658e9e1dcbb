"""The store benchmark's read side (benchmarks/store.py): a store filled with a year of a team's runs, read the way
a user does (`runs list`, `runs list --server`, `runs show PART`) in-process and as a process."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stackscripts.store import open_store
from tests.support.postgres import Server, connect

from .stack import console_script
from .store_common import Row, database, profile, sql_profile, timed

LIST_LIMIT = 0.3  # seconds (issue 11)
TEAMS = ("web", "data", "payments", "search", "ops")
PHASES = (("Boot", 5, 0.70), ("Operational", 1, 0.25), ("Decommission", 2, 0.05))  # steps, share of runs
SCRIPTS = ("install packages", "configure app", "mount volumes", "start service", "register in load balancer")


@dataclass
class Fill:
    """What goes into the tables, as tuples in the named columns' order; the same for both backends."""

    columns: dict[str, tuple[str, ...]]
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    busiest: str = ""
    part: str = ""  # a unique part of one run's id, as a user types it: its random tail
    whole: str = ""  # a whole run id

    def where(self) -> str:
        return ", ".join(f"{len(rows):,} {table}" for table, rows in self.rows.items())


def generate(runs: int, servers: int = 200, seed: int = 7) -> Fill:
    """A year of a team's history: runs spread over `servers` servers of 5 teams, a few servers much busier than
    most (weights 1/rank^0.8), 70% Boot runs of 5 steps, 25% Operational of 1, 5% Decommission of 2; 90%
    succeeded, 8% failed at their last step, 2% interrupted. Each step has one line of output."""
    rng = random.Random(seed)
    fill = Fill({
        "servers": ("name", "host", "port", "user", "state", "template", "inputs", "extra", "created", "updated",
                    "team"),
        "runs": ("id", "server", "phase", "state", "who", "template", "started", "ended", "inputs",
                 "controller_host", "controller_pid", "controller_start", "controller_boot", "team"),
        "steps": ("run_id", "idx", "name", "phase", "sha256", "inputs", "started", "ended", "exit_code", "error"),
        "chunks": ("run_id", "idx", "stream", "text", "byte_offset")})
    now = time.time()
    names = [f"{TEAMS[i % len(TEAMS)]}-{i:03d}" for i in range(servers)]
    fill.rows["servers"] = [(n, f"10.0.{i // 250}.{i % 250 + 1}", 22, "root", "operational",
                             "servertemplates/app.yaml", "{}", "{}", now - 400 * 86400, now, n.split("-")[0])
                            for i, n in enumerate(names)]
    weights = [1 / (rank + 1) ** 0.8 for rank in range(servers)]
    people = [f"user{k}@laptop-{k}" for k in range(12)]
    picks = rng.choices(range(servers), weights, k=runs)
    starts = sorted(now - 365 * 86400 * rng.random() for _ in range(runs))
    run_rows, step_rows, chunk_rows, ids = [], [], [], set()
    for pick, started in zip(picks, starts, strict=True):
        while (run_id := f"r-{time.strftime('%Y%m%d-%H%M%S', time.gmtime(started))}-{rng.randrange(65536):04x}") in ids:
            pass
        ids.add(run_id)
        phase, steps, _ = rng.choices(PHASES, [p[2] for p in PHASES])[0]
        roll = rng.random()
        state = "succeeded" if roll < 0.90 else "failed" if roll < 0.98 else "interrupted"
        at = started
        for idx in range(steps):
            took = rng.uniform(2, 120)
            failed = state != "succeeded" and idx == steps - 1
            step_rows.append((run_id, idx, SCRIPTS[idx % len(SCRIPTS)], phase, f"{rng.getrandbits(256):064x}", "{}",
                              at, at + took, 1 if failed and state == "failed" else None if failed else 0,
                              "run ended (interrupted) before the step finished" if failed and state != "failed"
                              else None))
            chunk_rows.append((run_id, idx, "stdout", f"step {idx}: {SCRIPTS[idx % len(SCRIPTS)]} ok\n".encode(), 0))
            at += took
        run_rows.append((run_id, names[pick], phase, state, rng.choice(people), "servertemplates/app.yaml", started,
                         at, "{}", "laptop", 4242, 1, "boot-id", names[pick].split("-")[0]))
    fill.rows.update(runs=run_rows, steps=step_rows, chunks=chunk_rows)
    fill.busiest = names[Counter(picks).most_common(1)[0][0]]
    tails = Counter(i[-4:] for i in ids)
    fill.part = next(i[-4:] for i in sorted(ids) if tails[i[-4:]] == 1 and not i[-4:].isdigit() and
                     sum(i[-4:] in other for other in ids) == 1)
    fill.whole = run_rows[len(run_rows) // 2][0]
    return fill


def kept(fill: Fill, table: str, present: Iterable[str]) -> tuple[list[str], list[int]]:
    """The fill's columns this store's schema has (a column another version dropped is left out)."""
    have = set(present)
    picked = [(name, i) for i, name in enumerate(fill.columns[table]) if name in have]
    return [quote(n) for n, _ in picked], [i for _, i in picked]


def quote(name: str) -> str:
    return f'"{name}"'


def rows_of(fill: Fill, table: str, index: Sequence[int]) -> Iterable[tuple[Any, ...]]:
    return (tuple(row[i] for i in index) for row in fill.rows[table])


def fill_sqlite(path: Path, fill: Fill) -> None:
    open_store(path).close()  # the store's own schema, migrated
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        for table in fill.rows:
            names, index = kept(fill, table, (r[1] for r in conn.execute(f"PRAGMA table_info({table})")))
            conn.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                             rows_of(fill, table, index))
        conn.execute("COMMIT")
    finally:
        conn.close()


def fill_postgres(pg: Server, name: str, fill: Fill) -> None:
    """COPY into the store's own schema, then VACUUM ANALYZE (as autovacuum would do soon after such a load)."""
    open_store(pg.dsn(name)).close()
    with connect(pg, name) as conn:
        for table in fill.rows:
            present = [r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns "
                                                  "WHERE table_name = %s", (table,))]
            names, index = kept(fill, table, present)
            with conn.cursor().copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows_of(fill, table, index):
                    copy.write_row(row)
        conn.execute("VACUUM ANALYZE")


def cli(db: str, *args: str, python: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    """A `stackscripts` process, checked. Its modules' bytecode is cached (in a folder under the temp dir) as an installed
    package's is, even where PYTHONDONTWRITEBYTECODE is set; the first run of each kind is a warm-up."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / f"bench-store-pycache-{os.getuid()}")
    done = subprocess.run([*python, str(console_script()), *args, *(["--db", db] if db else [])], capture_output=True,
                          text=True, timeout=120, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"stackscripts {' '.join(args)}: exit {done.returncode}: {done.stderr[-600:]}")
    return done


def imports(db: str, top: int = 10) -> list[str]:
    """Where a `runs list` process spends its start-up: `python -X importtime`, the costliest imports."""
    found = []
    for line in cli(db, "runs", "list", python=(sys.executable, "-X", "importtime")).stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            found.append((int(parts[0]), int(parts[1]), parts[2].rstrip()))
    total = sum(own for own, _, _ in found)
    lines = [f"`python -X importtime` of `stackscripts runs list`: {total / 1000:.0f} ms importing {len(found)} "
             "modules; the costliest (cumulative, with what they import):"]
    lines += [f"  {cumulative / 1000:.0f} ms {name}" for _, cumulative, name in sorted(found, key=lambda f: -f[1])[:top]]
    return lines


def read_rows(kind: str, db: str, empty: str, fill: Fill, repeat: int, pg: Server | None, name: str,
              force: bool) -> list[Row]:
    """The reads, each once to warm up and then `repeat` times, on one open store; the CLI as processes, on this
    store and on an empty one (what is start-up and opening, not the runs)."""
    rows = []
    with open_store(db) as store:
        reads = {f"list_runs(limit=50), newest of {len(fill.rows['runs']):,} runs": (lambda: store.list_runs(limit=50),
                                                                                      LIST_LIMIT),
                 f"list_runs(server={fill.busiest!r}) (its busiest server)":
                     (lambda: store.list_runs(server=fill.busiest, limit=50), LIST_LIMIT),
                 f"get_run({fill.part!r}): a unique part of an id, as `runs show {fill.part}`":
                     (lambda: store.get_run(fill.part), None),
                 "get_run(a whole id)": (lambda: store.get_run(fill.whole), None)}
        for label, (call, limit) in reads.items():
            call()
            row = Row(f"{kind}: {label}", [timed(call) for _ in range(repeat)], "s", limit)
            if row.over or (force and limit):
                row.profile = profile(call) + (sql_profile(pg, name, call) if pg else [])
            rows.append(row)
    for target, what in ((db, f"{len(fill.rows['runs']):,} runs"), (empty, "an empty store")):
        cli(target, "runs", "list")
        rows.append(Row(f"{kind}: `stackscripts runs list` as a process (start-up included), {what}",
                        [timed(lambda t=target: cli(t, "runs", "list")) for _ in range(repeat)], "s"))  # type: ignore[misc]
    rows[-1].profile = imports(empty)
    return rows


def list_rows(pg: Server, runs: int, repeat: int, work: Path, force: bool) -> list[Row]:
    started = time.perf_counter()
    fill = generate(runs)
    print(f"runs list: generated {fill.where()} in {time.perf_counter() - started:.1f} s", flush=True)
    with database(pg) as name, database(pg) as empty:
        for target in (str(work / "empty.db"), pg.dsn(empty)):
            open_store(target).close()
        loads = [Row(f"load (not a target): {fill.where()} into SQLite with executemany", [timed(
                     lambda: fill_sqlite(work / "runs.db", fill))], "s"),
                 Row("load (not a target): the same into PostgreSQL with COPY, then VACUUM ANALYZE", [timed(
                     lambda: fill_postgres(pg, name, fill))], "s")]
        print(f"runs list: loaded in {loads[0].values[0]:.1f} s and {loads[1].values[0]:.1f} s", flush=True)
        rows = loads + read_rows("SQLite", str(work / "runs.db"), str(work / "empty.db"), fill, repeat, None, "", force)
        rows += read_rows("PostgreSQL", pg.dsn(name), pg.dsn(empty), fill, repeat, pg, name, force)
    cli("", "--version")
    rows.append(Row("process start-up alone: `stackscripts --version` (the first run not counted)",
                    [timed(lambda: cli("", "--version")) for _ in range(repeat)], "s"))
    return rows
