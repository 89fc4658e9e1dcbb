"""What the store benchmark's parts share (benchmarks/store.py): a measured row against its target, the test
PostgreSQL with a fresh database per part, and the profiling of a missed target (cProfile; the SQL a PostgreSQL
store sent, each statement's time, and EXPLAIN ANALYZE of the slowest)."""

from __future__ import annotations

import cProfile
import pstats
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.postgres import Server, connect, fresh_database

ROOT = Path(__file__).resolve().parent.parent
UNITS = {"s": "{:.3f}", "ms": "{:.1f}", "/s": "{:,.0f}", "x": "{:.2f}"}


class Missing(Exception):
    """A part this benchmark needs is not on this machine: sshd, the test PostgreSQL."""


@dataclass
class Row:
    """One measure: its samples (one per repeat), in `unit`, and its target (a ceiling, or a floor)."""

    label: str
    values: list[float]
    unit: str  # a key of UNITS
    limit: float | None = None
    floor: bool = False  # the limit is a minimum (a rate)
    failed: str = ""  # what went wrong instead of a figure
    profile: list[str] | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def over(self) -> bool:
        if self.failed:
            return True
        if self.limit is None or not self.values:
            return False
        return self.median < self.limit if self.floor else self.median > self.limit

    def fmt(self, value: float) -> str:
        return UNITS[self.unit].format(value)

    def cells(self) -> list[str]:
        if self.failed or not self.values:
            return [self.label, "", "", self.target(), f"FAILED: {self.failed or 'no figure'}"]
        spread = f"{self.fmt(min(self.values))}-{self.fmt(max(self.values))}" if len(self.values) > 1 else ""
        verdict = ""
        if self.limit is not None:
            miss = abs(self.median - self.limit)
            verdict = "ok" if not self.over else \
                f"{'UNDER' if self.floor else 'OVER'} by {self.fmt(miss)} {self.unit} ({miss / self.limit:.0%})"
        return [self.label, f"{self.fmt(self.median)} {self.unit}", spread, self.target(), verdict]

    def target(self) -> str:
        return "" if self.limit is None else f"{'≥' if self.floor else '≤'} {self.fmt(self.limit)} {self.unit}"


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


@contextmanager
def database(pg: Server, synchronous_commit: str = "on") -> Iterator[str]:
    """A fresh database (dropped at the end) whose sessions commit as a team's server does by default: the test
    role has synchronous_commit off (.ci/postgres.sh), so it is set for this role in this database only."""
    with fresh_database(pg) as name:
        with connect(pg) as admin:
            admin.execute(f'ALTER ROLE "{pg.user}" IN DATABASE "{name}" SET synchronous_commit = {synchronous_commit}')
        yield name


def profile(call: Callable[[], Any], top: int = 10) -> list[str]:
    """Where a call spends its time: stackscripts' functions by cumulative time, then all by self time."""
    (prof := cProfile.Profile()).runcall(call)
    raw: dict[Any, Any] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = max(sum(v[2] for v in raw.values()), 1e-9)

    def line(key: Any, value: Any) -> str:
        where = f"{Path(key[0]).relative_to(ROOT)}:{key[1]}" if key[0].startswith(str(ROOT)) else Path(key[0]).name
        return (f"{key[2]} ({where}): {value[3] * 1000:.1f} ms cumulative ({value[3] / total:.0%}), "
                f"{value[2] * 1000:.1f} ms self, {value[1]} calls")

    own = sorted(((k, v) for k, v in raw.items() if "/stackscripts/" in k[0]), key=lambda kv: -kv[1][3])[:top]
    heavy = sorted(raw.items(), key=lambda kv: -kv[1][2])[:top // 2]
    return [f"cProfile: total {total * 1000:.1f} ms", *(line(*kv) for kv in own), "by self time:",
            *(line(*kv) for kv in heavy)]


@contextmanager
def sql_sent() -> Iterator[list[tuple[str, Any, float]]]:
    """Every statement psycopg runs in this process meanwhile (the PostgreSQL store's, whatever its layers above
    psycopg): (SQL, parameters, seconds), in order."""
    import psycopg

    seen: list[tuple[str, Any, float]] = []
    execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany

    def wrap(method: Any) -> Any:
        def traced(self: Any, query: Any, params: Any = None, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return method(self, query, params, *args, **kwargs)
            finally:
                text = query.decode() if isinstance(query, bytes) else str(query)
                seen.append((" ".join(text.split()), params, time.perf_counter() - started))
        return traced

    psycopg.Cursor.execute = wrap(execute)  # type: ignore[method-assign]
    psycopg.Cursor.executemany = wrap(executemany)  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
        psycopg.Cursor.executemany = executemany  # type: ignore[method-assign]


def sql_summary(seen: list[tuple[str, Any, float]], wall: float, top: int = 8) -> list[str]:
    """Statements grouped by their text, costliest first: count, mean round trip, total."""
    groups: dict[str, list[float]] = {}
    for sql, _, spent in seen:
        groups.setdefault(sql, []).append(spent)
    waiting, commits = sum(s for _, _, s in seen), groups.get("COMMIT", [])
    lines = [f"SQL: {len(seen)} statements in {wall * 1000:.0f} ms of wall time, {waiting * 1000:.0f} ms waiting for "
             f"PostgreSQL ({waiting / wall:.0%} of the wall time); {len(commits)} transactions, whose COMMITs took "
             f"{sum(commits) * 1000:.0f} ms ({sum(commits) / max(waiting, 1e-9):.0%} of the waiting)"]
    for sql, times in sorted(groups.items(), key=lambda kv: -sum(kv[1]))[:top]:
        lines.append(f"  {len(times)} x {sum(times) / len(times) * 1000:.2f} ms = {sum(times) * 1000:.0f} ms: {sql[:150]}")
    return lines


def sql_profile(pg: Server, name: str, call: Callable[[], Any], explain: int = 2) -> list[str]:
    """The statements `call` sent to PostgreSQL, grouped, with their round-trip time; then EXPLAIN (ANALYZE,
    BUFFERS) of the `explain` slowest reads and writes, a write inside a transaction that is rolled back."""
    with sql_sent() as seen:
        total = timed(call)
    lines = sql_summary(seen, total)
    slowest: dict[str, tuple[Any, float]] = {}
    for sql, params, spent in seen:
        if sql.split(" ", 1)[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE") and \
                spent > slowest.get(sql, (None, -1.0))[1]:
            slowest[sql] = (params, spent)
    with connect(pg, name, autocommit=False) as conn:
        for sql, (params, _) in sorted(slowest.items(), key=lambda kv: -kv[1][1])[:explain]:
            many = isinstance(params, list)
            plan = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params[0] if many and params else params)
            lines += [f"EXPLAIN (ANALYZE, BUFFERS) {sql[:200]}" + (" (its first row)" if many else ""),
                      *(f"  {row[0]}" for row in plan.fetchall())]
            conn.rollback()
    return lines
