"""stackscripts under test: the API (Controller + fleet_boot), the CLI, per-step latency, peak memory.

Each run gets a fresh SQLite audit store and fresh server records (add_server, trust on first
use), made before the clock starts; the timed part is fleet_boot: connect, plan, run, record.
"""

from __future__ import annotations

import json
import os
import sys
import sysconfig
from pathlib import Path

from tests.support.sshd import SshdServer

from . import workload
from .timing import run_checked, timed

ROOT = Path(__file__).resolve().parents[1]


def console_script() -> Path:
    """The project's `stackscripts` console script beside this interpreter (never a pyenv shim)."""
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        path = folder / "stackscripts"
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise RuntimeError(f"no stackscripts console script beside {sys.executable}: run `pip install -e .`")


def _controller(db: Path, servers: list[SshdServer]):  # type: ignore[no-untyped-def]
    from stackscripts.api.controller import Controller

    controller = Controller(db)
    for i, server in enumerate(servers, 1):
        controller.add_server(f"web{i}", f"{server.user}@{server.host}", server.port, server.key_path)
    return controller


def _check(result) -> None:  # type: ignore[no-untyped-def]
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
        result = None

        def boot() -> None:
            nonlocal result
            result = fleet_boot(controller, names, template, parallel=len(names))

        elapsed = timed(boot)
        _check(result)
        return elapsed
    finally:
        controller.close()


def cli_run(servers: list[SshdServer], out_dir: Path, steps: int) -> float:
    """`stackscripts fleet boot NAMES --template T --db DB --quiet --parallel N` as a process (start-up included)."""
    work = out_dir.parent / f"{out_dir.name}-cli"
    template = workload.write_template(work / "template", out_dir, steps)
    db = work / "audit.db"
    _controller(db, servers).close()
    names = [f"web{i}" for i in range(1, len(servers) + 1)]
    args = [str(console_script()), "fleet", "boot", *names, "--template", str(template), "--db", str(db),
            "--quiet", "--parallel", str(len(names))]
    return timed(lambda: run_checked(args, cwd=str(ROOT)))


def boot_one(server: SshdServer, out_dir: Path, steps: int) -> float:
    """Controller.boot of one server with a `steps`-step template (one connection, `steps` round trips)."""
    work = out_dir.parent / f"{out_dir.name}-one"
    template = workload.write_template(work / "template", out_dir, steps)
    controller = _controller(work / "audit.db", [server])
    try:
        return timed(lambda: controller.boot("web1", template))
    finally:
        controller.close()


def probe_spec(servers: list[SshdServer], out_dir: Path, steps: int) -> Path:
    work = out_dir.parent / f"{out_dir.name}-probe"
    template = workload.write_template(work / "template", out_dir, steps)
    spec = {"db": str(work / "audit.db"), "template": str(template),
            "servers": [{"name": f"web{i}", "user": s.user, "host": s.host, "port": s.port, "key": s.key_path}
                        for i, s in enumerate(servers, 1)]}
    path = work / "spec.json"
    path.write_text(json.dumps(spec))
    return path


# A small launcher forks and execs the probe, then reads the probe's rusage with getrusage(RUSAGE_CHILDREN).
# It must be small: Linux starts a forked child's RSS high-water mark at its parent's RSS, so a probe
# spawned straight from this (large) harness would report at least the harness's own RSS.
LAUNCHER = """\
import json, os, resource, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status = os.waitpid(pid, 0)
print(json.dumps({"child_maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def peak_rss(servers: list[SshdServer], out_dir: Path, steps: int, *, import_only: bool = False) -> dict:
    """Run the fleet boot in a child process; its RSS high-water mark in MiB (maxrss_mib)."""
    spec = probe_spec(servers, out_dir, steps)
    probe = [sys.executable, "-m", "benchmarks.probe", str(spec)] + (["--import-only"] if import_only else [])
    done = run_checked([sys.executable, "-c", LAUNCHER, *probe], cwd=str(ROOT))
    lines = done.stdout.decode().strip().splitlines()
    report = json.loads(lines[-2])  # the probe's own line: import_s, boot_s, maxrss_kib (its RUSAGE_SELF)
    usage = json.loads(lines[-1])  # the launcher's line
    report["self_maxrss_mib"] = report.pop("maxrss_kib") / 1024
    report["maxrss_mib"] = usage["child_maxrss_kib"] / 1024  # the reported number
    if not import_only:
        workload.verify(out_dir, [s["name"] for s in json.loads(spec.read_text())["servers"]], steps)
    return report
