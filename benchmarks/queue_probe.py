"""What the queue benchmarks (benchmarks/queue_sim.py, queue_fleet.py) share: worker processes, a clone of a prepared
database, CPU read from /proc (worker processes, one database's PostgreSQL backends, the server's background
processes, the whole machine), PostgreSQL's counters, and docs/performance-queue.md written one section at a time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.postgres import Server, connect

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")
REPORT = "docs/performance-queue.md"
TITLE = "# The queue's speed: queued fleets through workers"
# one worker process as issue 13 part 7 asks: the simulated transport imported, then the API's Worker
SIM_WORKER = """import signal, sys
import benchmarks.sim_transport
from stackscripts.api.controller import Controller
from stackscripts.api.worker import Worker
controller = Controller(sys.argv[1], transport="sim")
worker = Worker(controller, concurrency=int(sys.argv[2]))
signal.signal(signal.SIGTERM, lambda *_: worker.stop())
worker.run()
controller.close()
"""


def proc_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) used so far by a process, all its threads; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def peak_rss(pid: int) -> float:
    """A process's peak resident memory so far (VmHWM), MiB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def machine_cpu() -> tuple[float, float, float]:
    """The whole machine's CPU seconds so far, summed over its cores: (busy, iowait, total)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle, iowait, total = values[3], values[4], sum(values[:8])
    return (total - idle - iowait) / TICK, iowait / TICK, total / TICK


def background_pids() -> list[int]:
    """PostgreSQL's own processes (checkpointer, WAL writer, autovacuum...): not a client's backend."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if cmd.startswith("postgres: ") and "(" not in cmd and "[local]" not in cmd:
                found.append(int(entry))
    return found


@dataclass
class CpuMeter:
    """CPU used between `start` and the last `sample`: by given processes, by one database's backends (each pid
    from when it was first seen), by PostgreSQL's background processes and by the whole machine."""

    pg: Server
    database: str
    workers: Sequence[int] = ()
    first: dict[int, float] = field(default_factory=dict)
    last: dict[int, float] = field(default_factory=dict)
    kinds: dict[int, str] = field(default_factory=dict)
    machine: tuple[tuple[float, float, float], ...] = ()

    def start(self) -> None:
        self.machine = (machine_cpu(),)
        self.sample()

    def sample(self) -> None:
        with connect(self.pg) as conn:
            backends = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> "
                                                   "pg_backend_pid()", [self.database]).fetchall()]
        for kind, pids in (("workers", self.workers), ("backends", backends), ("background", background_pids())):
            for pid in pids:
                used = proc_cpu(pid)
                if used is not None:
                    self.first.setdefault(pid, used)
                    self.last[pid] = used
                    self.kinds[pid] = kind
        self.machine = (self.machine[0], machine_cpu())

    def seconds(self, kind: str) -> float:
        return sum(self.last[p] - self.first[p] for p, k in self.kinds.items() if k == kind)

    def machine_share(self) -> tuple[float, float]:
        """(busy, iowait) as shares of all the machine's cores over the time measured."""
        (b0, w0, t0), (b1, w1, t1) = self.machine
        return (b1 - b0) / max(t1 - t0, 1e-9), (w1 - w0) / max(t1 - t0, 1e-9)


def db_counters(pg: Server, database: str) -> dict[str, int]:
    """pg_stat_database's counters for one database: commits, rows inserted, updated, deleted."""
    with connect(pg) as conn:
        row = conn.execute("SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database "
                           "WHERE datname = %s", [database]).fetchone()
    return dict(zip(("commits", "inserted", "updated", "deleted"), (int(v) for v in row), strict=True))


@contextmanager
def clone(pg: Server, template: str, synchronous_commit: str = "on") -> Iterator[str]:
    """A copy of a prepared database (CREATE DATABASE ... TEMPLATE), its sessions committing as `synchronous_commit`
    says (a team server's default is on; the test role's is off), dropped afterwards."""
    name = f"{template}_c{time.monotonic_ns() % 10 ** 8}"
    with connect(pg) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        admin.execute(f'ALTER ROLE "{pg.user}" IN DATABASE "{name}" SET synchronous_commit = {synchronous_commit}')
    try:
        yield name
    finally:
        with connect(pg) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_workers(args: list[list[str]], env: dict[str, str], logs: Path) -> list[subprocess.Popen[bytes]]:
    """Worker processes (each one argv), their output into files under logs."""
    procs = []
    for i, argv in enumerate(args):
        with open(logs / f"worker-{i}-{time.monotonic_ns()}.log", "wb") as log:
            procs.append(subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True))
    return procs


def wait_workers(pg: Server, database: str, procs: Sequence[subprocess.Popen[bytes]], count: int | None = None,
                 timeout: float = 90.0) -> None:
    """Until `count` workers (default: one per process) serve: their rows in `workers` and their Procrastinate
    workers registered; RuntimeError if a process exits or the time runs out."""
    count = len(procs) if count is None else count
    deadline = time.monotonic() + timeout
    with connect(pg, database) as conn:
        while time.monotonic() < deadline:
            dead = [p for p in procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"a worker exited with {dead[0].returncode} before serving (see its log)")
            ours = conn.execute("SELECT count(*) FROM workers WHERE stopped IS NULL").fetchone()[0]
            engine = conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()[0]
            if ours >= count and engine >= count:
                return
            time.sleep(0.2)
    raise RuntimeError(f"{count} workers did not start serving within {timeout:.0f} s")


def stop_workers(procs: list[subprocess.Popen[bytes]], grace: float = 60.0) -> None:
    """SIGTERM (the running units finish or are handed back), then SIGKILL after `grace` seconds."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def show_logs(folder: Path, lines: int = 30) -> None:
    """The last lines of each worker's log, on stderr (a run that failed; the folder is removed afterwards)."""
    for log in sorted(folder.glob("worker-*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- {log.name}:", *tail, sep="\n", file=sys.stderr)


def worker_env(pg: Server, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker process: the pgpass file (no password anywhere else), the repo importable."""
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    env.update(pg.env, PYTHONPATH=str(ROOT), **(extra or {}))
    return env


def sim_worker(dsn: str, concurrency: int) -> list[str]:
    return [sys.executable, "-c", SIM_WORKER, dsn, str(concurrency)]


def percentiles(values: Sequence[float], points: Sequence[float] = (0.5, 0.95, 1.0)) -> list[float]:
    ordered = sorted(values)
    if not ordered:
        return [float("nan")] * len(points)
    return [ordered[min(int(p * len(ordered)), len(ordered) - 1)] for p in points]


def write_section(name: str, text: str, output: str = REPORT) -> Path:
    """Replace this benchmark's section of the report (between its markers), keeping the other benchmark's."""
    path = ROOT / output
    begin, end = f"<!-- {name}: begin -->", f"<!-- {name}: end -->"
    old = path.read_text() if path.exists() else TITLE + "\n"
    block = f"{begin}\n{text.rstrip()}\n{end}"
    if begin in old and end in old:
        new = old[:old.index(begin)] + block + old[old.index(end) + len(end):]
    else:
        new = old.rstrip() + "\n\n" + block + "\n"
    path.write_text(new)
    return path


def cells(*values: Any) -> str:
    return "| " + " | ".join(str(v) for v in values) + " |"
