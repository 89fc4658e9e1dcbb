"""`python -m benchmarks.anatomy`: where a step's time goes, on the server and in the controller.

1. On one open SSH connection to a real sshd on loopback: a bare channel per command (what a per-step remote
   command costs before it does anything), then the old per-step command built up piece by piece, a process
   start on this machine, then stackscripts' own paths: the transport's `run_bundle` (whatever the transport
   is now) and a whole recorded step through the Controller.
2. The controller's CPU in a `stackscripts fleet boot` process, by part (py-spy, benchmarks/profile.py).
3. The start-up imports of that process (`python -X importtime`, benchmarks/startup.py).
Writes docs/performance-anatomy.md.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import paramiko

    from tests.support.sshd import SshdServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRAPPER = b'#!/bin/bash\nexec bash "${BASH_SOURCE[0]%/*}/script"\n'
STEP = """#!/bin/bash
# ---
# RightScript Name: Tiny
# Inputs: {}
# ...
echo hi
"""


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _channel(client: paramiko.SSHClient, command: str, payload: bytes) -> None:
    """One exec channel on the open connection: the command, its stdin, its exit status (checked)."""
    transport = client.get_transport()
    assert transport is not None
    chan = transport.open_session()
    chan.exec_command(command)
    if payload:
        chan.sendall(payload)
    chan.shutdown_write()
    while chan.recv(65536) or chan.recv_stderr_ready():
        chan.recv_stderr(65536)
    status = chan.recv_exit_status()
    chan.close()
    if status != 0:
        raise RuntimeError(f"{command!r} exited {status}")


def _tar(files: dict[str, tuple[int, bytes]]) -> bytes:
    """The bundle as the old transport sent it: an uncompressed tar of the files with their modes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, (mode, data) in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _bind(client: paramiko.SSHClient, command: str, data: bytes) -> Callable[[], None]:
    return lambda: _channel(client, command, data)


def remote_rows(server: SshdServer, repeat: int) -> list[tuple[str, float]]:
    import paramiko

    payload = _tar({"run.sh": (0o700, WRAPPER), "script": (0o700, b"echo hi\n")})
    unpack = f'head -c {len(payload)} | tar -x -m -p -o -f - -C "$d"'
    variants = [
        ("a channel per command, login shell (`true`)", "true", b""),
        ("+ payload on stdin, mkdir and rm the run dir", 'd=/tmp/a.$$; mkdir -m 700 "$d"; cat >/dev/null; rm -rf "$d"',
         payload),
        (r"+ unpack the bundle (`head -c N \| tar -x`)", f'd=/tmp/a.$$; mkdir -m 700 "$d"; {unpack}; rm -rf "$d"',
         payload),
        ("+ the wrapper's bash and the script", f'd=/tmp/a.$$; mkdir -m 700 "$d"; {unpack}; '
         'bash "$d/run.sh" </dev/null >/dev/null; rm -rf "$d"', payload),
        ("+ `timeout` around it", f'd=/tmp/a.$$; mkdir -m 700 "$d"; {unpack}; '
         'timeout -k 5 0 bash "$d/run.sh" </dev/null >/dev/null; rm -rf "$d"', payload),
    ]
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    sock = socket.create_connection((server.host, server.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as stackscripts' transport and the Fabric loop do
    client.connect(server.host, port=server.port, username=server.user, key_filename=server.key_path,
                   look_for_keys=False, allow_agent=False, sock=sock)
    try:
        rows = [(label, median_ms(_bind(client, command, data), repeat)) for label, command, data in variants]
    finally:
        client.close()
    loop = subprocess.run(["bash", "-c", "s=$(date +%s%N); for i in $(seq 200); do /bin/true; done; "
                           "echo $(( ($(date +%s%N) - s) / 200 ))"], capture_output=True, text=True, check=True)
    rows.append(("for scale: one fork and exec of `/bin/true` on this machine, locally", int(loop.stdout) / 1e6))
    return rows


def stackscripts_rows(server: SshdServer, repeat: int) -> list[tuple[str, float]]:
    from stackscripts.api.controller import Controller
    from stackscripts.transport.base import transports

    files = {"run.sh": (0o700, WRAPPER), "script": (0o700, b"echo hi\n")}
    with transports.get("ssh")().open(server.host_spec()) as session:
        session.run_bundle(files)  # the first step may start a per-connection runner
        rows = [("stackscripts transport: `Session.run_bundle` of a tiny bundle, connection open",
                 median_ms(lambda: session.run_bundle(files), repeat))]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "tiny.sh").write_text(STEP)
        template = Path(tmp) / "t.yaml"
        template.write_text("Name: Anatomy\nRightScripts:\n  Boot:\n" + "".join("  - tiny.sh\n" for _ in range(repeat)))
        with Controller(Path(tmp) / "audit.db") as c:
            c.add_server("anatomy", f"{server.user}@{server.host}", server.port, server.key_path)
            c.boot("anatomy", template)  # connect, record the host key, warm up
            start = time.perf_counter()
            c.boot("anatomy", template)
            per_step = (time.perf_counter() - start) * 1000 / repeat
    rows.append((f"a whole recorded step through the Controller (a boot of {repeat} steps, divided; connecting once "
                 "included)", per_step))
    return rows


def main(argv: list[str] | None = None) -> int:
    from benchmarks import profile, startup
    from tests.support.sshd import start_many

    p = argparse.ArgumentParser(prog="python -m benchmarks.anatomy", description=__doc__)
    p.add_argument("--repeat", type=int, default=40)
    p.add_argument("--hosts", type=int, default=20, help="hosts of the profiled fleet boot")
    p.add_argument("--runs", type=int, default=3, help="profiled fleet boots (samples added up)")
    p.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    p.add_argument("--output", default="docs/performance-anatomy.md")
    args = p.parse_args(argv)
    servers = start_many(args.hosts, prefix="anatomy")
    try:
        rows = remote_rows(servers[0], args.repeat) + stackscripts_rows(servers[0], args.repeat)
        try:
            parts, rate = profile.profile(servers, args.runs, args.rate)
            spy = profile.table(parts, rate, args.runs, args.hosts * 5)
        except Exception as exc:  # noqa: BLE001 - reported in the document
            spy = [f"Not measured: {exc}"]
        with tempfile.TemporaryDirectory(prefix="bm-imp-") as tmp:
            imports = startup.measure(servers[0], Path(tmp), sys.executable, top=15)
    finally:
        for server in servers:
            server.close()
    lines = ["# Anatomy of a step", "",
             f"`python -m benchmarks.anatomy`, {time.strftime('%Y-%m-%d %H:%M')}, load averages "
             f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())} at the end.", "",
             "## On the server", "",
             f"Medians of {args.repeat} runs on one open SSH connection to a real sshd on loopback. The first rows "
             "build the old transport's per-step remote command up piece by piece (each its own channel); the "
             "last rows are stackscripts' paths as they are now.", "",
             "| Remote side of a step | ms |", "|---|---|"]
    lines += [f"| {label} | {ms:.1f} |" for label, ms in rows]
    lines += ["", "## In the controller", "",
              f"py-spy (`--nonblocking`, {args.rate} samples/s, on-CPU samples of every thread) over {args.runs} "
              f"checked runs of `stackscripts fleet boot` on {args.hosts} hosts x 5 steps, bytecode cached; per run, "
              f"and per step ({args.hosts * 5} steps a run). Sampling costs some CPU itself, so read the shares.", ""]
    lines += spy
    lines += ["", "## Start-up imports", "",
              f"`python -X importtime` of a 1-host fleet boot: {imports.total_ms:.0f} ms in {imports.modules} modules "
              f"(importtime's overhead included); unused heavy libraries imported: {', '.join(imports.unwanted) or 'none'}. "
              "Costliest top-level imports, cumulative (a module is charged to whoever imports it first):", ""]
    lines += [f"- {ms:.0f} ms `{name}`" for ms, name in imports.top]
    text = "\n".join(lines) + "\n"
    (ROOT / args.output).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
