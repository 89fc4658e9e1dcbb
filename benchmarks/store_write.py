"""The store benchmark's write side (benchmarks/store.py): a fleet recording to each backend, and one controller
appending output chunks as fast as it can while another connection watches them arrive."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from stackscripts.errors import NotFound
from stackscripts.store import Store, open_store
from stackscripts.store.base import ServerRecord
from tests.support.postgres import Server, connect
from tests.support.sshd import SshdServer

from . import workload
from .store_common import Row, database, profile, sql_profile, sql_sent, sql_summary, timed
from .timing import bounded

FLEET_RATIO, CHUNK_RATE, LAG_LIMIT = 1.2, 1000.0, 1.0  # x SQLite; chunks a second; seconds (issue 11, part 3)
POLL = 0.005  # seconds between the watcher's looks
SYNC_OFF = "PostgreSQL, synchronous_commit off"


class TimedStore:
    """A store whose public calls are timed, summed over every thread (which calls a fleet spends its time in)."""

    def __init__(self, store: Store) -> None:
        self.store, self._lock = store, threading.Lock()
        self.spent: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.store, name)
        if name.startswith("_") or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                with self._lock:
                    self.spent[name] += time.perf_counter() - started
                    self.calls[name] += 1
        return call


def fleet_once(db: str, names: list[str], steps: int, work: Path, tag: str, timer: list[TimedStore] | None = None) -> float:
    """One fleet boot through the API (a Controller on the store, api.fleet_boot, one thread per server): its wall
    time; every host's step files and every recorded run are checked afterwards."""
    from stackscripts.api.controller import Controller
    from stackscripts.api.fleet import fleet_boot

    out = work / f"out-{tag}"
    template = workload.write_template(work / f"template-{tag}", out, steps)
    store: Store = open_store(db)
    if timer is not None:
        timer.append(TimedStore(store))
        store = cast(Store, timer[-1])
    with Controller(store=store) as controller:
        box: list[Any] = []
        elapsed = bounded(lambda: timed(lambda: box.append(fleet_boot(controller, names, template,
                                                                      parallel=len(names)))), 300)
        bad = [f"{o.server}: {o.status} {o.message}" for o in box[0].outcomes if o.status != "succeeded"]
        if bad:
            raise RuntimeError("; ".join(bad)[:600])
        workload.verify(out, names, steps)
        runs = controller.store.list_runs(limit=len(names))
        if sorted(r.server for r in runs) != sorted(names) or any(len(r.steps) != steps for r in runs):
            raise RuntimeError(f"the store did not record {len(names)} runs of {steps} steps")
    return elapsed


def fleet_rows(pg: Server, hosts: list[SshdServer], steps: int, repeat: int, work: Path, force: bool) -> list[Row]:
    """The same fleet on SQLite, on PostgreSQL and on PostgreSQL with synchronous_commit off, in turns (the order
    reversed every other round) after one warm-up each; a ratio is the median of each round's PostgreSQL / SQLite."""
    from stackscripts.api.controller import Controller

    names = [f"web{i}" for i in range(1, len(hosts) + 1)]
    with database(pg, "on") as on, database(pg, "off") as off:
        dbs = {"SQLite": str(work / "fleet.db"), "PostgreSQL": pg.dsn(on), SYNC_OFF: pg.dsn(off)}
        for db in dbs.values():
            with Controller(db) as controller:
                for server_name, host in zip(names, hosts, strict=True):
                    controller.add_server(server_name, f"{host.user}@{host.host}", host.port, host.key_path)
        for kind, db in dbs.items():
            fleet_once(db, names, steps, work, f"warm-{kind}")
        times: dict[str, list[float]] = {kind: [] for kind in dbs}
        for i in range(repeat):
            for kind in list(dbs) if i % 2 == 0 else list(dbs)[::-1]:
                times[kind].append(fleet_once(dbs[kind], names, steps, work, f"{i}-{kind[:12]}"))
                print(f"fleet {kind}: {times[kind][-1]:.2f} s", flush=True)
        shape = f"{len(hosts)} hosts x {steps} steps, API fleet_boot"
        rows = [Row(f"fleet on {kind} ({shape})", times[kind], "s") for kind in dbs]
        rows += [Row(f"fleet: {kind} / SQLite, each round's pair", [p / s for p, s in zip(
                 times[kind], times["SQLite"], strict=True)], "x", FLEET_RATIO if kind == "PostgreSQL" else None)
                 for kind in list(dbs)[1:]]
        if rows[3].over or force:
            rows[3].profile = fleet_profile(dbs, names, steps, work)
    return rows


def fleet_profile(dbs: dict[str, str], names: list[str], steps: int, work: Path) -> list[str]:
    """One more fleet on each backend with every store call timed (summed over the threads, waiting for a connection
    included) and, on PostgreSQL, every statement: how long the connection was busy, and with what."""
    lines = []
    for kind, db in dbs.items():
        timer: list[TimedStore] = []
        with sql_sent() as seen:
            wall = fleet_once(db, names, steps, work, f"profiled-{kind[:12]}", timer)
        spent, calls = timer[0].spent, timer[0].calls
        lines.append(f"{kind}: wall {wall:.2f} s; store calls {sum(spent.values()):.2f} s summed over "
                     f"{len(names)} threads (waiting for a connection included)")
        lines += [f"  {method}: {calls[method]} calls, {seconds * 1000:.0f} ms, {seconds / calls[method] * 1000:.2f} ms each"
                  for method, seconds in sorted(spent.items(), key=lambda kv: -kv[1])[:8]]
        if seen:
            commits = sum(1 for sql, _, _ in seen if sql == "COMMIT")
            lines += [f"  per server: {commits / len(names):.0f} transactions of several statements, "
                      f"{len(seen) / len(names):.0f} statements, each a round trip on one of the store's pooled connections"]
            lines += ["  " + line for line in sql_summary(seen, wall, top=6)]
    return lines


def chunk_pool(count: int = 512, seed: int = 11) -> list[tuple[str, bytes]]:
    """Output chunks as a step prints them: log lines, 80-4,000 bytes (log-uniform, mean about 1 kB), one in six
    on stderr."""
    rng = random.Random(seed)
    pool = []
    for n in range(count):
        size, lines = int(80 * 50 ** rng.random()), list[str]()
        while sum(map(len, lines)) < size:
            lines.append(f"2026-01-{n % 28 + 1:02d} 12:{n % 60:02d}:{len(lines) % 60:02d} INFO unpacking "
                         f"pkg-{rng.randrange(10 ** 6)}.deb ({rng.randrange(10 ** 4)} kB) into /usr/lib/x\n")
        pool.append(("stderr" if n % 6 == 5 else "stdout", "".join(lines).encode()[:size]))
    return pool


def watch(looks: Callable[[int], list[tuple[int, int]]], sent: list[tuple[int, float]], lags: list[float],
          done: threading.Event) -> None:
    """Look for new chunk rows until the writer is done and every byte it sent is visible (at most 10 s more):
    each chunk's lag is from the start of its append_output call to the first look that saw its last byte."""
    last, visible, seen, deadline = 0, 0, 0, None
    while True:
        rows = looks(last)
        now = time.perf_counter()
        for row_id, size in rows:
            last, visible = max(last, row_id), visible + size
        while seen < len(sent) and sent[seen][0] <= visible:
            lags.append(now - sent[seen][1])
            seen += 1
        if done.is_set():
            deadline = deadline or now + 10
            if seen == len(sent) or now > deadline:
                return
        time.sleep(POLL)


@contextmanager
def open_step(db: str) -> Iterator[tuple[Store, str]]:
    """A store with a running run whose step 0 is open: (store, run id); the step and run end afterwards."""
    with open_store(db) as store:
        try:
            store.get_server("bench")
        except NotFound:
            store.put_server(ServerRecord("bench", host="127.0.0.1"))
        run_id = store.start_run("bench", "Boot", who="bench", template=None, inputs={})
        store.start_step(run_id, 0, "stream", "Boot", sha256="", inputs={})
        yield store, run_id
        store.finish_step(run_id, 0, 0, None)
        store.finish_run(run_id, "succeeded")


def chunks_once(db: str, looker: Callable[[], Callable[..., list[tuple[int, int]]]], seconds: float,
                pool: list[tuple[str, bytes]]) -> tuple[float, float, list[float], int]:
    """Append chunks to one open step for `seconds`: (appends a second, chunks a second until the last was visible
    to another connection, the lags, chunks); the step's output is then read back and compared byte for byte."""
    with open_step(db) as (store, run_id):
        sent: list[tuple[int, float]] = []
        lags: list[float] = []
        done, looks, total, n = threading.Event(), looker(), 0, 0
        watcher = threading.Thread(target=watch, args=(lambda last: looks(last, run_id, 0), sent, lags, done),
                                   daemon=True)
        watcher.start()
        started = time.perf_counter()
        end = started + seconds
        while (now := time.perf_counter()) < end:
            stream, data = pool[n % len(pool)]
            total += len(data)
            sent.append((total, now))
            store.append_output(run_id, 0, stream, data)
            n += 1
        calls = time.perf_counter() - started
        done.set()
        watcher.join()
        if len(lags) != n:
            raise RuntimeError(f"{n - len(lags)} of {n} chunks were not visible to another connection 10 s later")
        expected = b"".join(pool[i % len(pool)][1] for i in range(n))
        if store.get_run(run_id).steps[0].raw() != expected:
            raise RuntimeError("the step's output read back is not what was appended")
    visible = max(s + lag for (_, s), lag in zip(sent, lags, strict=True)) - started
    return n / calls, n / visible, lags, n


def appends_profile(pg: Server, name: str, pool: list[tuple[str, bytes]], count: int = 500) -> list[str]:
    """cProfile of `count` appends into PostgreSQL, then the SQL they sent (no watcher: nothing else runs)."""
    lines: list[str] = [f"{count} appends of the same chunks:"]
    measures: list[Callable[[Callable[[], Any]], list[str]]] = [profile, lambda call: sql_profile(pg, name, call)]
    for measure in measures:
        with open_step(pg.dsn(name)) as (store, run_id):
            def appends(s: Store = store, r: str = run_id) -> None:
                for i in range(count):
                    s.append_output(r, 0, *pool[i % len(pool)])
            lines += measure(appends)
    return lines


def sqlite_looker(path: Path) -> Callable[[], Callable[..., list[tuple[int, int]]]]:
    def make() -> Callable[..., list[tuple[int, int]]]:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        sql = "SELECT id, length(text) FROM chunks WHERE run_id = ? AND idx = ? AND id > ? ORDER BY id"
        return lambda last, run_id, idx: conn.execute(sql, (run_id, idx, last)).fetchall()
    return make


def pg_looker(pg: Server, name: str) -> Callable[[], Callable[..., list[tuple[int, int]]]]:
    def make() -> Callable[..., list[tuple[int, int]]]:
        conn = connect(pg, name)
        sql = "SELECT id, length(text) FROM chunks WHERE run_id = %s AND idx = %s AND id > %s ORDER BY id"
        return lambda last, run_id, idx: conn.execute(sql, (run_id, idx, last)).fetchall()
    return make


def chunk_rows(pg: Server, repeat: int, seconds: float, work: Path, force: bool) -> list[Row]:
    """SQLite, PostgreSQL committing synchronously (a server's default) and PostgreSQL with synchronous_commit off
    (what SQLite's WAL with synchronous=NORMAL promises: nothing lost on a crash of the process, the last commits on
    a power cut), in turns."""
    pool = chunk_pool()
    with database(pg, "on") as on, database(pg, "off") as off:
        kinds = {"SQLite": (str(work / "chunks.db"), sqlite_looker(work / "chunks.db")),
                 "PostgreSQL": (pg.dsn(on), pg_looker(pg, on)),
                 SYNC_OFF: (pg.dsn(off), pg_looker(pg, off))}
        results: dict[str, list[tuple[float, float, list[float], int]]] = {kind: [] for kind in kinds}
        for i in range(repeat):
            for kind in list(kinds) if i % 2 == 0 else list(kinds)[::-1]:
                results[kind].append(chunks_once(*kinds[kind], seconds, pool))
                print(f"chunks {kind}: {results[kind][-1][1]:.0f}/s", flush=True)
        rows = []
        size = sum(len(d) for _, d in pool) // len(pool)
        for kind, found in results.items():
            pg_on = kind == "PostgreSQL"
            rows += [Row(f"chunks: {kind}, chunks a second committed and visible to another connection (mean "
                         f"{size} bytes, {seconds:g} s of appends)", [r[1] for r in found], "/s",
                         CHUNK_RATE if pg_on else None, floor=True),
                     Row(f"chunks: {kind}, append_output calls a second", [r[0] for r in found], "/s"),
                     Row(f"chunks: {kind}, lag until visible to another connection: median (looks every "
                         f"{POLL * 1000:g} ms)", [sorted(r[2])[len(r[2]) // 2] * 1000 for r in found], "ms"),
                     Row(f"chunks: {kind}, lag: the largest of each run", [max(r[2]) for r in found], "s", LAG_LIMIT)]
            if pg_on and (rows[-4].over or force):
                rows[-4].profile = appends_profile(pg, on, pool)
    return rows
