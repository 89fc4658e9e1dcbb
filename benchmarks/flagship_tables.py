"""The flagship benchmark's tables: boots grouped into the seed's rows, medians over rounds, Markdown."""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from stackscripts.reports.table import fmt, launch_seconds, signed, step_seconds
from stackscripts.store.base import RunRecord, ServerRecord

LAUNCH, PREP, SERVICES, RUBY, APPS = ("Launch and boot", "Prep VM environment",
                                      "Install & launch zookeeper, redis, kafka, mariadb, graphite, statsd",
                                      "Install ruby", "Install & launch custom apps")
SEED_ROWS = (LAUNCH, PREP, SERVICES, RUBY, APPS)
# The seed's figures (docs: /work/shared/DESIGN.md): Docker version, script version, in seconds.
SEED = {LAUNCH: (53, 49), PREP: (36, 16), SERVICES: (297, 65), RUBY: (None, 54), APPS: (143, 183), "TOTAL": (530, 368)}
# A step's seed row, by words of its RightScript name, first match wins. A check of the running services and
# apps counts as launching the apps (the seed had no row for it).
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (RUBY, ("ruby",)),
    (APPS, ("app", "check")),
    (PREP, ("prep", "install docker", "btrfs", "registry keys", "login")),
    (SERVICES, ("service", "zookeeper", "redis", "kafka", "mariadb", "graphite", "statsd", "container")),
)
PULLED = re.compile(r"pulled (\d+) images in (\d+)s \((parallel|sequential)\)")


def seed_row(step_name: str) -> str:
    """The seed row a step belongs to; ValueError naming the step when no rule matches."""
    name = step_name.lower()
    for row, words in RULES:
        if any(word in name for word in words):
            return row
    raise ValueError(f"step {step_name!r} matches no row of the seed's table: add a word of its name to "
                     "RULES in benchmarks/flagship_tables.py")


@dataclass(frozen=True)
class Boot:
    """One measured boot: its run (with output) and its server record."""

    variant: str
    run: RunRecord
    server: ServerRecord
    apt_bytes: int | None = None  # the .deb files apt downloaded during the boot

    def steps(self) -> dict[str, float]:
        """Seconds per step name, launch included (under the seed's launch row's name)."""
        launch = launch_seconds(self.run, self.server)
        out = {} if launch is None else {LAUNCH: launch}
        for step in sorted(self.run.steps, key=lambda s: s.index):
            out[step.name] = out.get(step.name, 0.0) + (step_seconds(step) or 0.0)
        return out

    def rows(self) -> dict[str, float]:
        """Seconds per seed row (a row without steps is absent): a step's Stage in its template, else by `RULES`."""
        launch = launch_seconds(self.run, self.server)
        out = {} if launch is None else {LAUNCH: launch}
        for step in self.run.steps:
            row = step.stage or seed_row(step.name)
            if row not in SEED_ROWS:
                raise ValueError(f"step {step.name!r} has the Stage {row!r}, not a row of the seed's table: "
                                 f"one of {', '.join(SEED_ROWS[1:])}")
            out[row] = out.get(row, 0.0) + (step_seconds(step) or 0.0)
        return out

    def total(self) -> float:
        return sum(self.steps().values())

    def pulls(self) -> list[tuple[int, int, str]]:
        """(images, seconds, mode) of every `pull_images` the boot logged."""
        return [(int(n), int(s), mode) for step in self.run.steps for n, s, mode in PULLED.findall(step.output)]


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def medians(boots: Sequence[Boot], key: str) -> dict[str, float | None]:
    """Median seconds per step name (key='steps') or seed row (key='rows') over boots, and TOTAL (the median of
    the totals, so the rows need not add up to it)."""
    per: dict[str, list[float]] = {}
    for boot in boots:
        for name, seconds in (boot.steps() if key == "steps" else boot.rows()).items():
            per.setdefault(name, []).append(seconds)
    out: dict[str, float | None] = {name: median(values) for name, values in per.items()}
    out["TOTAL"] = median([b.total() for b in boots])
    return out


def cell(seconds: float | None) -> str:
    return fmt(seconds)


def delta(first: float | None, last: float | None) -> str:
    return "n/a" if first is None or last is None else signed(last - first)


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def pull_table(parallel: Sequence[Boot], sequential: Sequence[Boot]) -> list[str]:
    """The Docker version's steps, pulls in parallel against in sequence, with the pull as the step logged it."""
    left, right = medians(parallel, "steps"), medians(sequential, "steps")
    names = [n for n in left if n != "TOTAL"] + [n for n in right if n not in left and n != "TOTAL"]
    rows = [[n, cell(left.get(n)), cell(right.get(n)), delta(left.get(n), right.get(n))] for n in names]

    def logged(boots: Sequence[Boot], images: int) -> float | None:
        return median([float(s) for b in boots for n, s, _ in b.pulls() if n == images])

    counts = sorted({n for b in [*parallel, *sequential] for n, _, _ in b.pulls()}, reverse=True)
    for count in counts:
        p, s = logged(parallel, count), logged(sequential, count)
        rows.append([f"(the pull of {count} images, as logged)", cell(p), cell(s), delta(p, s)])
    rows.append(["TOTAL", cell(left["TOTAL"]), cell(right["TOTAL"]), delta(left["TOTAL"], right["TOTAL"])])
    return markdown(["Boot time steps (median)", "pulls in parallel", "pulls in sequence", "delta"], rows)


def seed_table(docker: Sequence[Boot], script: Sequence[Boot]) -> list[str]:
    """The seed's rows: Docker version against script version (medians), the seed's figures beside them."""
    left, right = medians(docker, "rows"), medians(script, "rows")
    rows = []
    for row in (*SEED_ROWS, "TOTAL"):
        d, s = left.get(row), right.get(row)
        seed_d, seed_s = SEED[row]
        rows.append([row, cell(d), cell(s), delta(d, s), cell(seed_d), cell(seed_s)])
    return markdown(["Boot time steps (median)", "Docker version", "Script version", "delta",
                     "seed: Docker", "seed: Script"], rows)


def totals_line(variant: str, boots: Sequence[Boot]) -> str:
    return f"- {variant}: " + ", ".join(f"{fmt(b.total())} ({b.run.id})" for b in boots)


def group(boots: Sequence[Boot]) -> Mapping[str, list[Boot]]:
    out: dict[str, list[Boot]] = {}
    for boot in boots:
        out.setdefault(boot.variant, []).append(boot)
    return out
