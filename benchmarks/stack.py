"""stackscripts under test: the API (Controller + fleet_boot), the CLI, per-step latency, peak memory.

Each run gets a fresh SQLite audit store and fresh server records (add_server, trust on first
use), made before the clock starts; the timed part is fleet_boot: connect, plan, run, record.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.sshd import SshdServer

from . import workload
from .observe import run_tool
from .timing import RUN_TIMEOUT, timed, tool_env

if TYPE_CHECKING:
    from stackscripts.api.controller import Controller
    from stackscripts.api.fleet import FleetResult

ROOT = Path(__file__).resolve().parents[1]


def console_script() -> Path:
    """The project's `stackscripts` console script beside this interpreter (never a pyenv shim)."""
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        path = folder / "stackscripts"
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise RuntimeError(f"no stackscripts console script beside {sys.executable}: run `pip install -e .`")


def _controller(db: Path, servers: list[SshdServer]) -> Controller:
    from stackscripts.api.controller import Controller

    controller = Controller(db)
    for i, server in enumerate(servers, 1):
        controller.add_server(f"web{i}", f"{server.user}@{server.host}", server.port, server.key_path)
    return controller


def _check(result: FleetResult) -> None:
    if not result.ok:
        bad = [f"{o.server}: {o.status} {o.message}" for o in result.outcomes if o.status != "succeeded"]
        raise RuntimeError("; ".join(bad)[:600])


def api_run(servers: list[SshdServer], out_dir: Path, steps: int) -> float:
    """Controller on a fresh db, then `fleet_boot(controller, names, template, parallel=N)`."""
    from stackscripts.api.fleet import fleet_boot

    work = out_dir.parent / f"{out_dir.name}-ss"
    template = workload.write_template(work / "template", out_dir, steps)
    controller = _controller(work / "audit.db", servers)
    names = [f"web{i}" for i in range(1, len(servers) + 1)]
    try:
        results: list[FleetResult] = []
        elapsed = timed(lambda: results.append(fleet_boot(controller, names, template, parallel=len(names))))
        _check(results[0])
        return elapsed
    finally:
        controller.close()


def cli_run(servers: list[SshdServer], out_dir: Path, steps: int, timeout: float = RUN_TIMEOUT) -> float:
    """`stackscripts fleet boot NAMES --template T --db DB --quiet --parallel N` as a process (start-up included)."""
    work = out_dir.parent / f"{out_dir.name}-cli"
    template = workload.write_template(work / "template", out_dir, steps)
    db = work / "audit.db"
    _controller(db, servers).close()
    names = [f"web{i}" for i in range(1, len(servers) + 1)]
    args = [str(console_script()), "fleet", "boot", *names, "--template", str(template), "--db", str(db),
            "--quiet", "--parallel", str(len(names))]
    return timed(lambda: run_tool(args, cwd=str(ROOT), env=tool_env(), timeout=timeout, workdir=work))


def cli_command(servers: list[SshdServer], out_dir: Path, steps: int, *python: str) -> tuple[list[str], dict[str, str]]:
    """The fleet boot command line on a fresh db (untimed set-up), for a profiler or `python -X importtime`."""
    work = out_dir.parent / f"{out_dir.name}-cmd"
    template = workload.write_template(work / "template", out_dir, steps)
    db = work / "audit.db"
    _controller(db, servers).close()
    names = [f"web{i}" for i in range(1, len(servers) + 1)]
    return ([*python, str(console_script()), "fleet", "boot", *names, "--template", str(template), "--db", str(db),
             "--quiet", "--parallel", str(len(names))], tool_env())
