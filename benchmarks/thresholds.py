"""`python -m benchmarks.thresholds [--only ssh,store,launch]`: the speed promises, checked on this machine.

The functional tests check what happens; how fast it happens is measured here, where a loaded CI runner
cannot turn a slow minute into a failed test. Each check prints its figure and its threshold; the exit
code is 1 when one is over it, 2 when a part it needs is missing (sshd, Docker and the local cloud's
base image).

| Check | Threshold | Was in |
|---|---|---|
| median step over one reused SSH connection (50 steps) | 250 ms (~15 ms idle) | tests/transport/test_ssh_connect.py |
| 50 threads x 5 steps x 20 appends into one SQLite store | 30 s | tests/store/test_sqlite_concurrency.py |
| local cloud: create_node to a working SSH login | 20 s | tests/providers/test_local_driver.py |
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class Missing(Exception):
    """A part this check needs is not on this machine."""


def ssh_median_step_ms() -> float:
    import shutil

    from stackscripts.transport.ssh import SSHTransport
    from tests.support.sshd import start_sshd

    if not (shutil.which("sshd") or Path("/usr/sbin/sshd").exists()):
        raise Missing("sshd (apt-get install openssh-server)")
    server = start_sshd("thresholds")
    try:
        files = {"run.sh": (0o700, b'rm -f env; test "$0" != x\n'), "env": (0o600, b"N=1\0"),
                 "script": (0o755, b"#!/bin/bash\ntrue\n")}
        durations = []
        with SSHTransport().open(server.host_spec()) as session:
            for _ in range(50):
                started = time.perf_counter()
                result = session.run_bundle(files)
                durations.append(time.perf_counter() - started)
                if result.exit_code != 0:
                    raise RuntimeError(f"the step failed: {result}")
        return statistics.median(durations) * 1000
    finally:
        server.close()


def store_fleet_seconds(threads: int = 50, steps: int = 5, appends: int = 20) -> float:
    from stackscripts.store.base import ServerRecord
    from stackscripts.store.sqlite import SQLiteStore

    with tempfile.TemporaryDirectory(prefix="thresholds-store-") as folder, \
            SQLiteStore(Path(folder) / "audit.db") as store:
        for number in range(threads):
            store.put_server(ServerRecord(f"s{number:02d}"))
        barrier = threading.Barrier(threads)
        errors: list[BaseException] = []

        def work(number: int) -> None:
            try:
                barrier.wait()
                run_id = store.start_run(f"s{number:02d}", "Boot", who="", template=None, inputs={})
                for step in range(steps):
                    store.start_step(run_id, step, f"step {step}", "Boot", sha256="", inputs={})
                    for n in range(appends):
                        store.append_output(run_id, step, "stdout", f"[{number}.{step}.{n}]")
                    store.finish_step(run_id, step, 0, None)
                store.finish_run(run_id, "succeeded")
            except BaseException as exc:
                errors.append(exc)

        workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        if errors:
            raise RuntimeError(f"{len(errors)} threads failed: {errors[0]!r}")
        return elapsed


def launch_to_ssh_seconds() -> float:
    import paramiko

    from stackscripts.providers.local import LocalNodeDriver, ensure_base_image, missing_parts
    from tests.providers.conftest import connect_ssh, make_key_pair

    missing = missing_parts()
    if missing:
        raise Missing("local cloud: " + "; ".join(missing))
    ensure_base_image()
    with tempfile.TemporaryDirectory(prefix="thresholds-launch-") as folder:
        key = make_key_pair(Path(folder))
        driver = LocalNodeDriver(ex_state_dir=Path(folder) / "state")
        name = f"thresholds-{uuid.uuid4().hex[:6]}"
        started = time.monotonic()
        node = driver.create_node(name, "small", None, ex_authorized_key=key.public,
                                  ex_volumes=[{"name": "ephemeral0", "size_gb": 4}])
        try:
            ssh = connect_ssh(node.extra["ssh_port"], paramiko.Ed25519Key.from_private_key_file(str(key.private_path)))
            elapsed = time.monotonic() - started
            ssh.client.close()
            return elapsed
        finally:
            driver.destroy_node(node)


CHECKS: dict[str, tuple[str, Callable[[], float], float, str]] = {
    "ssh": ("median step over one reused SSH connection", ssh_median_step_ms, 250.0, "ms"),
    "store": ("50 threads recording into one SQLite store", store_fleet_seconds, 30.0, "s"),
    "launch": ("local cloud launch to SSH", launch_to_ssh_seconds, 20.0, "s"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.thresholds", description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="checks to run, comma-separated: " + ",".join(CHECKS))
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",")] if args.only else list(CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        parser.error(f"unknown check(s) {unknown}; choose from {','.join(CHECKS)}")
    code = 0
    for name in names:
        label, measure, limit, unit = CHECKS[name]
        try:
            value = measure()
        except Missing as exc:
            print(f"{label}: not run, missing {exc}")
            code = max(code, 2)
            continue
        verdict = "ok" if value < limit else "OVER"
        print(f"{label}: {value:.1f} {unit} (threshold {limit:g} {unit}) {verdict}")
        if value >= limit:
            code = max(code, 1)
    return code


if __name__ == "__main__":
    sys.exit(main())
