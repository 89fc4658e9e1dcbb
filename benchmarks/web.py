"""The dashboard under load, on real parts: a run page whose step printed 10 MB opens in under a second (its output
is read a page at a time), and 50 browsers watching one running step each see every line within a second.

    python -m benchmarks.web [--viewers 50] [--megabytes 10] [--lines 100]

`stackscripts serve` and `stackscripts boot` run as their own processes on a SQLite store in a temp dir, over a real
sshd; the viewers are threads of this process reading the server-sent events. A line's delay is from the moment the
step printed it (its text is the remote clock, this machine's) to the moment a viewer read it. About a minute.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.support.cli import cli_env
from tests.support.sshd import start_sshd
from tests.web.support import Served, Viewer, World, fetch, free_port

ROOT = Path(__file__).resolve().parents[1]


def boot(db: Path, server: str, template: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "stackscripts", "boot", server, "-t", str(template), "--db",
                             str(db), "--quiet", "--force"], cwd=ROOT, env=cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def latest_run(site: Served, server: str, state: str | None = None, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = json.loads(fetch(f"{site.url}/api/v1/runs?server={server}" + (f"&state={state}" if state else ""))[2])
        if runs["data"]:
            return str(runs["data"][0]["id"])
        time.sleep(0.05)
    raise RuntimeError(f"no {state or ''} run of {server} in {timeout} s")


def big_page(world: World, site: Served, megabytes: int, rounds: int = 7) -> dict[str, float]:
    """Boot a step that prints `megabytes` MB, then time the run page, the step's first output page and the JSON
    report, `rounds` times each (the first of each a cold read)."""
    template = world.template([("Print a lot", f"yes 'a line of the build log, 40 bytes..' | head -c {megabytes}000000\n"),
                               ("After", "echo done\n")], name="Big output")
    done = boot(world.db, "big1", template)
    done.communicate(timeout=300)
    assert done.returncode == 0, done.returncode
    run = latest_run(site, "big1")
    timings: dict[str, list[float]] = {"run page": [], "step output, first page": [], "JSON report": []}
    for _ in range(rounds):
        for label, path in (("run page", f"/runs/{run}"), ("step output, first page", f"/runs/{run}/steps/1"),
                            ("JSON report", f"/api/v1/report?run={run}")):
            start = time.perf_counter()
            status, _, body = fetch(site.url + path)
            timings[label].append(time.perf_counter() - start)
            assert status == 200, (path, status, body[:300])
    size = json.loads(fetch(f"{site.url}/api/v1/runs/{run}/steps/1/log?limit=1024")[2])["data"]
    print(f"  the step's output: {megabytes} MB; a page read {size['size']} bytes", file=sys.stderr)
    return {f"{label} (median)": statistics.median(v) for label, v in timings.items()} | {
        f"{label} (worst of {rounds})": max(v) for label, v in timings.items()}


def live(world: World, site: Served, viewers: int, lines: int) -> dict[str, float]:
    """`viewers` viewers of one step printing its clock every 0.1 s, `lines` times: each line's delay to each."""
    template = world.template([("Tick", f"for i in $(seq 1 {lines}); do date +%s.%N; sleep 0.1; done\n")], name="Ticks")
    child = boot(world.db, "live1", template)
    try:
        run = latest_run(site, "live1", "running")
        watching = [Viewer(site.url, f"/runs/{run}/live?after=0") for _ in range(viewers)]
        for viewer in watching:
            viewer.start()
        for viewer in watching:
            viewer.connected.wait(30)
        child.communicate(timeout=120)
        for viewer in watching:
            viewer.join(60)
    finally:
        if child.poll() is None:
            child.kill()
    delays: list[float] = []
    complete = 0
    for viewer in watching:
        assert viewer.error is None, viewer.error
        seen = 0
        for at, kind, data, _ in viewer.events:
            if kind != "output":
                continue
            for line in data["text"].split():
                printed = float(line)
                delays.append(at - printed)
                seen += 1
        complete += seen == lines
    delays.sort()
    return {"viewers": float(viewers), "viewers that saw every line": float(complete),
            "lines per viewer": float(lines), "delay median (s)": statistics.median(delays),
            "delay p99 (s)": delays[int(0.99 * (len(delays) - 1))], "delay worst (s)": delays[-1]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.web", description=__doc__)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--megabytes", type=int, default=10)
    parser.add_argument("--lines", type=int, default=100)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        world = World(Path(tmp))
        try:
            for name in ("big1", "live1"):
                world.sshd[name] = start_sshd(name)
                world.server(name)
            with Served(world.db, port=free_port()) as site:
                print("| measure | value |\n|---|---|")
                started = time.monotonic()
                for label, value in big_page(world, site, args.megabytes).items():
                    print(f"| {label} | {value:.3f} s |")
                for label, value in live(world, site, args.viewers, args.lines).items():
                    print(f"| {label} | {value:.3f} |" if "delay" in label else f"| {label} | {value:.0f} |")
                print(f"\n(measured in {time.monotonic() - started:.0f} s)", file=sys.stderr)
        finally:
            world.close()


if __name__ == "__main__":
    threading.excepthook = lambda hook: print(hook.exc_value, file=sys.stderr)
    main()
