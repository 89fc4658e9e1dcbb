"""200 existing servers recorded: 200 `stackscripts servers add` processes against one `stackscripts servers import`
of the same 200 servers (an Ansible INI inventory), each round into a fresh SQLite store in a temp dir.

    python -m benchmarks.servers_import [--servers 200] [--rounds 3] [--budget 170]

Medians of `--rounds` rounds, printed as a markdown table. The whole run is kept within `--budget` seconds: a round
of `servers add` starts only while the rounds so far say it will end in time (on a busy machine fewer rounds are
run, and the table says how many). No network: the servers are only recorded, never reached.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stackscripts.store.sqlite import SQLiteStore

from .stack import console_script


def servers(count: int) -> list[tuple[str, str]]:
    """(name, address) of each server: srv001 at 10.0.0.1, ..."""
    return [(f"srv{i:03d}", f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}") for i in range(1, count + 1)]


def run(args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKSCRIPTS_")}
    done = subprocess.run([str(console_script()), *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=120, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"stackscripts {' '.join(args[:3])}: exit {done.returncode}: {done.stderr[-400:]}")


def recorded(db: Path) -> int:
    with SQLiteStore(db) as store:
        return len(store.list_servers())


def adds(count: int) -> float:
    """One round: `servers add` once per server, one process after another; seconds."""
    with tempfile.TemporaryDirectory(prefix="bench-add-") as folder:
        db = Path(folder) / "audit.db"
        started = time.perf_counter()
        for name, address in servers(count):
            run(["servers", "add", name, "--host", f"root@{address}", "--db", str(db)])
        elapsed = time.perf_counter() - started
        assert recorded(db) == count
    return elapsed


def one_import(count: int) -> float:
    """One round: one `servers import` process of an INI inventory of the same servers; seconds."""
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        db, inventory = Path(folder) / "audit.db", Path(folder) / "hosts.ini"
        inventory.write_text("[bench]\n" + "".join(f"{n} ansible_host={a} ansible_user=root\n"
                                                   for n, a in servers(count)))
        started = time.perf_counter()
        run(["servers", "import", str(inventory), "--db", str(db)])
        elapsed = time.perf_counter() - started
        assert recorded(db) == count
    return elapsed


def measure(count: int, rounds: int, budget: float) -> tuple[list[float], list[float]]:
    """Rounds interleaved (import, then adds), after a warm-up of each; add rounds within the budget."""
    start = time.monotonic()
    one_import(1), adds(1)  # warm-up: bytecode and page cache
    imports: list[float] = []
    add_rounds: list[float] = []
    for _ in range(rounds):
        imports.append(one_import(count))
        spent = time.monotonic() - start
        if add_rounds and spent + max(add_rounds) > budget:
            continue  # another add round would not end within the budget
        add_rounds.append(adds(count))
    return add_rounds, imports


def table(count: int, rounds: int, add_rounds: list[float], imports: list[float]) -> str:
    def row(label: str, processes: int, times: list[float]) -> str:
        median = statistics.median(times)
        return (f"| {label} | {processes} | {len(times)} of {rounds} | {median:.2f} s | {median / count * 1000:.1f} ms "
                f"| {min(times):.2f}-{max(times):.2f} s |")

    add_median, import_median = statistics.median(add_rounds), statistics.median(imports)
    return "\n".join([
        f"Recording {count} existing servers (SQLite store, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]})",
        "",
        "| Method | Processes | Rounds | Median | Per server | Range |",
        "|---|---|---|---|---|---|",
        row(f"`servers add` x {count}", count, add_rounds),
        row("`servers import hosts.ini`", 1, imports),
        "",
        f"`servers import` is {add_median / import_median:.0f}x faster.",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=170.0, help="seconds the whole run may take")
    options = parser.parse_args(argv)
    add_rounds, imports = measure(options.servers, options.rounds, options.budget)
    print(table(options.servers, options.rounds, add_rounds, imports))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
