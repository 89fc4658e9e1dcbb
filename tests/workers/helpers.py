"""What the queued-fleet tests share: steps that count themselves, hold on a file or time themselves on the
server side, servers recorded in bulk, and checks read back from the store and from /proc.

The sshd servers run on this machine, so OUT_DIR (a folder of the test) is what the steps wrote, and a step's
pid is a local process.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from stackscripts.api.controller import Controller
from tests.runner.helpers import Step
from tests.store.controllers import World
from tests.support.waits import wait_until

# Each step counts itself in the server's folder: `ran` holds one line per execution, its number.
COUNT = 'set -eu\nd="$OUT_DIR/$STACKSCRIPTS_SERVER"\nmkdir -p "$d"\necho {n} >> "$d/ran"\n'
# A hold never outlives a failed test by more than a minute.
HOLD = 'i=0\nwhile [ -e "{hold}" ] && [ "$i" -lt 600 ]; do sleep 0.1; i=$((i + 1)); done\n'


def hold_steps(out: Path) -> list[Step]:
    """Step 1 quick; step 2 writes its pid to `pid` and holds while OUT_DIR/hold exists; step 3 quick."""
    return [Step("Begin", COUNT.format(n=1) + "echo begun\n", {"OUT_DIR": None}),
            Step("Hold", COUNT.format(n=2) + 'echo $$ > "$d/pid"\necho holding\n' + HOLD.format(hold=out / "hold")
                 + "echo released\n", {"OUT_DIR": None}),
            Step("Finish", COUNT.format(n=3) + "echo finished\n", {"OUT_DIR": None})]


def timed_steps() -> list[Step]:
    """Three steps; the first writes when the server's boot began, the last when it ended (date +%s.%N)."""
    return [Step("Begin", COUNT.format(n=1) + 'date +%s.%N > "$d/began"\nsleep 0.2\n', {"OUT_DIR": None}),
            Step("Work", COUNT.format(n=2) + "sleep 0.3\n", {"OUT_DIR": None}),
            Step("End", COUNT.format(n=3) + 'date +%s.%N > "$d/ended"\n', {"OUT_DIR": None})]


def add_servers(world: World, names: Sequence[str]) -> None:
    """Record pool servers under these names in one process (the CLI would start one Python per server)."""
    with Controller(world.backend.location) as c:
        for name, server in zip(names, world.pool.take(len(names)), strict=True):
            c.add_server(name, f"{server.user}@{server.host}", server.port, server.key_path)


def ran(world: World, server: str) -> list[int]:
    path = world.out / server / "ran"
    return [int(n) for n in path.read_text().split()] if path.exists() else []


def step_pid(world: World, server: str) -> int:
    """The pid the Hold step wrote on the server (a local process: the sshd servers run here)."""
    path = world.out / server / "pid"
    return int(wait_until(lambda: path.exists() and path.read_text().strip(), 30, f"{server}'s step pid"))


def alive(pid: int) -> bool:
    """Whether a local process runs (a zombie waiting to be reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def max_overlap(intervals: Iterable[tuple[float, float]]) -> int:
    """The most intervals open at one instant (one that ends as another begins does not overlap it)."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    most = current = 0
    for _, delta in events:
        current += delta
        most = max(most, current)
    return most


def server_intervals(world: World, servers: Iterable[str]) -> list[tuple[float, float]]:
    """When each server's boot began and ended, as its steps wrote them on the server."""
    return [(float((world.out / s / "began").read_text()), float((world.out / s / "ended").read_text()))
            for s in servers]


def runs_by_server(world: World) -> dict[str, list[dict[str, Any]]]:
    """`runs list` grouped by server, oldest run first."""
    found: dict[str, list[dict[str, Any]]] = {}
    for run in sorted(world.json("runs", "list", "--limit", "10000")["data"], key=lambda r: r["started"]):
        found.setdefault(run["server"], []).append(run)
    return found


def runs_never_overlap(world: World) -> None:
    """No server ever had two runs at once: each run began after the one before it had ended."""
    rows = world.backend.sql("SELECT server, id, started, ended FROM runs ORDER BY server, started")
    last: dict[str, tuple[str, float | None]] = {}
    for server, run_id, started, ended in rows:
        if server in last:
            before, before_ended = last[server]
            assert before_ended is not None and before_ended <= started, \
                f"{server}: run {run_id} began at {started} while run {before} ran (ended {before_ended})"
        last[server] = (run_id, ended)


def units(fleet: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["server"]: u for u in fleet["units"]}


def unit_states(fleet: dict[str, Any]) -> Counter[str]:
    return Counter(u["state"] for u in fleet["units"])


def worker_pid(worker_id: str) -> int:
    """A worker's id is host:pid:token."""
    return int(worker_id.rsplit(":", 2)[1])
